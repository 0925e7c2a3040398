using MemScope.Model;

namespace MemScope.Store;

/// <summary>One system figure at two moments.</summary>
public sealed record FieldChange(string Source, string Name, ulong? Before, ulong? After)
{
    public long? Delta => Before is ulong a && After is ulong b ? (long)b - (long)a : null;
}

/// <summary>One process at two moments (null on the side where it did not exist).</summary>
public sealed record ProcessChange(int Pid, string Comm, string CommandLine, ulong? RssBefore, ulong? RssAfter, ulong? PssBefore, ulong? PssAfter, ulong? SwapBefore, ulong? SwapAfter)
{
    public long? RssDelta => RssBefore is ulong a && RssAfter is ulong b ? (long)b - (long)a : null;
    public long? PssDelta => PssBefore is ulong a && PssAfter is ulong b ? (long)b - (long)a : null;
}

/// <summary>What grew or shrank between two snapshots: meminfo fields, vmstat events, processes (grown, shrunk, new, gone).</summary>
public sealed record SnapshotDiff
{
    public required DateTimeOffset Before { get; init; }
    public required DateTimeOffset After { get; init; }
    public double Seconds { get; init; }
    /// <summary>meminfo fields that changed, biggest change first (bytes; HugePages_* in pages).</summary>
    public IReadOnlyList<FieldChange> Meminfo { get; init; } = [];
    /// <summary>vmstat counters that moved, biggest first (events or pages).</summary>
    public IReadOnlyList<FieldChange> Vmstat { get; init; } = [];
    public IReadOnlyList<ProcessChange> Grew { get; init; } = [];
    public IReadOnlyList<ProcessChange> Shrank { get; init; } = [];
    public IReadOnlyList<ProcessChange> New { get; init; } = [];
    public IReadOnlyList<ProcessChange> Gone { get; init; } = [];

    public static SnapshotDiff Between(Snapshot a, Snapshot b, int top = 15)
    {
        var mem = Fields("meminfo", a.System.Meminfo.Entries, b.System.Meminfo.Entries);
        var vm = a.System.Vmstat is { } va && b.System.Vmstat is { } vb ? Fields("vmstat", va.Entries, vb.Entries) : [];

        var before = a.Processes.GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.First());
        var after = b.Processes.GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.First());
        var both = after.Values.Where(p => before.ContainsKey(p.Key))
            .Select(p => Change(before[p.Key], p)).ToList();
        var added = after.Values.Where(p => !before.ContainsKey(p.Key)).Select(p => Change(null, p))
            .OrderByDescending(c => c.RssAfter).Take(top).ToList();
        var gone = before.Values.Where(p => !after.ContainsKey(p.Key)).Select(p => Change(p, null))
            .OrderByDescending(c => c.RssBefore).Take(top).ToList();
        return new SnapshotDiff
        {
            Before = a.Time,
            After = b.Time,
            Seconds = Snapshot.Elapsed(a, b),
            Meminfo = mem,
            Vmstat = vm,
            Grew = both.Where(c => c.RssDelta > 0 || (c.RssDelta == 0 && c.PssDelta > 0)).OrderByDescending(c => c.RssDelta).ThenByDescending(c => c.PssDelta ?? 0).Take(top).ToList(),
            Shrank = both.Where(c => c.RssDelta < 0).OrderBy(c => c.RssDelta).Take(top).ToList(),
            New = added,
            Gone = gone,
        };
    }

    /// <summary>Processes in the new, gone, grew and shrank lists were cut to this many each.</summary>
    private static ProcessChange Change(ProcessSnapshot? a, ProcessSnapshot? b)
    {
        ProcessSnapshot p = (b ?? a)!;
        return new ProcessChange(p.Pid, p.Comm, p.CommandLine, a?.RssBytes, b?.RssBytes, a?.PssBytes, b?.PssBytes, a?.SwapBytes, b?.SwapBytes);
    }

    private static List<FieldChange> Fields(string source, IEnumerable<KeyValuePair<string, ulong>> a, IEnumerable<KeyValuePair<string, ulong>> b)
    {
        var before = a.ToDictionary(kv => kv.Key, kv => kv.Value);
        var after = b.ToDictionary(kv => kv.Key, kv => kv.Value);
        var list = new List<FieldChange>();
        foreach (string key in before.Keys.Union(after.Keys))
        {
            ulong? x = before.TryGetValue(key, out ulong u) ? u : null;
            ulong? y = after.TryGetValue(key, out ulong w) ? w : null;
            if (x == y) continue;
            list.Add(new FieldChange(source, key, x, y));
        }
        return list.OrderByDescending(f => f.Delta is long d ? Math.Abs((double)d) : double.MaxValue).ToList();
    }
}
