using MemScope.Model;
using MemScope.Procfs;

namespace MemScope.Analysis;

/// <summary>The keys a process table can be sorted by.</summary>
public enum TopSortKey { Rss, Pss, Uss, Swap, Growth }

/// <summary>A process row of a live view: the cheap snapshot, PSS/USS when read, and growth since the last refresh.</summary>
public sealed record TopRow(ProcessSnapshot Process, ulong? PssBytes, ulong? UssBytes, double? GrowthBytesPerSec);

/// <summary>
/// Picks the processes a live view shows, reading the costly smaps_rollup only for those. For PSS and USS sorts the
/// choice is still exact: both are at most RSS, so candidates are taken in RSS order and the scan stops once the next
/// candidate's RSS is below the k-th largest PSS (USS) found — no later process can rank higher.
/// </summary>
public static class TopProcesses
{
    public static IReadOnlyList<TopRow> Select(IReadOnlyList<ProcessSnapshot> processes, IReadOnlyDictionary<(int, ulong), ProcessSnapshot>? previous,
        double elapsedSeconds, TopSortKey key, int count, Func<ProcessSnapshot, SmapsFields?> readRollup, Func<ProcessSnapshot, bool>? filter = null)
    {
        var candidates = processes.Where(p => !p.IsKernelThread && (filter?.Invoke(p) ?? true)).ToList();
        double? Growth(ProcessSnapshot p) => previous is not null && elapsedSeconds > 0 && previous.TryGetValue(p.Key, out var before)
            ? ((double)p.RssBytes - before.RssBytes) / elapsedSeconds : null;

        var rows = new List<TopRow>();
        if (key is TopSortKey.Pss or TopSortKey.Uss)
        {
            var ranked = new List<TopRow>();
            foreach (ProcessSnapshot p in candidates.OrderByDescending(p => p.RssBytes))
            {
                if (ranked.Count >= count)
                {
                    ulong kth = ranked.Select(r => Value(r, key)).OrderByDescending(v => v).ElementAt(count - 1);
                    if (p.RssBytes < kth) break; // nothing with less RSS can have more PSS/USS
                }
                SmapsFields? f = readRollup(p);
                ranked.Add(new TopRow(p, f?.Pss, f?.Uss, Growth(p)));
            }
            return ranked.OrderByDescending(r => Value(r, key)).ThenBy(r => r.Process.Pid).Take(count).ToList();
        }

        IEnumerable<ProcessSnapshot> ordered = key switch
        {
            TopSortKey.Swap => candidates.OrderByDescending(p => p.SwapBytes ?? 0).ThenByDescending(p => p.RssBytes),
            TopSortKey.Growth => candidates.OrderByDescending(p => Growth(p) ?? double.MinValue).ThenByDescending(p => p.RssBytes),
            _ => candidates.OrderByDescending(p => p.RssBytes),
        };
        foreach (ProcessSnapshot p in ordered.Take(count))
        {
            SmapsFields? f = readRollup(p);
            rows.Add(new TopRow(p, f?.Pss, f?.Uss, Growth(p)));
        }
        return rows;
    }

    private static ulong Value(TopRow r, TopSortKey key) => (key == TopSortKey.Pss ? r.PssBytes : r.UssBytes) ?? 0;
}
