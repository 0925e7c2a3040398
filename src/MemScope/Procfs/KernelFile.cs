using System.Runtime.InteropServices;
using System.Buffers;
using System.Text;

namespace MemScope.Procfs;

/// <summary>
/// Reads small kernel files whole. procfs reports sizes of 0 or 4096 whatever the content, so the length is
/// never trusted: we read until EOF into a pooled buffer that grows as needed.
/// </summary>
public static class KernelFile
{
    private const int Enoent = 2, Esrch = 3, Eacces = 13, Eperm = 1, Enotdir = 20;

    /// <summary>Reads the whole file and decodes it (kernel files are ASCII/UTF-8) into a new string.</summary>
    public static string ReadAllText(string path)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(8192);
        try
        {
            int length = ReadInto(path, ref buffer);
            return Encoding.UTF8.GetString(buffer, 0, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Tries to read a file; returns null when it does not exist (feature absent on this kernel).</summary>
    public static string? TryReadAllText(string path)
    {
        try { return ReadAllText(path); }
        catch (KernelFileException e) when (e.Error == KernelFileError.Gone) { return null; }
    }

    /// <summary>
    /// Reads the file, decodes it into a pooled char buffer and hands the characters to <paramref name="parse"/>;
    /// nothing but the parser's result is allocated on the way.
    /// </summary>
    public static T Parse<T>(string path, SpanParser<T> parse) => ParseOpened(OpenFile(path), path, parse, singleRecord: false);

    /// <summary>Reads the open <paramref name="fd"/> (closed here) and parses it as <see cref="Parse"/> does.</summary>
    private static T ParseOpened<T>(int fd, string path, SpanParser<T> parse, bool singleRecord)
    {
        byte[] bytes = ArrayPool<byte>.Shared.Rent(8192);
        char[]? chars = null;
        try
        {
            int length = ReadFd(fd, path, ref bytes, singleRecord);
            chars = ArrayPool<char>.Shared.Rent(Math.Max(length, 1));
            // Latin-1 widening is exact for the ASCII the kernel writes and never throws on odd bytes.
            int charCount = Encoding.Latin1.GetChars(bytes, 0, length, chars, 0);
            return parse(chars.AsSpan(0, charCount), path);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
            if (chars is not null) ArrayPool<char>.Shared.Return(chars);
        }
    }

    /// <summary>
    /// Reads the whole file into <paramref name="buffer"/> (rented from the shared pool, grown as needed). Plain
    /// open/read/close: .NET's FileStream/File.OpenHandle adds an fstat and a flock per open, a third of the syscalls
    /// of a per-process scan that opens seven small files for each of a thousand processes.
    /// </summary>
    public static int ReadInto(string path, ref byte[] buffer) => ReadFd(OpenFile(path), path, ref buffer, singleRecord: false);

    private static int OpenFile(string path) => OpenRetrying(path, OpenReadOnlyCloexec);

    /// <summary>open(2), retried on EINTR; any other failure is a <see cref="KernelFileException"/> for the path.</summary>
    private static int OpenRetrying(string path, int flags)
    {
        int fd;
        do fd = LibC.Open(path, flags);
        while (fd < 0 && Marshal.GetLastPInvokeError() == Eintr);
        if (fd < 0) throw FromErrno(path, Marshal.GetLastPInvokeError());
        return fd;
    }

    /// <summary>
    /// Opens a directory for <see cref="ParseAt"/> (O_PATH: a handle for lookups only, no permission check, no file
    /// operations). Per-process files opened relative to /proc/PID skip the path walk of /proc and the pid lookup
    /// (with its pid_revalidate) on every open, and all belong to the same process even if the pid is reused.
    /// </summary>
    public static int OpenDirectory(string path) => OpenRetrying(path, OpenPathDirectoryCloexec);

    /// <summary>Closes a handle from <see cref="OpenDirectory"/>.</summary>
    public static void CloseDirectory(int fd) => LibC.Close(fd);

    /// <summary>True when <paramref name="name"/> exists in the directory <paramref name="dirFd"/> (faccessat F_OK).</summary>
    public static bool ExistsAt(int dirFd, string name) => LibC.AccessAt(dirFd, name, 0, 0) == 0;

    /// <summary>
    /// <see cref="Parse"/> for <paramref name="name"/> in the directory <paramref name="dirFd"/>
    /// (<see cref="OpenDirectory"/>); <paramref name="path"/> names the file in errors. <paramref name="singleRecord"/>:
    /// the file is generated as one record (seq_file single_open, or a simple_read_from_buffer), so a read that
    /// returns less than was asked for has returned all of it and the extra read that would only see EOF is skipped.
    /// Not for multi-record seq files (maps, mounts, smaps...), whose reads stop short at
    /// a record boundary.
    /// </summary>
    public static T ParseAt<T>(int dirFd, string name, string path, SpanParser<T> parse, bool singleRecord)
    {
        int fd;
        do fd = LibC.OpenAt(dirFd, name, OpenReadOnlyCloexec);
        while (fd < 0 && Marshal.GetLastPInvokeError() == Eintr);
        if (fd < 0) throw FromErrno(path, Marshal.GetLastPInvokeError());
        return ParseOpened(fd, path, parse, singleRecord);
    }

    /// <summary>Reads an open file to EOF (or to the first short read of a single-record file) and closes it.</summary>
    private static unsafe int ReadFd(int fd, string path, ref byte[] buffer, bool singleRecord)
    {
        try
        {
            int total = 0;
            while (true)
            {
                if (total == buffer.Length)
                {
                    byte[] bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    Buffer.BlockCopy(buffer, 0, bigger, 0, total);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }
                nint read;
                fixed (byte* p = &buffer[total]) read = LibC.Read(fd, p, buffer.Length - total);
                if (read == 0) break;
                if (read < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Eintr) continue;
                    throw FromErrno(path, errno);
                }
                bool shortRead = read < buffer.Length - total;
                total += (int)read;
                if (singleRecord && shortRead) break;
            }
            return total;
        }
        finally
        {
            LibC.Close(fd);
        }
    }

    /// <summary>The three fixed outcomes for an errno of open(2)/read(2).</summary>
    internal static KernelFileException FromErrno(string path, int errno) => errno switch
    {
        Enoent or Enotdir => new KernelFileException(KernelFileError.Gone, path, "no such file"),
        Esrch => new KernelFileException(KernelFileError.Gone, path, "process exited"),
        Eacces or Eperm => new KernelFileException(KernelFileError.Denied, path, "permission denied"),
        _ => new KernelFileException(KernelFileError.Io, path, Marshal.GetPInvokeErrorMessage(errno)),
    };

    private const int OpenReadOnlyCloexec = 0x80000; // O_RDONLY | O_CLOEXEC
    private const int OpenPathDirectoryCloexec = 0x200000 | 0x10000 | 0x80000; // O_PATH | O_DIRECTORY | O_CLOEXEC
    private const int Eintr = 4;

    /// <summary>Maps an I/O exception to one of the three fixed outcomes.</summary>
    public static KernelFileException Classify(string path, Exception e)
    {
        if (e is KernelFileException k) return k;
        if (e is FileNotFoundException or DirectoryNotFoundException)
            return new KernelFileException(KernelFileError.Gone, path, "no such file", inner: e);
        if (e is UnauthorizedAccessException)
            return new KernelFileException(KernelFileError.Denied, path, "permission denied", inner: e);
        // .NET surfaces unmapped errno values in HResult on Unix; ESRCH is what a dying process gives. (The last
        // P/Invoke error is not consulted: it belongs to whatever native call ran last, not to this read.)
        int errno = e.HResult & 0xFFFF;
        if (errno is Esrch or Enoent or Enotdir)
            return new KernelFileException(KernelFileError.Gone, path, "process exited", inner: e);
        if (errno is Eacces or Eperm)
            return new KernelFileException(KernelFileError.Denied, path, "permission denied", inner: e);
        if (e.Message.Contains("No such process", StringComparison.Ordinal))
            return new KernelFileException(KernelFileError.Gone, path, "process exited", inner: e);
        return new KernelFileException(KernelFileError.Io, path, e.Message, inner: e);
    }
}

/// <summary>Parses the characters of one kernel file; <c>path</c> is for error messages.</summary>
public delegate T SpanParser<T>(ReadOnlySpan<char> content, string path);
