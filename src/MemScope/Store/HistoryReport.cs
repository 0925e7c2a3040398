using MemScope.Model;

namespace MemScope.Store;

/// <summary>The lowest and highest value of one system figure over a window, with when.</summary>
public sealed record Extreme(string Name, string Unit, double? First, double? Last, double? Min, DateTimeOffset? MinTime, double? Max, DateTimeOffset? MaxTime);

/// <summary>A process's memory at the start and end of its life in the window, and its peak.</summary>
public sealed record ProcessGrowth
{
    public required int Pid { get; init; }
    public required string Comm { get; init; }
    public string CommandLine { get; init; } = "";
    public required DateTimeOffset FirstSeen { get; init; }
    public required DateTimeOffset LastSeen { get; init; }
    public required ulong FirstRssBytes { get; init; }
    public required ulong LastRssBytes { get; init; }
    public required ulong PeakRssBytes { get; init; }
    public long RssGrowthBytes => (long)LastRssBytes - (long)FirstRssBytes;
    /// <summary>PSS where smaps_rollup was read at both ends (top-N processes); null otherwise.</summary>
    public ulong? FirstPssBytes { get; init; }
    public ulong? LastPssBytes { get; init; }
    public long? PssGrowthBytes => FirstPssBytes is ulong a && LastPssBytes is ulong b ? (long)b - (long)a : null;
    public ulong? FirstSwapBytes { get; init; }
    public ulong? LastSwapBytes { get; init; }
    /// <summary>Started after the window began (not in its first sample).</summary>
    public bool Started { get; init; }
    /// <summary>Gone before the window ended (not in its last sample).</summary>
    public bool Exited { get; init; }
}

/// <summary>A /proc/vmstat event counter over the window: total, and the highest per-second rate between two samples.</summary>
public sealed record CounterActivity(string Name, string Meaning, ulong? Total, double? PeakPerSec, DateTimeOffset? PeakTime);

/// <summary>A sample at which /proc/vmstat oom_kill went up.</summary>
public sealed record OomKillEvent(DateTimeOffset Time, ulong Kills);

/// <summary>
/// A process the OOM killer killed in the window, from the kernel-log event the recorder stored (schema 2+).
/// <see cref="Cgroup"/> is the victim's memory cgroup; <see cref="CgroupLimit"/> says the kill was a cgroup's limit, not the whole machine.
/// </summary>
public sealed record OomVictim(DateTimeOffset? Time, int Pid, string Command, ulong? AnonRssBytes, string? Cgroup, bool CgroupLimit, long? OomScoreAdj);

/// <summary>A doctor finding over the window, reduced to what a report shows.</summary>
public sealed record ReportFinding(string Id, string Severity, string Title, IReadOnlyList<string> Evidence);

/// <summary>What happened to memory between two times, from a recording: extremes, growers, reclaim and swap, OOM kills, findings.</summary>
public sealed record HistoryReport
{
    public required string Database { get; init; }
    public required DateTimeOffset From { get; init; }
    public required DateTimeOffset To { get; init; }
    public required int Samples { get; init; }
    public double? MedianIntervalSeconds { get; init; }
    public IReadOnlyList<Extreme> Extremes { get; init; } = [];
    public IReadOnlyList<ProcessGrowth> Growers { get; init; } = [];
    public IReadOnlyList<ProcessGrowth> Shrinkers { get; init; } = [];
    public IReadOnlyList<CounterActivity> Activity { get; init; } = [];
    public ulong? OomKills { get; init; }
    public IReadOnlyList<OomKillEvent> OomKillEvents { get; init; } = [];
    /// <summary>Each kill in the window from the recorded kernel log; null when the recording has no OOM events (then only the counter above).</summary>
    public IReadOnlyList<OomVictim>? OomVictims { get; init; }
    /// <summary>Why <see cref="OomVictims"/> is null (e.g. a schema 1 recording); the report falls back to the oom_kill counter.</summary>
    public string? OomVictimsUnavailable { get; init; }
    public IReadOnlyList<ReportFinding>? Findings { get; init; }
    public string? FindingsUnavailable { get; init; }

    /// <summary>The activity counters the report sums: swap, reclaim, stalls, faults, OOM.</summary>
    public static readonly (string Name, string Meaning)[] ActivityCounters =
    [
        ("pswpin", "pages swapped in"),
        ("pswpout", "pages swapped out"),
        ("pgscan_kswapd", "pages scanned by kswapd (background reclaim)"),
        ("pgscan_direct", "pages scanned in direct reclaim (allocating tasks stalled)"),
        ("pgsteal_kswapd", "pages reclaimed by kswapd"),
        ("pgsteal_direct", "pages reclaimed in direct reclaim"),
        ("allocstall", "allocations that stalled in direct reclaim"),
        ("pgmajfault", "major page faults (read from disk or swap)"),
        ("workingset_refault_file", "file pages refaulted soon after eviction (cache thrash)"),
        ("oom_kill", "processes killed by the OOM killer"),
    ];

    /// <summary>Builds the report from a recording. Doctor findings come from <paramref name="findings"/> when given.</summary>
    public static HistoryReport Build(HistoryStore store, DateTimeOffset? from, DateTimeOffset? to, int top = 10,
        Func<IReadOnlyList<Snapshot>, (IReadOnlyList<ReportFinding>? Findings, string? Unavailable)>? findings = null)
    {
        List<SampleInfo> infos = store.ListSamples(from, to);
        if (infos.Count == 0)
        {
            string extent = store.Extent() is var (f, l, n) ? $"the recording has {n} samples from {SnapshotReplay.Format(f.Time)} to {SnapshotReplay.Format(l.Time)}" : "the recording is empty";
            throw new StoreException(StoreError.NotFound, $"no samples between {(from is { } a ? SnapshotReplay.Format(a) : "the start")} and {(to is { } b ? SnapshotReplay.Format(b) : "now")} ({extent})");
        }
        List<Snapshot> series = store.ReadSystemRange(infos[0].Time, infos[^1].Time);

        var intervals = series.Zip(series.Skip(1)).Select(p => Snapshot.Elapsed(p.First, p.Second)).Where(d => d > 0).Order().ToList();
        var (growers, shrinkers) = Growth(store, infos, top);

        var oomEvents = new List<OomKillEvent>();
        for (int i = 1; i < series.Count; i++)
            if (series[i - 1].System.Vmstat?["oom_kill"] is ulong a && series[i].System.Vmstat?["oom_kill"] is ulong b && b > a)
                oomEvents.Add(new OomKillEvent(series[i].Time, b - a));
        (List<MemScope.Analysis.OomKill>? kills, string? killsWhy) = DoctorReplay.OomKills(store, infos[0].Time, infos[^1].Time);
        var victims = kills?
            .Select(k => new OomVictim(k.Time, k.Pid, k.Command, k.AnonRssBytes, k.TaskCgroup ?? k.OomCgroup,
                k.Trigger == MemScope.Analysis.OomTrigger.MemoryCgroup, k.OomScoreAdj))
            .ToList();
        var activity = ActivityCounters.Select(c => CounterOver(series, c.Name, c.Meaning)).ToList();

        (IReadOnlyList<ReportFinding>? found, string? unavailable) = findings is null ? (null, "no doctor") : findings(series);
        return new HistoryReport
        {
            Database = store.Path,
            From = infos[0].Time,
            To = infos[^1].Time,
            Samples = infos.Count,
            MedianIntervalSeconds = intervals.Count > 0 ? intervals[intervals.Count / 2] : null,
            Extremes = ComputeExtremes(series),
            Growers = growers,
            Shrinkers = shrinkers,
            Activity = activity,
            OomKills = activity.First(a => a.Name == "oom_kill").Total,
            OomKillEvents = oomEvents,
            OomVictims = victims,
            OomVictimsUnavailable = killsWhy,
            Findings = found,
            FindingsUnavailable = unavailable,
        };
    }

    /// <summary>The system figures whose lows and highs matter: available, used, swap used, cache, PSI.</summary>
    public static IReadOnlyList<(string Name, string Unit, Func<Snapshot, double?> Value)> Figures { get; } =
    [
        ("mem_available", "bytes", s => s.System.Meminfo.MemAvailable),
        ("mem_used", "bytes", s => FreeFigures.From(s.System.Meminfo).UsedBytes),
        ("swap_used", "bytes", s => s.System.Meminfo is { SwapTotal: ulong t, SwapFree: ulong f } && t >= f ? t - f : null),
        ("page_cache", "bytes", s => s.System.Meminfo.Cached),
        ("anon", "bytes", s => s.System.Meminfo.AnonPages),
        ("slab", "bytes", s => s.System.Meminfo.Slab),
        ("shmem", "bytes", s => s.System.Meminfo.Shmem),
        ("psi_some_avg10", "percent", s => s.System.MemoryPressure?.Some?.Avg10),
        ("psi_full_avg10", "percent", s => s.System.MemoryPressure?.Full?.Avg10),
    ];

    private static List<Extreme> ComputeExtremes(List<Snapshot> series)
    {
        var list = new List<Extreme>();
        foreach (var (name, unit, value) in Figures)
        {
            double? first = null, last = null, min = null, max = null;
            DateTimeOffset? minT = null, maxT = null;
            foreach (Snapshot s in series)
            {
                if (value(s) is not double v) continue;
                first ??= v;
                last = v;
                if (min is null || v < min) { min = v; minT = s.Time; }
                if (max is null || v > max) { max = v; maxT = s.Time; }
            }
            list.Add(new Extreme(name, unit, first, last, min, minT, max, maxT));
        }
        return list;
    }

    /// <summary>Sum of increases between neighbouring samples (a counter reset after a reboot is skipped), and the peak rate.</summary>
    internal static CounterActivity CounterOver(List<Snapshot> series, string name, string meaning)
    {
        ulong? total = null;
        double? peak = null;
        DateTimeOffset? peakT = null;
        for (int i = 1; i < series.Count; i++)
        {
            ulong? a = series[i - 1].System.Vmstat?.Counter(name), b = series[i].System.Vmstat?.Counter(name);
            if (a is not ulong x || b is not ulong y || y < x) continue;
            total = (total ?? 0) + (y - x);
            double dt = Snapshot.Elapsed(series[i - 1], series[i]);
            if (dt <= 0) continue;
            double rate = (y - x) / dt;
            if (peak is null || rate > peak) { peak = rate; peakT = series[i].Time; }
        }
        return new CounterActivity(name, meaning, total, peak, peak > 0 ? peakT : null);
    }

    private static (List<ProcessGrowth> Growers, List<ProcessGrowth> Shrinkers) Growth(HistoryStore store, List<SampleInfo> infos, int top)
    {
        var times = infos.ToDictionary(i => i.Id, i => i.Time);
        long firstId = infos[0].Id, lastId = infos[^1].Id;
        var byIdent = new Dictionary<long, List<HistoryStore.ProcessPoint>>();
        foreach (var p in store.ReadProcessPoints(infos.Min(i => i.Id), infos.Max(i => i.Id)))
        {
            if (!times.ContainsKey(p.SampleId)) continue;
            if (!byIdent.TryGetValue(p.IdentId, out var list)) byIdent[p.IdentId] = list = [];
            list.Add(p);
        }
        var all = new List<ProcessGrowth>();
        foreach (var points in byIdent.Values)
        {
            var a = points[0];
            var b = points[^1];
            all.Add(new ProcessGrowth
            {
                Pid = a.Pid,
                Comm = a.Comm,
                CommandLine = a.CommandLine,
                FirstSeen = times[a.SampleId],
                LastSeen = times[b.SampleId],
                FirstRssBytes = a.Rss,
                LastRssBytes = b.Rss,
                PeakRssBytes = points.Max(p => p.Rss),
                FirstPssBytes = a.Pss,
                LastPssBytes = b.Pss,
                FirstSwapBytes = a.Swap,
                LastSwapBytes = b.Swap,
                Started = a.SampleId != firstId,
                Exited = b.SampleId != lastId,
            });
        }
        // Growth over the window, RSS first (every process has it), PSS as the tie-breaker.
        var growers = all.Where(g => g.RssGrowthBytes > 0).OrderByDescending(g => g.RssGrowthBytes).ThenByDescending(g => g.PssGrowthBytes ?? 0).Take(top).ToList();
        var shrinkers = all.Where(g => g.RssGrowthBytes < 0).OrderBy(g => g.RssGrowthBytes).Take(top).ToList();
        return (growers, shrinkers);
    }
}
