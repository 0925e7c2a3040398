using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.IntegrationTests;

public class CgroupsV1LiveTests
{
    [SkippableFact]
    public void Own_v1_memory_cgroup_matches_its_files()
    {
        var proc = new ProcFs("/proc");
        MemoryCgroups cg = MemoryCgroups.Discover(proc, new SysFs("/sys"));
        Skip.If(cg.V1 is null, "no cgroup v1 memory hierarchy on this machine");
        var where = cg.ForProcess(proc, Environment.ProcessId);
        Assert.NotNull(where);
        Assert.Equal(CgroupVersion.V1, where!.Value.Version);
        MemoryCgroup me = cg.Read(CgroupVersion.V1, where.Value.Path)!;
        string dir = Path.Combine(cg.V1!.Directory, where.Value.Path.TrimStart('/'));
        Assert.Equal(dir.TrimEnd('/'), me.Directory.TrimEnd('/'));
        ulong usage = ulong.Parse(File.ReadAllText(Path.Combine(dir, "memory.usage_in_bytes")).Trim());
        // usage moves; both reads within 64 MiB of each other on a busy machine
        Assert.InRange((double)me.UsageBytes!.Value, usage - 64.0 * 1024 * 1024, usage + 64.0 * 1024 * 1024);
        Assert.True(me.UsageBytes > 1024 * 1024, "this test process alone uses more than 1 MiB");
        Assert.Contains("rss", me.Stat.Keys);
        Assert.NotNull(me.Failcnt);
        Assert.NotNull(me.OomKillDisabled);
        Assert.True(me.Processes >= 1);
    }
}
