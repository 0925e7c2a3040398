using System.Text.Json;

namespace MemScope.Tests.Procps;

/// <summary>
/// `ps --cgroup` on a fake /proc + /sys: the fixture processes, with /proc/mounts naming a memory hierarchy (v1 or v2)
/// and /proc/PID/cgroup files written here. Unknown is '-' (JSON null); without --cgroup nothing changes; with --db
/// the column shows the cgroup recorded with the process (schema 4) and never reads the live tree.
/// </summary>
public sealed class PsCgroupColumnTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "memscope-pscg-" + Guid.NewGuid().ToString("N"));
    private string Proc => Path.Combine(_root, "proc");
    private string Sys => Path.Combine(_root, "sys");

    public PsCgroupColumnTests()
    {
        TempTrees.CopyWritable(Path.Combine(Paths.SharedFixtures, "procfs", "proc"), Proc);
        Directory.CreateDirectory(Path.Combine(Sys, "fs", "cgroup", "memory"));
        // 26231: in a lab cgroup (v1 memory line and a v2 line); 584: only a v2 line; the others: no cgroup file.
        File.WriteAllText(Path.Combine(Proc, "26231", "cgroup"), "12:pids:/user.slice\n5:cpu,memory:/memscope_lab_oom_42\n1:name=systemd:/user.slice\n0::/lab.scope\n");
        File.WriteAllText(Path.Combine(Proc, "584", "cgroup"), "0::/system.slice/prometheus.service\n");
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }

    private void MountV1() => File.WriteAllText(Path.Combine(Proc, "mounts"),
        "proc /proc proc rw 0 0\ncgroup /sys/fs/cgroup/memory cgroup rw,nosuid,nodev,noexec,relatime,memory 0 0\n");

    private void MountV2()
    {
        File.WriteAllText(Path.Combine(Proc, "mounts"), "proc /proc proc rw 0 0\ncgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime 0 0\n");
        File.WriteAllText(Path.Combine(Sys, "fs", "cgroup", "cgroup.controllers"), "cpuset cpu io memory pids\n");
    }

    private CliResult Ps(params string[] extra) =>
        CliRun.Run(["ps", "--proc-root", Proc, "--sys-root", Sys, "--no-pss", .. extra]);

    private static Dictionary<int, JsonElement> ByPid(string json)
    {
        var doc = JsonDocument.Parse(json);
        return doc.RootElement.GetProperty("processes").EnumerateArray().ToDictionary(p => p.GetProperty("pid").GetInt32(), p => p.Clone());
    }

    [Fact]
    public void V1_table_has_the_memory_cgroup_before_command_and_dash_when_unknown()
    {
        MountV1();
        CliResult r = Ps("--cgroup", "-o", "pid,rss,command", "--sort", "pid", "-w");
        Assert.True(r.ExitCode == 0, r.Stderr);
        string[] lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["PID", "RES", "CGROUP", "COMMAND"], lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        string Row(int pid) => lines.Single(l => l.TrimStart().StartsWith(pid + " ", StringComparison.Ordinal));
        Assert.Equal("/memscope_lab_oom_42", Row(26231).Split(' ', StringSplitOptions.RemoveEmptyEntries)[2]);
        Assert.Equal("-", Row(584).Split(' ', StringSplitOptions.RemoveEmptyEntries)[2]);   // v1 mounted, no v1 memory line
        Assert.Equal("-", Row(27079).Split(' ', StringSplitOptions.RemoveEmptyEntries)[2]);   // no cgroup file

        CliResult j = Ps("--cgroup", "--json");
        Assert.True(j.ExitCode == 0, j.Stderr);
        var procs = ByPid(j.Stdout);
        Assert.Equal("/memscope_lab_oom_42", procs[26231].GetProperty("memory_cgroup").GetString());
        Assert.Equal(JsonValueKind.Null, procs[584].GetProperty("memory_cgroup").ValueKind);
        Assert.Equal(JsonValueKind.Null, procs[27079].GetProperty("memory_cgroup").ValueKind);

        CliResult csv = Ps("-o", "pid,cgroup", "--sort", "pid", "--csv");
        Assert.Equal(0, csv.ExitCode);
        Assert.Contains("26231,/memscope_lab_oom_42\n", csv.Stdout);
        Assert.Contains("584,\n", csv.Stdout);
        Assert.StartsWith("pid,cgroup\n", csv.Stdout);
    }

    [Fact]
    public void V2_uses_the_unified_line()
    {
        MountV2();
        var procs = ByPid(Ps("--cgroup", "--json").Stdout);
        Assert.Equal("/lab.scope", procs[26231].GetProperty("memory_cgroup").GetString());
        Assert.Equal("/system.slice/prometheus.service", procs[584].GetProperty("memory_cgroup").GetString());
        Assert.Equal(JsonValueKind.Null, procs[27079].GetProperty("memory_cgroup").ValueKind);
    }

    [Fact]
    public void No_memory_hierarchy_is_unknown_not_root()
    {
        File.WriteAllText(Path.Combine(Proc, "mounts"), "proc /proc proc rw 0 0\n");
        var procs = ByPid(Ps("--cgroup", "--json").Stdout);
        Assert.Equal(JsonValueKind.Null, procs[26231].GetProperty("memory_cgroup").ValueKind);
    }

    [Fact]
    public void Without_the_option_the_output_is_unchanged()
    {
        MountV1();
        CliResult j = Ps("--json");
        Assert.DoesNotContain("memory_cgroup", j.Stdout);
        CliResult t = Ps("--sort", "pid");
        Assert.DoesNotContain("CGROUP", t.Stdout);
        Assert.Contains("CGROUP", Ps("--explain").Stdout);
        // sorting by it fills it even without --cgroup
        CliResult s = Ps("--sort", "cgroup", "-o", "pid,cgroup", "--csv");
        Assert.Equal("26231", s.Stdout.Split('\n')[1].Split(',')[0]);
    }

    [Fact]
    public void Replayed_tables_show_the_cgroup_recorded_with_the_process_not_the_live_tree()
    {
        MountV1();
        string db = Path.Combine(_root, "rec.db");
        CliResult rec = CliRun.Run("record", "--proc-root", Proc, "--sys-root", Sys, "--db", db, "--count", "1", "--interval", "100ms");
        Assert.True(rec.ExitCode == 0, rec.Stderr);
        // The live tree moves on after recording: the replay must show what was recorded, not this.
        File.WriteAllText(Path.Combine(Proc, "26231", "cgroup"), "5:cpu,memory:/moved_later\n");
        File.WriteAllText(Path.Combine(Proc, "27079", "cgroup"), "5:cpu,memory:/appeared_later\n");
        CliResult r = CliRun.Run("ps", "--proc-root", Proc, "--sys-root", Sys, "--db", db, "--cgroup", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var procs = ByPid(r.Stdout);
        Assert.Equal("/memscope_lab_oom_42", procs[26231].GetProperty("memory_cgroup").GetString());
        Assert.Equal(JsonValueKind.Null, procs[584].GetProperty("memory_cgroup").ValueKind);   // v1 mounted, no v1 memory line
        Assert.Equal(JsonValueKind.Null, procs[27079].GetProperty("memory_cgroup").ValueKind); // no cgroup file when recorded
        CliResult t = CliRun.Run("ps", "--proc-root", Proc, "--sys-root", Sys, "--db", db, "--cgroup", "--pid", "27079", "-o", "pid,cgroup");
        Assert.Equal("-", t.Stdout.Split('\n')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        CliResult t2 = CliRun.Run("ps", "--proc-root", Proc, "--sys-root", Sys, "--db", db, "--cgroup", "--pid", "26231", "-o", "pid,cgroup");
        Assert.Equal("/memscope_lab_oom_42", t2.Stdout.Split('\n')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
    }
}
