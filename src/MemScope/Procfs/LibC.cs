using System.Runtime.InteropServices;

namespace MemScope.Procfs;

/// <summary>
/// The libc calls the kernel-file readers share (KernelFile, Kmsg, PidStatReader): plain open/read/close, because
/// FileStream/File.OpenHandle add an fstat and a flock to every open, which /proc files pay for per process.
/// </summary>
internal static unsafe partial class LibC
{
    public const int ORdonly = 0, ONonblock = 0x800, OCloexec = 0x80000;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    /// <summary>open(2) with a NUL-terminated path the caller built in place (no string per call).</summary>
    [LibraryImport("libc", EntryPoint = "open", SetLastError = true)]
    public static partial int Open(byte* path, int flags);

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int OpenAt(int dirFd, string name, int flags);

    [LibraryImport("libc", EntryPoint = "faccessat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int AccessAt(int dirFd, string name, int mode, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "pread", SetLastError = true)]
    public static partial nint PRead(int fd, byte* buffer, nint count, long offset);

    [LibraryImport("libc", EntryPoint = "close")]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEuid();

    /// <summary>statfs(2) into a raw buffer: f_type is the first long (0x9fa0 = PROC_SUPER_MAGIC).</summary>
    [LibraryImport("libc", EntryPoint = "statfs", SetLastError = true)]
    public static partial int StatFs(byte* path, long* buffer);
}
