using static MemScope.Analysis.Doctor.DoctorThresholds;

namespace MemScope.Analysis.Doctor.Rules;

/// <summary>
/// cache-thrash: the page cache churns — pages evicted lately are read back (workingset refaults), or the disk is read
/// fast while the cache does not grow — or readers bypass the cache with O_DIRECT.
/// </summary>
public sealed class CacheThrashRule : IDoctorRule
{
    public string Id => "cache-thrash";

    public IEnumerable<Finding> Evaluate(DoctorContext c)
    {
        if (c.Samples.Count < 2) throw new RuleSkipped("needs two samples");
        var va = c.First.System.Vmstat;
        var vb = c.Last.System.Vmstat ?? throw new RuleSkipped("/proc/vmstat unreadable");
        double dt = c.WindowSeconds;
        // workingset_refault_file since 5.9; workingset_refault before (file only).
        double? refaults = Model.Rates.PerSec(va?["workingset_refault_file"] ?? va?["workingset_refault"],
            vb["workingset_refault_file"] ?? vb["workingset_refault"], dt);
        double readKib = c.Rates?.PageInKibPerSec ?? 0;
        double readBytes = readKib * 1024 * dt;
        double cacheGrowth = (double)(c.Last.System.Meminfo.Cached ?? 0) - (c.First.System.Meminfo.Cached ?? 0);
        double? drops = Model.Rates.PerSec(va?["drop_pagecache"], vb["drop_pagecache"], dt);

        var evidence = new List<Evidence>();
        bool refaulting = refaults >= RefaultWarningPagesPerSec;
        bool churning = readKib >= ChurnReadKibPerSec && cacheGrowth < ChurnCacheGrowthShare * readBytes;
        var direct = c.DirectIoReaders ?? [];
        if (refaults is double r) evidence.Add(new("refaults", $"{Format.Num(r)} pages/s", "/proc/vmstat workingset_refault_file rate"));
        evidence.Add(new("disk reads", $"{Format.Rate(readKib * 1024)}", "/proc/vmstat pgpgin rate"));
        evidence.Add(new("page cache change", $"{Format.Bytes(cacheGrowth)} over {Format.Num(dt)} s", "/proc/meminfo Cached"));
        if (drops > 0) evidence.Add(new("caches dropped", "yes, during the window", "/proc/vmstat drop_pagecache"));
        if (direct.Count > 0)
            evidence.Add(new("O_DIRECT readers", string.Join(", ", direct.Take(3).Select(d => $"{d.Command} ({d.Pid}) {d.File}")), "/proc/PID/fdinfo flags O_DIRECT"));
        if (!refaulting && !churning && direct.Count == 0 && !(drops > 0)) yield break;
        yield return new Finding
        {
            Id = Id,
            Severity = Severity.Warning,
            Title = direct.Count > 0 && !refaulting && !churning
                ? ("Readers bypass the page cache (O_DIRECT)", "有进程绕过页缓存读取（O_DIRECT）")
                : ("The page cache is churning: data is read again soon after it was evicted", "页缓存正在颠簸：数据被淘汰后很快又被重新读取"),
            Evidence = evidence,
            Explanation = ("The page cache serves repeated reads from RAM. When the files being read do not fit in the memory left for the cache, pages are evicted before they are used again and every read goes to disk: a low hit ratio. O_DIRECT reads skip the cache entirely.",
                           "页缓存让重复读取直接从内存返回。当被读取的文件放不进留给缓存的内存时，页面在再次使用前就被淘汰，每次读取都要访问磁盘：命中率很低。O_DIRECT 读取则完全绕过缓存。"),
            Cause = ("The working set of files is larger than the memory left for the cache (or a cgroup limit), or something drops caches.", "文件工作集大于留给缓存的内存（或 cgroup 上限），或有程序在清空缓存。"),
            Next = ["sudo memscope cachestat 1 5", "sudo memscope cachetop", "memscope cache"],
            Fixes =
            [
                ("Give the cache more room: reduce anonymous memory use, or raise the cgroup limit of the reader.", "给缓存更多空间：减少匿名内存占用，或提高读取进程所在 cgroup 的上限。"),
                ("Stop periodic `echo 3 > /proc/sys/vm/drop_caches` jobs.", "停止定期执行 `echo 3 > /proc/sys/vm/drop_caches` 的任务。"),
                ("For O_DIRECT readers, that is by design (databases): make sure their own buffer pool is large enough.", "对于 O_DIRECT 读取者（如数据库）这是设计如此：确保其自身的缓冲池足够大。"),
            ],
        };
    }
}
