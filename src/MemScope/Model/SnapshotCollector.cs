using System.Diagnostics;
using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.Model;

/// <summary>What a snapshot should include; the defaults are the cheap system view.</summary>
public sealed record CollectOptions
{
    public bool Processes { get; init; }
    public ProcessDetail Detail { get; init; } = ProcessDetail.Cheap;
    /// <summary>Only these pids (null: all).</summary>
    public IReadOnlySet<int>? Pids { get; init; }
}

/// <summary>Takes a <see cref="Snapshot"/> from a procfs/sysfs root. Holds no state between snapshots.</summary>
public sealed class SnapshotCollector(ProcFs proc, SysFs sys)
{
    public ProcFs Proc { get; } = proc;
    public SysFs Sys { get; } = sys;

    public Snapshot Collect(CollectOptions? options = null)
    {
        options ??= new CollectOptions();
        double mono = Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;
        var time = DateTimeOffset.UtcNow;
        SystemSnapshot system = CollectSystem();
        var processes = new List<ProcessSnapshot>();
        int gone = 0, denied = 0;
        if (options.Processes)
        {
            var reader = new ProcessReader(Proc);
            IEnumerable<int> pids = options.Pids is { } only ? only.Order() : Proc.ListPids();
            foreach (int pid in pids)
            {
                try
                {
                    ProcessSnapshot? p = reader.TryRead(pid, options.Detail);
                    if (p is null) gone++; else processes.Add(p);
                }
                catch (KernelFileException e) when (e.Error is KernelFileError.Denied or KernelFileError.Malformed)
                {
                    denied++;
                }
            }
        }
        return new Snapshot
        {
            Time = time,
            MonotonicSeconds = mono,
            System = system,
            Processes = processes,
            ProcessesGone = gone,
            ProcessesDenied = denied,
        };
    }

    /// <summary>The system files. meminfo is required; everything else is optional and null when unreadable.</summary>
    public SystemSnapshot CollectSystem() => new()
    {
        Meminfo = Proc.ReadMeminfo(),
        Vmstat = Optional(Proc.ReadVmstat),
        Stat = Optional(Proc.ReadStat),
        MemoryPressure = Proc.TryReadPressure("memory"),
        UptimeSeconds = Proc.TryReadUptimeSeconds(),
        Zoneinfo = Optional(() => Zoneinfo.Read(Proc.PathOf("zoneinfo"))),
        Buddyinfo = Optional(() => Buddyinfo.Read(Proc.PathOf("buddyinfo"))),
        Swaps = Optional(() => Swaps.Read(Proc.PathOf("swaps"))),
    };

    private static T? Optional<T>(Func<T> read) where T : class
    {
        try { return read(); }
        catch (KernelFileException e) when (e.Error is KernelFileError.Gone or KernelFileError.Denied) { return null; }
    }
}
