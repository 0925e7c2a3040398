using MemScope.Analysis;

namespace MemScope.Tests;

/// <summary>Sample lines written from mm/oom_kill.c and mm/memcontrol.c message formats of each kernel era.</summary>
public class OomLogTests
{
    private static IReadOnlyList<OomKill> P(string text, DateTimeOffset? boot = null) => OomLog.Parse(text.Split('\n'), boot);

    [Fact]
    public void Kernel_3_x_global_dmesg()
    {
        const string log = """
            [ 1234.567890] java invoked oom-killer: gfp_mask=0x201da, order=0, oom_score_adj=0
            [ 1234.567900] java cpuset=/ mems_allowed=0
            [ 1234.568000] [ pid ]   uid  tgid total_vm      rss nr_ptes swapents oom_score_adj name
            [ 1234.568001] [  812]     0   812     5000      200      12        0         -1000 sshd
            [ 1234.568002] [ 2211]  1000  2211   900000   480000     950        0           300 java
            [ 1234.568100] Out of memory: Kill process 2211 (java) score 912 or sacrifice child
            [ 1234.568200] Killed process 2211 (java) total-vm:3600000kB, anon-rss:1918000kB, file-rss:2000kB
            """;
        OomKill k = Assert.Single(P(log));
        Assert.Equal(2211, k.Pid);
        Assert.Equal("java", k.Command);
        Assert.Equal(1234.5682, k.SecondsSinceBoot!.Value, 4);
        Assert.Equal(3600000UL * 1024, k.TotalVmBytes);
        Assert.Equal(1918000UL * 1024, k.AnonRssBytes);
        Assert.Equal(2000UL * 1024, k.FileRssBytes);
        Assert.Null(k.ShmemRssBytes); // not printed before 4.9
        Assert.Null(k.Uid);
        Assert.Equal(300, k.OomScoreAdj); // from the task dump table
        Assert.Equal(OomTrigger.Global, k.Trigger);
        Assert.Equal("java", k.Invoker);
        Assert.Equal("0x201da", k.GfpMask);
        Assert.Equal(0, k.Order);
        Assert.Null(k.OomCgroup);
    }

    [Fact]
    public void Kernel_4_x_memcg_with_shmem_rss_and_task_in_line()
    {
        const string log = """
            [ 88.100001] stress invoked oom-killer: gfp_mask=0x14000c0(GFP_KERNEL), nodemask=(null), order=0, oom_score_adj=0
            [ 88.100200] Task in /docker/abc killed as a result of limit of /docker/abc
            [ 88.100300] memory: usage 262144kB, limit 262144kB, failcnt 1203
            [ 88.100400] [  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name
            [ 88.100401] [   4100]     0  4100   70000    65000   540672        0          -500 stress
            [ 88.100500] Memory cgroup out of memory: Kill process 4100 (stress) score 1501 or sacrifice child
            [ 88.100600] Killed process 4100 (stress) total-vm:280000kB, anon-rss:259000kB, file-rss:900kB, shmem-rss:4kB
            [ 88.120000] oom_reaper: reaped process 4100 (stress), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB
            """;
        OomKill k = Assert.Single(P(log));
        Assert.Equal(4100, k.Pid);
        Assert.Equal(OomTrigger.MemoryCgroup, k.Trigger);
        Assert.Equal("/docker/abc", k.OomCgroup);
        Assert.Equal("/docker/abc", k.TaskCgroup);
        Assert.Equal(4UL * 1024, k.ShmemRssBytes);
        Assert.Equal((259000UL + 900 + 4) * 1024, k.RssBytes);
        Assert.Equal(-500, k.OomScoreAdj);
        Assert.Equal("0x14000c0(GFP_KERNEL)", k.GfpMask);
    }

    [Fact]
    public void Kernel_5_x_and_6_x_kmsg_memcg_with_constraint_line()
    {
        var boot = new DateTimeOffset(2026, 11, 27, 8, 0, 0, TimeSpan.Zero);
        const string log = """
            4,2210,3600000000,-;hog invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0
            6,2211,3600000100,-;CPU: 1 PID: 10275 Comm: hog Not tainted 6.18.0 #1
             SUBSYSTEM=cpu
            6,2230,3600000500,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/memscope_lab_77,task_memcg=/memscope_lab_77,task=hog,pid=10275,uid=0
            3,2231,3600000600,-;Memory cgroup out of memory: Killed process 10275 (hog) total-vm:309680kB, anon-rss:65152kB, file-rss:1228kB, shmem-rss:0kB, UID:0 pgtables:176kB oom_score_adj:0
            """;
        OomKill k = Assert.Single(P(log, boot));
        Assert.Equal(10275, k.Pid);
        Assert.Equal("hog", k.Command);
        Assert.Equal(OomTrigger.MemoryCgroup, k.Trigger);
        Assert.Equal("/memscope_lab_77", k.OomCgroup);
        Assert.Equal("/memscope_lab_77", k.TaskCgroup);
        Assert.Equal(0u, k.Uid);
        Assert.Equal(176UL * 1024, k.PageTablesBytes);
        Assert.Equal(0, k.OomScoreAdj);
        Assert.Equal(65152UL * 1024, k.AnonRssBytes);
        Assert.Equal(0UL, k.ShmemRssBytes);
        Assert.Equal(3600.0006, k.SecondsSinceBoot!.Value, 6);
        Assert.Equal(boot.AddSeconds(3600.0006), k.Time);
    }

    [Fact]
    public void Kernel_5_x_global_journal_with_negative_adj_and_odd_comm()
    {
        const string log = """
            Nov 27 09:12:01 web1 kernel: Web Content invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=100
            Nov 27 09:12:01 web1 kernel: oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/user.slice/user-1000.slice/session-2.scope,task=Web Content,pid=3141,uid=1000
            Nov 27 09:12:01 web1 kernel: Out of memory: Killed process 3141 (Web (Content)) total-vm:4194304kB, anon-rss:2097152kB, file-rss:0kB, shmem-rss:1024kB, UID:1000 pgtables:8192kB oom_score_adj:-17
            """;
        OomKill k = Assert.Single(P(log));
        Assert.Equal(3141, k.Pid);
        Assert.Equal("Web (Content)", k.Command);
        Assert.Equal(OomTrigger.Global, k.Trigger);
        Assert.Null(k.OomCgroup);
        Assert.Equal("/user.slice/user-1000.slice/session-2.scope", k.TaskCgroup);
        Assert.Equal(-17, k.OomScoreAdj);
        Assert.Equal(1000u, k.Uid);
        Assert.Equal("Nov 27 09:12:01", k.TimeText);
        Assert.Null(k.SecondsSinceBoot);
        Assert.Equal("Web Content", k.Invoker);
    }

    [Fact]
    public void Several_kills_keep_their_own_context_and_dmesg_T_time()
    {
        const string log = """
            [Fri Nov 27 09:00:00 2026] a invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0
            [Fri Nov 27 09:00:00 2026] oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/x,task_memcg=/x/y,task=a,pid=10,uid=0
            [Fri Nov 27 09:00:00 2026] Memory cgroup out of memory: Killed process 10 (a) total-vm:1000kB, anon-rss:800kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:40kB oom_score_adj:0
            [Fri Nov 27 09:05:00 2026] b invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=2, oom_score_adj=0
            [Fri Nov 27 09:05:00 2026] oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/,task=b,pid=20,uid=0
            [Fri Nov 27 09:05:00 2026] Out of memory: Killed process 20 (b) total-vm:2000kB, anon-rss:1600kB, file-rss:4kB, shmem-rss:0kB, UID:0 pgtables:44kB oom_score_adj:1000
            """;
        var kills = P(log);
        Assert.Equal(2, kills.Count);
        Assert.Equal((10, OomTrigger.MemoryCgroup, "/x"), (kills[0].Pid, kills[0].Trigger, kills[0].OomCgroup));
        Assert.Equal((20, OomTrigger.Global, (string?)null), (kills[1].Pid, kills[1].Trigger, kills[1].OomCgroup));
        Assert.Equal(2, kills[1].Order);
        Assert.Equal("Fri Nov 27 09:05:00 2026", kills[1].TimeText);
    }

    [Fact]
    public void Unrelated_and_truncated_lines_are_ignored()
    {
        const string log = """
            [    0.000000] Linux version 6.18.0
            [   12.000000] Out of memory: Kill process 99 (x) score 1 or sacrifice child
            [   12.000001] Killed process abc (x) total-vm:1kB
            [   13.000000] oom_reaper: reaped process 5 (y), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB
            random text with Killed process but nothing after
            """;
        Assert.Empty(P(log));
    }

    [Theory]
    [InlineData("6,1,2000000,-;hello", 2.0, "hello")]
    [InlineData("[  5.250000] hello", 5.25, "hello")]
    [InlineData("[  1234] 0 1234 10 20 30 0 0 foo", null, "[  1234] 0 1234 10 20 30 0 0 foo")]
    public void Split_prefixes(string raw, double? seconds, string message)
    {
        var l = OomLog.Split(raw);
        Assert.Equal(seconds, l.SecondsSinceBoot);
        Assert.Equal(message, l.Message);
    }
}

public class OomHistoryCliTests
{
    private static readonly string Log = Path.Combine(Paths.Captures, "oom/journal-5.x-mixed.log");

    [Fact]
    public void History_from_a_journal_file_lists_both_kills_with_trigger_and_cgroup()
    {
        CliResult r = CliRun.Run("oom", "history", "--log", Log);
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("OOM kills in " + Log + ": 2", r.Stdout);
        string[] lines = r.Stdout.Split('\n');
        string pg = lines.Single(l => l.Contains(" 5002 "));
        Assert.Contains("postgres", pg);
        Assert.Contains("memory cgroup limit", pg);
        Assert.Contains("/system.slice/postgresql.service", pg);
        Assert.Contains("-900", pg);
        string py = lines.Single(l => l.Contains(" 7777 "));
        Assert.Contains("global", py);
    }

    [Fact]
    public void History_json()
    {
        CliResult r = CliRun.Run("oom", "history", "--log", Log, "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = System.Text.Json.JsonDocument.Parse(r.Stdout);
        var kills = doc.RootElement.GetProperty("kills").EnumerateArray().ToArray();
        Assert.Equal(2, kills.Length);
        Assert.Equal(5002, kills[0].GetProperty("pid").GetInt32());
        Assert.Equal("memcg", kills[0].GetProperty("trigger").GetString());
        Assert.Equal("/system.slice/postgresql.service", kills[0].GetProperty("oom_cgroup").GetString());
        Assert.Equal(480000L * 1024, kills[0].GetProperty("anon_rss_bytes").GetInt64());
        Assert.Equal(30000L * 1024, kills[0].GetProperty("shmem_rss_bytes").GetInt64());
        Assert.Equal(113, kills[0].GetProperty("uid").GetInt32());
        Assert.Equal("global", kills[1].GetProperty("trigger").GetString());
    }

    [Fact]
    public void Missing_log_file_is_a_clear_error()
    {
        CliResult r = CliRun.Run("oom", "history", "--log", "/nonexistent/memscope.log");
        Assert.Equal(3, r.ExitCode);
        Assert.Contains("no such file", r.Stderr);
    }
}
