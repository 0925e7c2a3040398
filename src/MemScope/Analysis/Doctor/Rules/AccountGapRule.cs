using static MemScope.Analysis.Doctor.DoctorThresholds;

namespace MemScope.Analysis.Doctor.Rules;

/// <summary>account-gap (info): used memory far from what the processes explain; points to `memscope account`.</summary>
public sealed class AccountGapRule : IDoctorRule
{
    public string Id => "account-gap";

    public IEnumerable<Finding> Evaluate(DoctorContext c)
    {
        var account = MemoryAccountBuilder.Build(c.Last, c.AccountExtras);
        if (account.Processes.PssBytes is null) throw new RuleSkipped("process PSS unreadable (smaps_rollup needs root or ownership)");
        if (MemoryAccountBuilder.UnexplainedUsedBytes(account, c.Meminfo) is not long gap) throw new RuleSkipped("no MemAvailable");
        if (gap < UnexplainedUsedFraction * account.MemTotalBytes) yield break;
        var biggest = account.Lines.Where(l => l.Id is not ("free" or "anon" or "pagecache" or "remainder") && l.Bytes is not null)
            .OrderByDescending(l => l.Bytes).Take(3).ToList();
        yield return new Finding
        {
            Id = Id,
            Severity = Severity.Info,
            Title = ("Used memory is far from what the processes explain", "已用内存与进程所占内存相差很大"),
            Evidence =
            [
                new("used (MemTotal − MemAvailable)", Format.Bytes((double)(account.MemTotalBytes - (long)(c.Meminfo.MemAvailable ?? 0))), "/proc/meminfo"),
                new("processes' PSS", Format.Bytes((double)account.Processes.PssBytes!.Value), $"Σ smaps_rollup Pss over {account.Processes.Counted} processes"),
                new("unexplained", Format.Bytes((double)gap), "used − Σ PSS"),
                new("largest non-process lines", string.Join(", ", biggest.Select(l => $"{l.Title} {Format.Bytes((double)l.Bytes!.Value)}")), "memscope account"),
            ],
            Explanation = ("free's 'used' counts kernel memory, shared memory and unreclaimable cache too; processes' PSS counts only what they map. The difference is kernel slab, tmpfs/shm, page tables, huge page pools and driver memory.",
                           "free 的 used 还包括内核内存、共享内存和不可回收的缓存；进程的 PSS 只统计它们映射的部分。差额是内核 slab、tmpfs/shm、页表、大页池和驱动内存。"),
            Next = ["memscope account"],
        };
    }
}
