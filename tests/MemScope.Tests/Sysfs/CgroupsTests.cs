using System.Text.Json;
using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.Tests;

public class CgroupsV2FixtureTests
{
    private static readonly string Root = Path.Combine(Paths.Captures, "cgroup2");
    private static MemoryCgroups Discover() => MemoryCgroups.Discover(new ProcFs(Path.Combine(Root, "proc")), new SysFs(Path.Combine(Root, "sys")));

    [Fact]
    public void Finds_the_v2_hierarchy_rerooted_at_the_sys_root()
    {
        MemoryCgroups cg = Discover();
        Assert.Null(cg.V1);
        Assert.NotNull(cg.V2);
        Assert.Equal("/sys/fs/cgroup", cg.V2!.MountPoint);
        Assert.Equal(Path.Combine(Root, "sys/fs/cgroup"), cg.V2.Directory);
    }

    [Fact]
    public void Reads_every_documented_file_of_a_limited_cgroup()
    {
        MemoryCgroup db = Discover().Read(CgroupVersion.V2, "/system.slice/db.service")!;
        Assert.Equal(533725184UL, db.UsageBytes);
        Assert.Equal(536870912UL, db.MaxUsageBytes);
        Assert.Equal(536870912UL, db.LimitBytes);
        Assert.False(db.LimitIsMax);
        Assert.Null(db.HighBytes);
        Assert.True(db.HighIsMax);
        Assert.Equal(268435456UL, db.LowBytes);
        Assert.Equal(134217728UL, db.MinBytes);
        Assert.Equal(67108864UL, db.SwapUsageBytes);
        Assert.Equal(268435456UL, db.SwapLimitBytes);
        Assert.Equal(new CgroupMemoryEvents(0, 0, 9, 1, 1, 0), db.Events);
        Assert.Equal(1UL, db.OomKills);
        Assert.Equal(520093696UL, db.Stat["anon"]);
        Assert.Equal(40960UL, db.Stat["pgscan"]);
        Assert.Equal(7.00, db.Pressure!.Some!.Value.Avg10, 3);
        Assert.Equal(1190000UL, db.Pressure.Full!.Value.TotalMicroseconds);
        Assert.Equal(2, db.Processes);
        Assert.Equal(533725184.0 / 536870912, db.UsageOfLimit!.Value, 6);
        Assert.Null(db.Failcnt); // v1 only
    }

    [Fact]
    public void Walk_lists_only_cgroups_with_the_memory_controller_parents_first()
    {
        var all = Discover().All().ToList();
        Assert.Equal(["/", "/system.slice", "/system.slice/db.service", "/user.slice"], all.Select(c => c.Path).ToArray());
        MemoryCgroup root = all[0];
        Assert.Null(root.UsageBytes); // the v2 root has no memory.current
        Assert.Equal(0.12, root.Pressure!.Some!.Value.Avg10, 3);
        MemoryCgroup user = all[3];
        Assert.True(user.LimitIsMax);
        Assert.Null(user.LimitBytes);
        Assert.True(user.SwapLimitIsMax);
        Assert.Null(user.Events!.OomGroupKill); // pre-5.17 memory.events: absent, not 0
        Assert.Equal(0UL, user.Events.OomKill);
        MemoryCgroup system = all[1];
        Assert.Equal(1610612736UL, system.HighBytes);
        Assert.Equal(57UL, system.Events!.High);
    }

    [Fact]
    public void Process_cgroup_comes_from_the_0_colon_colon_line()
    {
        var proc = new ProcFs(Path.Combine(Root, "proc"));
        Assert.Equal((CgroupVersion.V2, "/system.slice/db.service"), Discover().ForProcess(proc, 4242));
        Assert.Equal((CgroupVersion.V2, "/user.slice"), Discover().ForProcess(proc, 4343));
        Assert.Null(Discover().ForProcess(proc, 999999));
    }

    [Fact]
    public void Proc_pid_cgroup_parsing_handles_v1_v2_and_hybrid()
    {
        const string hybrid = "12:pids:/user.slice\n4:memory:/process_api/abc\n3:cpu,cpuacct:/\n1:name=systemd:/user.slice/x.scope\n0::/user.slice/x.scope\n";
        ProcessCgroups p = ProcessCgroups.Parse(hybrid, "cgroup");
        Assert.Equal("/process_api/abc", p.MemoryV1Path);
        Assert.Equal("/user.slice/x.scope", p.UnifiedPath);
        Assert.Equal("/a,b", ProcessCgroups.Parse("5:cpu,memory:/a,b\n", "cgroup").MemoryV1Path); // path with a comma
        Assert.Throws<KernelFileException>(() => ProcessCgroups.Parse("garbage\n", "cgroup"));
    }

    [Fact]
    public void Cli_json_and_table_on_the_fixture()
    {
        string proc = Path.Combine(Root, "proc"), sys = Path.Combine(Root, "sys");
        CliResult r = CliRun.Run("cgroups", "--proc-root", proc, "--sys-root", sys, "--json");
        Assert.Equal(0, r.ExitCode);
        using JsonDocument doc = JsonDocument.Parse(r.Stdout);
        JsonElement[] cgs = doc.RootElement.GetProperty("cgroups").EnumerateArray().ToArray();
        Assert.Equal(4, cgs.Length);
        JsonElement db = cgs.Single(c => c.GetProperty("path").GetString() == "/system.slice/db.service");
        Assert.Equal(536870912UL, db.GetProperty("limit_bytes").GetUInt64());
        Assert.Equal(67108864UL, db.GetProperty("swap_bytes").GetUInt64());
        Assert.Equal(1UL, db.GetProperty("events").GetProperty("oom_kill").GetUInt64());
        Assert.Equal(7.0, db.GetProperty("pressure").GetProperty("some_avg10").GetDouble(), 3);

        CliResult table = CliRun.Run("cgroups", "--proc-root", proc, "--sys-root", sys);
        Assert.Equal(0, table.ExitCode);
        Assert.Contains("/system.slice/db.service", table.Stdout);
        Assert.Contains("99.4%", table.Stdout);
        Assert.Contains("max 9", table.Stdout);

        CliResult one = CliRun.Run("cgroups", "--proc-root", proc, "--sys-root", sys, "--pid", "4343", "--csv");
        Assert.Equal(0, one.ExitCode);
        string[] lines = one.Stdout.Trim().Split('\n');
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("2,/user.slice,1,104857600,,0,", lines[1]);

        CliResult missing = CliRun.Run("cgroups", "--proc-root", proc, "--sys-root", sys, "--pid", "999999");
        Assert.Equal(3, missing.ExitCode);
        Assert.Contains("no process 999999", missing.Stderr);
    }
}
