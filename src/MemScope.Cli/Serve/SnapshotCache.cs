using System.Diagnostics;
using System.Text;
using System.Text.Json;
using MemScope.Export;
using MemScope.Model;
using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.Cli.Serve;

/// <summary>The doctor's findings for a snapshot (and the one before, for rates); null when no doctor is wired in.</summary>
internal delegate IReadOnlyList<FindingDto>? FindingSource(Snapshot current, Snapshot? previous);

/// <summary>Zone free pages and watermarks; null when zoneinfo is unavailable.</summary>
internal delegate IReadOnlyList<ZoneWatermarks>? ZoneSource(Snapshot snapshot);

/// <summary>
/// One collection and everything rendered from it. Renderings are built once, on first use, and shared by every
/// request until the next collection, so N scrapers cost one collection and one rendering per interval.
/// </summary>
internal sealed class ServeState
{
    public required Snapshot Snapshot { get; init; }
    public Snapshot? Previous { get; init; }
    public required List<ProcessSnapshot> Top { get; init; }
    public IReadOnlyList<ZoneWatermarks>? Zones { get; init; }
    public IReadOnlyList<FindingDto>? Findings { get; init; }
    public required double CollectionSeconds { get; init; }
    public required ulong CollectionNumber { get; init; }
    public required long CollectedAtTimestamp { get; init; }
    public required ServeOptions Options { get; init; }

    private byte[]? _metrics, _snapshotJson, _processesJson, _findingsJson;

    public byte[] Metrics => _metrics ??= Encoding.UTF8.GetBytes(MetricsExposition.Render(new ExpositionInput
    {
        System = Snapshot.System,
        TopProcesses = Top,
        Zones = Zones,
        Findings = Findings?.Select(f => new ActiveFinding(f.Id, f.Severity)).ToList(),
        IncludeCmdline = !Options.HideCmdline,
        PageSize = Snapshot.PageSize,
        ProcessesSeen = Snapshot.Processes.Count,
        CollectionSeconds = CollectionSeconds,
        CollectionsTotal = CollectionNumber,
        SnapshotTime = Snapshot.Time,
    }));

    public byte[] SnapshotJson => _snapshotJson ??= JsonSerializer.SerializeToUtf8Bytes(ServeModel.ToSnapshotDto(this), ServeJsonContext.Default.SnapshotDto);
    public byte[] ProcessesJson => _processesJson ??= JsonSerializer.SerializeToUtf8Bytes(ServeModel.ToProcessesDto(this), ServeJsonContext.Default.ProcessesDto);
    public byte[] FindingsJson => _findingsJson ??= JsonSerializer.SerializeToUtf8Bytes(new FindingsDto
    {
        Time = Snapshot.Time,
        Available = Findings is not null,
        Findings = Findings?.ToList() ?? [],
    }, ServeJsonContext.Default.FindingsDto);
}

/// <summary>
/// Holds the latest <see cref="ServeState"/>. A request after the interval has passed starts one collection (single
/// flight) and, like every request until it finishes, is answered from the previous state; only the very first
/// requests wait for a collection. Failures are not cached (the previous state keeps being served).
/// </summary>
internal sealed class SnapshotCache(ProcFs proc, SysFs sys, ServeOptions options, FindingSource? findings, ZoneSource? zones)
{
    private readonly object _lock = new();
    private ServeState? _current;
    private Task<ServeState>? _inflight;
    private ulong _collections;

    public ulong Collections => Interlocked.Read(ref _collections);

    public Task<ServeState> GetAsync()
    {
        lock (_lock)
        {
            if (_current is { } c && Stopwatch.GetElapsedTime(c.CollectedAtTimestamp) < options.Interval) return Task.FromResult(c);
            // Expired: one refresh runs; meanwhile the previous state is served (stale by at most one collection
            // time), so no scrape waits on a collection except the very first.
            if (_inflight is { } running) return _current is { } stale ? Task.FromResult(stale) : running;
            ServeState? previous = _current;
            Task<ServeState> t = Task.Run(() => Collect(previous));
            _inflight = t;
            t.ContinueWith(done =>
            {
                lock (_lock)
                {
                    if (done.IsCompletedSuccessfully) _current = done.Result;
                    _inflight = null;
                }
            }, TaskScheduler.Default);
            return _current is { } old ? Task.FromResult(old) : t;
        }
    }

    private ServeState Collect(ServeState? previous)
    {
        long start = Stopwatch.GetTimestamp();
        var collector = new SnapshotCollector(proc, sys);
        Snapshot snap = collector.Collect(new CollectOptions { Processes = true, Detail = ProcessDetail.Cheap });
        List<ProcessSnapshot> top = TopProcesses.Select(new ProcessReader(proc), snap.Processes, options.TopBy, options.Top);
        IReadOnlyList<ZoneWatermarks>? z = null;
        try { z = zones?.Invoke(snap); } catch (KernelFileException) { z = null; }
        // Rates only need the system part of the previous snapshot: do not keep its process list alive.
        Snapshot? prev = previous?.Snapshot is { } p ? p with { Processes = [] } : null;
        IReadOnlyList<FindingDto>? f = findings?.Invoke(snap, prev);
        double secs = Stopwatch.GetElapsedTime(start).TotalSeconds;
        ulong n = Interlocked.Increment(ref _collections);
        return new ServeState
        {
            Snapshot = snap,
            Previous = prev,
            Top = top,
            Zones = z,
            Findings = f,
            CollectionSeconds = secs,
            CollectionNumber = n,
            CollectedAtTimestamp = Stopwatch.GetTimestamp(),
            Options = options,
        };
    }
}
