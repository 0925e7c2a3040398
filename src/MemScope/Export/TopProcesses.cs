using MemScope.Model;

namespace MemScope.Export;

/// <summary>The key that ranks processes for the bounded "top N" export.</summary>
public enum TopKey { Rss, Pss, Uss, Swap }

/// <summary>
/// Picks the top N processes by a key from a cheap snapshot, reading smaps_rollup (PSS/USS) only for the few that can
/// rank. Since PSS ≤ RSS and USS ≤ RSS for every process, walking processes by descending RSS and stopping once the
/// Nth best PSS (or USS) so far is ≥ the next RSS gives the exact top N without reading every smaps_rollup.
/// </summary>
public static class TopProcesses
{
    public static TopKey ParseKey(string s) => s.ToLowerInvariant() switch
    {
        "rss" => TopKey.Rss,
        "pss" => TopKey.Pss,
        "uss" => TopKey.Uss,
        "swap" => TopKey.Swap,
        _ => throw new ArgumentException($"unknown key '{s}' (rss, pss, uss or swap)"),
    };

    public static List<ProcessSnapshot> Select(ProcessReader reader, IReadOnlyList<ProcessSnapshot> cheap, TopKey key, int n)
    {
        if (n <= 0) return [];
        // Kernel threads and zombies own no user memory. A process with nothing resident cannot rank by RSS, PSS or USS
        // however few processes a box runs (it can by swap: a fully swapped-out process has RSS 0).
        var candidates = cheap.Where(p => !p.IsKernelThread && p.State != 'Z').ToList();
        if (key == TopKey.Swap)
        {
            var bySwap = candidates.Where(p => p.SwapBytes is > 0UL).OrderByDescending(p => p.SwapBytes).ThenBy(p => p.Pid).Take(n).ToList();
            return bySwap.Select(p => Detail(reader, p)).ToList();
        }
        candidates.RemoveAll(p => p.RssBytes == 0);
        candidates.Sort((a, b) => b.RssBytes != a.RssBytes ? b.RssBytes.CompareTo(a.RssBytes) : a.Pid.CompareTo(b.Pid));
        if (key == TopKey.Rss)
            return candidates.Take(n).Select(p => Detail(reader, p)).ToList();

        var best = new List<ProcessSnapshot>(n + 1);
        foreach (ProcessSnapshot p in candidates)
        {
            if (best.Count >= n && Value(best[^1], key) >= p.RssBytes) break; // no later process can rank
            ProcessSnapshot d = Detail(reader, p);
            best.Add(d);
            best.Sort((a, b) => Value(b, key) != Value(a, key) ? Value(b, key).CompareTo(Value(a, key)) : a.Pid.CompareTo(b.Pid));
            if (best.Count > n) best.RemoveAt(best.Count - 1);
        }
        return best;
    }

    private static ulong Value(ProcessSnapshot p, TopKey key) => key switch
    {
        TopKey.Pss => p.PssBytes ?? 0,
        TopKey.Uss => p.UssBytes ?? 0,
        TopKey.Swap => p.SwapBytes ?? 0,
        _ => p.RssBytes,
    };

    /// <summary>Re-reads one process with smaps_rollup; keeps the cheap record when it vanished meanwhile.</summary>
    private static ProcessSnapshot Detail(ProcessReader reader, ProcessSnapshot p)
    {
        try
        {
            ProcessSnapshot? d = reader.TryRead(p.Pid, ProcessDetail.WithSmapsRollup);
            // Exited since the cheap read (gone, or a zombie whose counters read 0): keep what was measured while it lived.
            return d is not null && d.StartTimeTicks == p.StartTimeTicks && d.State != 'Z' ? d : p;
        }
        catch (Procfs.KernelFileException)
        {
            return p;
        }
    }
}
