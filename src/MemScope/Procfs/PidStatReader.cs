using System.Runtime.InteropServices;
using System.Text;

namespace MemScope.Procfs;

/// <summary>The fields of /proc/PID/stat that say whether a process changed (proc(5) numbers in the comments).</summary>
public struct PidStatFields
{
    public int Pid;             // 1
    public char State;          // 3
    public int PPid;            // 4
    public ulong Flags;         // 9 (PF_KTHREAD = 0x00200000)
    public ulong MinorFaults;   // 10
    public ulong MajorFaults;   // 12
    public ulong UserTicks;     // 14
    public ulong SystemTicks;   // 15
    public long Threads;        // 20
    public ulong StartTimeTicks; // 22
    public ulong VsizeBytes;    // 23
    public ulong RssPages;      // 24

    public readonly bool IsKernelThread => (Flags & 0x00200000) != 0;
    public readonly ulong CpuTicks => UserTicks + SystemTicks;
}

/// <summary>
/// Reads /proc/PID/stat for every process of every sample without allocating: the path is built into a byte buffer,
/// the file is read with plain open/read/close (no FileStream, no fstat/flock, no path string) into a reused buffer,
/// and only the fields the recorder compares are parsed, from bytes. comm stays in the buffer
/// (<see cref="CommEquals"/>, <see cref="CommString"/>). Not thread-safe: one instance per thread.
/// Errors map to <see cref="KernelFileException"/> exactly as <see cref="KernelFile"/> does (Gone, Denied, Malformed, Io).
/// </summary>
public sealed unsafe partial class PidStatReader
{
    private const int Eperm = 1, Enoent = 2, Esrch = 3, Eintr = 4, Eacces = 13, Enotdir = 20;
    private const int ORdonly = 0, OCloexec = 0x80000;

    private readonly ProcFs _proc;
    private readonly byte[] _root;
    private byte[] _path;
    private byte[] _buffer = new byte[1024];
    private int _length, _commStart, _commLength;

    public PidStatReader(ProcFs proc)
    {
        _proc = proc;
        _root = Encoding.UTF8.GetBytes(proc.Root == "/" ? "" : proc.Root);
        _path = new byte[_root.Length + 32];
        _root.CopyTo(_path, 0);
    }

    /// <summary>Reads and parses /proc/PID/stat. Throws <see cref="KernelFileException"/> (Gone when the process exited).</summary>
    public PidStatFields Read(int pid)
    {
        ReadFile(pid);
        return Parse(pid);
    }

    /// <summary>True when the comm of the last read equals <paramref name="comm"/> (Latin-1, as <see cref="KernelFile.Parse{T}"/> decodes).</summary>
    public bool CommEquals(string? comm)
    {
        if (comm is null || comm.Length != _commLength) return false;
        ReadOnlySpan<byte> c = _buffer.AsSpan(_commStart, _commLength);
        for (int i = 0; i < c.Length; i++)
            if (comm[i] != (char)c[i]) return false;
        return true;
    }

    public string CommString() => Encoding.Latin1.GetString(_buffer, _commStart, _commLength);

    private string PathString(int pid) => _proc.PidPath(pid, "stat");

    private void ReadFile(int pid)
    {
        // "<root>/<pid>/stat\0"
        int n = _root.Length;
        _path[n++] = (byte)'/';
        if (!pid.TryFormat(_path.AsSpan(n), out int digits, default, System.Globalization.CultureInfo.InvariantCulture))
            throw new ArgumentOutOfRangeException(nameof(pid));
        n += digits;
        "/stat\0"u8.CopyTo(_path.AsSpan(n));

        int fd;
        fixed (byte* p = _path)
        {
            do fd = Open(p, ORdonly | OCloexec);
            while (fd < 0 && Marshal.GetLastPInvokeError() == Eintr);
        }
        if (fd < 0) throw Error(pid, Marshal.GetLastPInvokeError());
        try
        {
            _length = 0;
            while (true)
            {
                if (_length == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
                nint r;
                fixed (byte* b = &_buffer[_length])
                {
                    r = ReadFd(fd, b, _buffer.Length - _length);
                }
                if (r < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Eintr) continue;
                    throw Error(pid, errno);
                }
                if (r == 0) break;
                _length += (int)r;
                // procfs hands out the whole stat line in one read when the buffer has room: a short read ending the
                // line is the end (saves the read that would return 0, one syscall per process per sample)
                if (_length < _buffer.Length && _buffer[_length - 1] == (byte)'\n') break;
            }
        }
        finally
        {
            CloseFd(fd);
        }
    }

    private KernelFileException Error(int pid, int errno) => errno switch
    {
        Enoent or Esrch or Enotdir => new KernelFileException(KernelFileError.Gone, PathString(pid), "process exited"),
        Eacces or Eperm => new KernelFileException(KernelFileError.Denied, PathString(pid), "permission denied"),
        _ => new KernelFileException(KernelFileError.Io, PathString(pid), Marshal.GetPInvokeErrorMessage(errno)),
    };

    private PidStatFields Parse(int pid)
    {
        ReadOnlySpan<byte> s = _buffer.AsSpan(0, _length);
        int open = s.IndexOf((byte)'(');
        int close = s.LastIndexOf((byte)')');
        if (open <= 0 || close < open) throw Malformed(pid, "no '(comm)'");
        var f = new PidStatFields();
        if (!TryNumber(s[..open].Trim((byte)' '), out long pidField)) throw Malformed(pid, "pid is not a number");
        f.Pid = (int)pidField;
        _commStart = open + 1;
        _commLength = close - open - 1;
        ReadOnlySpan<byte> rest = s[(close + 1)..];
        int newline = rest.IndexOf((byte)'\n');
        if (newline >= 0) rest = rest[..newline];
        ReadOnlySpan<byte> state = Next(ref rest);
        if (state.Length != 1) throw Malformed(pid, "state is not one letter");
        f.State = (char)state[0];
        // fields 4..24; later ones are not needed here
        for (int field = 4; field <= 24; field++)
        {
            ReadOnlySpan<byte> t = Next(ref rest);
            if (t.IsEmpty) throw Malformed(pid, $"only {field - 1} fields");
            if (!TryNumber(t, out long v)) throw Malformed(pid, $"field {field} ({ProcPidStat.FieldNames[field - 1]}) is not a number");
            ulong u = unchecked((ulong)v);
            switch (field)
            {
                case 4: f.PPid = (int)v; break;
                case 9: f.Flags = u; break;
                case 10: f.MinorFaults = u; break;
                case 12: f.MajorFaults = u; break;
                case 14: f.UserTicks = u; break;
                case 15: f.SystemTicks = u; break;
                case 20: f.Threads = v; break;
                case 22: f.StartTimeTicks = u; break;
                case 23: f.VsizeBytes = u; break;
                case 24: f.RssPages = u; break;
            }
        }
        return f;
    }

    private KernelFileException Malformed(int pid, string why) =>
        KernelFileException.Malformed(PathString(pid), 1, Encoding.Latin1.GetString(_buffer, 0, Math.Min(_length, 80)), why);

    private static ReadOnlySpan<byte> Next(ref ReadOnlySpan<byte> rest)
    {
        int start = 0;
        while (start < rest.Length && rest[start] is (byte)' ' or (byte)'\t') start++;
        rest = rest[start..];
        int end = rest.IndexOfAny((byte)' ', (byte)'\t');
        if (end < 0) end = rest.Length;
        ReadOnlySpan<byte> token = rest[..end];
        rest = rest[end..];
        return token;
    }

    /// <summary>A decimal integer with an optional leading '-' (two's complement for the unsigned fields, as <see cref="ProcPidStat"/>).</summary>
    private static bool TryNumber(ReadOnlySpan<byte> t, out long value)
    {
        value = 0;
        bool negative = t.Length > 0 && t[0] == (byte)'-';
        if (negative) t = t[1..];
        if (t.IsEmpty || t.Length > 20) return false;
        ulong v = 0;
        foreach (byte b in t)
        {
            uint d = (uint)(b - '0');
            if (d > 9) return false;
            v = unchecked(v * 10 + d);
        }
        value = negative ? -unchecked((long)v) : unchecked((long)v);
        return true;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true)]
    private static partial int Open(byte* path, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint ReadFd(int fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int CloseFd(int fd);
}
