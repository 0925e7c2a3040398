using MemScope.Procfs;

namespace MemScope.Sysfs;

public enum CgroupVersion { V1 = 1, V2 = 2 }

/// <summary>One mounted hierarchy that carries the memory controller: v1 "cgroup ... memory" or v2 "cgroup2".</summary>
public sealed record CgroupHierarchy(CgroupVersion Version, string MountPoint, string Directory);

/// <summary>
/// v2 memory.events (Documentation/admin-guide/cgroup-v2.rst): how often the cgroup hit each boundary. Counters a
/// kernel does not print (oom_group_kill 5.17+, sock_throttled 6.x) are null.
/// </summary>
public sealed record CgroupMemoryEvents(ulong? Low, ulong? High, ulong? Max, ulong? Oom, ulong? OomKill, ulong? OomGroupKill);

/// <summary>
/// One memory cgroup, v1 or v2, in bytes. Limits set to "max" (v2) or to the page-counter maximum (v1,
/// 9223372036854771712) are unlimited: the limit is null and <see cref="LimitIsMax"/> is true. A file that is
/// absent (older kernel, root cgroup) leaves its field null, never 0.
/// </summary>
public sealed record MemoryCgroup
{
    public required CgroupVersion Version { get; init; }
    /// <summary>Path inside the hierarchy as /proc/PID/cgroup prints it ("/" is the root).</summary>
    public required string Path { get; init; }
    public required string Directory { get; init; }

    /// <summary>v1 memory.usage_in_bytes (includes page cache), v2 memory.current.</summary>
    public ulong? UsageBytes { get; init; }
    /// <summary>v1 memory.max_usage_in_bytes, v2 memory.peak (5.19+).</summary>
    public ulong? MaxUsageBytes { get; init; }
    /// <summary>The hard limit: v1 memory.limit_in_bytes, v2 memory.max. Null when unlimited or unknown.</summary>
    public ulong? LimitBytes { get; init; }
    public bool LimitIsMax { get; init; }
    /// <summary>v2 memory.high (throttle point); v1 has no equivalent (soft limit is different).</summary>
    public ulong? HighBytes { get; init; }
    public bool HighIsMax { get; init; }
    public ulong? LowBytes { get; init; }
    public ulong? MinBytes { get; init; }
    /// <summary>v1 memory.soft_limit_in_bytes.</summary>
    public ulong? SoftLimitBytes { get; init; }

    /// <summary>Swap used by the cgroup: v2 memory.swap.current; v1 memsw.usage − usage (memsw counts memory + swap).</summary>
    public ulong? SwapUsageBytes { get; init; }
    /// <summary>v2 memory.swap.max; v1 memsw.limit − limit when both are set. Null when unlimited or unknown.</summary>
    public ulong? SwapLimitBytes { get; init; }
    public bool SwapLimitIsMax { get; init; }
    public ulong? MemswUsageBytes { get; init; }
    public ulong? MemswLimitBytes { get; init; }

    /// <summary>v1 memory.failcnt: times usage hit the limit (each one forced reclaim).</summary>
    public ulong? Failcnt { get; init; }
    public ulong? MemswFailcnt { get; init; }
    /// <summary>v2 memory.events (hierarchical); null on v1.</summary>
    public CgroupMemoryEvents? Events { get; init; }
    /// <summary>OOM kills in this cgroup: v2 memory.events oom_kill, v1 memory.oom_control oom_kill (4.13+).</summary>
    public ulong? OomKills { get; init; }
    /// <summary>v1 memory.oom_control under_oom: tasks are waiting for an OOM that is disabled.</summary>
    public bool? UnderOom { get; init; }
    public bool? OomKillDisabled { get; init; }

    /// <summary>memory.stat, "name value" (bytes for sizes, counts for events), in file order.</summary>
    public IReadOnlyDictionary<string, ulong> Stat { get; init; } = new Dictionary<string, ulong>();
    /// <summary>memory.pressure (v2; v1 only with psi_v1). Null when absent.</summary>
    public Pressure? Pressure { get; init; }
    /// <summary>Number of processes directly in this cgroup (cgroup.procs lines); null when unreadable.</summary>
    public int? Processes { get; init; }

    /// <summary>Usage as a share of the limit; null when unlimited or unknown.</summary>
    public double? UsageOfLimit => UsageBytes is ulong u && LimitBytes is ulong l && l > 0 ? (double)u / l : null;
}

/// <summary>A process's place in the cgroup hierarchies, from /proc/PID/cgroup.</summary>
public sealed record ProcessCgroups(string? MemoryV1Path, string? UnifiedPath)
{
    /// <summary>
    /// Parses /proc/PID/cgroup: "hierarchy-ID:controller-list:path". The v1 memory line has "memory" in its controller
    /// list; the v2 line is "0::/path".
    /// </summary>
    public static ProcessCgroups Parse(ReadOnlySpan<char> content, string path)
    {
        string? v1 = null, v2 = null;
        int lineNumber = 0;
        foreach (ReadOnlySpan<char> raw in content.EnumerateLines())
        {
            lineNumber++;
            if (raw.IsEmpty) continue;
            int c1 = raw.IndexOf(':');
            int c2 = c1 < 0 ? -1 : raw[(c1 + 1)..].IndexOf(':');
            if (c1 < 0 || c2 < 0) throw KernelFileException.Malformed(path, lineNumber, raw, "expected 'id:controllers:path'");
            c2 += c1 + 1;
            ReadOnlySpan<char> id = raw[..c1], controllers = raw[(c1 + 1)..c2], cgPath = raw[(c2 + 1)..];
            if (id.SequenceEqual("0") && controllers.IsEmpty) { v2 = cgPath.ToString(); continue; }
            foreach (Range r in controllers.Split(','))
                if (controllers[r].SequenceEqual("memory")) v1 = cgPath.ToString();
        }
        return new ProcessCgroups(v1, v2);
    }

    public static ProcessCgroups? TryRead(ProcFs proc, int pid)
    {
        try { return KernelFile.Parse(proc.PidPath(pid, "cgroup"), Parse); }
        catch (KernelFileException) { return null; }
    }
}

/// <summary>
/// Finds memory cgroup hierarchies (from /proc/mounts) and reads cgroups (v1 and v2) from them. The hierarchy
/// with the memory controller decides which path of a process counts: v1 when the memory controller is mounted
/// as v1, else v2 if its root lists "memory" in cgroup.controllers.
/// </summary>
public sealed class MemoryCgroups
{
    public MemoryCgroups(IReadOnlyList<CgroupHierarchy> hierarchies, IReadOnlyList<string> notes)
    {
        Hierarchies = hierarchies;
        Notes = notes;
    }

    public IReadOnlyList<CgroupHierarchy> Hierarchies { get; }
    /// <summary>What we found but could not use (a v2 mount without the memory controller...).</summary>
    public IReadOnlyList<string> Notes { get; }

    public CgroupHierarchy? V1 => Hierarchies.FirstOrDefault(h => h.Version == CgroupVersion.V1);
    public CgroupHierarchy? V2 => Hierarchies.FirstOrDefault(h => h.Version == CgroupVersion.V2);

    /// <summary>
    /// Discovers the hierarchies from {proc}/mounts. Mount points under /sys are re-rooted at the sysfs root, so a
    /// fixture tree (--sys-root) works like the live /sys.
    /// </summary>
    public static MemoryCgroups Discover(ProcFs proc, SysFs sys)
    {
        IReadOnlyList<Mount> mounts;
        try { mounts = Mounts.Read(proc.PathOf("mounts")); }
        catch (KernelFileException) { mounts = []; }
        var found = new List<CgroupHierarchy>();
        var notes = new List<string>();
        foreach (Mount m in mounts)
        {
            if (m.FsType == "cgroup" && m.HasOption("memory"))
            {
                if (found.All(h => h.Version != CgroupVersion.V1))
                    found.Add(new CgroupHierarchy(CgroupVersion.V1, m.MountPoint, Reroot(m.MountPoint, sys)));
            }
            else if (m.FsType == "cgroup2" && found.All(h => h.Version != CgroupVersion.V2))
            {
                string dir = Reroot(m.MountPoint, sys);
                string? controllers = ReadOrNull(System.IO.Path.Combine(dir, "cgroup.controllers"));
                if (controllers is not null && controllers.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Contains("memory"))
                    found.Add(new CgroupHierarchy(CgroupVersion.V2, m.MountPoint, dir));
                else
                    notes.Add($"cgroup v2 at {m.MountPoint} has no memory controller (it is on cgroup v1 here)");
            }
        }
        return new MemoryCgroups(found, notes);
    }

    private static string Reroot(string mountPoint, SysFs sys)
    {
        if (sys.Root != "/sys" && (mountPoint == "/sys" || mountPoint.StartsWith("/sys/", StringComparison.Ordinal)))
            return sys.Root + mountPoint[4..];
        return mountPoint;
    }

    /// <summary>The memory cgroup path that governs <paramref name="pid"/> ("/..."), or null when unknown.</summary>
    public (CgroupVersion Version, string Path)? ForProcess(ProcFs proc, int pid)
    {
        ProcessCgroups? pc = ProcessCgroups.TryRead(proc, pid);
        if (pc is null) return null;
        if (V1 is not null && pc.MemoryV1Path is { } p1) return (CgroupVersion.V1, p1);
        if (V2 is not null && pc.UnifiedPath is { } p2) return (CgroupVersion.V2, p2);
        return null;
    }

    /// <summary>Every memory cgroup of every hierarchy, parents before children.</summary>
    public IEnumerable<MemoryCgroup> All()
    {
        foreach (CgroupHierarchy h in Hierarchies)
            foreach (string dir in Walk(h.Directory))
                if (TryRead(h, dir) is { } cg) yield return cg;
    }

    private static IEnumerable<string> Walk(string root)
    {
        var stack = new Stack<string>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            string dir = stack.Pop();
            yield return dir;
            string[] children;
            try { children = System.IO.Directory.GetDirectories(dir); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            Array.Sort(children, StringComparer.Ordinal);
            for (int i = children.Length - 1; i >= 0; i--) stack.Push(children[i]);
        }
    }

    /// <summary>
    /// Every memory cgroup with only the figures the swap view and the doctor's limit rule use (usage, limit, swap,
    /// failcnt, events, OOM kills): a few small files each, no memory.stat, no PSI, no process count. For the recorder.
    /// </summary>
    public IEnumerable<MemoryCgroup> AllCheap()
    {
        foreach (CgroupHierarchy h in Hierarchies)
            foreach (string dir in Walk(h.Directory))
            {
                string rel = System.IO.Path.GetRelativePath(h.Directory, dir);
                string path = rel == "." ? "/" : "/" + rel.Replace('\\', '/');
                if ((h.Version == CgroupVersion.V1 ? ReadV1Cheap(dir, path) : ReadV2Cheap(dir, path, path == "/")) is { } cg) yield return cg;
            }
    }

    private static MemoryCgroup? ReadV1Cheap(string dir, string path) =>
        Number(dir, "memory.usage_in_bytes") is ulong usage ? V1Core(dir, path, usage, KeyValues(dir, "memory.oom_control")) : null;

    /// <summary>The v1 figures both readers share: usage, limit, swap (memsw − usage), failcnt, OOM kills.</summary>
    private static MemoryCgroup V1Core(string dir, string path, ulong? usage, IReadOnlyDictionary<string, ulong> oomControl)
    {
        (ulong? limit, bool limitMax) = V1Limit(Number(dir, "memory.limit_in_bytes"));
        ulong? memswUsage = Number(dir, "memory.memsw.usage_in_bytes");
        (ulong? memswLimit, bool memswMax) = V1Limit(Number(dir, "memory.memsw.limit_in_bytes"));
        return new MemoryCgroup
        {
            Version = CgroupVersion.V1,
            Path = path,
            Directory = dir,
            UsageBytes = usage,
            LimitBytes = limit,
            LimitIsMax = limitMax,
            MemswUsageBytes = memswUsage,
            MemswLimitBytes = memswLimit,
            SwapUsageBytes = memswUsage is ulong mu && usage is ulong u ? (mu >= u ? mu - u : 0) : null,
            SwapLimitBytes = memswLimit is ulong ml && limit is ulong l && ml >= l ? ml - l : null,
            SwapLimitIsMax = memswMax,
            Failcnt = Number(dir, "memory.failcnt"),
            OomKills = oomControl.TryGetValue("oom_kill", out ulong k) ? k : null,
        };
    }

    /// <summary>The v2 figures both readers share (usage, limit, swap, events, OOM kills); <see cref="ReadV2"/> adds the rest.</summary>
    private static MemoryCgroup? ReadV2Cheap(string dir, string path, bool isRoot)
    {
        (ulong? current, _) = V2Value(dir, "memory.current");
        if (current is null && !isRoot) return null;
        (ulong? max, bool maxIsMax) = V2Value(dir, "memory.max");
        (ulong? swapMax, bool swapMaxIsMax) = V2Value(dir, "memory.swap.max");
        IReadOnlyDictionary<string, ulong> ev = KeyValues(dir, "memory.events");
        CgroupMemoryEvents? events = ev.Count == 0 ? null : new CgroupMemoryEvents(Get(ev, "low"), Get(ev, "high"), Get(ev, "max"),
            Get(ev, "oom"), Get(ev, "oom_kill"), Get(ev, "oom_group_kill"));
        return new MemoryCgroup
        {
            Version = CgroupVersion.V2,
            Path = path,
            Directory = dir,
            UsageBytes = current,
            LimitBytes = max,
            LimitIsMax = maxIsMax,
            SwapUsageBytes = V2Value(dir, "memory.swap.current").Value,
            SwapLimitBytes = swapMax,
            SwapLimitIsMax = swapMaxIsMax,
            Events = events,
            OomKills = events?.OomKill,
        };
    }

    /// <summary>Reads the cgroup at <paramref name="cgroupPath"/> ("/a/b") of the given version; null when it does not exist.</summary>
    public MemoryCgroup? Read(CgroupVersion version, string cgroupPath)
    {
        CgroupHierarchy? h = version == CgroupVersion.V1 ? V1 : V2;
        if (h is null) return null;
        string dir = cgroupPath is "/" or "" ? h.Directory : System.IO.Path.Combine(h.Directory, cgroupPath.TrimStart('/'));
        return TryRead(h, dir);
    }

    /// <summary>Reads one cgroup directory; null when it vanished or (v2) has no memory files.</summary>
    public static MemoryCgroup? TryRead(CgroupHierarchy h, string dir)
    {
        if (!System.IO.Directory.Exists(dir)) return null;
        string rel = System.IO.Path.GetRelativePath(h.Directory, dir);
        string path = rel == "." ? "/" : "/" + rel.Replace('\\', '/');
        return h.Version == CgroupVersion.V1 ? ReadV1(dir, path) : ReadV2(dir, path, isRoot: path == "/");
    }

    /// <summary>Reads a cgroup v1 memory directory.</summary>
    public static MemoryCgroup? ReadV1(string dir, string path)
    {
        ulong? usage = Number(dir, "memory.usage_in_bytes");
        if (usage is null && !File.Exists(System.IO.Path.Combine(dir, "memory.stat"))) return null;
        IReadOnlyDictionary<string, ulong> oomControl = KeyValues(dir, "memory.oom_control");
        return V1Core(dir, path, usage, oomControl) with
        {
            MaxUsageBytes = Number(dir, "memory.max_usage_in_bytes"),
            SoftLimitBytes = V1Limit(Number(dir, "memory.soft_limit_in_bytes")).Value,
            MemswFailcnt = Number(dir, "memory.memsw.failcnt"),
            UnderOom = oomControl.TryGetValue("under_oom", out ulong uo) ? uo != 0 : null,
            OomKillDisabled = oomControl.TryGetValue("oom_kill_disable", out ulong d) ? d != 0 : null,
            Stat = KeyValues(dir, "memory.stat"),
            Pressure = TryPressure(dir),
            Processes = CountLines(dir, "cgroup.procs"),
        };
    }

    /// <summary>Reads a cgroup v2 directory; null when the memory controller is not enabled there (no memory.current, not the root).</summary>
    public static MemoryCgroup? ReadV2(string dir, string path, bool isRoot)
    {
        if (ReadV2Cheap(dir, path, isRoot) is not { } cg) return null;
        (ulong? high, bool highIsMax) = V2Value(dir, "memory.high");
        return cg with
        {
            MaxUsageBytes = V2Value(dir, "memory.peak").Value,
            HighBytes = high,
            HighIsMax = highIsMax,
            LowBytes = V2Value(dir, "memory.low").Value,
            MinBytes = V2Value(dir, "memory.min").Value,
            Stat = KeyValues(dir, "memory.stat"),
            Pressure = TryPressure(dir),
            Processes = CountLines(dir, "cgroup.procs"),
        };
    }

    private static ulong? Get(IReadOnlyDictionary<string, ulong> d, string k) => d.TryGetValue(k, out ulong v) ? v : null;

    /// <summary>v1 stores "unlimited" as PAGE_COUNTER_MAX × page size (9223372036854771712 on 4 KiB pages).</summary>
    private static (ulong? Value, bool IsMax) V1Limit(ulong? raw) =>
        raw is ulong v && v >= (1UL << 62) ? (null, true) : (raw, false);

    /// <summary>A v2 single-value file: a number, or "max" (unlimited).</summary>
    private static (ulong? Value, bool IsMax) V2Value(string dir, string file)
    {
        string? text = ReadOrNull(System.IO.Path.Combine(dir, file));
        if (text is null) return (null, false);
        ReadOnlySpan<char> t = text.AsSpan().Trim();
        if (t.SequenceEqual("max")) return (null, true);
        return SpanParsing.TryParseULong(t, out ulong v) ? (v, false) : (null, false);
    }

    private static ulong? Number(string dir, string file)
    {
        string? text = ReadOrNull(System.IO.Path.Combine(dir, file));
        return text is not null && SpanParsing.TryParseULong(text.AsSpan().Trim(), out ulong v) ? v : null;
    }

    /// <summary>"name value" lines (memory.stat, memory.events, memory.oom_control); unreadable → empty.</summary>
    internal static IReadOnlyDictionary<string, ulong> KeyValues(string dir, string file)
    {
        string? text = ReadOrNull(System.IO.Path.Combine(dir, file));
        var d = new Dictionary<string, ulong>(StringComparer.Ordinal);
        if (text is null) return d;
        foreach (ReadOnlySpan<char> line in text.AsSpan().EnumerateLines())
        {
            ReadOnlySpan<char> rest = line;
            ReadOnlySpan<char> k = SpanParsing.NextToken(ref rest);
            ReadOnlySpan<char> v = SpanParsing.NextToken(ref rest);
            if (k.IsEmpty || !SpanParsing.TryParseULong(v, out ulong n)) continue;
            d.TryAdd(k.ToString(), n);
        }
        return d;
    }

    /// <summary>The file's text, or null when it is absent, denied or unreadable (a cgroup removed mid-walk).</summary>
    private static string? ReadOrNull(string path)
    {
        try { return KernelFile.ReadAllText(path); }
        catch (KernelFileException) { return null; }
    }

    private static Pressure? TryPressure(string dir)
    {
        try { return Pressure.Read(System.IO.Path.Combine(dir, "memory.pressure")); }
        catch (KernelFileException) { return null; }
    }

    private static int? CountLines(string dir, string file)
    {
        string? text = ReadOrNull(System.IO.Path.Combine(dir, file));
        if (text is null) return null;
        int n = 0;
        foreach (ReadOnlySpan<char> line in text.AsSpan().EnumerateLines())
            if (!line.Trim().IsEmpty) n++;
        return n;
    }
}
