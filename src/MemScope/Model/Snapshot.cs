namespace MemScope.Model;

/// <summary>
/// Everything MemScope knows about the machine at one instant. Immutable; rates come from two snapshots
/// (<see cref="Rates"/>), so live mode and replay of a recording build the same thing.
/// </summary>
public sealed record Snapshot
{
    /// <summary>Wall-clock time of the snapshot.</summary>
    public required DateTimeOffset Time { get; init; }
    /// <summary>Monotonic seconds (CLOCK_MONOTONIC) for rates; null in snapshots replayed from elsewhere.</summary>
    public double? MonotonicSeconds { get; init; }
    public required SystemSnapshot System { get; init; }
    public IReadOnlyList<ProcessSnapshot> Processes { get; init; } = [];
    /// <summary>Processes that exited between listing and reading (skipped quietly).</summary>
    public int ProcessesGone { get; init; }
    /// <summary>Processes whose cheap files could not be read at all.</summary>
    public int ProcessesDenied { get; init; }
    /// <summary>Processes whose smaps_rollup was wanted but denied: their PSS/USS are unknown.</summary>
    public int SmapsDenied => Processes.Count(p => p.SmapsDenied);
    public int PageSize { get; init; } = Environment.SystemPageSize;
    /// <summary>Clock ticks per second (USER_HZ) for stat times; 100 on every Linux we know of.</summary>
    public int ClockTicksPerSecond { get; init; } = 100;

    /// <summary>Seconds between two snapshots, monotonic where both have it.</summary>
    public static double Elapsed(Snapshot earlier, Snapshot later) =>
        earlier.MonotonicSeconds is double a && later.MonotonicSeconds is double b
            ? b - a
            : (later.Time - earlier.Time).TotalSeconds;
}
