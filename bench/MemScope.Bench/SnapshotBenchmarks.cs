using BenchmarkDotNet.Attributes;
using MemScope.Model;
using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.Bench;

/// <summary>One full snapshot of the live machine: system files plus every process, cheap and with smaps_rollup.</summary>
[MemoryDiagnoser]
public class SnapshotBenchmarks
{
    private readonly SnapshotCollector _collector = new(new ProcFs(), new SysFs());
    private static readonly CollectOptions Cheap = new() { Processes = true, Detail = ProcessDetail.Cheap };
    private static readonly CollectOptions Rollup = new() { Processes = true, Detail = ProcessDetail.WithSmapsRollup };

    [Benchmark(Description = "snapshot: system only")]
    public Snapshot SystemOnly() => _collector.Collect();

    [Benchmark(Description = "snapshot: processes, cheap files")]
    public Snapshot ProcessesCheap() => _collector.Collect(Cheap);

    [Benchmark(Description = "snapshot: processes + smaps_rollup")]
    public Snapshot ProcessesWithRollup() => _collector.Collect(Rollup);
}

/// <summary>The hot per-file parsers on fixed text (no I/O) and through KernelFile on the live /proc.</summary>
[MemoryDiagnoser]
public class ParserBenchmarks
{
    private string _meminfo = "", _stat = "", _statm = "", _status = "", _rollup = "", _vmstat = "";
    private readonly string _self = $"/proc/{Environment.ProcessId}";

    [GlobalSetup]
    public void Setup()
    {
        _meminfo = File.ReadAllText("/proc/meminfo");
        _vmstat = File.ReadAllText("/proc/vmstat");
        _stat = File.ReadAllText($"{_self}/stat");
        _statm = File.ReadAllText($"{_self}/statm");
        _status = File.ReadAllText($"{_self}/status");
        _rollup = File.ReadAllText($"{_self}/smaps_rollup");
    }

    [Benchmark(Description = "Meminfo.Parse (text)")]
    public Meminfo MeminfoParse() => Meminfo.Parse(_meminfo, "/proc/meminfo");

    [Benchmark(Description = "Meminfo.Read /proc/meminfo")]
    public Meminfo MeminfoRead() => Meminfo.Read("/proc/meminfo");

    [Benchmark(Description = "Vmstat.Parse (text)")]
    public Vmstat VmstatParse() => Vmstat.Parse(_vmstat, "/proc/vmstat");

    [Benchmark(Description = "ProcPidStat.Parse (text)")]
    public ProcPidStat StatParse() => ProcPidStat.Parse(_stat, "stat");

    [Benchmark(Description = "ProcPidStatm.Parse (text)")]
    public ProcPidStatm StatmParse() => ProcPidStatm.Parse(_statm, "statm");

    [Benchmark(Description = "ProcPidStatus.Read self")]
    public ProcPidStatus StatusRead() => ProcPidStatus.Read($"{_self}/status");

    [Benchmark(Description = "ProcPidStatus.Parse (text)")]
    public ProcPidStatus StatusParse() => ProcPidStatus.Parse(_status, "status");

    [Benchmark(Description = "ProcPidSmapsRollup.Parse (text)")]
    public SmapsFields RollupParse() => ProcPidSmapsRollup.Parse(_rollup, "smaps_rollup");

    [Benchmark(Description = "ProcPidSmapsRollup.Read self")]
    public SmapsFields RollupRead() => ProcPidSmapsRollup.Read($"{_self}/smaps_rollup");
}
