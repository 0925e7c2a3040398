using MemScope.Analysis;
using MemScope.Model;
using MemScope.Procfs;

namespace MemScope.Tests.Analysis;

public class TopProcessesTests
{
    [Fact]
    public void Pss_top_k_is_exact_and_reads_smaps_rollup_only_for_the_candidates_it_needs()
    {
        var random = new Random(7);
        var processes = new List<ProcessSnapshot>();
        var pss = new Dictionary<int, ulong>();
        for (int pid = 1; pid <= 1000; pid++)
        {
            ulong rss = (ulong)random.Next(1, 1_000_000) * 4096;
            processes.Add(new ProcessSnapshot { Pid = pid, Comm = "p", RssBytes = rss });
            pss[pid] = (ulong)(rss * random.NextDouble()); // PSS ≤ RSS, as the kernel guarantees
        }
        int reads = 0;
        SmapsFields? Read(ProcessSnapshot p) { reads++; return new SmapsFields { Pss = pss[p.Pid], PrivateClean = 0, PrivateDirty = pss[p.Pid] / 2 }; }

        IReadOnlyList<TopRow> rows = TopProcesses.Select(processes, null, 0, TopSortKey.Pss, 10, Read);

        int[] expected = pss.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key).Take(10).Select(kv => kv.Key).ToArray();
        Assert.Equal(expected, rows.Select(r => r.Process.Pid).ToArray());
        Assert.True(reads < 1000, $"read {reads} smaps_rollup files for 10 rows");
    }

    [Fact]
    public void Growth_is_RSS_change_per_second_since_the_previous_refresh()
    {
        var before = new ProcessSnapshot { Pid = 5, Comm = "a", StartTimeTicks = 9, RssBytes = 100 << 20 };
        var after = before with { RssBytes = 110 << 20 };
        var reused = new ProcessSnapshot { Pid = 6, Comm = "b", StartTimeTicks = 10, RssBytes = 1 << 20 };
        var previous = new Dictionary<(int, ulong), ProcessSnapshot> { [before.Key] = before, [(6, 3)] = reused with { StartTimeTicks = 3 } };
        IReadOnlyList<TopRow> rows = TopProcesses.Select([after, reused], previous, 2.0, TopSortKey.Growth, 5, _ => null);
        Assert.Equal(5 << 20, rows[0].GrowthBytesPerSec);
        Assert.Null(rows.Single(r => r.Process.Pid == 6).GrowthBytesPerSec); // pid reused: a new process, no growth
    }
}
