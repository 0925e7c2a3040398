using System.Text;
using MemScope.Procfs;

namespace MemScope.Tests.Hostile;

/// <summary>The hostile inputs issue 2 names, one by one, with the value or the typed error each must give.</summary>
public class HostileInputTests
{
    private const string P = "/proc/123/x";

    private static KernelFileException Malformed(Action parse)
    {
        var e = Assert.Throws<KernelFileException>(parse);
        Assert.Equal(KernelFileError.Malformed, e.Error);
        Assert.Equal(P, e.Path);
        return e;
    }

    // ---- comm with spaces and parentheses -------------------------------------------------------------------------

    [Theory]
    [InlineData("a b", "a b")]
    [InlineData("(sd-pam)", "(sd-pam)")]
    [InlineData("a) S 1 (b", "a) S 1 (b")] // a comm that looks like the next fields: only the LAST ')' ends it
    [InlineData(") (", ") (")]
    [InlineData("", "")]
    [InlineData("rs:main Q:Reg", "rs:main Q:Reg")]
    public void Comm_is_taken_up_to_the_last_parenthesis(string comm, string expected)
    {
        string line = $"42 ({comm}) R 1 42 42 0 -1 4194560 10 0 0 0 7 3 0 0 20 0 1 0 1234 1000 200 18446744073709551615";
        ProcPidStat s = ProcPidStat.Parse(line, P);
        Assert.Equal(expected, s.Comm);
        Assert.Equal(42, s.Pid);
        Assert.Equal('R', s.State);
        Assert.Equal(1, s.PPid);
        Assert.Equal(1234UL, s.StartTimeTicks);
        Assert.Equal(200UL, s.RssPages);
    }

    // ---- missing trailing newline -----------------------------------------------------------------------------------

    [Fact]
    public void Missing_trailing_newline_keeps_the_last_value()
    {
        Assert.Equal(2048UL, Meminfo.Parse("MemTotal: 1 kB\nMemFree: 2 kB", P).MemFree);
        Assert.Equal(7UL, Vmstat.Parse("nr_free_pages 1\npgfault 7", P)["pgfault"]);
        Assert.Equal(5UL, ProcPidStatm.Parse("1 2 3 4 0 5 0", P).DataPages);
        Assert.Equal(3UL * 1024, ProcPidStatus.Parse("Name:\tx\nVmRSS:\t3 kB", P).VmRSS);
        Assert.Equal(-17, SingleNumberFile.Parse("-17", P));
        Assert.Equal(25UL, Pressure.Parse("full avg10=0.00 avg60=0.00 avg300=0.00 total=25", P).Full!.Value.TotalMicroseconds);
    }

    // ---- short lines ------------------------------------------------------------------------------------------------

    [Fact]
    public void Short_lines_name_the_file_and_line()
    {
        Assert.Equal(2, Malformed(() => Meminfo.Parse("MemTotal: 1 kB\nMemFree:\n", P)).Line);
        Assert.Equal(2, Malformed(() => Vmstat.Parse("nr_free_pages 1\npgfault\n", P)).Line);
        Assert.Equal(3, Malformed(() => ProcStat.Parse("cpu 1 2 3 4\nctxt 5\nbtime\n", P)).Line);
        Assert.Equal(1, Malformed(() => ProcPidStatm.Parse("1 2 3", P)).Line);
        Assert.Equal(2, Malformed(() => ProcPidStatus.Parse("Name:\tx\nVmRSS:\n", P)).Line);
        Assert.Equal(1, Malformed(() => Pressure.Parse("some avg10=1.00\n", P)).Line);
        var e = Malformed(() => ProcPidStat.Parse("1 (x) S 1 2 3", P));
        Assert.Equal(1, e.Line);
        Assert.Contains($"{P}:1:", e.Message);
    }

    [Fact]
    public void Truncated_stat_line_is_a_typed_error()
    {
        string full = File.ReadAllText(Path.Combine(Paths.SharedFixtures, "procfs/proc/26231/stat"));
        // Cut before rss (field 24): too short to be useful.
        int cut = full.IndexOf(" 56274944 ", StringComparison.Ordinal);
        var e = Malformed(() => ProcPidStat.Parse(full[..cut], P));
        Assert.Contains("fields", e.Message);
        // Cut inside comm: no closing parenthesis.
        Malformed(() => ProcPidStat.Parse("26231 (vi", P));
        // Cut after rss: parses, later fields are unknown (null), never 0.
        int afterRss = full.IndexOf(" 1981 ", StringComparison.Ordinal) + 5;
        ProcPidStat s = ProcPidStat.Parse(full[..afterRss], P);
        Assert.Equal(1981UL, s.RssPages);
        Assert.Null(s.Field("rsslim"));
        Assert.Null(s.Processor);
    }

    // ---- duplicated keys ---------------------------------------------------------------------------------------------

    [Fact]
    public void Duplicated_keys_keep_the_first_value()
    {
        // psutil's mocked meminfo has Inactive(file) twice; the kernel never repeats a key, so the first one wins.
        Meminfo m = Meminfo.Parse("Inactive(file):  1578132 kB\nInactive(file):  1567648 kB\nFoo: 1\nFoo: 2\n", P);
        Assert.Equal(1578132UL * 1024, m.InactiveFile);
        Assert.Equal(1UL, m["Foo"]);
        Assert.Equal(1UL, Vmstat.Parse("pgfault 1\npgfault 2\n", P)["pgfault"]);
        Assert.Equal(1024UL, ProcPidSmapsRollup.Parse("Rss: 1 kB\nRss: 2 kB\n", P).Rss);
    }

    // ---- no space after the colon -------------------------------------------------------------------------------------

    [Fact]
    public void Value_without_space_after_the_colon()
    {
        Meminfo m = Meminfo.Parse("MemTotal:       16325648 kB\nShadowCallStack:10373888 kB\nSwapTotal:15 kB\n", P);
        Assert.Equal(10373888UL * 1024, m.ShadowCallStack);
        Assert.Equal(15UL * 1024, m.SwapTotal);
        Assert.Equal(12UL * 1024, ProcPidStatus.Parse("VmRSS:12 kB\n", P).VmRSS);
        Assert.Equal(7UL * 1024, ProcPidSmapsRollup.Parse("Pss:7 kB\n", P).Pss);
    }

    // ---- negative values ---------------------------------------------------------------------------------------------

    [Fact]
    public void Negative_values_are_unknown_or_signed_never_wrapped()
    {
        // A negative size is unknown, never a huge unsigned number and never 0.
        Meminfo m = Meminfo.Parse("MemTotal: 100 kB\nMemAvailable:         -1 kB\n", P);
        Assert.Null(m.MemAvailable);
        Assert.Equal(102400UL, m.MemTotal);
        Assert.Null(Vmstat.Parse("nr_free_pages -3\n", P)["nr_free_pages"]);
        // Signed stat fields keep their sign.
        ProcPidStat s = ProcPidStat.Parse("1 (x) S 0 1 1 0 -1 0 0 0 0 0 0 0 -9223372036854775808 9223372036854775807 20 -20 1 0 5 6 7 8", P);
        Assert.Equal(-1, s.SignedField(8));
        Assert.Equal(long.MinValue, s.SignedField(16));
        Assert.Equal(long.MaxValue, s.SignedField(17));
        Assert.Equal(-20, s.Nice);
        Assert.Equal(-1000, SingleNumberFile.Parse("-1000\n", P));
        // Negative where only unsigned makes sense: typed error.
        Malformed(() => ProcPidStatm.Parse("1 -2 3 4 0 5 0\n", P));
        Malformed(() => ProcPidSmapsRollup.Parse("Rss: -4 kB\n", P));
        Malformed(() => ProcPidStatus.Parse("VmRSS: -4 kB\n", P));
    }

    // ---- empty file --------------------------------------------------------------------------------------------------

    [Fact]
    public void Empty_files()
    {
        // Key-value files: an empty table (every field unknown), not zeros.
        Meminfo m = Meminfo.Parse("", P);
        Assert.Null(m.MemTotal);
        Assert.Empty(m.Entries);
        Assert.Empty(Vmstat.Parse("", P).Entries);
        Assert.Null(ProcPidStatus.Parse("", P).VmRSS);
        Assert.Empty(ProcPidCmdline.Parse("", P)); // kernel threads
        Assert.Null(Pressure.Parse("", P).Some);
        // Files that must hold something: typed error.
        Malformed(() => ProcPidStat.Parse("", P));
        Malformed(() => ProcPidStatm.Parse("", P));
        Malformed(() => ProcStat.Parse("", P));
        Malformed(() => SingleNumberFile.Parse("", P));
        Malformed(() => ProcPidSmapsRollup.Parse("", P));
        Malformed(() => ProcPidLimits.Parse("", P));
    }

    [Fact]
    public void Empty_file_on_disk_through_KernelFile()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"memscope_hostile_{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "stat");
            File.WriteAllText(path, "");
            var e = Assert.Throws<KernelFileException>(() => ProcPidStat.Read(path));
            Assert.Equal(KernelFileError.Malformed, e.Error);
            Assert.Equal(path, e.Path);
            File.WriteAllBytes(path, [0xff, 0xfe, 0x00, 0x80, 0x0a]);
            Assert.Equal(KernelFileError.Malformed, Assert.Throws<KernelFileException>(() => ProcPidStat.Read(path)).Error);
            Assert.Equal(KernelFileError.Gone, Assert.Throws<KernelFileException>(() => ProcPidStat.Read(Path.Combine(dir, "none"))).Error);
            Assert.Equal(KernelFileError.Gone, Assert.Throws<KernelFileException>(() => ProcPidStat.Read(Path.Combine(dir, "no/such/dir"))).Error);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    // ---- binary junk -------------------------------------------------------------------------------------------------

    [Fact]
    public void Binary_junk()
    {
        string junk = Encoding.Latin1.GetString([0x00, 0xff, 0x3a, 0x10, 0x28, 0x29, 0x0a, 0x9c, 0x2d]);
        Malformed(() => ProcPidStat.Parse(junk, P));
        Malformed(() => ProcPidStatm.Parse(junk, P));
        Malformed(() => SingleNumberFile.Parse(junk, P));
        Assert.Null(Meminfo.Parse(junk, P).MemTotal); // lines that are not "Key: number" are skipped
    }

    // ---- huge numbers --------------------------------------------------------------------------------------------------

    [Fact]
    public void Largest_64_bit_value_is_kept_exactly()
    {
        Assert.Equal(ulong.MaxValue, ProcPidStatm.Parse("149919 12547 18446744073709551615 19864 0 14531 0\n", P).SharedPages);
        ProcPidStat s = ProcPidStat.Parse("1 (x) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 6 7 18446744073709551615", P);
        Assert.Equal(ulong.MaxValue, s.Field("rsslim"));
        Assert.Equal(ulong.MaxValue, Vmstat.Parse("pgfault 18446744073709551615\n", P)["pgfault"]);
        Assert.Equal(ulong.MaxValue, ProcPidLimits.Parse("Max cpu time unlimited unlimited seconds\n", P)["Max cpu time"]!.Value.Soft);
    }

    [Fact]
    public void Overflowing_numbers_are_typed_errors_naming_the_line()
    {
        Assert.Equal(1, Malformed(() => ProcPidStatm.Parse("1 18446744073709551616 3 4 0 5 0", P)).Line);
        Assert.Equal(2, Malformed(() => Vmstat.Parse("a 1\npgfault 18446744073709551616\n", P)).Line);
        Malformed(() => ProcPidStat.Parse("1 (x) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 6 7 18446744073709551616", P));
        Malformed(() => SingleNumberFile.Parse("9223372036854775808", P));
        // Values that fit in kB but not in bytes (2^60 kB): refused, never wrapped into a small wrong number.
        Assert.Equal(2, Malformed(() => Meminfo.Parse("MemFree: 1 kB\nMemTotal: 1152921504606846976 kB\n", P)).Line);
        Malformed(() => ProcPidSmapsRollup.Parse("Rss: 1152921504606846976 kB\n", P));
        Malformed(() => ProcPidStatus.Parse("VmRSS: 1152921504606846976 kB\n", P));
        Malformed(() => ProcPidSmaps.Parse("00400000-00452000 r-xp 00000000 08:02 1 /x\nRss: 1152921504606846976 kB\n", P));
        Malformed(() => Meminfo.Parse("MemTotal: 18446744073709551615 kB\n", P));
    }

    // ---- permission denied and gone ----------------------------------------------------------------------------------

    [Fact]
    public void Classify_maps_errors_to_the_three_outcomes()
    {
        Assert.Equal(KernelFileError.Denied, KernelFile.Classify(P, new UnauthorizedAccessException("Access to the path is denied.")).Error);
        Assert.Equal(KernelFileError.Denied, KernelFile.Classify(P, new IOException("Permission denied", 13)).Error);
        Assert.Equal(KernelFileError.Denied, KernelFile.Classify(P, new IOException("Operation not permitted", 1)).Error);
        Assert.Equal(KernelFileError.Gone, KernelFile.Classify(P, new FileNotFoundException()).Error);
        Assert.Equal(KernelFileError.Gone, KernelFile.Classify(P, new DirectoryNotFoundException()).Error);
        Assert.Equal(KernelFileError.Gone, KernelFile.Classify(P, new IOException("No such process", 3)).Error);
        Assert.Equal(KernelFileError.Io, KernelFile.Classify(P, new IOException("Input/output error", 5)).Error);
        var typed = new KernelFileException(KernelFileError.Malformed, P, "x", 3);
        Assert.Same(typed, KernelFile.Classify(P, typed));
        Assert.Contains(P, KernelFile.Classify(P, new UnauthorizedAccessException()).Message);
    }

    [Fact]
    public void Unreadable_file_is_denied()
    {
        // As root (CI), drop this thread's filesystem uid to nobody: the kernel then clears CAP_DAC_OVERRIDE for file
        // access on this thread only, so the real EACCES path runs; setfsuid(0) gives it back.
        bool dropped = TestEnv.IsRoot;
        if (dropped) SetFsUid(65534);
        try { ReadDenied(); }
        finally { if (dropped) SetFsUid(0); }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "setfsuid")]
    private static extern int SetFsUid(uint uid);

    private static void ReadDenied()
    {
        string dir = Path.Combine(Path.GetTempPath(), $"memscope_denied_{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "status");
        File.WriteAllText(path, "VmRSS: 1 kB\n");
        try
        {
            File.SetUnixFileMode(path, UnixFileMode.None);
            Assert.Equal(KernelFileError.Denied, Assert.Throws<KernelFileException>(() => ProcPidStatus.Read(path)).Error);
        }
        finally
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Live_denied_file_is_classified_denied()
    {
        // /proc/1/smaps_rollup is EACCES even for root on this kind of machine (KERNEL-NOTES); elsewhere it may be readable.
        try { ProcPidSmapsRollup.Read("/proc/1/smaps_rollup"); }
        catch (KernelFileException e) { Assert.Equal(KernelFileError.Denied, e.Error); }
    }
}
