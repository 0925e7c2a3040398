namespace MemScope.Procfs;

/// <summary>
/// The per-mapping counters of /proc/PID/smaps, and their sums in /proc/PID/smaps_rollup (4.14+), in bytes.
/// Pss_Anon/Pss_File/Pss_Shmem (5.9), Pss_Dirty (6.0), SwapPss (4.3), LazyFree (4.12), KSM (6.6) are null on older kernels.
/// </summary>
public sealed record SmapsFields
{
    public static readonly KeySet Keys = new(
        "Size", "KernelPageSize", "MMUPageSize", "Rss", "Pss", "Pss_Dirty", "Pss_Anon", "Pss_File", "Pss_Shmem",
        "Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty", "Referenced", "Anonymous", "KSM", "LazyFree",
        "AnonHugePages", "ShmemPmdMapped", "FilePmdMapped", "Shared_Hugetlb", "Private_Hugetlb", "Swap", "SwapPss",
        "Locked");

    public ulong? Size { get; init; }
    public ulong? KernelPageSize { get; init; }
    public ulong? MMUPageSize { get; init; }
    public ulong? Rss { get; init; }
    public ulong? Pss { get; init; }
    public ulong? PssDirty { get; init; }
    public ulong? PssAnon { get; init; }
    public ulong? PssFile { get; init; }
    public ulong? PssShmem { get; init; }
    public ulong? SharedClean { get; init; }
    public ulong? SharedDirty { get; init; }
    public ulong? PrivateClean { get; init; }
    public ulong? PrivateDirty { get; init; }
    public ulong? Referenced { get; init; }
    public ulong? Anonymous { get; init; }
    public ulong? Ksm { get; init; }
    public ulong? LazyFree { get; init; }
    public ulong? AnonHugePages { get; init; }
    public ulong? ShmemPmdMapped { get; init; }
    public ulong? FilePmdMapped { get; init; }
    public ulong? SharedHugetlb { get; init; }
    public ulong? PrivateHugetlb { get; init; }
    public ulong? Swap { get; init; }
    public ulong? SwapPss { get; init; }
    public ulong? Locked { get; init; }

    /// <summary>Unique set size: pages only this process maps (every Private_* line, as psutil and smem count it).</summary>
    public ulong? Uss => PrivateClean is null && PrivateDirty is null ? null
        : (PrivateClean ?? 0) + (PrivateDirty ?? 0) + (PrivateHugetlb ?? 0);

    /// <summary>The values indexed like <see cref="Keys"/> (null where absent).</summary>
    public ulong?[] ToArray() =>
    [
        Size, KernelPageSize, MMUPageSize, Rss, Pss, PssDirty, PssAnon, PssFile, PssShmem, SharedClean, SharedDirty,
        PrivateClean, PrivateDirty, Referenced, Anonymous, Ksm, LazyFree, AnonHugePages, ShmemPmdMapped, FilePmdMapped,
        SharedHugetlb, PrivateHugetlb, Swap, SwapPss, Locked,
    ];

    /// <summary>Builds the record from values indexed like <see cref="Keys"/>.</summary>
    internal static SmapsFields FromValues(ReadOnlySpan<ulong> v, ReadOnlySpan<bool> present)
    {
        var g = new ulong?[Keys.Count];
        for (int i = 0; i < g.Length; i++) g[i] = present[i] ? v[i] : null;
        ulong? G(int i) => g[i];
        return new SmapsFields
        {
            Size = G(0), KernelPageSize = G(1), MMUPageSize = G(2), Rss = G(3), Pss = G(4), PssDirty = G(5),
            PssAnon = G(6), PssFile = G(7), PssShmem = G(8), SharedClean = G(9), SharedDirty = G(10),
            PrivateClean = G(11), PrivateDirty = G(12), Referenced = G(13), Anonymous = G(14), Ksm = G(15),
            LazyFree = G(16), AnonHugePages = G(17), ShmemPmdMapped = G(18), FilePmdMapped = G(19),
            SharedHugetlb = G(20), PrivateHugetlb = G(21), Swap = G(22), SwapPss = G(23), Locked = G(24),
        };
    }
}
