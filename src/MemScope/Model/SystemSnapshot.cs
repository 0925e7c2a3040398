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
}
