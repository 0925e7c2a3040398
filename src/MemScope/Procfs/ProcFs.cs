namespace MemScope.Procfs;

/// <summary>
/// A procfs root (default /proc): containers pass /host/proc, tests pass a fixture tree. Every path the readers open
/// is built here, so nothing else hard-codes /proc.
/// </summary>
public sealed class ProcFs
{
    public ProcFs(string root = "/proc") => Root = root.TrimEnd('/') is { Length: > 0 } r ? r : "/";

    public string Root { get; }

    public string PathOf(string relative) => System.IO.Path.Combine(Root, relative);
    public string PidPath(int pid, string file) => $"{Root}/{pid}/{file}";

    /// <summary>True when the root holds a readable meminfo: the least a procfs must have for MemScope.</summary>
    public bool LooksLikeProcfs()
    {
        try { return Directory.Exists(Root) && File.Exists(PathOf("meminfo")) && Meminfo.Read(PathOf("meminfo")).MemTotal is not null; }
        catch (KernelFileException) { return false; }
    }

    public Meminfo ReadMeminfo() => Meminfo.Read(PathOf("meminfo"));
    public Vmstat ReadVmstat() => Vmstat.Read(PathOf("vmstat"));
    public ProcStat ReadStat() => ProcStat.Read(PathOf("stat"));
    public SysVm ReadSysVm() => SysVm.Read(PathOf("sys/vm"));

    /// <summary>PSI for "memory", "io", "cpu" or "irq"; null when the kernel has no PSI (pre-4.20 or psi=0).</summary>
    public Pressure? TryReadPressure(string resource)
    {
        string path = PathOf($"pressure/{resource}");
        try { return Pressure.Read(path); }
        catch (KernelFileException e) when (e.Error is KernelFileError.Gone or KernelFileError.Io)
        {
            return null; // absent, or present but EOPNOTSUPP when booted with psi=0
        }
    }

    /// <summary>Seconds since boot from /proc/uptime; null when unreadable.</summary>
    public double? TryReadUptimeSeconds()
    {
        string? text = KernelFile.TryReadAllText(PathOf("uptime"));
        if (text is null) return null;
        ReadOnlySpan<char> rest = text;
        return SpanParsing.TryParseDouble(SpanParsing.NextToken(ref rest), out double up) ? up : null;
    }

    /// <summary>Numeric directory names under the root, i.e. the processes (thread-group leaders) alive right now.</summary>
    public List<int> ListPids()
    {
        var pids = new List<int>(512);
        foreach (string dir in Directory.EnumerateDirectories(Root))
        {
            ReadOnlySpan<char> name = System.IO.Path.GetFileName(dir.AsSpan());
            if (name.Length > 0 && char.IsAsciiDigit(name[0]) && int.TryParse(name, out int pid)) pids.Add(pid);
        }
        pids.Sort();
        return pids;
    }

    public bool ProcessExists(int pid) => Directory.Exists(PidPath(pid, ""));

    /// <summary>
    /// The pid /proc/self points at: the reading process on a live procfs. In fixture trees unpacked by tools that do
    /// not keep symlinks (ttar, some copies), "self" is a plain file holding the target; both are accepted.
    /// Null when there is no self entry or its target is not a pid.
    /// </summary>
    public int? SelfPid()
    {
        string path = PathOf("self");
        string? target;
        try
        {
            var info = new FileInfo(path);
            if (info.LinkTarget is { } link) target = link;
            else if (info.Exists) target = KernelFile.ReadAllText(path);
            else if (Directory.Exists(path)) target = new DirectoryInfo(path).LinkTarget;
            else return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or KernelFileException) { return null; }
        if (target is null) return null;
        ReadOnlySpan<char> name = System.IO.Path.GetFileName(target.AsSpan().Trim().TrimEnd('/'));
        return int.TryParse(name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int pid)
            ? pid : null;
    }
}
