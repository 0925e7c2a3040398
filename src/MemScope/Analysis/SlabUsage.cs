using MemScope.Procfs;

namespace MemScope.Analysis;

/// <summary>One slab cache as people want to see it: memory held, objects, and growth since the previous reading.</summary>
public sealed record SlabRow(string Name, ulong MemoryBytes, ulong ActiveObjects, ulong TotalObjects, ulong ObjectSizeBytes,
    bool? Reclaimable, double? GrowthBytesPerSec)
{
    public double Usage => TotalObjects == 0 ? 0 : (double)ActiveObjects / TotalObjects;
}

/// <summary>Slab caches sorted by memory, with growth rates from two readings.</summary>
public static class SlabUsage
{
    public static IReadOnlyList<SlabRow> Rows(Slabinfo current, Slabinfo? previous, double elapsedSeconds, int pageSize,
        Func<string, bool?> reclaimable)
    {
        Dictionary<string, ulong>? before = previous?.Caches
            .GroupBy(c => c.Name).ToDictionary(g => g.Key, g => g.First().MemoryBytes(pageSize));
        var rows = new List<SlabRow>(current.Caches.Count);
        foreach (SlabCache c in current.Caches)
        {
            ulong memory = c.MemoryBytes(pageSize);
            double? growth = before is not null && elapsedSeconds > 0 && before.TryGetValue(c.Name, out ulong was)
                ? ((double)memory - was) / elapsedSeconds
                : null;
            rows.Add(new SlabRow(c.Name, memory, c.ActiveObjects, c.TotalObjects, c.ObjectSizeBytes, reclaimable(c.Name), growth));
        }
        rows.Sort((a, b) => b.MemoryBytes.CompareTo(a.MemoryBytes));
        return rows;
    }
}
