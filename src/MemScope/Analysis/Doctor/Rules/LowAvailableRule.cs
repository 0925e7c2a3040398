using static MemScope.Analysis.Doctor.DoctorThresholds;

namespace MemScope.Analysis.Doctor.Rules;

/// <summary>low-available: MemAvailable low, or falling fast enough to run out soon.</summary>
public sealed class LowAvailableRule : IDoctorRule
{
    public string Id => "low-available";

    public IEnumerable<Finding> Evaluate(DoctorContext c)
    {
        if (c.Meminfo.MemAvailable is not ulong available)
            throw new RuleSkipped("no MemAvailable in /proc/meminfo (kernel older than 3.14)");
        double total = c.MemTotal;
        double fraction = available / total;
        var series = c.Samples.Where(s => s.System.Meminfo.MemAvailable is not null)
            .Select(s => (T: Model.Snapshot.Elapsed(c.First, s), Y: (double)s.System.Meminfo.MemAvailable!.Value)).ToList();
        LinearFit fit = LinearFit.Of(series);
        double? secondsLeft = fit.Slope < 0 && fit.RSquared >= 0.8 && series.Count >= 4 && fraction < AvailableFallingConcernFraction
            ? available / -fit.Slope : null;

        Severity? severity = null;
        if (fraction < AvailableCriticalFraction || secondsLeft < ExhaustionCriticalSeconds) severity = Severity.Critical;
        else if (fraction < AvailableWarningFraction || secondsLeft < ExhaustionWarningSeconds) severity = Severity.Warning;
        if (severity is null) yield break;

        var evidence = new List<Evidence>
        {
            new("MemAvailable", $"{Format.Bytes(available)} ({Format.Pct(fraction)} of {Format.Bytes(total)})", "/proc/meminfo MemAvailable, MemTotal"),
        };
        if (c.WindowSeconds > 0)
            evidence.Add(new("trend", $"{Format.Rate(fit.Slope)} over {Format.Num(c.WindowSeconds)} s (R² {fit.RSquared:0.00})", "least-squares fit of MemAvailable samples"));
        if (secondsLeft is double left)
            evidence.Add(new("runs out in", Format.Duration(left), "MemAvailable / fall rate"));
        yield return new Finding
        {
            Id = Id,
            Severity = severity.Value,
            Title = secondsLeft is not null && fraction >= AvailableWarningFraction
                ? ("Available memory is falling fast", "可用内存正在快速下降")
                : ("Available memory is low", "可用内存不足"),
            Evidence = evidence,
            Explanation = ("MemAvailable is the kernel's estimate of how much memory new work can get without swapping: free pages plus the page cache and slab it can reclaim. When it nears zero the kernel reclaims hard, swaps, and finally the OOM killer ends a process.",
                           "MemAvailable 是内核估计的、新任务无需换出即可获得的内存：空闲页加上可回收的页缓存和 slab。它接近零时，内核会大力回收、换出，最终由 OOM killer 杀死进程。"),
            Cause = ("Processes hold most memory as anonymous (heap) pages, or non-reclaimable kernel memory grows.", "进程以匿名页（堆）占用了大部分内存，或者不可回收的内核内存在增长。"),
            Next = ["memscope ps --sort pss --top 10", "memscope account", "memscope leak --all --duration 30s"],
            Fixes =
            [
                ("Find and stop or restart the process that grew (see leak-suspect).", "找到并停止或重启增长的进程（见 leak-suspect）。"),
                ("Put memory limits on services with cgroups (systemd MemoryMax=) so one cannot starve the rest.", "用 cgroup 为服务设置内存上限（systemd MemoryMax=），避免一个服务拖垮其他服务。"),
                ("Add RAM or swap as a buffer.", "增加内存或配置 swap 作为缓冲。"),
            ],
        };
    }
}
