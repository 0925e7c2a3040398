using MemScope.Model;
using static MemScope.Analysis.Doctor.DoctorThresholds;

namespace MemScope.Analysis.Doctor.Rules;

/// <summary>leak-suspect: a process whose memory grows steadily over the window; names it and the growing segment.</summary>
public sealed class LeakSuspectRule : IDoctorRule
{
    public string Id => "leak-suspect";

    public IEnumerable<Finding> Evaluate(DoctorContext c)
    {
        if (c.Samples.Count < LeakMinSamples)
            throw new RuleSkipped($"needs at least {LeakMinSamples} samples over the window (use --duration)");
        var suspects = new List<(ProcessSnapshot First, ProcessSnapshot Last, LinearFit Fit)>();
        double? uptime = c.First.System.UptimeSeconds;
        foreach (var (first, last) in c.SurvivingProcesses())
        {
            // The doctor does not diagnose itself (its own allocations while sampling are not a leak).
            if (last.Pid == Environment.ProcessId || last.IsKernelThread) continue;
            if (uptime is double up && up - (double)first.StartTimeTicks / c.First.ClockTicksPerSecond < LeakMinAgeSeconds) continue;
            ulong before = LeakableBytes(first), after = LeakableBytes(last);
            if (after <= before || after - before < LeakMinGrowthBytes) continue;
            LinearFit fit = LinearFit.Of(c.RssSeries(last.Key, p => LeakableBytes(p)));
            if (fit.Slope >= LeakMinRateBytesPerSec && fit.RSquared >= LeakMinRSquared) suspects.Add((first, last, fit));
        }
        double available = c.Meminfo.MemAvailable ?? c.Meminfo.MemFree ?? 0;
        foreach (var (first, last, fit) in suspects.OrderByDescending(s => s.Fit.Slope).Take(3))
        {
            double secondsLeft = available / fit.Slope;
            string segment = GrowingSegment(first, last);
            yield return new Finding
            {
                Id = Id,
                Severity = secondsLeft < LeakCriticalExhaustionSeconds && c.WindowSeconds >= LeakCriticalMinWindowSeconds
                    ? Severity.Critical : Severity.Warning,
                Title = ($"{last.Comm} (pid {last.Pid}) grows steadily: {Format.Rate(fit.Slope)}", $"{last.Comm}（pid {last.Pid}）持续增长：{Format.Rate(fit.Slope)}"),
                Evidence =
                [
                    new("anon+shmem+swap", $"{Format.Bytes(LeakableBytes(first))} → {Format.Bytes(LeakableBytes(last))} in {Format.Num(c.WindowSeconds)} s",
                        $"/proc/{last.Pid}/status RssAnon + RssShmem + VmSwap"),
                    new("rate", $"{Format.Rate(fit.Slope)}, R² {fit.RSquared:0.00} over {fit.Points} samples", "least-squares fit"),
                    new("growing", segment, $"/proc/{last.Pid}/status RssAnon, RssFile, RssShmem deltas"),
                    new("MemAvailable runs out in", Format.Duration(secondsLeft), "MemAvailable / rate"),
                ],
                Explanation = ("Memory that grows in a straight line while the work stays the same is the signature of a leak: allocations that are never freed. Only the heap and the anonymous mappings can leak.",
                               "工作量不变而内存直线增长，是内存泄漏的典型特征：分配之后从未释放。只有堆和匿名映射会泄漏。"),
                Cause = ($"{segment} of {last.Comm} grows; a cache that never evicts, or a missing free().", $"{last.Comm} 的{SegmentZh(segment)}在增长；可能是从不淘汰的缓存，或缺少 free()。"),
                Next = [$"memscope leak {last.Pid} --duration 60s", $"memscope maps {last.Pid}", $"sudo memscope leak {last.Pid} --trace"],
                Fixes =
                [
                    ("Fix the leak in the code path `memscope leak --trace` names.", "修复 `memscope leak --trace` 指出的代码路径中的泄漏。"),
                    ("Until then, cap the service with a cgroup memory limit and restart it on a schedule.", "在修复之前，用 cgroup 内存上限约束该服务，并定期重启。"),
                ],
            };
        }
    }

    /// <summary>Memory that can leak: anonymous (heap, mmaps), shared memory, and what of them went to swap. File pages cannot leak.</summary>
    internal static ulong LeakableBytes(ProcessSnapshot p) =>
        p.RssAnonBytes is ulong anon ? anon + (p.RssShmemBytes ?? 0) + (p.SwapBytes ?? 0) : p.RssBytes + (p.SwapBytes ?? 0);

    internal static string GrowingSegment(ProcessSnapshot first, ProcessSnapshot last)
    {
        long anon = Delta(first.RssAnonBytes, last.RssAnonBytes), file = Delta(first.RssFileBytes, last.RssFileBytes),
             shmem = Delta(first.RssShmemBytes, last.RssShmemBytes), swap = Delta(first.SwapBytes, last.SwapBytes);
        long max = Math.Max(Math.Max(anon, file), Math.Max(shmem, swap));
        if (max <= 0) return "resident memory";
        if (max == anon || max == swap) return "heap/anonymous mappings";
        return max == shmem ? "shared memory" : "file mappings";
    }

    private static string SegmentZh(string segment) => segment switch
    {
        "heap/anonymous mappings" => "堆/匿名映射",
        "shared memory" => "共享内存",
        "file mappings" => "文件映射",
        _ => "常驻内存",
    };

    private static long Delta(ulong? a, ulong? b) => a is ulong x && b is ulong y ? (long)y - (long)x : 0;
}
