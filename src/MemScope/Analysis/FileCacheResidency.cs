using System.Runtime.InteropServices;
using MemScope.Tracing;

namespace MemScope.Analysis;

/// <summary>How the page-cache state of a file was measured.</summary>
public enum ResidencyMethod
{
    /// <summary>cachestat(2), Linux 6.5+: cached, dirty, writeback, evicted and recently evicted pages.</summary>
    Cachestat,
    /// <summary>mmap(PROT_READ, MAP_SHARED) + mincore(2): cached pages only.</summary>
    Mincore,
}

/// <summary>
/// The page-cache state of one file. Page counts are in base pages (<see cref="PageSize"/>); fields the method cannot
/// give are null. <see cref="Reliable"/> is false for mincore on a file the caller may not write (since Linux 5.2
/// mincore then reports every mapped page as resident, to close a side channel).
/// </summary>
public sealed record FileResidency
{
    public required string Path { get; init; }
    public required long SizeBytes { get; init; }
    public required long Pages { get; init; }
    public required long CachedPages { get; init; }
    public long? DirtyPages { get; init; }
    public long? WritebackPages { get; init; }
    public long? EvictedPages { get; init; }
    public long? RecentlyEvictedPages { get; init; }
    public required ResidencyMethod Method { get; init; }
    public bool Reliable { get; init; } = true;
    public int PageSize { get; init; } = PerfEventNative.PageSize;

    public long CachedBytes => CachedPages * PageSize;
    public double? CachedPercent => Pages > 0 ? 100.0 * CachedPages / Pages : null;
}

/// <summary>Measures files' page-cache residency: cachestat(2) where the kernel has it, mmap+mincore elsewhere.</summary>
public static unsafe partial class FileCacheResidency
{
    private static int _cachestatState; // 0 unknown, 1 available, -1 absent

    /// <summary>Whether cachestat(2) works here (probed once).</summary>
    public static bool CachestatAvailable => _cachestatState >= 0;

    /// <summary>Forces the mincore fallback (for tests and for kernels whose cachestat misbehaves).</summary>
    public static bool ForceMincore { get; set; }

    [LibraryImport("libc", EntryPoint = "access", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Access(string path, int mode);
    private const int WOk = 2;

    /// <summary>
    /// Measures one regular file. <paramref name="openPath"/> may differ from the displayed path (e.g.
    /// /proc/PID/fd/N for a deleted file). Throws IOException/UnauthorizedAccessException when it cannot be opened.
    /// </summary>
    public static FileResidency Measure(string path, string? openPath = null)
    {
        openPath ??= path;
        int fd = PerfEventNative.OpenFile(openPath, PerfEventNative.ORdonly | PerfEventNative.ONonblock | PerfEventNative.OCloexec);
        if (fd < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            string msg = $"{path}: {PerfEventNative.StrError(errno)}";
            if (errno is PerfEventNative.EACCES or PerfEventNative.EPERM) throw new UnauthorizedAccessException(msg);
            if (errno == PerfEventNative.ENOENT) throw new FileNotFoundException(msg, path);
            throw new IOException(msg);
        }
        try
        {
            long size = new FileInfo(openPath).Length;
            int page = PerfEventNative.PageSize;
            long pages = (size + page - 1) / page;
            if (!ForceMincore && _cachestatState >= 0)
            {
                int rc = PerfEventNative.Cachestat(fd, 0, 0, out var cs);
                if (rc == 0)
                {
                    _cachestatState = 1;
                    return new FileResidency
                    {
                        Path = path, SizeBytes = size, Pages = pages, CachedPages = (long)cs.NrCache,
                        DirtyPages = (long)cs.NrDirty, WritebackPages = (long)cs.NrWriteback,
                        EvictedPages = (long)cs.NrEvicted, RecentlyEvictedPages = (long)cs.NrRecentlyEvicted,
                        Method = ResidencyMethod.Cachestat,
                    };
                }
                if (rc == -PerfEventNative.ENOSYS || rc == -PerfEventNative.EPERM) _cachestatState = -1; // EPERM: seccomp
                else if (rc != -PerfEventNative.EOPNOTSUPP && rc != -PerfEventNative.EBADF)
                    throw new IOException($"{path}: cachestat: {PerfEventNative.StrError(-rc)}");
                // EOPNOTSUPP / EBADF (hugetlbfs, some special files): fall through to mincore for this file
            }
            return Mincore(path, openPath, fd, size, pages, page);
        }
        finally
        {
            PerfEventNative.Close(fd);
        }
    }

    private static FileResidency Mincore(string path, string openPath, int fd, long size, long pages, int page)
    {
        bool reliable = Access(openPath, WOk) == 0;
        long cached = 0;
        if (size > 0)
        {
            nint addr = PerfEventNative.Mmap(0, (nuint)size, PerfEventNative.ProtRead, PerfEventNative.MapShared, fd, 0);
            if (addr == PerfEventNative.MapFailed)
                throw new IOException($"{path}: mmap: {PerfEventNative.StrError(Marshal.GetLastPInvokeError())}");
            try
            {
                const long Chunk = 1 << 20; // pages per mincore call: 1 MiB of vector
                byte[] vec = new byte[(int)Math.Min(pages, Chunk)];
                for (long done = 0; done < pages; done += Chunk)
                {
                    long n = Math.Min(Chunk, pages - done);
                    fixed (byte* v = vec)
                    {
                        if (PerfEventNative.Mincore(addr + (nint)(done * page), (nuint)(n * page), v) != 0)
                            throw new IOException($"{path}: mincore: {PerfEventNative.StrError(Marshal.GetLastPInvokeError())}");
                    }
                    for (int i = 0; i < n; i++) cached += vec[i] & 1;
                }
            }
            finally
            {
                PerfEventNative.Munmap(addr, (nuint)size);
            }
        }
        return new FileResidency
        {
            Path = path, SizeBytes = size, Pages = pages, CachedPages = cached,
            Method = ResidencyMethod.Mincore, Reliable = reliable,
        };
    }

    /// <summary>
    /// Expands paths for fincore: files as given; a directory's regular files (recursively with
    /// <paramref name="recursive"/>). Symbolic links to directories are not followed. Missing paths are reported.
    /// </summary>
    public static IEnumerable<(string Path, string? Error)> Expand(IEnumerable<string> paths, bool recursive)
    {
        foreach (string p in paths)
        {
            if (Directory.Exists(p))
            {
                var opts = new EnumerationOptions
                {
                    RecurseSubdirectories = recursive, IgnoreInaccessible = true, AttributesToSkip = FileAttributes.ReparsePoint,
                    ReturnSpecialDirectories = false,
                };
                IEnumerable<string> files;
                try { files = Directory.EnumerateFiles(p, "*", opts).ToList(); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { files = []; }
                foreach (string f in files.Order(StringComparer.Ordinal)) yield return (f, null);
            }
            else if (File.Exists(p)) yield return (p, null);
            else yield return (p, "no such file or directory");
        }
    }
}
