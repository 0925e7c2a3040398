using static MemScope.Analysis.Doctor.DoctorThresholds;

namespace MemScope.Analysis.Doctor.Rules;

/// <summary>hugepages-unused: a hugetlb pool that is reserved (pinned) but mostly free — memory taken for nothing.</summary>
public sealed class HugepagesUnusedRule : IDoctorRule
{
    public string Id => "hugepages-unused";

    public IEnumerable<Finding> Evaluate(DoctorContext c)
    {
        var m = c.Meminfo;
        if (m.HugePagesTotal is not ulong pages || m.HugePagesFree is not ulong free || m.HugepagesizeBytes is not ulong size)
            throw new RuleSkipped("no HugePages_* lines in /proc/meminfo (kernel without hugetlbfs)");
        if (pages == 0) yield break;
        ulong reserved = m.HugePagesRsvd ?? 0;
        ulong idle = free > reserved ? free - reserved : 0;
        double idleBytes = (double)idle * size;
        if ((double)idle / pages < HugepagesIdleFraction) yield break;
        if (idleBytes < HugepagesIdleMinBytes && idleBytes < HugepagesIdleMinFractionOfTotal * c.MemTotal) yield break;
        yield return new Finding
        {
            Id = Id,
            Severity = Severity.Warning,
            Title = ("A huge page pool is reserved but mostly unused", "大页池已预留但大部分未被使用"),
            Evidence =
            [
                new("pool", $"{pages} pages of {Format.Bytes((double)size)} = {Format.Bytes((double)pages * size)}", "/proc/meminfo HugePages_Total, Hugepagesize"),
                new("free / reserved", $"{free} / {reserved} pages", "/proc/meminfo HugePages_Free, HugePages_Rsvd"),
                new("pinned for nothing", $"{Format.Bytes(idleBytes)} ({Format.Pct(idleBytes / c.MemTotal)} of RAM)", "(HugePages_Free − HugePages_Rsvd) × Hugepagesize"),
            ],
            Explanation = ("Pages in a hugetlbfs pool are taken out of general use when the pool is sized (vm.nr_hugepages), whether or not anything maps them: they cannot hold page cache or process memory. Unlike transparent huge pages, they are never given back on their own.",
                           "hugetlbfs 池中的页面在设置池大小（vm.nr_hugepages）时就被移出通用内存，无论是否有程序使用：它们不能用作页缓存或进程内存。与透明大页不同，它们不会自动归还。"),
            Cause = ("vm.nr_hugepages sized for a database or VM that is not running, or is configured not to use huge pages.", "vm.nr_hugepages 是为未运行（或未配置使用大页）的数据库或虚拟机设置的。"),
            Next = ["memscope hugepages", "cat /proc/sys/vm/nr_hugepages"],
            Fixes =
            [
                ("Shrink the pool to what is used: sysctl vm.nr_hugepages=N (and in /etc/sysctl.d).", "将池缩小到实际使用量：sysctl vm.nr_hugepages=N（并写入 /etc/sysctl.d）。"),
                ("Or configure the application to use them (e.g. PostgreSQL huge_pages=on, shared_buffers sized to the pool).", "或配置应用使用大页（如 PostgreSQL huge_pages=on，shared_buffers 与池大小匹配）。"),
            ],
        };
    }
}
