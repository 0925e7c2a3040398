using MemScope.Model;
using MemScope.Procfs;
using MemScope.Store;
using MemScope.Sysfs;
using Microsoft.Data.Sqlite;

namespace MemScope.Tests.Store;

/// <summary>The per-process insert (bound by index on a raw statement) stores exactly what the model holds: nulls as nulls, extremes as extremes, counters above long.MaxValue capped.</summary>
public sealed class ProcessRowRoundTripTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "memscope-rows-" + Guid.NewGuid().ToString("N"));

    public ProcessRowRoundTripTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private static Snapshot SystemSnapshot()
    {
        string root = Path.Combine(Paths.SharedFixtures, "node_exporter");
        return new SnapshotCollector(new ProcFs(Path.Combine(root, "proc")), new SysFs(Path.Combine(root, "sys"))).Collect();
    }

    private static ProcessSnapshot AllSet(int pid, ulong u, long l, int i, char state, bool denied) => new()
    {
        Pid = pid, PPid = i, StartTimeTicks = u, Comm = $"p{pid}", CommandLine = $"/bin/p{pid} --x", State = state, Uid = (uint)(pid % 2 == 0 ? 0 : uint.MaxValue),
        IsKernelThread = pid % 2 == 0, Threads = i,
        VirtBytes = u, RssBytes = u, SharedBytes = u, RssAnonBytes = u, RssFileBytes = u, RssShmemBytes = u, SwapBytes = u, DataBytes = u,
        StackBytes = u, PageTableBytes = u, LockedBytes = u, HugetlbBytes = u, PssBytes = u, UssBytes = u, SwapPssBytes = u, AnonHugePagesBytes = u,
        SmapsDenied = denied, MinorFaults = u, MajorFaults = u, CpuTicks = u, OomScore = l, OomScoreAdj = l,
    };

    [Fact]
    public void Null_zero_and_extreme_process_fields_read_back_exactly()
    {
        const ulong Max = long.MaxValue;
        var nulls = new ProcessSnapshot { Pid = 10, Comm = "nulls" }; // every nullable field null, the rest default
        var zeros = AllSet(20, 0, 0, 0, 'S', denied: false);
        var maxes = AllSet(30, Max, long.MaxValue, int.MaxValue, 'D', denied: true);
        var mins = AllSet(40, 1, long.MinValue, -1, 'Z', denied: false); // negative oom_score_adj-like values and ppid -1 survive
        var over = AllSet(50, ulong.MaxValue, long.MaxValue, 7, 'R', denied: true);
        var overByOne = AllSet(60, Max + 1, -1000, 1, 'T', denied: false);
        List<ProcessSnapshot> written = [nulls, zeros, maxes, mins, over, overByOne];
        // Counters above long.MaxValue are stored capped at long.MaxValue (SQLite integers are signed 64-bit), as before.
        List<ProcessSnapshot> expected = [nulls, zeros, maxes, mins, AllSet(50, Max, long.MaxValue, 7, 'R', denied: true), AllSet(60, Max, -1000, 1, 'T', denied: false)];

        Snapshot sys = SystemSnapshot();
        string db = Path.Combine(_dir, "rows.db");
        long first, second;
        using (var w = HistoryStore.OpenForWriting(db))
        {
            first = w.Append(sys with { Processes = written });
            // The prepared statement is reused by the next sample's transaction; a changed value must not leak a stale binding.
            second = w.Append(sys with { Time = sys.Time.AddSeconds(1), Processes = [nulls with { Comm = "nulls" }, zeros with { RssBytes = 4096 }] });
        }

        using var r = HistoryStore.OpenForReading(db);
        List<ProcessSnapshot> back = r.Read(first).Processes.ToList();
        Assert.Equal(expected.Count, back.Count);
        for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i], back[i]);
        Assert.Null(back[0].RssAnonBytes);
        Assert.Null(back[0].PssBytes);
        Assert.Null(back[0].OomScore);
        Assert.Null(back[0].Uid);
        Assert.Equal(0UL, back[1].PssBytes);
        Assert.Equal(long.MinValue, back[3].OomScoreAdj);
        Assert.Equal(Max, back[4].CpuTicks);

        List<ProcessSnapshot> back2 = r.Read(second).Processes.ToList();
        Assert.Equal([nulls, zeros with { RssBytes = 4096 }], back2);
    }
}
