using System.Diagnostics;
using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.Analysis;

/// <summary>The parts of an address space a leak can grow in.</summary>
public enum MemorySegment { Heap, Anon, File, Shmem, Stack, Other }

/// <summary>One mapping's resident and swapped bytes at one instant (from /proc/PID/smaps).</summary>
public readonly record struct MappingSize(ulong Start, ulong End, string Perms, string Path, MemorySegment Segment, ulong RssBytes, ulong SwapBytes)
{
    /// <summary>Identity across samples: the heap keeps its start while its end moves.</summary>
    public (ulong, string) Key => (Start, Path);
    public ulong SizeBytes => End - Start;
}

/// <summary>One sample of a process for leak trending. Null fields were unreadable (never 0 for unknown).</summary>
public sealed record LeakSample
{
    public required double Seconds { get; init; }
    public required ulong RssBytes { get; init; }
    public ulong? PssBytes { get; init; }
    public ulong? AnonBytes { get; init; }
    public ulong? FileBytes { get; init; }
    public ulong? ShmemBytes { get; init; }
    public ulong? SwapBytes { get; init; }
    public ulong? VirtBytes { get; init; }
    /// <summary>Resident + swapped bytes per segment, from smaps; null when smaps was not read or denied.</summary>
    public IReadOnlyDictionary<MemorySegment, ulong>? Segments { get; init; }
    public IReadOnlyList<MappingSize>? Mappings { get; init; }
    public ulong? MemAvailableBytes { get; init; }
    /// <summary>Limit − usage of the process's memory cgroup, when it has a limit.</summary>
    public ulong? CgroupHeadroomBytes { get; init; }

    /// <summary>What the process holds: RSS plus swap (swapped-out leaks still leak).</summary>
    public ulong FootprintBytes => RssBytes + (SwapBytes ?? 0);
}

/// <summary>
/// Samples one process for <see cref="LeakTrend"/>: status (RSS split, swap), smaps_rollup (PSS) and, when asked,
/// smaps (per-mapping sizes). Throws <see cref="KernelFileException"/> Gone when the process has exited.
/// </summary>
public sealed class LeakSampler
{
    private readonly ProcFs _proc;
    private readonly SysFs _sys;
    private readonly int _pid;
    private readonly long _t0 = Stopwatch.GetTimestamp();
    private string? _cgroupDir;
    private bool _cgroupResolved;
    private bool _cgroupV2;

    public LeakSampler(ProcFs proc, SysFs sys, int pid)
    {
        _proc = proc; _sys = sys; _pid = pid;
    }

    public bool ReadMappings { get; init; } = true;
    /// <summary>Set when smaps or smaps_rollup were denied: PSS and segments are unknown.</summary>
    public bool SmapsDenied { get; private set; }

    public LeakSample Sample()
    {
        double seconds = Stopwatch.GetElapsedTime(_t0).TotalSeconds;
        ProcPidStatus status = ProcPidStatus.Read(_proc.PidPath(_pid, "status"));
        ulong? pss = null;
        IReadOnlyList<MappingSize>? mappings = null;
        Dictionary<MemorySegment, ulong>? segments = null;
        try
        {
            if (ReadMappings)
            {
                mappings = SmapsMappingReader.Read(_proc.PidPath(_pid, "smaps"), out ulong pssSum);
                pss = pssSum;
                segments = new Dictionary<MemorySegment, ulong>();
                foreach (MemorySegment s in Enum.GetValues<MemorySegment>()) segments[s] = 0;
                foreach (MappingSize m in mappings) segments[m.Segment] += m.RssBytes + m.SwapBytes;
            }
            else
            {
                pss = ProcPidSmapsRollup.Read(_proc.PidPath(_pid, "smaps_rollup")).Pss;
            }
        }
        catch (KernelFileException e) when (e.Error is KernelFileError.Denied or KernelFileError.Malformed)
        {
            SmapsDenied = true;
        }
        ulong? memAvailable = null;
        try { memAvailable = _proc.ReadMeminfo().MemAvailable; } catch (KernelFileException) { }
        return new LeakSample
        {
            Seconds = seconds,
            RssBytes = status.VmRSS ?? throw new KernelFileException(KernelFileError.Malformed, _proc.PidPath(_pid, "status"),
                "no VmRSS line (a kernel thread has no user memory)"),
            PssBytes = pss,
            AnonBytes = status.RssAnon,
            FileBytes = status.RssFile,
            ShmemBytes = status.RssShmem,
            SwapBytes = status.VmSwap,
            VirtBytes = status.VmSize,
            Segments = segments,
            Mappings = mappings,
            MemAvailableBytes = memAvailable,
            CgroupHeadroomBytes = CgroupHeadroom(),
        };
    }

    /// <summary>The memory cgroup directory of the process and its limit headroom (v2 memory.max, v1 hierarchical limit).</summary>
    private ulong? CgroupHeadroom()
    {
        if (!_cgroupResolved)
        {
            _cgroupResolved = true;
            (_cgroupDir, _cgroupV2) = ResolveCgroup();
        }
        if (_cgroupDir is null) return null;
        try
        {
            if (_cgroupV2)
            {
                ulong? limit = null;
                // The tightest memory.max from the cgroup up to the root.
                for (string? d = _cgroupDir; d is not null && d.Length >= _sys.PathOf("fs/cgroup").Length; d = System.IO.Path.GetDirectoryName(d))
                {
                    string? max = KernelFile.TryReadAllText(System.IO.Path.Combine(d, "memory.max"))?.Trim();
                    if (max is not null && ulong.TryParse(max, out ulong l)) limit = limit is null ? l : Math.Min(limit.Value, l);
                }
                string? cur = KernelFile.TryReadAllText(System.IO.Path.Combine(_cgroupDir, "memory.current"))?.Trim();
                return limit is ulong lim && ulong.TryParse(cur, out ulong used) ? (lim > used ? lim - used : 0) : null;
            }
            else
            {
                ulong? limit = null;
                string? stat = KernelFile.TryReadAllText(System.IO.Path.Combine(_cgroupDir, "memory.stat"));
                if (stat is not null)
                    foreach (ReadOnlySpan<char> line in stat.AsSpan().EnumerateLines())
                        if (line.StartsWith("hierarchical_memory_limit ") && ulong.TryParse(line[26..], out ulong h)) limit = h;
                string? lim1 = KernelFile.TryReadAllText(System.IO.Path.Combine(_cgroupDir, "memory.limit_in_bytes"))?.Trim();
                if (ulong.TryParse(lim1, out ulong l1)) limit = limit is null ? l1 : Math.Min(limit.Value, l1);
                string? cur = KernelFile.TryReadAllText(System.IO.Path.Combine(_cgroupDir, "memory.usage_in_bytes"))?.Trim();
                // "No limit" is PAGE_COUNTER_MAX pages: anything beyond 2^60 is unlimited.
                if (limit is not ulong lim || lim >= 1UL << 60) return null;
                return ulong.TryParse(cur, out ulong used) ? (lim > used ? lim - used : 0) : null;
            }
        }
        catch (KernelFileException) { return null; }
    }

    private (string?, bool) ResolveCgroup()
    {
        string? text;
        try { text = KernelFile.TryReadAllText(_proc.PidPath(_pid, "cgroup")); }
        catch (KernelFileException) { return (null, false); }
        if (text is null) return (null, false);
        string? v1 = null, v2 = null;
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] parts = line.Split(':', 3);
            if (parts.Length < 3) continue;
            if (parts[0] == "0" && parts[1].Length == 0) v2 = parts[2];
            else if (parts[1].Split(',').Contains("memory")) v1 = parts[2];
        }
        if (v1 is not null)
        {
            string dir = _sys.PathOf("fs/cgroup/memory") + v1.TrimEnd('/');
            if (Directory.Exists(dir)) return (dir, false);
        }
        if (v2 is not null)
        {
            foreach (string root in new[] { _sys.PathOf("fs/cgroup"), _sys.PathOf("fs/cgroup/unified") })
            {
                string dir = root + v2.TrimEnd('/');
                if (File.Exists(System.IO.Path.Combine(dir, "memory.current"))) return (dir, true);
            }
        }
        return (null, false);
    }

    /// <summary>Which segment a mapping belongs to, from its path and permissions.</summary>
    public static MemorySegment Classify(ReadOnlySpan<char> path, ReadOnlySpan<char> perms)
    {
        if (path.Length == 0) return MemorySegment.Anon;
        if (path.SequenceEqual("[heap]")) return MemorySegment.Heap;
        if (path.StartsWith("[stack")) return MemorySegment.Stack;
        if (path.StartsWith("[anon_shmem:")) return MemorySegment.Shmem;
        if (path.StartsWith("[anon:")) return MemorySegment.Anon;
        if (path[0] == '[') return MemorySegment.Other; // [vdso], [vvar], [vsyscall], [uprobes]
        if (path.StartsWith("/dev/shm/") || path.StartsWith("/SYSV") || path.StartsWith("/memfd:") || path.StartsWith("/dev/zero"))
            return MemorySegment.Shmem;
        return MemorySegment.File;
    }
}

/// <summary>
/// A minimal reader of /proc/PID/smaps for leak trending: per mapping, its range, permissions, path, Rss and Swap.
/// (Private to the leak feature until the full smaps parser lands; it keeps no other field.)
/// </summary>
internal static class SmapsMappingReader
{
    public static List<MappingSize> Read(string path, out ulong pssTotal)
    {
        ulong pss = 0;
        List<MappingSize> list = KernelFile.Parse(path, (content, p) => Parse(content, p, out pss));
        pssTotal = pss;
        return list;
    }

    public static List<MappingSize> Parse(ReadOnlySpan<char> content, string path, out ulong pssTotal)
    {
        var list = new List<MappingSize>();
        pssTotal = 0;
        ulong start = 0, end = 0, rss = 0, swap = 0;
        string perms = "", name = "";
        bool open = false;
        int lineNumber = 0;
        foreach (ReadOnlySpan<char> line in content.EnumerateLines())
        {
            lineNumber++;
            if (line.Length == 0) continue;
            int dash = line.IndexOf('-');
            int space = line.IndexOf(' ');
            // A header line starts "start-end perms": hex digits up to the dash, before any space.
            if (dash > 0 && space > dash && SpanParsing.TryParseHex(line[..dash], out ulong s) && SpanParsing.TryParseHex(line[(dash + 1)..space], out ulong e))
            {
                if (open) list.Add(new MappingSize(start, end, perms, name, LeakSampler.Classify(name, perms), rss, swap));
                ReadOnlySpan<char> rest = line[space..];
                perms = SpanParsing.NextToken(ref rest).ToString();
                SpanParsing.NextToken(ref rest); // offset
                SpanParsing.NextToken(ref rest); // dev
                SpanParsing.NextToken(ref rest); // inode
                name = rest.Trim().ToString();
                start = s; end = e; rss = 0; swap = 0; open = true;
                continue;
            }
            if (!SpanParsing.TrySplitKeyValue(line, out var key, out var value)) continue;
            bool isRss = key.SequenceEqual("Rss"), isSwap = key.SequenceEqual("Swap"), isPss = key.SequenceEqual("Pss");
            if (!isRss && !isSwap && !isPss) continue;
            if (!open || !SpanParsing.TryParseSizeValue(value, out long n, out bool kb) || n < 0)
                throw KernelFileException.Malformed(path, lineNumber, line, $"'{key}' is not 'number kB' under a mapping");
            ulong bytes = kb ? (ulong)n * 1024 : (ulong)n;
            if (isRss) rss = bytes; else if (isSwap) swap = bytes; else pssTotal += bytes;
        }
        if (open) list.Add(new MappingSize(start, end, perms, name, LeakSampler.Classify(name, perms), rss, swap));
        return list;
    }
}
