using static MemScope.Analysis.Doctor.DoctorThresholds;

namespace MemScope.Analysis.Doctor.Rules;

/// <summary>cgroup-limit: a memory cgroup near its limit, or hitting it (failcnt / memory.events max, oom).</summary>
public sealed class CgroupLimitRule : IDoctorRule
{
    public string Id => "cgroup-limit";

    public IEnumerable<Finding> Evaluate(DoctorContext c)
    {
        var groups = c.Cgroups ?? throw new RuleSkipped(c.CgroupsUnavailableReason ?? "memory cgroups not readable");
        foreach (CgroupObservation g in groups)
        {
            if (g.LimitBytes is not ulong limit || limit == 0 || limit >= (ulong)long.MaxValue / 2) continue;
            double fraction = (double)g.UsageBytes / limit;
            bool hitting = (g.FailCountDelta ?? 0) > 0 || (g.MaxEventsDelta ?? 0) > 0;
            bool oom = (g.OomEventsDelta ?? 0) > 0;
            if (fraction < CgroupWarningFraction && !hitting && !oom) continue;
            yield return new Finding
            {
                Id = Id,
                Severity = oom ? Severity.Critical : Severity.Warning,
                Title = ($"Memory cgroup {g.Path} is at its limit", $"内存 cgroup {g.Path} 已达到上限"),
                Evidence =
                [
                    new("usage / limit", $"{Format.Bytes(g.UsageBytes)} / {Format.Bytes(limit)} ({Format.Pct(fraction)})", "memory.usage_in_bytes / limit_in_bytes (v1), memory.current / memory.max (v2)"),
                    new("limit hits in the window", (g.FailCountDelta ?? g.MaxEventsDelta)?.ToString() ?? "unknown", "memory.failcnt (v1) or memory.events max (v2) delta"),
                    new("OOM events in the window", g.OomEventsDelta?.ToString() ?? "unknown", "memory.oom_control / memory.events oom delta"),
                ],
                Explanation = ("Inside a container or service cgroup, the limit — not the machine's RAM — is what running out means: at the limit the kernel reclaims and swaps inside the cgroup and finally OOM-kills one of its processes, while the machine may look idle.",
                               "在容器或服务的 cgroup 中，“内存耗尽”指的是达到上限，而不是整机内存：达到上限时内核在该 cgroup 内回收、换出，最终杀死其中一个进程，而整机看起来可能很空闲。"),
                Cause = ("The workload in the cgroup needs more than its limit.", "cgroup 中的工作负载需要的内存超过了上限。"),
                Next = ["memscope cgroups", "memscope oom history"],
                Fixes =
                [
                    ("Raise the limit (memory.max / systemd MemoryMax= / container --memory) to the real working set.", "将上限（memory.max / systemd MemoryMax= / 容器 --memory）提高到实际工作集大小。"),
                    ("Or reduce the workload's memory; use memory.high for early throttling instead of OOM kills.", "或减少工作负载的内存；用 memory.high 提前限流，而不是触发 OOM。"),
                ],
            };
        }
    }
}
