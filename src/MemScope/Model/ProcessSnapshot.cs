namespace MemScope.Model;

/// <summary>
/// One process's memory at one instant, in bytes. Cheap fields (stat/statm/status) are always read; PSS/USS/swap-PSS
/// come from smaps_rollup only when asked for, and are null otherwise or when the read was denied
/// (<see cref="SmapsDenied"/> tells the two apart).
/// </summary>
public sealed record ProcessSnapshot
{
    public required int Pid { get; init; }
    public int PPid { get; init; }
    /// <summary>Start time in clock ticks after boot: (Pid, StartTimeTicks) identifies a process across pid reuse.</summary>
    public ulong StartTimeTicks { get; init; }
    public required string Comm { get; init; }
    /// <summary>argv joined by spaces; empty for kernel threads.</summary>
    public string CommandLine { get; init; } = "";
    public char State { get; init; }
    public uint? Uid { get; init; }
    public bool IsKernelThread { get; init; }
    public int Threads { get; init; }

    public ulong VirtBytes { get; init; }
    public ulong RssBytes { get; init; }
    /// <summary>statm "shared": resident file-backed and shmem pages (RssFile + RssShmem), what top calls SHR.</summary>
    public ulong SharedBytes { get; init; }
    public ulong? RssAnonBytes { get; init; }
    public ulong? RssFileBytes { get; init; }
    public ulong? RssShmemBytes { get; init; }
    public ulong? SwapBytes { get; init; }
    public ulong? DataBytes { get; init; }
    public ulong? StackBytes { get; init; }
    public ulong? PageTableBytes { get; init; }
    public ulong? LockedBytes { get; init; }
    public ulong? HugetlbBytes { get; init; }

    public ulong? PssBytes { get; init; }
    public ulong? UssBytes { get; init; }
    public ulong? SwapPssBytes { get; init; }
    public ulong? AnonHugePagesBytes { get; init; }
    /// <summary>smaps_rollup was wanted but could not be read (EACCES): PSS/USS are unknown, not zero.</summary>
    public bool SmapsDenied { get; init; }
    /// <summary>smaps_rollup was wanted but does not exist for this live process (kernel before 4.14): PSS/USS unknown.</summary>
    public bool SmapsUnavailable { get; init; }

    public ulong MinorFaults { get; init; }
    public ulong MajorFaults { get; init; }
    public ulong CpuTicks { get; init; }
    public long? OomScore { get; init; }
    public long? OomScoreAdj { get; init; }
    /// <summary>
    /// The memory cgroup path as a recording stored it (read once when the recorder first saw the process); null in
    /// live snapshots (views read /proc/PID/cgroup on demand) and in recordings before schema 4.
    /// </summary>
    public string? MemoryCgroup { get; init; }

    /// <summary>Identity that survives pid reuse.</summary>
    public (int Pid, ulong Start) Key => (Pid, StartTimeTicks);
}
