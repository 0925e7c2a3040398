using MemScope.Model;

namespace MemScope.Store;

/// <summary>
/// Replays a recording through the live views: the snapshot recorded at or just before a time, with the sample
/// before it for rates, or a whole window for series.
/// </summary>
public sealed class SnapshotReplay : IDisposable
{
    private readonly HistoryStore _store;

    private SnapshotReplay(HistoryStore store) => _store = store;

    public static SnapshotReplay Open(string path) => new(HistoryStore.OpenForReading(path));

    public HistoryStore Store => _store;

    /// <summary>The latest sample at or before <paramref name="time"/>; a time before the first sample is a NotFound error naming the recorded range.</summary>
    public SampleInfo Find(DateTimeOffset time)
    {
        if (_store.AtOrBefore(time) is { } s) return s;
        throw new StoreException(StoreError.NotFound, $"no sample at or before {Format(time)} in {_store.Path} ({Describe()})");
    }

    /// <summary>The snapshot recorded at or just before <paramref name="time"/>.</summary>
    public Snapshot At(DateTimeOffset time, bool processes = true) => _store.Read(Find(time).Id, processes);

    /// <summary>The snapshot at <paramref name="time"/> and the one before it (null at the first sample), for rates.</summary>
    public (Snapshot Earlier, Snapshot Later)? PairAt(DateTimeOffset time, bool processes = true)
    {
        SampleInfo s = Find(time);
        if (_store.Previous(s) is not { } prev) return null;
        return (_store.Read(prev.Id, processes), _store.Read(s.Id, processes));
    }

    /// <summary>Every sample in the window (system only), oldest first.</summary>
    public List<Snapshot> Range(DateTimeOffset? from, DateTimeOffset? to) => _store.ReadSystemRange(from, to);

    /// <summary>"N samples from T1 to T2", or "empty".</summary>
    public string Describe() => _store.Extent() is var (f, l, n)
        ? $"{n} samples from {Format(f.Time)} to {Format(l.Time)}"
        : "no samples recorded";

    public static string Format(DateTimeOffset t) => t.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss zzz", System.Globalization.CultureInfo.InvariantCulture);

    public void Dispose() => _store.Dispose();
}
