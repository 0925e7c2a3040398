using MemScope.Procfs;

namespace MemScope.Model;

/// <summary>Per-second rates derived from two snapshots; a counter missing in either is null. Counter resets (reboot) give null.</summary>
public sealed record Rates
{
    public required double ElapsedSeconds { get; init; }
    public double? SwapInPagesPerSec { get; init; }
    public double? SwapOutPagesPerSec { get; init; }
    public double? PageInKibPerSec { get; init; }
    public double? PageOutKibPerSec { get; init; }
    public double? FaultsPerSec { get; init; }
    public double? MajorFaultsPerSec { get; init; }
    public double? ScanKswapdPerSec { get; init; }
    public double? ScanDirectPerSec { get; init; }
    public double? StealKswapdPerSec { get; init; }
    public double? StealDirectPerSec { get; init; }
    public double? AllocStallsPerSec { get; init; }
    public double? OomKillsPerSec { get; init; }
    public double? InterruptsPerSec { get; init; }
    public double? ContextSwitchesPerSec { get; init; }
    public double? AvailableBytesPerSec { get; init; }

    public static Rates Between(Snapshot a, Snapshot b)
    {
        double dt = Snapshot.Elapsed(a, b);
        Vmstat? va = a.System.Vmstat, vb = b.System.Vmstat;
        double? V(string key) => PerSec(va?[key], vb?[key], dt);
        double? VSum(string name) => PerSec(va?.Counter(name), vb?.Counter(name), dt);
        return new Rates
        {
            ElapsedSeconds = dt,
            SwapInPagesPerSec = V("pswpin"),
            SwapOutPagesPerSec = V("pswpout"),
            PageInKibPerSec = V("pgpgin"),
            PageOutKibPerSec = V("pgpgout"),
            FaultsPerSec = V("pgfault"),
            MajorFaultsPerSec = V("pgmajfault"),
            // Older kernels split these per zone (pgscan_kswapd_normal...); Counter() sums those spellings.
            ScanKswapdPerSec = VSum("pgscan_kswapd"),
            ScanDirectPerSec = VSum("pgscan_direct"),
            StealKswapdPerSec = VSum("pgsteal_kswapd"),
            StealDirectPerSec = VSum("pgsteal_direct"),
            AllocStallsPerSec = VSum("allocstall"),
            OomKillsPerSec = V("oom_kill"),
            InterruptsPerSec = PerSec(a.System.Stat?.InterruptsTotal, b.System.Stat?.InterruptsTotal, dt),
            ContextSwitchesPerSec = PerSec(a.System.Stat?.ContextSwitches, b.System.Stat?.ContextSwitches, dt),
            AvailableBytesPerSec = a.System.Meminfo.MemAvailable is ulong x && b.System.Meminfo.MemAvailable is ulong y && dt > 0
                ? ((double)y - x) / dt : null,
        };
    }

    /// <summary>(later − earlier) / seconds; null when either is missing, time did not pass, or the counter went backwards.</summary>
    public static double? PerSec(ulong? earlier, ulong? later, double seconds) =>
        earlier is ulong e && later is ulong l && seconds > 0 && l >= e ? (l - e) / seconds : null;
}
