using static MemScope.Analysis.Doctor.DoctorThresholds;

namespace MemScope.Analysis.Doctor.Rules;

/// <summary>numa-imbalance: one NUMA node nearly exhausted while another has plenty free.</summary>
public sealed class NumaImbalanceRule : IDoctorRule
{
    public string Id => "numa-imbalance";

    public IEnumerable<Finding> Evaluate(DoctorContext c)
    {
        var zoneinfo = c.Last.System.Zoneinfo ?? throw new RuleSkipped("/proc/zoneinfo unreadable");
        var nodes = zoneinfo.Zones.Where(z => z.IsPopulated).GroupBy(z => z.Node)
            .Select(g => (Node: g.Key, Free: g.Sum(z => (double)(z.Free ?? 0)), Managed: g.Sum(z => (double)(z.Managed ?? z.Present ?? 0))))
            .Where(n => n.Managed > 0).ToList();
        if (nodes.Count < 2) yield break; // one node: nothing to balance
        var low = nodes.MinBy(n => n.Free / n.Managed);
        var high = nodes.MaxBy(n => n.Free / n.Managed);
        if (low.Free / low.Managed >= NumaExhaustedFreeFraction || high.Free / high.Managed <= NumaPlentyFreeFraction) yield break;
        double page = c.Last.PageSize;
        long? reclaimMode = c.Last.System.SysVm?.ZoneReclaimMode;
        yield return new Finding
        {
            Id = Id,
            Severity = Severity.Warning,
            Title = ($"NUMA node {low.Node} is nearly full while node {high.Node} has room", $"NUMA 节点 {low.Node} 几乎耗尽，而节点 {high.Node} 仍有空间"),
            Evidence =
            [
                new($"node {low.Node} free", $"{Format.Bytes(low.Free * page)} of {Format.Bytes(low.Managed * page)} ({Format.Pct(low.Free / low.Managed)})", "/proc/zoneinfo pages free / managed"),
                new($"node {high.Node} free", $"{Format.Bytes(high.Free * page)} of {Format.Bytes(high.Managed * page)} ({Format.Pct(high.Free / high.Managed)})", "/proc/zoneinfo pages free / managed"),
                new("zone_reclaim_mode", reclaimMode?.ToString() ?? "unknown", "/proc/sys/vm/zone_reclaim_mode"),
            ],
            Explanation = ("Memory is allocated on the node of the CPU that asks for it. When one node fills up, the kernel either falls back to a remote node (slower access) or, with zone_reclaim_mode on, reclaims and swaps locally while the other node sits free.",
                           "内存在发出请求的 CPU 所在节点上分配。一个节点被占满时，内核要么回退到远端节点（访问更慢），要么在 zone_reclaim_mode 开启时在本地回收和换出，而另一个节点却空闲着。"),
            Cause = ("Processes pinned (numactl, cpusets) to one node, or a large process that started there.", "进程被绑定（numactl、cpuset）到一个节点，或一个大进程在该节点启动。"),
            Next = ["numastat -m", "memscope swap"],
            Fixes =
            [
                ("Set vm.zone_reclaim_mode=0 so allocations spill to the other node instead of reclaiming locally.", "设置 vm.zone_reclaim_mode=0，让分配溢出到另一个节点而不是在本地回收。"),
                ("Spread the workload with numactl --interleave=all, or rebalance cpusets.", "用 numactl --interleave=all 分散负载，或重新平衡 cpuset。"),
            ],
        };
    }
}
