using System.Diagnostics;
using System.Runtime.ExceptionServices;
using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.Model;

/// <summary>What a snapshot should include; the defaults are the cheap system view.</summary>
public sealed record CollectOptions
{
    public bool Processes { get; init; }
    public ProcessDetail Detail { get; init; } = ProcessDetail.Cheap;
    /// <summary>
    /// Exactly which per-process files to read (stat always); when set it replaces <see cref="Detail"/>. A view that
    /// shows a few columns reads only the files behind them (see <see cref="ProcessFiles"/>).
    /// </summary>
    public ProcessFiles? Files { get; init; }
    /// <summary>Only these pids (null: all).</summary>
    public IReadOnlySet<int>? Pids { get; init; }
    /// <summary>
    /// Threads reading processes (1: the calling thread only). A one-shot full scan (`ps`) passes the core count: the
    /// time goes to the kernel generating the files, which runs in parallel per process. Scans of fewer than
    /// <see cref="SnapshotCollector.ParallelThreshold"/> processes stay on one thread.
    /// </summary>
    public int MaxParallelism { get; init; } = 1;
}

/// <summary>Takes a <see cref="Snapshot"/> from a procfs/sysfs root. Holds no state between snapshots.</summary>
public sealed class SnapshotCollector(ProcFs proc, SysFs sys)
{
    public ProcFs Proc { get; } = proc;
    public SysFs Sys { get; } = sys;

    /// <summary>Processes per extra thread below which a parallel scan is not worth a thread's start-up.</summary>
    public const int ParallelThreshold = 128;

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
            ProcessFiles files = options.Files ?? (options.Detail == ProcessDetail.WithSmapsRollup ? ProcessFiles.All : ProcessFiles.Cheap);
            List<int> pids = options.Pids is { } only ? only.Order().ToList() : Proc.ListPids();
            int workers = Math.Min(options.MaxParallelism, pids.Count / ParallelThreshold);
            if (workers <= 1)
            {
                foreach (int pid in pids)
                {
                    try
                    {
                        ProcessSnapshot? p = reader.TryRead(pid, files);
                        if (p is null) gone++; else processes.Add(p);
                    }
                    catch (KernelFileException e) when (e.Error is KernelFileError.Denied or KernelFileError.Malformed)
                    {
                        denied++;
                    }
                }
            }
            else
            {
                // Each worker takes the next unread pid; results land at the pid's index so the order is the serial one.
                var results = new ProcessSnapshot?[pids.Count];
                var outcome = new byte[pids.Count]; // 0 read, 1 gone, 2 denied
                int next = -1;
                // Any other error ends the scan as it does on one thread, thrown on the calling thread: escaping a worker
                // thread it would abort the process with a stack trace instead of the one-line error.
                ExceptionDispatchInfo? failed = null;
                void Work()
                {
                    try
                    {
                        for (int i = Interlocked.Increment(ref next); i < pids.Count; i = Interlocked.Increment(ref next))
                        {
                            try
                            {
                                results[i] = reader.TryRead(pids[i], files);
                                if (results[i] is null) outcome[i] = 1;
                            }
                            catch (KernelFileException e) when (e.Error is KernelFileError.Denied or KernelFileError.Malformed)
                            {
                                outcome[i] = 2;
                            }
                        }
                    }
                    catch (Exception e)
                    {
                        Interlocked.CompareExchange(ref failed, ExceptionDispatchInfo.Capture(e), null);
                        Interlocked.Exchange(ref next, pids.Count); // the other workers stop at their next pid
                    }
                }
                var threads = new Thread[workers - 1];
                for (int t = 0; t < threads.Length; t++)
                {
                    threads[t] = new Thread(Work) { IsBackground = true, Name = "memscope scan" };
                    threads[t].Start();
                }
                Work();
                foreach (Thread t in threads) t.Join();
                failed?.Throw();
                for (int i = 0; i < pids.Count; i++)
                {
                    if (results[i] is { } p) processes.Add(p);
                    else if (outcome[i] == 1) gone++;
                    else denied++;
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
