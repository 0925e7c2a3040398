using static MemScope.Analysis.Doctor.DoctorThresholds;

namespace MemScope.Analysis.Doctor.Rules;

/// <summary>swap-activity: swapping in or out now, and who holds the swap.</summary>
public sealed class SwapActivityRule : IDoctorRule
{
    public string Id => "swap-activity";

    public IEnumerable<Finding> Evaluate(DoctorContext c)
    {
        if (c.Rates is not { SwapInPagesPerSec: double si, SwapOutPagesPerSec: double so })
            throw new RuleSkipped(c.Samples.Count < 2 ? "needs two samples" : "no pswpin/pswpout in /proc/vmstat");
        double page = c.Last.PageSize;
        double inBytes = si * page, outBytes = so * page;
        double worst = Math.Max(inBytes, outBytes);
        ulong swapUsed = (c.Meminfo.SwapTotal ?? 0) - (c.Meminfo.SwapFree ?? 0);
        var holders = c.Last.Processes.Where(p => p.SwapBytes > 0).OrderByDescending(p => p.SwapBytes).Take(3).ToList();
        string who = holders.Count == 0 ? "none visible" : string.Join(", ", holders.Select(p => $"{p.Comm} ({p.Pid}) {Format.Bytes(p.SwapBytes)}"));
        if (worst < SwapWarningBytesPerSec)
        {
            if (swapUsed > 0 && (c.Meminfo.SwapTotal ?? 0) > 0)
                yield return new Finding
                {
                    Id = Id,
                    Severity = Severity.Info,
                    Title = ("Swap holds pages but nothing is swapping now", "swap 中有页面，但当前没有换入换出"),
                    Evidence = [new("swap used", Format.Bytes(swapUsed), "/proc/meminfo SwapTotal − SwapFree"), new("held by", who, "/proc/PID/status VmSwap")],
                    Explanation = ("Pages swapped out earlier stay in swap until touched again. Idle swap costs nothing.", "之前换出的页面在再次被访问前会留在 swap 中。空闲的 swap 没有开销。"),
                    Next = ["memscope swap"],
                };
            yield break;
        }
        yield return new Finding
        {
            Id = Id,
            Severity = worst >= SwapCriticalBytesPerSec ? Severity.Critical : Severity.Warning,
            Title = ("The machine is swapping now", "系统正在进行换入换出"),
            Evidence =
            [
                new("swap in", $"{Format.Rate(inBytes)} ({Format.Num(si)} pages/s)", "/proc/vmstat pswpin rate"),
                new("swap out", $"{Format.Rate(outBytes)} ({Format.Num(so)} pages/s)", "/proc/vmstat pswpout rate"),
                new("swap used", Format.Bytes(swapUsed), "/proc/meminfo SwapTotal − SwapFree"),
                new("held by", who, "/proc/PID/status VmSwap"),
            ],
            Explanation = ("Swap-out means reclaim had to push anonymous pages to disk; swap-in means a process touched a page that was out and had to wait for the disk. Both together (thrashing) slow everything down.",
                           "换出表示回收不得不把匿名页写到磁盘；换入表示进程访问了被换出的页，必须等待磁盘。两者同时发生（颠簸）会拖慢一切。"),
            Cause = ("The working set of the processes is larger than RAM (or than their cgroup limit).", "进程的工作集大于内存（或其 cgroup 上限）。"),
            Next = ["memscope swap", "memscope ps --sort swap --top 10", "memscope cgroups"],
            Fixes =
            [
                ("Reduce the memory of the top consumers, or add RAM.", "减少主要占用者的内存，或增加内存。"),
                ("Lower vm.swappiness (e.g. 10) to prefer dropping page cache over swapping anonymous memory.", "调低 vm.swappiness（如 10），让内核优先回收页缓存而不是换出匿名内存。"),
                ("Give latency-critical services memory.low/memory.min protection in their cgroup.", "在 cgroup 中为延迟敏感的服务设置 memory.low/memory.min 保护。"),
            ],
        };
    }
}
