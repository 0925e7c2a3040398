using static MemScope.Analysis.Doctor.DoctorThresholds;

namespace MemScope.Analysis.Doctor.Rules;

/// <summary>overcommit: in strict mode (overcommit_memory=2), Committed_AS near CommitLimit — allocations will fail.</summary>
public sealed class OvercommitRule : IDoctorRule
{
    public string Id => "overcommit";

    public IEnumerable<Finding> Evaluate(DoctorContext c)
    {
        if (c.Meminfo.CommittedAS is not ulong committed || c.Meminfo.CommitLimit is not ulong limit || limit == 0)
            throw new RuleSkipped("no Committed_AS/CommitLimit in /proc/meminfo");
        long? mode = c.Last.System.SysVm?.OvercommitMemory;
        if (mode is null) throw new RuleSkipped("/proc/sys/vm/overcommit_memory unreadable");
        double fraction = (double)committed / limit;
        if (mode != 2 || fraction < OvercommitWarningFraction) yield break;
        yield return new Finding
        {
            Id = Id,
            Severity = fraction >= OvercommitCriticalFraction ? Severity.Critical : Severity.Warning,
            Title = ("Committed memory is near the strict overcommit limit", "已提交内存接近严格超额分配上限"),
            Evidence =
            [
                new("Committed_AS", $"{Format.Bytes(committed)} ({Format.Pct(fraction)} of CommitLimit)", "/proc/meminfo Committed_AS"),
                new("CommitLimit", Format.Bytes(limit), "/proc/meminfo CommitLimit = swap + RAM × overcommit_ratio%"),
                new("overcommit_memory", "2 (strict: never overcommit)", "/proc/sys/vm/overcommit_memory"),
            ],
            Explanation = ("With vm.overcommit_memory=2 the kernel refuses any allocation (malloc, mmap, fork) that would push the memory promised to processes (Committed_AS) past CommitLimit, even if RAM is free. Programs then fail with ENOMEM instead of being OOM-killed later.",
                           "当 vm.overcommit_memory=2 时，只要分配（malloc、mmap、fork）会使承诺给进程的内存（Committed_AS）超过 CommitLimit，内核就会拒绝，即使内存仍有空闲。程序会因 ENOMEM 失败，而不是之后被 OOM 杀死。"),
            Cause = ("Processes reserve (commit) more virtual memory than they use, or the limit is set low.", "进程预留（提交）的虚拟内存多于实际使用，或上限设置过低。"),
            Next = ["memscope ps --sort virt --top 10", "sysctl vm.overcommit_ratio vm.overcommit_kbytes"],
            Fixes =
            [
                ("Raise vm.overcommit_ratio (or overcommit_kbytes), or add swap (it raises CommitLimit).", "调高 vm.overcommit_ratio（或 overcommit_kbytes），或增加 swap（会提高 CommitLimit）。"),
                ("Or return to heuristic overcommit (vm.overcommit_memory=0) if strict accounting is not required.", "如不需要严格记账，可恢复启发式超额分配（vm.overcommit_memory=0）。"),
            ],
        };
    }
}
