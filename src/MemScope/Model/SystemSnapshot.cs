using MemScope.Procfs;

namespace MemScope.Model;

/// <summary>
/// System-wide memory state at one instant, as parsed from the kernel files. Optional sources (PSI, /proc/stat on
/// odd roots, zoneinfo...) are null when the kernel or the caller's privilege does not provide them.
/// </summary>
public sealed record SystemSnapshot
{
    public required Meminfo Meminfo { get; init; }
    public Vmstat? Vmstat { get; init; }
    public ProcStat? Stat { get; init; }
    public Pressure? MemoryPressure { get; init; }
    public SysVm? SysVm { get; init; }
    public double? UptimeSeconds { get; init; }
    /// <summary>/proc/zoneinfo: per node and zone free pages, watermarks, counters; null when unreadable.</summary>
    public Zoneinfo? Zoneinfo { get; init; }
    /// <summary>/proc/buddyinfo: free blocks per order per zone.</summary>
    public Buddyinfo? Buddyinfo { get; init; }
    /// <summary>/proc/swaps: active swap areas (empty when none is active).</summary>
    public Swaps? Swaps { get; init; }
    /// <summary>
    /// Memory cgroups with the cheap figures (usage, limit, swap, failcnt, events; <see cref="Sysfs.MemoryCgroups.AllCheap"/>),
    /// as the recorder stores them; null when not read (live snapshots, recordings before schema 3).
    /// </summary>
    public IReadOnlyList<Sysfs.MemoryCgroup>? MemoryCgroups { get; init; }
}
