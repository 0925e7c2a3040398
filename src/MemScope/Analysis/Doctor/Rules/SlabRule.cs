using MemScope.Procfs;
using static MemScope.Analysis.Doctor.DoctorThresholds;

namespace MemScope.Analysis.Doctor.Rules;

/// <summary>slab: large or growing unreclaimable kernel slab; names the top caches when /proc/slabinfo is readable.</summary>
public sealed class SlabRule : IDoctorRule
{
    public string Id => "slab";

    public IEnumerable<Finding> Evaluate(DoctorContext c)
    {
        if (c.Meminfo.SUnreclaim is not ulong unreclaimable) throw new RuleSkipped("no SUnreclaim in /proc/meminfo");
        double total = c.MemTotal;
        double fraction = unreclaimable / total;
        var series = c.Samples.Where(s => s.System.Meminfo.SUnreclaim is not null)
            .Select(s => (Model.Snapshot.Elapsed(c.First, s), (double)s.System.Meminfo.SUnreclaim!.Value)).ToList();
        LinearFit fit = LinearFit.Of(series);
        bool growing = c.Samples.Count >= 3 && fit.Slope >= SlabGrowthWarningBytesPerSec && fit.RSquared >= 0.6;
        // Reclaimable slab that grows fast (e.g. dentries) is worth a warning only when it dominates memory.
        double reclaimable = c.Meminfo.SReclaimable ?? 0;
        bool bigReclaimable = reclaimable >= 0.3 * total;
        if (fraction < SlabUnreclaimableWarningFraction && !growing && !bigReclaimable) yield break;

        var evidence = new List<Evidence>
        {
            new("SUnreclaim", $"{Format.Bytes(unreclaimable)} ({Format.Pct(fraction)} of RAM)", "/proc/meminfo SUnreclaim"),
            new("SReclaimable", Format.Bytes(reclaimable), "/proc/meminfo SReclaimable"),
        };
        if (c.Samples.Count >= 2) evidence.Add(new("unreclaimable trend", $"{Format.Rate(fit.Slope)} (R² {fit.RSquared:0.00})", "fit of SUnreclaim samples"));
        if (c.SlabLast is { } slab)
        {
            int page = c.Last.PageSize;
            var previous = c.SlabFirst?.Caches.GroupBy(x => x.Name).ToDictionary(g => g.Key, g => g.First().MemoryBytes(page));
            foreach (SlabCache cache in slab.Caches.OrderByDescending(x => x.MemoryBytes(page)).Take(3))
            {
                double seconds = c.SlabSeconds ?? c.WindowSeconds;
                string growth = previous is not null && previous.TryGetValue(cache.Name, out ulong was) && seconds > 0
                    ? $", {Format.Rate(((double)cache.MemoryBytes(page) - was) / seconds)}" : "";
                evidence.Add(new($"cache {cache.Name}", $"{Format.Bytes(cache.MemoryBytes(page))}, {cache.ActiveObjects} objects{growth}", "/proc/slabinfo"));
            }
        }
        else if (c.SlabUnavailableReason is { } why) evidence.Add(new("per-cache figures", why, "/proc/slabinfo"));
        yield return new Finding
        {
            Id = Id,
            Severity = fraction >= SlabUnreclaimableCriticalFraction ? Severity.Critical : Severity.Warning,
            Title = growing ? ("Kernel slab memory keeps growing", "内核 slab 内存持续增长") : ("Kernel slab memory is large", "内核 slab 内存占用很大"),
            Evidence = evidence,
            Explanation = ("The slab allocator holds the kernel's small objects: dentries and inodes (reclaimable), network buffers, kmalloc caches (unreclaimable). Unreclaimable slab is memory no process owns and the kernel cannot give back; steady growth is usually a kernel or driver leak, or a flood of objects (sockets, files).",
                           "slab 分配器保存内核的小对象：dentry 和 inode（可回收）、网络缓冲、kmalloc 缓存（不可回收）。不可回收的 slab 不属于任何进程，内核也无法归还；持续增长通常是内核或驱动泄漏，或大量对象（套接字、文件）。"),
            Cause = ("A kernel subsystem or driver allocating objects faster than it frees them.", "某个内核子系统或驱动分配对象的速度快于释放。"),
            Next = ["sudo memscope slab --watch", "memscope account"],
            Fixes =
            [
                ("Find the subsystem behind the top cache (e.g. many sockets, inotify watches, a driver) and fix or update it.", "找出最大缓存背后的子系统（如大量套接字、inotify 监视、某驱动），修复或升级它。"),
                ("Reclaimable caches shrink by themselves under pressure; raising vfs_cache_pressure makes dentries/inodes go sooner.", "可回收缓存在内存压力下会自行收缩；调高 vfs_cache_pressure 会让 dentry/inode 更早被回收。"),
            ],
        };
    }
}
