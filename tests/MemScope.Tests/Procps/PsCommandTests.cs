using MemScope.Model;

namespace MemScope.Tests.Procps;

/// <summary>`memscope ps` on prometheus/procfs's captured processes (a fake /proc), and its error paths.</summary>
public class PsCommandTests
{
    private static string Root => Path.Combine(Paths.SharedFixtures, "procfs", "proc");

    [Fact]
    public void Json_has_the_fixture_process_figures_in_bytes()
    {
        CliResult r = CliRun.Run("ps", "--proc-root", Root, "--pid", "26231", "--pss", "--json");
        Assert.Equal("", r.Stderr);
        Assert.Equal(0, r.ExitCode);
        using var doc = System.Text.Json.JsonDocument.Parse(r.Stdout);
        var p = doc.RootElement.GetProperty("processes").EnumerateArray().Single();
        Assert.Equal(26231, p.GetProperty("pid").GetInt32());
        Assert.Equal("vim", p.GetProperty("comm").GetString());
        Assert.Equal("vim test.go +10", p.GetProperty("command").GetString());
        Assert.Equal(1000u, p.GetProperty("uid").GetUInt32());
        Assert.Equal(149919L * 4096, p.GetProperty("virt_bytes").GetInt64());     // statm size
        Assert.Equal(12547L * 4096, p.GetProperty("rss_bytes").GetInt64());       // statm resident
        Assert.Equal(660L * 1024, p.GetProperty("swap_bytes").GetInt64());        // VmSwap
        Assert.Equal(128L * 1024, p.GetProperty("page_table_bytes").GetInt64());  // VmPTE
        Assert.Equal(29944L * 1024, p.GetProperty("pss_bytes").GetInt64());       // smaps_rollup Pss
        Assert.Equal((15548L + 14396) * 1024, p.GetProperty("uss_bytes").GetInt64()); // Private_Clean + Private_Dirty
        Assert.Equal(32533, p.GetProperty("minor_faults").GetInt64());
        Assert.Equal(26, p.GetProperty("major_faults").GetInt64());
        // statm's "shared" is 2^64-1 in this capture: not believed, RssFile + RssShmem instead
        Assert.Equal((4624L + 0) * 1024, p.GetProperty("shared_bytes").GetInt64());
        // no oom_score file in the capture: unknown, not 0
        Assert.Equal(System.Text.Json.JsonValueKind.Null, p.GetProperty("oom_score").ValueKind);
    }

    [Fact]
    public void Table_shows_unknowns_as_dash_and_the_footer_counts_them()
    {
        CliResult r = CliRun.Run("ps", "--proc-root", Root, "--pss", "-o", "pid,rss,pss,uss,pte,oom,command");
        Assert.Equal(0, r.ExitCode);
        string[] lines = r.Stdout.TrimEnd('\n').Split('\n');
        Assert.Equal(["PID", "RES", "PSS", "USS", "PTE", "OOM", "COMMAND"], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        // sorted by RES, largest first: vim (50188 KiB) leads
        Assert.Equal(["26231", "50188", "29944", "29944", "128", "-", "vim", "test.go", "+10"], lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        // 584 and 27079 have no smaps_rollup in the capture
        Assert.Contains("PSS/USS unknown for 2 of them", lines[^1]);
        Assert.StartsWith("3 processes", lines[^1]); // the kernel thread (ata_sff) is left out by default
        Assert.DoesNotContain(lines, l => l.Contains("ata_sff"));
    }

    [Fact]
    public void Sort_top_and_csv()
    {
        CliResult r = CliRun.Run("ps", "--proc-root", Root, "--sort", "pid", "--top", "2", "--csv", "-o", "pid,rss,pte,command");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("pid,rss_bytes,pte_bytes,command\n584,634880,,[(a b ) ( c d) ]\n26231,51392512,131072,vim test.go +10\n", r.Stdout);
    }

    [Fact]
    public void By_user_sums_like_smem_u()
    {
        CliResult r = CliRun.Run("ps", "--proc-root", Root, "--pss", "--by", "user", "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = System.Text.Json.JsonDocument.Parse(r.Stdout);
        var groups = doc.RootElement.GetProperty("groups").EnumerateArray().ToList();
        var vimUser = groups.Single(g => g.GetProperty("key").GetString() == UserNames.System.NameOf(1000));
        Assert.Equal(1, vimUser.GetProperty("count").GetInt32());
        Assert.Equal(12547L * 4096, vimUser.GetProperty("rss_bytes").GetInt64());
        Assert.Equal(29944L * 1024, vimUser.GetProperty("pss_bytes").GetInt64());
        var unknown = groups.Single(g => g.GetProperty("key").GetString() == "?");   // no status: uid unknown
        Assert.Equal(2, unknown.GetProperty("count").GetInt32());
        Assert.Equal(2, unknown.GetProperty("pss_unknown_count").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, unknown.GetProperty("pss_bytes").ValueKind);
    }

    [Fact]
    public void Unknown_pid_is_one_line_and_exit_3()
    {
        CliResult r = CliRun.Run("ps", "--proc-root", Root, "--pid", "999999");
        Assert.Equal(3, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Equal("memscope: ps: no process with PID 999999\n", r.Stderr);
    }

    [Theory]
    [InlineData("--sort", "bogus", "unknown column 'bogus'")]
    [InlineData("--pid", "12x", "is not a process id")]
    [InlineData("--top", "0", "--top must be at least 1")]
    [InlineData("--user", "no_such_user_memscope", "no such user")]
    public void Bad_arguments_are_one_clear_line(string flag, string value, string message)
    {
        CliResult r = CliRun.Run("ps", "--proc-root", Root, flag, value);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        Assert.Contains(message, r.Stderr);
    }

    [Fact]
    public void Not_a_procfs_is_refused()
    {
        string empty = Directory.CreateTempSubdirectory("memscope_procps_ps").FullName;
        try
        {
            CliResult r = CliRun.Run("ps", "--proc-root", empty);
            Assert.Equal(2, r.ExitCode);
            Assert.Contains("not a procfs", r.Stderr);
        }
        finally { Directory.Delete(empty, true); }
    }

    [Fact]
    public void User_names_come_from_passwd_and_unknown_uids_stay_numbers()
    {
        string passwd = Path.GetTempFileName();
        try
        {
            File.WriteAllText(passwd, "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\nbroken line\nalias:x:1000:1000::/:/bin/sh\n");
            var names = new UserNames(passwd);
            Assert.Equal("root", names.NameOf(0));
            Assert.Equal("alice", names.NameOf(1000));   // first entry wins
            Assert.Equal("4242", names.NameOf(4242));
            Assert.Equal("?", names.NameOf(null));
            Assert.Equal(1000u, names.UidOf("alice"));
            Assert.Equal(7u, names.UidOf("7"));
            Assert.Null(names.UidOf("nobody_here"));
            Assert.Equal("1000", new UserNames("/nonexistent/passwd").NameOf(1000));
        }
        finally { File.Delete(passwd); }
    }

    [Fact]
    public void Human_sizes() =>
        Assert.Equal(["-", "512B", "1.0K", "1.5M", "35M", "1.1G"],
            new ulong?[] { null, 512, 1024, 1536 * 1024, 35UL << 20, 1181116006 }.Select(b => MemScope.Cli.Commands.PsRenderer.Size(b, true)));
}
