using MemScope.Cli.Commands;

namespace MemScope.Tests.Procps;

/// <summary>
/// `memscope free` against the real procps-ng 4.0.2 `free` on the same meminfo files (captured by
/// Captures/procps/capture.sh): every flag set × every input must be byte-identical.
/// </summary>
public class FreeCompatTests
{
    public static IEnumerable<object[]> Cases() =>
        from input in ProcpsCaptures.Inputs
        from flags in ProcpsCaptures.FreeFlags
        select new object[] { input.Name, flags };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Free_output_equals_procps(string input, string flags)
    {
        string root = ProcpsCaptures.FakeRoot(ProcpsCaptures.Get(input));
        string[] args = ["free", "--proc-root", root, .. flags.Split(' ', StringSplitOptions.RemoveEmptyEntries)];
        CliResult r = CliRun.Run(args);
        Assert.Equal("", r.Stderr);
        Assert.Equal(0, r.ExitCode);
        ProcpsCaptures.AssertSameOutput(ProcpsCaptures.Expected("free", input, flags), r.Stdout);
    }

    [Fact]
    public void Capture_set_is_broad()
    {
        Assert.True(ProcpsCaptures.Inputs.Count >= 8);
        Assert.True(ProcpsCaptures.FreeFlags.Count >= 20);
        // one input lacks MemAvailable (procps then shows MemFree as available), one is overcommitted
        Assert.DoesNotContain("MemAvailable", File.ReadAllText(ProcpsCaptures.Get("goprocinfo_meminfo_1").Meminfo));
        Assert.Contains("-948328", ProcpsCaptures.Expected("free", "overcommit", "-v"));
    }

    [Theory]
    [InlineData(0L, false, "0B")]
    [InlineData(1024L, false, "1.0Ki")]
    [InlineData(99_999L * 1024, false, "97Mi")]
    [InlineData(-971087872L, false, "0Gi")]
    [InlineData(-971087872L, true, "0G")]
    [InlineData(16502300672L, true, "16G")]
    [InlineData(4281532416L, true, "4.3G")]
    [InlineData(1000L, true, "1.0K")]
    [InlineData(999L, true, "999B")]
    [InlineData(2048L * 1024, false, "2.0Mi")]
    public void Human_sizes_follow_scale_size(long bytes, bool si, string expected) =>
        Assert.Equal(expected, ProcpsFormat.ScaleSize(bytes, 0, si, human: true));

    [Theory]
    [InlineData(0.25f, "0.2")]   // glibc rounds exact ties to even
    [InlineData(0.75f, "0.8")]
    [InlineData(2.5f, "2.5")]
    [InlineData(-0.04f, "-0.0")]
    [InlineData(9.95f, "9.9")]   // 9.95f is 9.9499998...
    [InlineData(1023.96f, "1024.0")]
    public void Fixed1_rounds_like_glibc(float v, string expected) => Assert.Equal(expected, ProcpsFormat.FormatFixed1(v));

    [Fact]
    public void Missing_fields_print_as_unknown_not_zero()
    {
        // psutil's "old kernel" meminfo: no MemAvailable, no swap or commit lines. procps prints 0 for those; we print '-'.
        var input = new ProcpsCaptures.Input("psutil_missing", Path.Combine(Paths.SharedFixtures,
            "psutil/inline/TestVirtualMemoryMocks.test_avail_old_missing_fields/proc/meminfo"),
            ProcpsCaptures.Get("procfs").Stat, ProcpsCaptures.Get("procfs").Vmstat);
        CliResult r = CliRun.Run("free", "--proc-root", ProcpsCaptures.FakeRoot(input), "-v");
        Assert.Equal(0, r.ExitCode);
        string[] lines = r.Stdout.Split('\n');
        Assert.StartsWith("Mem:", lines[1]);
        string[] mem = lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // used = total - MemFree (the MemAvailable fallback), buff/cache = Buffers + Cached
        Assert.Equal(["Mem:", "16325648", "14268248", "2057400", "577588", "5106096", "2057400"], mem);
        Assert.Equal(["Swap:", "-", "-", "-"], lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.Equal(["Comm:", "-", "-", "-"], lines[3].Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void Json_gives_bytes_and_flags_the_MemFree_fallback()
    {
        string root = ProcpsCaptures.FakeRoot(ProcpsCaptures.Get("goprocinfo_meminfo_1"));
        CliResult r = CliRun.Run("free", "--proc-root", root, "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = System.Text.Json.JsonDocument.Parse(r.Stdout);
        var mem = doc.RootElement.GetProperty("mem");
        Assert.Equal(1011048L * 1024, mem.GetProperty("total_bytes").GetInt64());
        Assert.Equal(92096L * 1024, mem.GetProperty("available_bytes").GetInt64());
        Assert.True(mem.GetProperty("available_from_mem_free").GetBoolean());
        Assert.Equal((1011048L - 92096) * 1024, mem.GetProperty("used_bytes").GetInt64());
        Assert.Equal(524284L * 1024, doc.RootElement.GetProperty("swap").GetProperty("total_bytes").GetInt64());
    }

    [Theory]
    [InlineData("-s", "-1")]
    [InlineData("-s", "0")]
    [InlineData("-s", "abc")]
    [InlineData("-c", "0")]
    [InlineData("-c", "x")]
    public void Bad_repeat_arguments_fail_with_one_line(string flag, string value)
    {
        CliResult r = CliRun.Run("free", flag, value);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("memscope: free:", r.Stderr);
    }

    [Fact]
    public void Two_unit_options_are_refused() =>
        Assert.Contains("multiple unit options", CliRun.Run("free", "-b", "-m").Stderr);

    [Fact]
    public void Not_a_procfs_root_is_one_clear_line()
    {
        string empty = Directory.CreateTempSubdirectory("memscope_procps_empty").FullName;
        try
        {
            CliResult r = CliRun.Run("free", "--proc-root", empty);
            Assert.NotEqual(0, r.ExitCode);
            Assert.Contains("not a procfs", r.Stderr);
            Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        }
        finally { Directory.Delete(empty, true); }
    }
}
