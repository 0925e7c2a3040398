using MemScope.Analysis;
using MemScope.Procfs;

namespace MemScope.Model;

/// <summary>
/// One process's address space at one instant: every mapping of /proc/PID/smaps classified into segments, plus the
/// page-size and page-table facts that go with it. Full smaps is costly: read it for one process at a time.
/// </summary>
public sealed record AddressSpaceSnapshot
{
    public required int Pid { get; init; }
    public required string Comm { get; init; }
    /// <summary>/proc/PID/exe target; null when unreadable (another user's process without root).</summary>
    public string? ExePath { get; init; }
    public required IReadOnlyList<ClassifiedMapping> Mappings { get; init; }
    public required IReadOnlyList<MappingGroup> Groups { get; init; }
    public required SmapsFields Totals { get; init; }
    public long PageSizeBytes { get; init; }
    /// <summary>Default huge page size (meminfo Hugepagesize).</summary>
    public ulong? HugePageSizeBytes { get; init; }
    /// <summary>This process's page tables (status VmPTE).</summary>
    public ulong? PageTableBytes { get; init; }
    /// <summary>All page tables of the system (meminfo PageTables).</summary>
    public ulong? SystemPageTablesBytes { get; init; }
    /// <summary>How many thread stack pointers were known (0: thread stacks rest on the layout heuristic alone).</summary>
    public int StackPointersKnown { get; init; }
    public int? Threads { get; init; }

    /// <summary>
    /// Reads and classifies PID's address space. Throws <see cref="KernelFileException"/> Gone for an unknown or
    /// vanished PID and Denied when the caller may not read its smaps.
    /// </summary>
    public static AddressSpaceSnapshot Read(ProcFs proc, int pid)
    {
        List<SmapsMapping> smaps = ProcPidSmaps.Read(proc.PidPath(pid, "smaps"));
        string comm = "?";
        ProcPidStatus? status = null;
        try
        {
            status = ProcPidStatus.Read(proc.PidPath(pid, "status"));
            comm = status.Name ?? "?";
        }
        catch (KernelFileException e) when (e.Error != KernelFileError.Gone) { }
        string? exe = null;
        try { exe = File.ResolveLinkTarget(proc.PidPath(pid, "exe"), false)?.ToString(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        // A fixture root holds no symlink: the inferred binary is used then.
        if (exe is not null && !exe.StartsWith('/')) exe = null;
        List<ulong> sps = AddressSpace.ReadStackPointers(proc, pid);
        Meminfo? meminfo = null;
        try { meminfo = proc.ReadMeminfo(); } catch (KernelFileException) { }

        var classified = AddressSpace.Classify(smaps, exe, sps);
        return new AddressSpaceSnapshot
        {
            Pid = pid,
            Comm = comm,
            ExePath = exe,
            Mappings = classified,
            Groups = AddressSpace.Group(classified),
            Totals = ProcPidSmaps.Sum(smaps),
            PageSizeBytes = Environment.SystemPageSize,
            HugePageSizeBytes = meminfo?.HugepagesizeBytes,
            PageTableBytes = status?.VmPTE,
            SystemPageTablesBytes = meminfo?.PageTables,
            StackPointersKnown = sps.Count,
            Threads = status?.Threads,
        };
    }
}
