using MemScope.Export;
using MemScope.Model;
using MemScope.Procfs;

namespace MemScope.Cli.Serve;

/// <summary>
/// The seams where other features plug into `serve`: the doctor's findings and the zoneinfo watermarks. Each returns
/// null while its source is not available, and the corresponding metric family and API field say so.
/// </summary>
internal static class ServeSources
{

    /// <summary>Zone free pages and watermarks from the snapshot's /proc/zoneinfo; null when it was unreadable.</summary>
    public static IReadOnlyList<ZoneWatermarks>? Zones(Snapshot snapshot) => MetricsExposition.ZonesOf(snapshot.System.Zoneinfo);
}
