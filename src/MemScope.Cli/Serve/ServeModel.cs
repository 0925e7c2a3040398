using MemScope.Export;
using MemScope.Model;
using MemScope.Procfs;

namespace MemScope.Cli.Serve;

/// <summary>What `memscope serve` was asked for.</summary>
internal sealed record ServeOptions
{
    public required System.Net.IPEndPoint Listen { get; init; }
    public int Top { get; init; } = 20;
    public TopKey TopBy { get; init; } = TopKey.Rss;
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(5);
    public bool HideCmdline { get; init; }
    /// <summary>Scrapes/API requests served at once; more wait (up to <see cref="QueueTimeout"/>) then get 503.</summary>
    public int MaxConcurrentRequests { get; init; } = 16;
    public TimeSpan QueueTimeout { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>A request that takes longer (e.g. a collection stuck on a hung process) gets 503.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(15);
}

/// <summary>Maps the model to the JSON DTOs of the API.</summary>
internal static class ServeModel
{
    public static SnapshotDto ToSnapshotDto(ServeState s)
    {
        Meminfo m = s.Snapshot.System.Meminfo;
        var meminfo = new Dictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var (k, v) in m.Entries) meminfo[k] = v;
        Pressure? psi = s.Snapshot.System.MemoryPressure;
        RatesDto? rates = null;
        if (s.Previous is { } prev)
        {
            Rates r = Rates.Between(prev, s.Snapshot);
            double page = s.Snapshot.PageSize;
            rates = new RatesDto
            {
                ElapsedSeconds = r.ElapsedSeconds,
                SwapInBytesPerSec = r.SwapInPagesPerSec * page,
                SwapOutBytesPerSec = r.SwapOutPagesPerSec * page,
                MajorFaultsPerSec = r.MajorFaultsPerSec,
                FaultsPerSec = r.FaultsPerSec,
                ScanDirectPagesPerSec = r.ScanDirectPerSec,
                ScanKswapdPagesPerSec = r.ScanKswapdPerSec,
                AllocStallsPerSec = r.AllocStallsPerSec,
            };
        }
        return new SnapshotDto
        {
            Time = s.Snapshot.Time,
            Hostname = TryHostname(),
            UptimeSeconds = s.Snapshot.System.UptimeSeconds,
            IntervalSeconds = s.Options.Interval.TotalSeconds,
            Memory = new MemoryDto
            {
                TotalBytes = m.MemTotal,
                FreeBytes = m.MemFree,
                AvailableBytes = m.MemAvailable,
                BuffersBytes = m.Buffers,
                CachedBytes = m.Cached,
                ShmemBytes = m.Shmem,
                AnonBytes = m.AnonPages,
                SlabReclaimableBytes = m.SReclaimable,
                SlabUnreclaimableBytes = m.SUnreclaim,
                DirtyBytes = m.Dirty,
                WritebackBytes = m.Writeback,
                CommittedBytes = m.CommittedAS,
                CommitLimitBytes = m.CommitLimit,
            },
            Composition = Composition(m),
            Swap = new SwapDto
            {
                TotalBytes = m.SwapTotal,
                FreeBytes = m.SwapFree,
                UsedBytes = m.SwapTotal is ulong t && m.SwapFree is ulong f && t >= f ? t - f : null,
                CachedBytes = m.SwapCached,
            },
            Pressure = psi is null ? null : new PressureDto(psi.Some?.Avg10, psi.Some?.Avg60, psi.Full?.Avg10, psi.Full?.Avg60,
                psi.Some?.TotalMicroseconds, psi.Full?.TotalMicroseconds),
            Rates = rates,
            Meminfo = meminfo,
            ProcessCount = s.Snapshot.Processes.Count,
            FindingCount = s.Findings?.Count,
        };
    }

    /// <summary>
    /// MemTotal split into slices that do not overlap: anon, page cache (Cached + Buffers − Shmem), shmem, slab,
    /// kernel (stacks, page tables, per-cpu), hugetlb pool, other (the remainder: vmalloc, drivers, swap cache...), free.
    /// </summary>
    public static List<CompositionPart> Composition(Meminfo m)
    {
        ulong total = m.MemTotal ?? 0;
        ulong anon = m.AnonPages ?? 0;
        ulong cache = (m.Cached ?? 0) + (m.Buffers ?? 0);
        ulong shmem = m.Shmem ?? 0;
        cache = cache >= shmem ? cache - shmem : 0;
        ulong slab = m.Slab ?? ((m.SReclaimable ?? 0) + (m.SUnreclaim ?? 0));
        ulong kernel = (m.KernelStack ?? 0) + (m.PageTables ?? 0) + (m.SecPageTables ?? 0) + (m.Percpu ?? 0);
        ulong huge = m.Hugetlb ?? (m.HugePagesTotal ?? 0) * (m.HugepagesizeBytes ?? 0);
        ulong free = m.MemFree ?? 0;
        ulong known = anon + cache + shmem + slab + kernel + huge + free;
        ulong other = total > known ? total - known : 0;
        return
        [
            new("anon", "Anonymous (process heap/stack)", anon),
            new("cache", "Page cache", cache),
            new("shmem", "Shared memory / tmpfs", shmem),
            new("slab", "Kernel slab", slab),
            new("kernel", "Kernel stacks, page tables", kernel),
            new("hugetlb", "HugeTLB pool", huge),
            new("other", "Other (unaccounted)", other),
            new("free", "Free", free),
        ];
    }

    public static ProcessesDto ToProcessesDto(ServeState s) => new()
    {
        Time = s.Snapshot.Time,
        TopBy = s.Options.TopBy.ToString().ToLowerInvariant(),
        Top = s.Options.Top,
        ProcessCount = s.Snapshot.Processes.Count,
        CmdlineHidden = s.Options.HideCmdline,
        Processes = s.Top.Select(p => new ProcessDto
        {
            Pid = p.Pid,
            Comm = p.Comm,
            Cmdline = s.Options.HideCmdline ? null : p.CommandLine,
            Uid = p.Uid,
            State = p.State == '\0' ? "" : p.State.ToString(),
            Threads = p.Threads,
            RssBytes = p.RssBytes,
            PssBytes = p.PssBytes,
            UssBytes = p.UssBytes,
            SwapBytes = p.SwapBytes,
            OomScore = p.OomScore,
            OomScoreAdj = p.OomScoreAdj,
            SmapsDenied = p.SmapsDenied,
        }).ToList(),
    };

    private static string? TryHostname()
    {
        try { return Environment.MachineName; } catch { return null; }
    }
}
