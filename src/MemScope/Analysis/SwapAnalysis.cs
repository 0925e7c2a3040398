using MemScope.Model;
using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.Analysis;

/// <summary>Where a zone's free pages stand against its watermarks (mm/page_alloc.c, mm/vmscan.c).</summary>
public enum WatermarkState
{
    /// <summary>free ≥ high: kswapd sleeps.</summary>
    AboveHigh,
    /// <summary>low ≤ free &lt; high: kswapd, once woken, keeps reclaiming until high.</summary>
    BetweenLowAndHigh,
    /// <summary>min ≤ free &lt; low: kswapd is woken and reclaims in the background.</summary>
    BelowLow,
    /// <summary>free &lt; min: allocations reclaim directly (stall) or fail; only atomic/PF_MEMALLOC may dip below.</summary>
    BelowMin,
    Unknown,
}

/// <summary>One zone's free pages against its watermarks, in bytes.</summary>
public sealed record ZoneWatermarks(int Node, string Zone, ulong FreeBytes, ulong MinBytes, ulong LowBytes, ulong HighBytes, ulong? PromoBytes,
    ulong? ManagedBytes, WatermarkState State, ulong? AnonLruBytes, ulong? FileLruBytes);

/// <summary>One NUMA node's LRU sizes (bytes), from zoneinfo's per-node block or the sum of its zones.</summary>
public sealed record NodeLru(int Node, ulong? ActiveAnonBytes, ulong? InactiveAnonBytes, ulong? ActiveFileBytes, ulong? InactiveFileBytes);

/// <summary>A process holding swap: VmSwap from status, SwapPss (shared swap divided among sharers) from smaps_rollup when read.</summary>
public sealed record SwapProcess(int Pid, string Comm, ulong SwapBytes, ulong? SwapPssBytes, ulong RssBytes, string? Cgroup, double? SwapGrowthBytesPerSec);

/// <summary>A memory cgroup with swap in use or near its limit.</summary>
public sealed record SwapCgroup(string Path, int Version, ulong? UsageBytes, ulong? LimitBytes, ulong? SwapBytes, ulong? SwapLimitBytes,
    double? SwapGrowthBytesPerSec, ulong? LimitHitsDelta, ulong? Failcnt);

/// <summary>Global reclaim counters (pages) and their rates over the interval.</summary>
public sealed record ReclaimActivity(ulong? ScanKswapd, ulong? ScanDirect, ulong? StealKswapd, ulong? StealDirect, ulong? AllocStall,
    double? ScanKswapdPerSec, double? ScanDirectPerSec, double? StealKswapdPerSec, double? StealDirectPerSec, double? AllocStallPerSec,
    ulong? PswpIn, ulong? PswpOut, double? SwapInBytesPerSec, double? SwapOutBytesPerSec);

/// <summary>Everything `memscope swap` shows, computed from two snapshots.</summary>
public sealed record SwapReport
{
    public required double IntervalSeconds { get; init; }
    public IReadOnlyList<SwapArea> Devices { get; init; } = [];
    public ulong? SwapTotalBytes { get; init; }
    public ulong? SwapFreeBytes { get; init; }
    public ulong? SwapCachedBytes { get; init; }
    public ulong? MemAvailableBytes { get; init; }
    public ulong? MemTotalBytes { get; init; }
    public long? Swappiness { get; init; }
    public long? MinFreeKbytes { get; init; }
    public long? WatermarkScaleFactor { get; init; }
    public long? ZoneReclaimMode { get; init; }
    public long? VfsCachePressure { get; init; }
    public IReadOnlyList<ZoneWatermarks> Zones { get; init; } = [];
    public IReadOnlyList<NodeLru> Nodes { get; init; } = [];
    public required ReclaimActivity Reclaim { get; init; }
    public Pressure? MemoryPressure { get; init; }
    public IReadOnlyList<SwapProcess> Processes { get; init; } = [];
    public IReadOnlyList<SwapCgroup> Cgroups { get; init; } = [];
    /// <summary>Set when built from a recording: "replay of PATH at T (sample at T1, previous at T0)"; null live.</summary>
    public string? Replay { get; init; }
    /// <summary>Evidence-based sentences: why swap is moving (or not) right now.</summary>
    public IReadOnlyList<string> Explanation { get; init; } = [];
}

/// <summary>Builds a <see cref="SwapReport"/> from two snapshots (and, optionally, cgroup readings at both instants).</summary>
public static class SwapAnalysis
{
    public static WatermarkState Classify(ulong free, ulong min, ulong low, ulong high) =>
        free < min ? WatermarkState.BelowMin : free < low ? WatermarkState.BelowLow : free < high ? WatermarkState.BetweenLowAndHigh : WatermarkState.AboveHigh;

    public static string Describe(WatermarkState s) => s switch
    {
        WatermarkState.AboveHigh => "above high",
        WatermarkState.BetweenLowAndHigh => "between low and high",
        WatermarkState.BelowLow => "below low",
        WatermarkState.BelowMin => "below min",
        _ => "?",
    };

    public static IReadOnlyList<ZoneWatermarks> Zones(Zoneinfo? z, int pageSize)
    {
        if (z is null) return [];
        ulong ps = (ulong)pageSize;
        var list = new List<ZoneWatermarks>();
        foreach (ZoneinfoZone zone in z.Zones)
        {
            if (!zone.IsPopulated || zone.Free is not ulong free || zone.Min is not ulong min || zone.Low is not ulong low || zone.High is not ulong high) continue;
            ulong? anon = Sum(zone.Counters["nr_zone_active_anon"], zone.Counters["nr_zone_inactive_anon"])
                ?? Sum(zone.Counters["nr_active_anon"], zone.Counters["nr_inactive_anon"]);
            ulong? file = Sum(zone.Counters["nr_zone_active_file"], zone.Counters["nr_zone_inactive_file"])
                ?? Sum(zone.Counters["nr_active_file"], zone.Counters["nr_inactive_file"]);
            list.Add(new ZoneWatermarks(zone.Node, zone.Name, free * ps, min * ps, low * ps, high * ps, zone.Promo * ps, zone.Managed * ps,
                Classify(free, min, low, high), anon * ps, file * ps));
        }
        return list;
    }

    public static IReadOnlyList<NodeLru> Nodes(Zoneinfo? z, int pageSize)
    {
        if (z is null) return [];
        ulong ps = (ulong)pageSize;
        return z.NodeIds.Select(n => new NodeLru(n, z.NodeCounter(n, "nr_active_anon") * ps, z.NodeCounter(n, "nr_inactive_anon") * ps,
            z.NodeCounter(n, "nr_active_file") * ps, z.NodeCounter(n, "nr_inactive_file") * ps)).ToList();
    }

    private static ulong? Sum(ulong? a, ulong? b) => a is null && b is null ? null : (a ?? 0) + (b ?? 0);

    public static ReclaimActivity Reclaim(Snapshot a, Snapshot b)
    {
        double dt = Snapshot.Elapsed(a, b);
        Vmstat? va = a.System.Vmstat, vb = b.System.Vmstat;
        double? R(string n) => Rates.PerSec(va?.Counter(n), vb?.Counter(n), dt);
        ulong ps = (ulong)b.PageSize;
        return new ReclaimActivity(vb?.Counter("pgscan_kswapd"), vb?.Counter("pgscan_direct"), vb?.Counter("pgsteal_kswapd"),
            vb?.Counter("pgsteal_direct"), vb?.Counter("allocstall"), R("pgscan_kswapd"), R("pgscan_direct"), R("pgsteal_kswapd"),
            R("pgsteal_direct"), R("allocstall"), vb?["pswpin"], vb?["pswpout"], R("pswpin") * ps, R("pswpout") * ps);
    }

    /// <param name="a">The earlier snapshot (processes optional).</param>
    /// <param name="b">The later snapshot, with processes.</param>
    /// <param name="cgroupsA">Memory cgroups read at the earlier instant (may be empty).</param>
    /// <param name="cgroupsB">Memory cgroups read at the later instant.</param>
    /// <param name="cgroupOf">The memory cgroup path of a pid, or null.</param>
    public static SwapReport Build(Snapshot a, Snapshot b, SysVm? sysvm, IReadOnlyList<MemoryCgroup> cgroupsA, IReadOnlyList<MemoryCgroup> cgroupsB,
        Func<int, string?> cgroupOf, int topProcesses = 10)
    {
        double dt = Snapshot.Elapsed(a, b);
        Meminfo m = b.System.Meminfo;
        var before = a.Processes.ToDictionary(p => p.Key);
        var procs = b.Processes.Where(p => p.SwapBytes is > 0)
            .OrderByDescending(p => p.SwapPssBytes ?? p.SwapBytes).ThenByDescending(p => p.SwapBytes).Take(topProcesses)
            .Select(p => new SwapProcess(p.Pid, p.Comm, p.SwapBytes!.Value, p.SwapPssBytes, p.RssBytes, cgroupOf(p.Pid),
                before.TryGetValue(p.Key, out ProcessSnapshot? o) && o.SwapBytes is ulong s0 && dt > 0 ? ((double)p.SwapBytes.Value - s0) / dt : null))
            .ToList();
        var cgBefore = cgroupsA.ToDictionary(c => (c.Version, c.Path));
        var cgs = new List<SwapCgroup>();
        foreach (MemoryCgroup c in cgroupsB)
        {
            if (c.Path == "/") continue;
            cgBefore.TryGetValue((c.Version, c.Path), out MemoryCgroup? c0);
            double? growth = c0?.SwapUsageBytes is ulong s0 && c.SwapUsageBytes is ulong s1 && dt > 0 ? ((double)s1 - s0) / dt : null;
            ulong? hits1 = c.Failcnt ?? c.Events?.Max, hits0 = c0?.Failcnt ?? c0?.Events?.Max;
            ulong? hitsDelta = hits1 is ulong h1 && hits0 is ulong h0 && h1 >= h0 ? h1 - h0 : null;
            bool interesting = c.SwapUsageBytes is > 0 || c.UsageOfLimit is > 0.9 || hitsDelta is > 0 || growth is > 0;
            if (!interesting) continue;
            cgs.Add(new SwapCgroup(c.Path, (int)c.Version, c.UsageBytes, c.LimitBytes, c.SwapUsageBytes, c.SwapLimitBytes, growth, hitsDelta, c.Failcnt));
        }
        cgs.Sort((x, y) => (y.SwapBytes ?? 0).CompareTo(x.SwapBytes ?? 0));

        var report = new SwapReport
        {
            IntervalSeconds = dt,
            Devices = b.System.Swaps?.Areas ?? [],
            SwapTotalBytes = m.SwapTotal,
            SwapFreeBytes = m.SwapFree,
            SwapCachedBytes = m.SwapCached,
            MemAvailableBytes = m.MemAvailable,
            MemTotalBytes = m.MemTotal,
            Swappiness = sysvm?.Swappiness,
            MinFreeKbytes = sysvm?.MinFreeKbytes,
            WatermarkScaleFactor = sysvm?.WatermarkScaleFactor,
            ZoneReclaimMode = sysvm?.ZoneReclaimMode,
            VfsCachePressure = sysvm?.VfsCachePressure,
            Zones = Zones(b.System.Zoneinfo, b.PageSize),
            Nodes = Nodes(b.System.Zoneinfo, b.PageSize),
            Reclaim = Reclaim(a, b),
            MemoryPressure = b.System.MemoryPressure,
            Processes = procs,
            Cgroups = cgs,
        };
        return report with { Explanation = Explain(report) };
    }

    /// <summary>Why swap is moving now, each sentence backed by a figure from the report.</summary>
    public static IReadOnlyList<string> Explain(SwapReport r)
    {
        var why = new List<string>();
        ReclaimActivity rc = r.Reclaim;
        double so = rc.SwapOutBytesPerSec ?? 0, si = rc.SwapInBytesPerSec ?? 0;
        ulong used = r.SwapTotalBytes is ulong t && r.SwapFreeBytes is ulong f && t >= f ? t - f : 0;
        static string Mb(double bytes) => $"{bytes / (1024 * 1024):0.0} MiB";

        if (r.Devices.Count == 0 && (r.SwapTotalBytes ?? 0) == 0)
        {
            why.Add("No swap is active: anonymous memory cannot be reclaimed, so under pressure the kernel can only drop page cache, then OOM-kill.");
            return why;
        }
        var low = r.Zones.Where(z => z.State is WatermarkState.BelowLow or WatermarkState.BelowMin).ToList();
        var tightCgroups = r.Cgroups.Where(c => c.SwapGrowthBytesPerSec is > 0 || c.LimitHitsDelta is > 0).ToList();
        if (so > 0)
        {
            why.Add($"Swapping out now: {Mb(so)}/s over the last {r.IntervalSeconds:0.0} s (pswpout).");
            foreach (ZoneWatermarks z in low)
                why.Add($"Node {z.Node} zone {z.Zone}: free {Mb(z.FreeBytes)} is {SwapAnalysis.Describe(z.State)} ({Mb(z.MinBytes)}/{Mb(z.LowBytes)}/{Mb(z.HighBytes)} min/low/high): " +
                    (z.State == WatermarkState.BelowMin ? "allocations reclaim directly and stall." : "kswapd reclaims until free passes high."));
            if (rc.ScanDirectPerSec is > 0 || rc.AllocStallPerSec is > 0)
                why.Add($"Direct reclaim: {rc.ScanDirectPerSec ?? 0:0} pages/s scanned by allocating tasks, {rc.AllocStallPerSec ?? 0:0.0} allocation stalls/s: processes wait for memory.");
            else if (rc.ScanKswapdPerSec is > 0)
                why.Add($"Background reclaim: kswapd scans {rc.ScanKswapdPerSec:0} pages/s and frees {rc.StealKswapdPerSec ?? 0:0} pages/s.");
            foreach (SwapCgroup c in tightCgroups)
                why.Add($"Memory cgroup {c.Path} is at its limit ({Mb(c.UsageBytes ?? 0)} of {(c.LimitBytes is ulong l ? Mb(l) : "no limit")}" +
                    (c.LimitHitsDelta is > 0 ? $", limit hit {c.LimitHitsDelta} times in the interval" : "") +
                    (c.SwapGrowthBytesPerSec is > 0 ? $", its swap growing {Mb(c.SwapGrowthBytesPerSec.Value)}/s" : "") +
                    "): reclaim inside the cgroup swaps its anonymous pages even though the machine has free memory. Global pgscan/pgsteal do not count it.");
            if (low.Count == 0 && tightCgroups.Count == 0 && rc.ScanKswapdPerSec is not > 0 && rc.ScanDirectPerSec is not > 0)
                why.Add("No zone is below its low watermark and no cgroup is at its limit: the swap-out came from a short burst, from a memory cgroup limit " +
                    "(its reclaim is not in the global counters) or from proactive reclaim (memory.reclaim).");
            SwapProcess? grower = r.Processes.Where(p => p.SwapGrowthBytesPerSec is > 0).OrderByDescending(p => p.SwapGrowthBytesPerSec).FirstOrDefault();
            if (grower is not null)
                why.Add($"Process {grower.Pid} ({grower.Comm}) is the one being swapped out fastest: +{Mb(grower.SwapGrowthBytesPerSec!.Value)}/s, now {Mb(grower.SwapBytes)} in swap.");
        }
        if (si > 0)
            why.Add($"Swapping in: {Mb(si)}/s (pswpin): processes touch pages that were swapped out earlier; each one is a major fault they wait for." +
                (so > 0 ? " Swap-in and swap-out together mean thrashing: the working set does not fit." : ""));
        if (so == 0 && si == 0)
        {
            why.Add(used > 0
                ? $"No swap activity in the last {r.IntervalSeconds:0.0} s. {Mb(used)} sits in swap from earlier pressure; pages stay there until touched, which by itself costs nothing."
                : $"No swap activity in the last {r.IntervalSeconds:0.0} s and no swap in use.");
            foreach (ZoneWatermarks z in low)
                why.Add($"But node {z.Node} zone {z.Zone} is {Describe(z.State)} ({Mb(z.FreeBytes)} free): reclaim is running and may start swapping.");
        }
        if ((so > 0 || used > 0) && r.Swappiness is long sw)
            why.Add(sw >= 100 ? $"vm.swappiness={sw}: reclaim weighs anonymous pages at least as heavily as page cache."
                : sw <= 10 ? $"vm.swappiness={sw}: reclaim prefers dropping page cache; swapping happens mostly when little cache is left or in a cgroup."
                : $"vm.swappiness={sw} (default 60): reclaim weighs page cache over anonymous pages roughly {(200 - sw) / (double)sw:0.0}:1.");
        var node = r.Nodes.FirstOrDefault();
        if (so > 0 && node is { ActiveFileBytes: ulong af, InactiveFileBytes: ulong inf, ActiveAnonBytes: ulong aa, InactiveAnonBytes: ulong ia } && af + inf < (aa + ia) / 4)
            why.Add($"Little page cache is left to drop on node {node.Node} ({Mb(af + inf)} file vs {Mb(aa + ia)} anonymous on the LRU), so reclaim has to take anonymous pages.");
        if (r.MemoryPressure?.Some is { } psi && psi.Avg10 > 0)
            why.Add($"PSI memory: some {psi.Avg10:0.00}% / full {r.MemoryPressure.Full?.Avg10 ?? 0:0.00}% of the last 10 s stalled on memory.");
        return why;
    }
}
