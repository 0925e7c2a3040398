using static MemScope.Analysis.Doctor.DoctorThresholds;

namespace MemScope.Analysis.Doctor.Rules;

/// <summary>reclaim-stall: allocations waited for reclaim (direct reclaim, allocation stalls) or PSI memory pressure.</summary>
public sealed class ReclaimStallRule : IDoctorRule
{
    public string Id => "reclaim-stall";

    public IEnumerable<Finding> Evaluate(DoctorContext c)
    {
        var psi = c.Last.System.MemoryPressure;
        var rates = c.Rates;
        if (psi is null && rates is null) throw new RuleSkipped("no PSI (/proc/pressure/memory) and only one sample");
        double directScan = rates?.ScanDirectPerSec ?? 0, stalls = rates?.AllocStallsPerSec ?? 0, directSteal = rates?.StealDirectPerSec ?? 0;
        double someAvg = psi?.Some?.Avg10 ?? 0, fullAvg = psi?.Full?.Avg10 ?? 0;
        // PSI totals (µs) over the window are more precise than avg10 for short windows.
        if (psi?.Full is { } fl && c.First.System.MemoryPressure?.Full is { } ff && c.WindowSeconds > 0 && fl.TotalMicroseconds >= ff.TotalMicroseconds)
            fullAvg = Math.Max(fullAvg, (fl.TotalMicroseconds - ff.TotalMicroseconds) / 1e4 / c.WindowSeconds);
        if (psi?.Some is { } sl && c.First.System.MemoryPressure?.Some is { } sf && c.WindowSeconds > 0 && sl.TotalMicroseconds >= sf.TotalMicroseconds)
            someAvg = Math.Max(someAvg, (sl.TotalMicroseconds - sf.TotalMicroseconds) / 1e4 / c.WindowSeconds);

        Severity? severity = null;
        if (fullAvg >= PsiFullCriticalPercent) severity = Severity.Critical;
        else if (fullAvg >= PsiFullWarningPercent || someAvg >= PsiSomeWarningPercent
                 || stalls > 0 || directScan >= DirectReclaimMinPagesPerSec) severity = Severity.Warning;
        if (severity is null) yield break;
        yield return new Finding
        {
            Id = Id,
            Severity = severity.Value,
            Title = ("Processes stall waiting for memory reclaim", "进程因等待内存回收而停顿"),
            Evidence =
            [
                new("PSI memory some", psi is null ? "unavailable" : $"{someAvg:0.0}% of time", "/proc/pressure/memory some (avg10, or total over the window)"),
                new("PSI memory full", psi?.Full is null ? "unavailable" : $"{fullAvg:0.0}% of time", "/proc/pressure/memory full"),
                new("direct reclaim scans", $"{Format.Num(directScan)} pages/s (stolen {Format.Num(directSteal)} pages/s)", "/proc/vmstat pgscan_direct, pgsteal_direct rates"),
                new("allocation stalls", $"{Format.Num(stalls)} /s", "/proc/vmstat allocstall_* rate"),
            ],
            Explanation = ("When free memory falls below a zone's min watermark, or a cgroup hits its limit, the allocating process must reclaim memory itself before it can continue: a stall. PSI 'some' is the share of time at least one task waited on memory; 'full' the share when all did.",
                           "当空闲内存低于 zone 的 min 水位线，或 cgroup 达到上限时，分配内存的进程必须先自己回收内存才能继续：这就是停顿。PSI 的 some 是至少一个任务等待内存的时间占比；full 是所有任务都在等待的时间占比。"),
            Cause = ("Memory demand outruns kswapd's background reclaim; often together with swap-activity or cgroup-limit.", "内存需求超过了 kswapd 后台回收的速度；常与 swap-activity 或 cgroup-limit 同时出现。"),
            Next = ["memscope swap --watch", "memscope cgroups", "memscope vmstat 1 5"],
            Fixes =
            [
                ("Raise vm.watermark_scale_factor (e.g. 100-200) so kswapd starts earlier and allocations stall less.", "调高 vm.watermark_scale_factor（如 100-200），让 kswapd 更早开始回收，减少分配停顿。"),
                ("Reduce memory demand or raise the cgroup limit that is being hit.", "降低内存需求，或提高被触及的 cgroup 上限。"),
            ],
        };
    }
}
