using MemScope.Procfs;

namespace MemScope.Model;

/// <summary>
/// The figures `free` shows, computed from /proc/meminfo with procps-ng 4.x's formulas (library/meminfo.c), in bytes:
/// used = total − available; buff/cache = Buffers + Cached + SReclaimable; available falls back to MemFree on
/// kernels without MemAvailable (before 3.14), and also when MemAvailable exceeds MemTotal (containers showing the
/// host's figure). Low defaults to the whole of memory when the kernel has no LowTotal (no highmem: 64-bit).
/// A figure whose source line is missing is null (unknown), never 0. Exceptions, as procps: HighTotal/HighFree
/// absent means no highmem (0), and a missing SReclaimable (before 2.6.19) adds nothing to the cache.
/// </summary>
public sealed record FreeFigures
{
    public required ulong TotalBytes { get; init; }
    public ulong? UsedBytes { get; init; }
    public ulong? FreeBytes { get; init; }
    public ulong? SharedBytes { get; init; }
    public ulong? BuffersBytes { get; init; }
    /// <summary>Cached + SReclaimable (procps "cache").</summary>
    public ulong? CacheBytes { get; init; }
    public ulong? BuffCacheBytes { get; init; }
    public ulong? AvailableBytes { get; init; }
    /// <summary>True when MemAvailable was missing (or implausible) and MemFree stands in, as procps does.</summary>
    public bool AvailableFromMemFree { get; init; }

    public ulong LowTotalBytes { get; init; }
    public ulong? LowUsedBytes { get; init; }
    public ulong? LowFreeBytes { get; init; }
    public ulong HighTotalBytes { get; init; }
    public ulong HighUsedBytes { get; init; }
    public ulong HighFreeBytes { get; init; }

    public ulong? SwapTotalBytes { get; init; }
    public ulong? SwapUsedBytes { get; init; }
    public ulong? SwapFreeBytes { get; init; }

    public ulong? CommitLimitBytes { get; init; }
    public ulong? CommittedBytes { get; init; }
    /// <summary>CommitLimit − Committed_AS: negative when overcommitted (procps prints the negative number too).</summary>
    public long? CommitFreeBytes { get; init; }

    public static FreeFigures From(Meminfo m)
    {
        ulong total = m.MemTotal ?? throw new KernelFileException(KernelFileError.Malformed, "meminfo", "no MemTotal line");
        ulong? free = m.MemFree;
        bool fallback = false;
        ulong? available = m.MemAvailable;
        if (available is null or 0) { available = free; fallback = true; }
        if (available > total) { available = free; fallback = true; }
        ulong? used = null;
        if (available is ulong a)
            used = a <= total ? total - a : free is ulong f && f <= total ? total - f : null;

        ulong? cache = m.Cached is ulong c ? c + (m.SReclaimable ?? 0) : null;
        ulong? buffCache = m.Buffers is ulong b && cache is ulong cc ? b + cc : null;

        ulong lowTotal = m.LowTotal is > 0 ? m.LowTotal.Value : total;
        ulong? lowFree = m.LowTotal is > 0 ? m.LowFree : free;
        ulong? lowUsed = lowFree is ulong lf ? (lf < lowTotal ? lowTotal - lf : 0) : null;
        ulong highTotal = m.HighTotal ?? 0, highFree = m.HighFree ?? 0;

        ulong? swapUsed = m.SwapTotal is ulong st && m.SwapFree is ulong sf ? (sf < st ? st - sf : 0) : null;

        long? commitFree = m.CommitLimit is ulong cl && m.CommittedAS is ulong ca ? unchecked((long)(cl - ca)) : null;

        return new FreeFigures
        {
            TotalBytes = total,
            UsedBytes = used,
            FreeBytes = free,
            SharedBytes = m.Shmem,
            BuffersBytes = m.Buffers,
            CacheBytes = cache,
            BuffCacheBytes = buffCache,
            AvailableBytes = available,
            AvailableFromMemFree = fallback,
            LowTotalBytes = lowTotal,
            LowFreeBytes = lowFree,
            LowUsedBytes = lowUsed,
            HighTotalBytes = highTotal,
            HighFreeBytes = highFree,
            HighUsedBytes = highFree < highTotal ? highTotal - highFree : 0,
            SwapTotalBytes = m.SwapTotal,
            SwapFreeBytes = m.SwapFree,
            SwapUsedBytes = swapUsed,
            CommitLimitBytes = m.CommitLimit,
            CommittedBytes = m.CommittedAS,
            CommitFreeBytes = commitFree,
        };
    }
}
