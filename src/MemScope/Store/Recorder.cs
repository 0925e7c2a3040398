using System.Diagnostics;
using MemScope.Model;
using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.Store;

/// <summary>What the recorder takes and keeps.</summary>
public sealed record RecorderOptions
{
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>How many processes (largest RSS first) also get smaps_rollup (PSS, USS, swap PSS) each sample.</summary>
    public int TopN { get; init; } = 10;
    public RetentionPolicy Retention { get; init; } = RetentionPolicy.Default;
    /// <summary>Kernel threads own no user memory (RSS 0); leaving them out halves the rows on a typical box.</summary>
    public bool IncludeKernelThreads { get; init; }
    /// <summary>
    /// When unchanged processes and PSS are re-read anyway (see <see cref="IncrementalProcessReader"/>); null:
    /// <see cref="IncrementalReadOptions.ForInterval"/> of <see cref="Interval"/>.
    /// </summary>
    public IncrementalReadOptions? Incremental { get; init; }
    /// <summary>Stop after this many samples (tests, benchmarks); null runs until cancelled.</summary>
    public int? MaxSamples { get; init; }
    /// <summary>The kernel log to follow for OOM kills (/dev/kmsg on the live machine); null records none.</summary>
    public string? KmsgPath { get; init; }
    /// <summary>How often the vm sysctls are read again (they are stored only when they changed).</summary>
    public TimeSpan SysctlInterval { get; init; } = TimeSpan.FromMinutes(1);
    /// <summary>At most this many memory cgroups per sample (the largest by usage); 0 records none.</summary>
    public int MaxCgroups { get; init; } = 256;
    /// <summary>
    /// How often /proc/slabinfo (per-cache counters; the kernel spends ~1 ms producing it) and the tmpfs/SysV shared
    /// memory are read; at most once per sample. Slab moves slowly and meminfo's Slab/SUnreclaim are in every sample.
    /// </summary>
    public TimeSpan ExtrasInterval { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>One committed sample, reported after its transaction committed.</summary>
public readonly record struct SampleWritten(long Id, DateTimeOffset Time, int Processes, TimeSpan CollectTime, TimeSpan WriteTime, long FileBytes, int Trimmed,
    IncrementalReadCounts Counts = default);

/// <summary>
/// Takes a snapshot every interval and appends it to a <see cref="HistoryStore"/>: the cheap per-process files for
/// every process, smaps_rollup for the top N by RSS, one transaction per sample, retention after each commit.
/// </summary>
public sealed class Recorder(SnapshotCollector collector, HistoryStore store, RecorderOptions options)
{
    public RecorderOptions Options { get; } = options;

    // Keeps every process's last snapshot between samples and re-reads only what moved (IncrementalProcessReader).
    private readonly IncrementalProcessReader _procs = new(collector.Proc, options.Incremental ?? IncrementalReadOptions.ForInterval(options.Interval));

    /// <summary>What the last sample read and what it kept from the previous one.</summary>
    public IncrementalReadCounts LastCounts => _procs.LastCounts;

    /// <summary>/proc/PID/stat files kept open between samples (none once <see cref="RunAsync"/> has returned).</summary>
    public int StatFilesOpen => _procs.StatFilesOpen;

    /// <summary>Collects one snapshot as the recorder stores it.</summary>
    public Snapshot TakeSample()
    {
        Snapshot s = collector.Collect(new CollectOptions { Processes = false });
        List<ProcessSnapshot> procs = _procs.Read(Options.IncludeKernelThreads, out int gone, out int denied);
        _procs.AddRollups(procs, Options.TopN, Options.Interval);
        return s with { Processes = procs, ProcessesGone = gone, ProcessesDenied = denied };
    }

    private MemoryCgroups? DiscoverCgroups()
    {
        if (Options.MaxCgroups <= 0) return null;
        try { return MemoryCgroups.Discover(collector.Proc, collector.Sys); }
        catch (Exception e) when (e is KernelFileException or IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>The memory cgroups' cheap figures (usage, limit, swap, failcnt, events); null when unreadable this time.</summary>
    private IReadOnlyList<MemoryCgroup>? ReadCgroups(MemoryCgroups cgroups)
    {
        try
        {
            List<MemoryCgroup> all = cgroups.AllCheap().ToList();
            return all.Count <= Options.MaxCgroups ? all : all.OrderByDescending(g => g.UsageBytes ?? 0).Take(Options.MaxCgroups).ToList();
        }
        catch (Exception e) when (e is KernelFileException or IOException or UnauthorizedAccessException) { return null; }
    }

    private OomEventTap? OpenOomTap()
    {
        if (Options.KmsgPath is not string path)
        {
            store.SetMeta("oom_events", "unavailable: the recorder did not follow the kernel log (not the live /proc)");
            return null;
        }
        ulong? btime = null;
        try { btime = collector.Proc.ReadStat().BootTimeUnixSeconds; } catch (KernelFileException) { }
        string boot = OomEventTap.BootId(collector.Proc, btime);
        OomEventTap? tap = OomEventTap.TryOpen(path, boot, store, out string? why);
        store.SetMeta("oom_events", tap is null ? $"unavailable: the recorder could not read {why}" : $"followed {path}");
        return tap;
    }

    private bool _slabDenied, _slabNoted;

    /// <summary>The slab and shared-memory readings of this sample (schema 4); slabinfo is skipped for good once denied (root only).</summary>
    private SampleExtras ReadExtras()
    {
        Slabinfo? slab = null;
        if (!_slabDenied)
        {
            try
            {
                slab = Slabinfo.Read(collector.Proc.PathOf("slabinfo"));
                if (!_slabNoted)
                    store.SetMeta(HistoryStore.SlabinfoMeta, $"recorded every {Math.Max(Options.ExtrasInterval.TotalSeconds, Options.Interval.TotalSeconds):0.###} s");
                _slabNoted = true;
            }
            catch (KernelFileException e)
            {
                _slabDenied = e.Error is KernelFileError.Denied or KernelFileError.Gone;
                _slabNoted = false; // a later good reading says "recorded" again (a malformed read is not for good)
                store.SetMeta(HistoryStore.SlabinfoMeta, "unavailable: " + e.Error switch
                {
                    KernelFileError.Denied => "the recorder was not root (/proc/slabinfo is readable by root only)",
                    KernelFileError.Gone => "/proc/slabinfo does not exist on this kernel",
                    _ => e.Message,
                });
            }
        }
        return new SampleExtras { Slabinfo = slab, SharedMemory = Analysis.AccountExtrasReader.ReadSharedMemory(collector.Proc) };
    }

    /// <summary>Records until cancelled (or <see cref="RecorderOptions.MaxSamples"/>); the first sample is taken at once.</summary>
    public async Task RunAsync(CancellationToken ct, Action<SampleWritten>? onSample = null)
    {
        try
        {
            await RecordAsync(ct, onSample).ConfigureAwait(false);
        }
        finally
        {
            // The kept stat descriptors (and their kernel memory) go back when recording stops, not at a finalizer.
            _procs.CloseFiles();
        }
    }

    private async Task RecordAsync(CancellationToken ct, Action<SampleWritten>? onSample)
    {
        store.ConfigureFor(Options.Retention);
        using var timer = new PeriodicTimer(Options.Interval);
        int taken = 0;
        using OomEventTap? oom = OpenOomTap();
        long sysctlDue = 0;
        MemoryCgroups? cgroups = DiscoverCgroups();
        // A new process's memory cgroup, read once when its identity is first stored (HistoryStore.IdentId).
        Func<int, (int, string)?>? cgroupOf = cgroups is null ? null
            : pid => cgroups.ForProcess(collector.Proc, pid) is var (v, path) ? ((int)v, path) : null;
        long extrasDue = 0;
        while (!ct.IsCancellationRequested)
        {
            long t0 = Stopwatch.GetTimestamp();
            Snapshot s = TakeSample();
            if (t0 >= sysctlDue)
            {
                // Sysctls change rarely: read now and then, stored only when different (schema v2 `sysctls`).
                try { s = s with { System = s.System with { SysVm = collector.Proc.ReadSysVm() } }; }
                catch (KernelFileException) { }
                sysctlDue = t0 + (long)(Options.SysctlInterval.TotalSeconds * Stopwatch.Frequency);
            }
            if (cgroups is not null) s = s with { System = s.System with { MemoryCgroups = ReadCgroups(cgroups) } };
            SampleExtras extras = new() { CgroupOf = cgroupOf };
            if (t0 >= extrasDue)
            {
                extras = ReadExtras() with { CgroupOf = cgroupOf };
                // Half an interval early, so timer jitter does not push the next reading one whole sample late.
                extrasDue = t0 + (long)((Options.ExtrasInterval - Options.Interval / 2).TotalSeconds * Stopwatch.Frequency);
            }
            long t1 = Stopwatch.GetTimestamp();
            long id = store.Append(s, Options.TopN, extras);
            try { oom?.Poll(store, s.System.UptimeSeconds is double up ? s.Time.AddSeconds(-up) : null); }
            catch (KernelFileException) { } // a kernel log read error loses OOM events, never the sample
            var ret = store.EnforceRetention(Options.Retention, s.Time);
            long t2 = Stopwatch.GetTimestamp();
            onSample?.Invoke(new SampleWritten(id, s.Time, s.Processes.Count, Stopwatch.GetElapsedTime(t0, t1),
                Stopwatch.GetElapsedTime(t1, t2), ret.BytesAfter, ret.SamplesDeleted, _procs.LastCounts));
            taken++;
            if (Options.MaxSamples is int max && taken >= max) break;
            try
            {
                if (!await timer.WaitForNextTickAsync(ct).ConfigureAwait(false)) break;
            }
            catch (OperationCanceledException) { break; }
        }
    }
}
