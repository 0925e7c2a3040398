using BenchmarkDotNet.Attributes;
using MemScope.Model;
using MemScope.Procfs;
using MemScope.Store;
using MemScope.Sysfs;

namespace MemScope.Bench;

/// <summary>
/// The recorder's write path: one 1,000-process snapshot appended to a recording in a temp directory (one transaction:
/// the sample row plus 1,000 process rows; identities already known, as in a steady recording).
/// dotnet run -c Release --project bench/MemScope.Bench -- --filter '*StoreBenchmarks*'
/// </summary>
[MemoryDiagnoser]
public class StoreBenchmarks
{
    private string _dir = "";
    private HistoryStore? _store;
    private Snapshot _snapshot = null!;
    private DateTimeOffset _time;

    [GlobalSetup]
    public void Setup()
    {
        _dir = Path.Combine(Path.GetTempPath(), "memscope-bench-store-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_dir);
        Snapshot system = new SnapshotCollector(new ProcFs(), new SysFs()).Collect();
        var processes = new List<ProcessSnapshot>(1000);
        for (int i = 0; i < 1000; i++)
        {
            bool rolled = i < 10; // --top 10: the largest get smaps_rollup figures, the rest leave them null
            processes.Add(new ProcessSnapshot
            {
                Pid = 1000 + i, PPid = 1, StartTimeTicks = 123_456UL + (ulong)i, Comm = "sleep", CommandLine = "sleep 3600",
                State = 'S', Uid = 1000, Threads = 1 + i % 4,
                VirtBytes = 8_400_000UL + (ulong)i * 4096, RssBytes = 1_900_000UL + (ulong)i * 4096, SharedBytes = 1_700_000,
                RssAnonBytes = 200_000, RssFileBytes = 1_700_000, RssShmemBytes = 0, SwapBytes = 0, DataBytes = 360_000,
                StackBytes = 135_168, PageTableBytes = 49_152, LockedBytes = 0, HugetlbBytes = 0,
                PssBytes = rolled ? 300_000UL : null, UssBytes = rolled ? 200_000UL : null, SwapPssBytes = rolled ? 0UL : null,
                AnonHugePagesBytes = rolled ? 0UL : null,
                MinorFaults = 90 + (ulong)i, MajorFaults = 0, CpuTicks = (ulong)(i % 7), OomScore = 666, OomScoreAdj = 0,
            });
        }
        _snapshot = system with { Processes = processes };
        _time = _snapshot.Time;
        _store = HistoryStore.OpenForWriting(Path.Combine(_dir, "bench.db"));
        _store.Append(_snapshot); // identities and counter keys known from here on
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store?.Dispose();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [Benchmark(Description = "HistoryStore.Append: 1,000 processes")]
    public long Append1000()
    {
        _time = _time.AddSeconds(1);
        return _store!.Append(_snapshot with { Time = _time });
    }
}
