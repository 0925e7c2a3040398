using MemScope.Cli.Commands;
using MemScope.Model;
using MemScope.Procfs;

namespace MemScope.Tests.Procps;

/// <summary>
/// Which per-process files `ps` reads for which columns (issue 11: a full PSS scan close to the cost of reading
/// smaps_rollup alone), and that reading fewer files leaves the other fields unknown without changing the ones read.
/// </summary>
public class PsFilesTests
{
    private static string Root => Path.Combine(Paths.SharedFixtures, "procfs", "proc");

    private static ProcessFiles Files(string columns, string sort, bool smaps = true, bool json = false, bool by = false, bool user = false) =>
        PsCommand.FilesFor(columns.Split(',').Append(sort), smaps, json, by, user);

    [Fact]
    public void Default_columns_sorted_by_pss_read_six_files_not_oom_score_adj()
    {
        ProcessFiles f = PsCommand.FilesFor(PsRenderer.DefaultColumns.Append("pss"), smaps: true, everyField: false, byGroup: false, userFilter: false);
        Assert.Equal(ProcessFiles.Statm | ProcessFiles.Status | ProcessFiles.Cmdline | ProcessFiles.OomScore | ProcessFiles.SmapsRollup, f);
    }

    [Fact]
    public void Each_column_reads_only_its_file()
    {
        Assert.Equal(ProcessFiles.Stat, Files("pid,ppid,state,threads,minflt,majflt,comm", "pid"));
        Assert.Equal(ProcessFiles.Statm, Files("pid,rss", "rss"));
        Assert.Equal(ProcessFiles.Statm, Files("pid,virt,mem", "pid"));
        // SHR falls back to status's RssFile + RssShmem where statm's shared is corrupt (this capture's 26231)
        Assert.Equal(ProcessFiles.Statm | ProcessFiles.Status, Files("pid,shr", "pid"));
        Assert.Equal(ProcessFiles.Status, Files("pid,user,anon,file,shmem,swap,pte", "pid"));
        Assert.Equal(ProcessFiles.OomScoreAdj, Files("pid,oomadj", "pid"));
        Assert.Equal(ProcessFiles.OomScore | ProcessFiles.Cmdline, Files("oom,command", "pid"));
        Assert.Equal(ProcessFiles.SmapsRollup, Files("pid,uss", "swappss"));
        // the sort key counts as shown; --user needs the uid from status
        Assert.Equal(ProcessFiles.Cmdline | ProcessFiles.Status, Files("pid", "command", user: true));
    }

    [Fact]
    public void Smaps_columns_without_smaps_leave_smaps_rollup_unread_and_json_or_groups_read_what_they_print()
    {
        Assert.Equal(ProcessFiles.Stat, Files("pid,pss,uss", "pid", smaps: false));
        Assert.Equal(ProcessFiles.All, Files("pid", "pid", json: true));
        Assert.Equal(ProcessFiles.Cheap, Files("pid", "pid", smaps: false, json: true));
        Assert.Equal(ProcessFiles.Statm | ProcessFiles.Status | ProcessFiles.SmapsRollup, Files("pid", "pid", by: true));
    }

    [Fact]
    public void Reading_fewer_files_leaves_their_fields_unknown_and_the_others_unchanged()
    {
        var reader = new ProcessReader(new ProcFs(Root));
        ProcessSnapshot all = reader.TryRead(26231, ProcessFiles.All)!;
        ProcessSnapshot few = reader.TryRead(26231, ProcessFiles.Statm)!;

        // what the capture holds: statm, status (uid 1000, VmSwap 660 kB), cmdline, smaps_rollup
        Assert.Equal(1000u, all.Uid);
        Assert.Equal(660UL * 1024, all.SwapBytes);
        Assert.Equal("vim test.go +10", all.CommandLine);
        Assert.Equal(29944UL * 1024, all.PssBytes);

        // statm only: RES and VIRT are statm's (not status's VmRSS 6716 kB, taken at another time in this capture)
        Assert.Equal(12547UL * 4096, few.RssBytes);
        Assert.Equal(149919UL * 4096, few.VirtBytes);
        Assert.Equal(all.RssBytes, few.RssBytes);
        Assert.Equal(all.MinorFaults, few.MinorFaults);
        Assert.Equal("vim", few.Comm);
        Assert.Null(few.Uid);
        Assert.Null(few.SwapBytes);
        Assert.Null(few.PssBytes);
        Assert.False(few.SmapsDenied);
        Assert.Equal("", few.CommandLine);
    }

    [Fact]
    public void Stat_alone_gives_virt_and_res_from_stat()
    {
        ProcessSnapshot p = new ProcessReader(new ProcFs(Root)).TryRead(26231, ProcessFiles.Stat)!;
        ProcPidStat stat = ProcPidStat.Read(Path.Combine(Root, "26231", "stat"));
        Assert.Equal(stat.VsizeBytes, p.VirtBytes);
        Assert.Equal(stat.RssPages * (ulong)Environment.SystemPageSize, p.RssBytes);
        Assert.True(p.RssBytes > 0);
    }

    [Fact]
    public void A_vanished_pid_is_gone_not_an_error()
    {
        Assert.Null(new ProcessReader(new ProcFs(Root)).TryRead(999999, ProcessFiles.All));
    }

    [Fact]
    public void Csv_of_a_few_columns_is_the_same_as_with_every_file_read()
    {
        CliResult few = CliRun.Run("ps", "--proc-root", Root, "--pss", "--csv", "-o", "pid,rss,shr,pss");
        CliResult json = CliRun.Run("ps", "--proc-root", Root, "--pss", "--json");
        Assert.Equal(0, few.ExitCode);
        using var doc = System.Text.Json.JsonDocument.Parse(json.Stdout);
        foreach (var p in doc.RootElement.GetProperty("processes").EnumerateArray())
        {
            string pss = p.GetProperty("pss_bytes").ValueKind == System.Text.Json.JsonValueKind.Null ? "" : p.GetProperty("pss_bytes").GetInt64().ToString();
            Assert.Contains($"\n{p.GetProperty("pid").GetInt32()},{p.GetProperty("rss_bytes").GetInt64()},{p.GetProperty("shared_bytes").GetInt64()},{pss}\n", "\n" + few.Stdout);
        }
    }

    [Fact]
    public void Reading_the_rest_later_gives_what_reading_everything_at_once_gives()
    {
        var reader = new ProcessReader(new ProcFs(Root));
        ProcessSnapshot all = reader.TryRead(26231, ProcessFiles.All)!;
        ProcessSnapshot scanned = reader.TryRead(26231, ProcessFiles.Statm)!;
        Assert.Equal(all, reader.TryReadMore(scanned, ProcessFiles.Statm, ProcessFiles.All));
        // nothing more to read: the same snapshot
        Assert.Same(scanned, reader.TryReadMore(scanned, ProcessFiles.Statm, ProcessFiles.Statm));
    }

    [Fact]
    public void Reading_the_rest_keeps_the_values_sorted_on_and_drops_a_reused_pid()
    {
        var reader = new ProcessReader(new ProcFs(Root));
        ProcessSnapshot scanned = reader.TryRead(26231, ProcessFiles.Statm | ProcessFiles.Status)!;
        // as if RES and the swap had moved between the scan and the second read: the sorted-on values stay
        ProcessSnapshot moved = scanned with { RssBytes = 4096, SwapBytes = 8192 };
        ProcessSnapshot full = reader.TryReadMore(moved, ProcessFiles.Statm | ProcessFiles.Status, ProcessFiles.All)!;
        Assert.Equal(4096UL, full.RssBytes);
        Assert.Equal(8192UL, full.SwapBytes);
        Assert.Equal(29944UL * 1024, full.PssBytes);
        Assert.Equal("vim test.go +10", full.CommandLine);
        // another process under the same pid (another start time) is not this one
        Assert.Null(reader.TryReadMore(scanned with { StartTimeTicks = scanned.StartTimeTicks + 1 }, ProcessFiles.Statm, ProcessFiles.All));
    }

    [Theory]
    [InlineData("pss", "pid,user,rss,shr,swap,pss,uss,oom,command")]
    [InlineData("rss", "pid,user,rss,shr,swap,pss,uss,oom,command")]
    [InlineData("pid", "pid,user,virt,anon,pss,command")]
    [InlineData("command", "pid,rss,shr,pss,oomadj")]
    public void Top_n_reads_the_rest_for_the_rows_printed_with_the_same_rows_as_the_full_table(string sort, string columns)
    {
        CliResult all = CliRun.Run("ps", "--proc-root", Root, "--pss", "--csv", "--sort", sort, "-o", columns);
        CliResult top = CliRun.Run("ps", "--proc-root", Root, "--pss", "--csv", "--sort", sort, "-o", columns, "--top", "2");
        Assert.Equal(0, top.ExitCode);
        string[] lines = all.Stdout.Split('\n');
        Assert.True(lines.Length > 4, all.Stdout);
        Assert.Equal(string.Join('\n', lines.Take(3)) + "\n", top.Stdout);
    }

    [Fact]
    public void ParseAt_reads_a_single_record_file_larger_than_the_first_read_whole()
    {
        string dir = Directory.CreateTempSubdirectory("memscope_parseat").FullName;
        try
        {
            string big = new string('x', 20000) + "\n", small = "42\n";
            File.WriteAllText(Path.Combine(dir, "big"), big);
            File.WriteAllText(Path.Combine(dir, "small"), small);
            int fd = KernelFile.OpenDirectory(dir);
            try
            {
                Assert.Equal(big, KernelFile.ParseAt(fd, "big", dir + "/big", (c, _) => c.ToString(), singleRecord: true));
                Assert.Equal(42L, KernelFile.ParseAt(fd, "small", dir + "/small", SingleNumberFile.Parse, singleRecord: true));
                Assert.True(KernelFile.ExistsAt(fd, "small"));
                Assert.False(KernelFile.ExistsAt(fd, "nothing"));
                var e = Assert.Throws<KernelFileException>(() => KernelFile.ParseAt(fd, "nothing", dir + "/nothing", SingleNumberFile.Parse, singleRecord: true));
                Assert.Equal(KernelFileError.Gone, e.Error);
                Assert.Equal(dir + "/nothing", e.Path);
            }
            finally { KernelFile.CloseDirectory(fd); }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Theory]
    [InlineData("vim\0test.go\0+10\0", "vim test.go +10")]
    [InlineData("a\0\0b\0", "a  b")]
    [InlineData("a\0\0\0", "a")]
    [InlineData("setproctitle without nul", "setproctitle without nul")]
    [InlineData("\0", "")]
    [InlineData("", "")]
    public void Cmdline_joined_is_the_arguments_joined_by_spaces(string content, string joined)
    {
        Assert.Equal(joined, ProcPidCmdline.ParseJoined(content, "cmdline"));
        Assert.Equal(string.Join(' ', ProcPidCmdline.Parse(content, "cmdline")), ProcPidCmdline.ParseJoined(content, "cmdline"));
    }
}
