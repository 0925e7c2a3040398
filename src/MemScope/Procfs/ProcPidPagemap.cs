using Microsoft.Win32.SafeHandles;

namespace MemScope.Procfs;

/// <summary>
/// One 64-bit entry of /proc/PID/pagemap (Documentation/admin-guide/mm/pagemap.rst): bit 63 present, 62 swapped,
/// 61 file page or shared anonymous (3.5+), 57 uffd-wp (5.13+), 56 exclusively mapped (4.2+), 55 soft-dirty (3.11+);
/// bits 0–54 are the PFN when present (zero for readers without CAP_SYS_ADMIN since 4.0/4.2), or the swap type
/// (0–4) and offset (5–54) when swapped.
/// </summary>
public readonly record struct PagemapEntry(ulong Raw)
{
    public bool Present => (Raw & (1UL << 63)) != 0;
    public bool Swapped => (Raw & (1UL << 62)) != 0;
    public bool FileOrSharedAnon => (Raw & (1UL << 61)) != 0;
    public bool UffdWriteProtected => (Raw & (1UL << 57)) != 0;
    public bool ExclusivelyMapped => (Raw & (1UL << 56)) != 0;
    public bool SoftDirty => (Raw & (1UL << 55)) != 0;
    /// <summary>Page frame number when present; 0 when hidden from an unprivileged reader.</summary>
    public ulong Pfn => Present ? Raw & ((1UL << 55) - 1) : 0;
    public ulong SwapType => Swapped ? Raw & 0x1F : 0;
    public ulong SwapOffset => Swapped ? (Raw & ((1UL << 55) - 1)) >> 5 : 0;
}

/// <summary>
/// Random-access reader of /proc/PID/pagemap: 8 bytes per virtual page at offset vaddr / pagesize * 8. Reads with
/// pread (RandomAccess), no P/Invoke. Opening needs ptrace read access to the process (owner or root).
/// </summary>
public sealed class ProcPidPagemap : IDisposable
{
    private readonly SafeFileHandle _handle;

    private ProcPidPagemap(SafeFileHandle handle, string path)
    {
        _handle = handle;
        Path = path;
    }

    public string Path { get; }

    public static ProcPidPagemap Open(string path) => new(OpenRead(path), path);

    internal static SafeFileHandle OpenRead(string path)
    {
        try { return File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw KernelFile.Classify(path, e); }
    }

    /// <summary>Reads the entries of consecutive pages starting at page index <paramref name="firstPage"/>; returns how many were read.</summary>
    public int Read(ulong firstPage, Span<ulong> entries)
    {
        Span<byte> bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(entries);
        int total = 0;
        try
        {
            while (total < bytes.Length)
            {
                int n = RandomAccess.Read(_handle, bytes[total..], (long)(firstPage * 8) + total);
                if (n <= 0) break;
                total += n;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw KernelFile.Classify(Path, e); }
        return total / 8;
    }

    public void Dispose() => _handle.Dispose();
}

/// <summary>Flags of one physical page from /proc/kpageflags (root only), as numbered in include/uapi/linux/kernel-page-flags.h.</summary>
public static class KpageFlags
{
    public const int Locked = 0, Referenced = 2, Dirty = 4, Lru = 5, Active = 6, Slab = 7, Writeback = 8, Buddy = 10,
        Mmap = 11, Anon = 12, SwapCache = 13, SwapBacked = 14, CompoundHead = 15, CompoundTail = 16, Huge = 17,
        Unevictable = 18, Nopage = 20, Ksm = 21, Thp = 22, ZeroPage = 24, Idle = 25;

    public static bool Has(ulong flags, int bit) => (flags & (1UL << bit)) != 0;
}

/// <summary>Random-access reader of a per-PFN table: /proc/kpageflags or /proc/kpagecount (8 bytes per PFN, root only).</summary>
public sealed class KpageTable : IDisposable
{
    private readonly SafeFileHandle _handle;
    public string Path { get; }

    private KpageTable(SafeFileHandle h, string path)
    {
        _handle = h;
        Path = path;
    }

    /// <summary>Opens the table; Denied for unprivileged readers, Gone when the kernel lacks it (CONFIG_PROC_PAGE_MONITOR off).</summary>
    public static KpageTable Open(string path) => new(ProcPidPagemap.OpenRead(path), path);

    /// <summary>Reads the value of each PFN (PFNs need not be sorted; runs of consecutive PFNs are read at once).</summary>
    public void Read(ReadOnlySpan<ulong> pfns, Span<ulong> values)
    {
        Span<byte> one = stackalloc byte[8 * 64];
        int i = 0;
        while (i < pfns.Length)
        {
            int run = 1;
            while (i + run < pfns.Length && run < 64 && pfns[i + run] == pfns[i] + (ulong)run) run++;
            int want = run * 8, got = 0;
            try
            {
                while (got < want)
                {
                    int n = RandomAccess.Read(_handle, one[got..want], (long)(pfns[i] * 8) + got);
                    if (n <= 0) break;
                    got += n;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw KernelFile.Classify(Path, e); }
            for (int k = 0; k < run; k++)
                values[i + k] = k * 8 + 8 <= got ? BitConverter.ToUInt64(one.Slice(k * 8, 8)) : 0;
            i += run;
        }
    }

    public void Dispose() => _handle.Dispose();
}
