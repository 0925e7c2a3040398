using MemScope.Model;
using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.Analysis;

/// <summary>Can the kernel give this memory back under pressure?</summary>
public enum Reclaim { Yes, Partly, No, Free, Unknown }

/// <summary>One line of the balance sheet. <see cref="Bytes"/> is null when the kernel does not report the field.</summary>
public sealed record AccountLine(string Id, string Title, long? Bytes, Reclaim Reclaimable, string Source, string What)
{
    /// <summary>Sub-lines that split this line (not added to the total again).</summary>
    public IReadOnlyList<AccountLine> Details { get; init; } = [];
}

/// <summary>Where one meminfo field overlaps others, and how the sheet avoids counting it twice.</summary>
public sealed record AccountOverlap(string Field, long? Bytes, string Note);

/// <summary>The balance sheet of physical memory: lines that add up to MemTotal exactly (the remainder makes it so).</summary>
public sealed record MemoryAccount(
    long MemTotalBytes,
    IReadOnlyList<AccountLine> Lines,
    IReadOnlyList<AccountOverlap> Overlaps,
    ProcessCoverage Processes,
    IReadOnlyList<string> Notes)
{
    public AccountLine Line(string id) => Lines.First(l => l.Id == id);
}

/// <summary>How much of user memory the visible processes explain (PSS from smaps_rollup; RssAnon from status).</summary>
public sealed record ProcessCoverage(int Counted, int Unreadable, long? PssBytes, long? RssAnonBytes, long? SwapBytes);

/// <summary>Extra sources the sheet can name (biggest tmpfs mounts, SysV segments, NUMA nodes) — all optional.</summary>
public sealed record AccountExtras(
    IReadOnlyList<TmpfsUsage> Tmpfs,
    IReadOnlyList<SysvShmSegment> SysvSegments,
    IReadOnlyList<NumaNode> Nodes);

public sealed record TmpfsUsage(string MountPoint, long UsedBytes);

/// <summary>
/// Builds the balance sheet from /proc/meminfo. The itemised lines are disjoint by construction:
/// page cache is Cached − Shmem (Cached includes shmem/tmpfs), AnonPages excludes shmem, hugetlb pools sit outside
/// every other counter, and SwapCached is not part of Cached. What no counter names is the remainder
/// (driver pages, balloons, memory not yet accepted/initialised), so the lines always sum to MemTotal.
/// </summary>
public static class MemoryAccountBuilder
{
    public static MemoryAccount Build(Snapshot snapshot, AccountExtras? extras = null)
    {
        Meminfo m = snapshot.System.Meminfo;
        long total = (long)(m.MemTotal ?? throw new InvalidOperationException("meminfo has no MemTotal"));
        var notes = new List<string>();

        ulong hugePageSize = m.HugepagesizeBytes ?? 0;
        long? hugeTotal = m.HugePagesTotal is ulong t ? (long)(t * hugePageSize) : null;
        // Hugetlb (4.16+) covers every huge page size; the HugePages_* lines only the default size.
        if (m.Hugetlb is ulong allSizes && (hugeTotal is null || (long)allSizes > hugeTotal)) hugeTotal = (long)allSizes;
        long? hugeFree = m.HugePagesFree is ulong f ? (long)(f * hugePageSize) : null;
        long? hugeReserved = m.HugePagesRsvd is ulong r ? (long)(r * hugePageSize) : null;

        var lines = new List<AccountLine>();
        var free = new AccountLine("free", "Free", L(m.MemFree), Reclaim.Free, "meminfo MemFree",
            "Pages nobody uses. Low free memory is normal: the kernel uses spare memory for cache.");
        if (extras?.Nodes is { Count: > 0 } nodes && nodes.All(n => n.Meminfo.MemTotal is not null))
        {
            long nodeTotal = nodes.Sum(n => (long)n.Meminfo.MemTotal!.Value);
            long uninitialised = total - nodeTotal;
            if (uninitialised > total / 100)
            {
                free = free with
                {
                    Details =
                    [
                        new AccountLine("free.uninitialised", "not yet initialised by the VM", uninitialised, Reclaim.Free,
                            "meminfo MemTotal − Σ node MemTotal",
                            "Counted in MemTotal and MemFree, but no NUMA node lists it yet: it is initialised on first touch."),
                    ],
                };
                notes.Add($"The NUMA nodes list {Gib(nodeTotal)} of {Gib(total)}: the rest is memory the VM has not initialised yet (it counts as free).");
            }
        }
        lines.Add(free);

        lines.Add(new AccountLine("anon", "User anonymous memory", L(m.AnonPages), Reclaim.Partly, "meminfo AnonPages",
            "Heap, stacks and private mmaps of processes. Reclaimable only by swapping it out.")
        {
            Details = Compact(Detail("anon.thp", "of which transparent huge pages", L(m.AnonHugePages), "meminfo AnonHugePages")),
        });

        lines.Add(new AccountLine("pagecache", "Page cache (files)", Diff(m.Cached, m.Shmem), Reclaim.Yes, "meminfo Cached − Shmem",
            "Contents of files read or written. Clean pages are dropped at once under pressure; dirty ones after writeback.")
        {
            Details = Compact(
                Detail("pagecache.active", "active (used more than once lately)", L(m.ActiveFile), "meminfo Active(file)"),
                Detail("pagecache.inactive", "inactive (first to be reclaimed)", L(m.InactiveFile), "meminfo Inactive(file)"),
                Detail("pagecache.dirty", "dirty (waiting for writeback)", L(m.Dirty), "meminfo Dirty"),
                Detail("pagecache.writeback", "being written back", L(m.Writeback), "meminfo Writeback")),
        });

        var shmemDetails = new List<AccountLine>();
        if (extras is not null)
        {
            foreach (TmpfsUsage mount in extras.Tmpfs.Where(x => x.UsedBytes > 0).OrderByDescending(x => x.UsedBytes).Take(5))
                shmemDetails.Add(Detail($"shmem.tmpfs:{mount.MountPoint}", $"tmpfs {mount.MountPoint}", mount.UsedBytes, "statfs of the tmpfs mount")!);
            if (extras.SysvSegments.Count > 0)
                shmemDetails.Add(Detail("shmem.sysv", $"System V segments ({extras.SysvSegments.Count})",
                    extras.SysvSegments.Sum(s => (long)(s.RssBytes ?? s.SizeBytes)), "/proc/sysvipc/shm rss")!);
        }
        lines.Add(new AccountLine("shmem", "Shared memory and tmpfs", L(m.Shmem), Reclaim.Partly, "meminfo Shmem",
            "tmpfs files (/dev/shm, /run), SysV and POSIX shared memory, shared anonymous mappings. Counted in Cached but cannot be dropped: only swapped.")
        { Details = shmemDetails });

        lines.Add(new AccountLine("buffers", "Buffers (block device cache)", L(m.Buffers), Reclaim.Yes, "meminfo Buffers",
            "Raw block-device pages: filesystem metadata, directories. Reclaimable like the page cache."));
        lines.Add(new AccountLine("slab.reclaimable", "Slab, reclaimable", L(m.SReclaimable), Reclaim.Yes, "meminfo SReclaimable",
            "Kernel object caches the kernel can shrink: dentries and inodes mostly."));
        lines.Add(new AccountLine("slab.unreclaimable", "Slab, unreclaimable", L(m.SUnreclaim), Reclaim.No, "meminfo SUnreclaim",
            "Kernel objects in use (network buffers, kmalloc...). Steady growth here can be a kernel or driver leak."));
        lines.Add(new AccountLine("kernelstack", "Kernel stacks", L(Add(m.KernelStack, m.ShadowCallStack)), Reclaim.No,
            "meminfo KernelStack (+ ShadowCallStack)", "One stack per thread, 16 KiB each on x86_64."));
        lines.Add(new AccountLine("pagetables", "Page tables", L(Add(m.PageTables, m.SecPageTables)), Reclaim.No,
            "meminfo PageTables (+ SecPageTables)", "Maps from virtual to physical addresses; grow with mapped memory and process count."));
        lines.Add(new AccountLine("vmalloc", "vmalloc", L(m.VmallocUsed), Reclaim.No, "meminfo VmallocUsed",
            "Virtually contiguous kernel allocations (modules, BPF, some drivers). Reported as 0 by kernels 3.19 to 4.x."));
        lines.Add(new AccountLine("percpu", "Per-CPU allocations", L(m.Percpu), Reclaim.No, "meminfo Percpu",
            "Kernel data kept once per CPU (4.16+)."));
        lines.Add(new AccountLine("hugetlb", "Huge page pools", hugeTotal, Reclaim.No, "meminfo Hugetlb (or HugePages_Total × Hugepagesize)",
            "Pre-allocated hugetlbfs pages, taken out of general use whether or not anything maps them.")
        {
            Details = Compact(
                Detail("hugetlb.used", "in use", hugeTotal is long ht && hugeFree is long hf ? ht - hf : null, "(HugePages_Total − HugePages_Free) × size"),
                Detail("hugetlb.reserved", "reserved, not yet faulted in", hugeReserved, "HugePages_Rsvd × size"),
                Detail("hugetlb.idle", "free and unreserved (pinned for nothing)",
                    hugeFree is long hf2 && hugeReserved is long hr ? hf2 - hr : hugeFree, "(HugePages_Free − HugePages_Rsvd) × size")),
        });
        lines.Add(new AccountLine("swapcache", "Swap cache", L(m.SwapCached), Reclaim.Yes, "meminfo SwapCached",
            "Pages swapped back in that still have a copy in swap: dropped without I/O."));
        if (m.Unaccepted is ulong unaccepted)
            lines.Add(new AccountLine("unaccepted", "Unaccepted (confidential VM)", (long)unaccepted, Reclaim.Free, "meminfo Unaccepted",
                "Memory a TDX/SEV-SNP guest has not accepted from the host yet."));

        long itemised = lines.Sum(l => l.Bytes ?? 0);
        long remainder = total - itemised;
        lines.Add(new AccountLine("remainder", "Not itemised by the kernel", remainder, Reclaim.Unknown, "MemTotal − every line above",
            remainder >= 0
                ? "Pages no counter names: driver and GPU allocations (alloc_pages), balloon drivers."
                : "Negative: counters overlap or moved between reads (meminfo is not read atomically)."));
        foreach (AccountLine missing in lines.Where(l => l.Bytes is null))
            notes.Add($"{missing.Title}: this kernel does not report {missing.Source}; it falls into the remainder.");

        var overlaps = new List<AccountOverlap>
        {
            new("Cached", L(m.Cached), "includes Shmem: page cache is shown as Cached − Shmem and shared memory on its own line"),
            new("Mapped", L(m.Mapped), "file and shmem pages that processes map: already inside page cache and shmem"),
            new("Active(anon)+Inactive(anon)", L(Add(m.ActiveAnon, m.InactiveAnon)), "the anon LRU holds AnonPages and Shmem alike (shmem is swap-backed)"),
            new("AnonHugePages", L(m.AnonHugePages), "part of AnonPages"),
            new("ShmemHugePages", L(m.ShmemHugePages), "part of Shmem"),
            new("KReclaimable", L(m.KReclaimable), "SReclaimable plus other reclaimable kernel memory; only SReclaimable is itemised"),
            new("Slab", L(m.Slab), "SReclaimable + SUnreclaim"),
            new("Unevictable", L(m.Unevictable), "mlocked and otherwise unevictable pages, already counted in anon, cache or shmem"),
        };
        return new MemoryAccount(total, lines, overlaps.Where(o => o.Bytes is not null).ToList(), Coverage(snapshot.Processes), notes);
    }

    /// <summary>Used memory the processes do not explain: (MemTotal − MemAvailable) − Σ PSS. Null without PSS.</summary>
    public static long? UnexplainedUsedBytes(MemoryAccount account, Meminfo m) =>
        account.Processes.PssBytes is long pss && m.MemAvailable is ulong avail
            ? account.MemTotalBytes - (long)avail - pss
            : null;

    private static ProcessCoverage Coverage(IReadOnlyList<ProcessSnapshot> processes)
    {
        var user = processes.Where(p => !p.IsKernelThread).ToList();
        var readable = user.Where(p => p.PssBytes is not null).ToList();
        return new ProcessCoverage(readable.Count, user.Count(p => p.SmapsDenied),
            SumOf(readable, p => p.PssBytes), SumOf(user, p => p.RssAnonBytes), SumOf(user, p => p.SwapBytes));
    }

    private static long? SumOf(IEnumerable<ProcessSnapshot> from, Func<ProcessSnapshot, ulong?> f)
    {
        long s = 0;
        bool any = false;
        foreach (ProcessSnapshot p in from)
            if (f(p) is ulong v) { s += (long)v; any = true; }
        return any ? s : null;
    }

    private static long? L(ulong? v) => v is ulong x ? (long)x : null;
    private static long? Diff(ulong? a, ulong? b) => a is ulong x && b is ulong y ? (long)x - (long)y : null;
    private static ulong? Add(ulong? a, ulong? b) => a is null && b is null ? null : (a ?? 0) + (b ?? 0);
    private static AccountLine? Detail(string id, string title, long? bytes, string source) =>
        bytes is null ? null : new AccountLine(id, title, bytes, Reclaim.Unknown, source, "");
    private static IReadOnlyList<AccountLine> Compact(params AccountLine?[] lines) => lines.OfType<AccountLine>().ToList();
    private static string Gib(long bytes) => $"{bytes / 1073741824.0:0.0} GiB";
}
