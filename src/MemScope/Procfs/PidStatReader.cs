using System.Runtime.CompilerServices;
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
/// the file is read with plain open/pread/close (no FileStream, no fstat/flock, no path string) into a reused buffer,
/// and only the fields the recorder compares are parsed, from bytes. comm stays in the buffer
/// (<see cref="CommEquals"/>, <see cref="CommString"/>). Not thread-safe: one instance per thread.
/// Errors map to <see cref="KernelFileException"/> exactly as <see cref="KernelFile"/> does (Gone, Denied, Malformed, Io).
/// </summary>
/// <remarks>
/// With <c>maxOpen</c> &gt; 0 (only on a real procfs, see <see cref="IsProcfs"/>) the file of up to that many processes
/// stays open between reads and is read again with pread at offset 0, which makes procfs generate it afresh: no path
/// walk, no open and no close per process per sample. A kept descriptor names its process, not its pid: once that
/// process is reaped the pread fails with ESRCH (a zombie still reads, state Z), so a pid reused by a new process is
/// never read through the old process's descriptor; the reader then closes it and opens the path again (the new
/// process, or Gone). Descriptors of pids not read since the last <see cref="CloseUnread"/> are closed there. Each
/// kept descriptor holds its seq_file's one-page buffer in the kernel (4 KiB per process on x86-64).
/// On a tree of regular files (fixtures, tests) a kept descriptor would keep reading a replaced file's old inode,
/// hence never kept there.
/// </remarks>
public sealed unsafe partial class PidStatReader : IDisposable
{
    private const int Eperm = 1, Enoent = 2, Esrch = 3, Eintr = 4, Eacces = 13, Enotdir = 20;

    private readonly ProcFs _proc;
    private readonly byte[] _root;
    private byte[] _path;
    private byte[] _buffer = new byte[1024];
    private int _length, _commStart, _commLength;
    // pid -> kept descriptor of its stat and the round it was last read in (null: nothing is kept)
    private readonly Dictionary<int, Kept>? _kept;
    private long _round;

    private struct Kept
    {
        public int Fd;
        public long Round;
    }

    /// <param name="proc">The /proc to read.</param>
    /// <param name="maxOpen">Keep the stat files of up to this many processes open between reads (0: open, read and close each time).</param>
    public PidStatReader(ProcFs proc, int maxOpen = 0)
    {
        _proc = proc;
        _root = Encoding.UTF8.GetBytes(proc.Root == "/" ? "" : proc.Root);
        _path = new byte[_root.Length + 32];
        _root.CopyTo(_path, 0);
        MaxOpen = Math.Max(maxOpen, 0);
        if (MaxOpen > 0) _kept = new Dictionary<int, Kept>(Math.Min(MaxOpen, 1024));
    }

    ~PidStatReader() => CloseAll();

    /// <summary>How many stat files may stay open between reads.</summary>
    public int MaxOpen { get; }

    /// <summary>How many stat files are open now.</summary>
    public int OpenCount => _kept?.Count ?? 0;

    public void Dispose()
    {
        CloseAll();
        GC.SuppressFinalize(this);
    }

    /// <summary>Closes every kept descriptor (the reader stays usable and keeps files open again as it reads).</summary>
    public void CloseAll()
    {
        if (_kept is null) return;
        foreach (Kept k in _kept.Values) LibC.Close(k.Fd);
        _kept.Clear();
    }

    /// <summary>
    /// Closes the descriptors of processes not read since the previous call (exited, or no longer asked for) and starts
    /// a new round; call once per sample after reading every listed process.
    /// </summary>
    public void CloseUnread()
    {
        if (_kept is null) return;
        foreach (var (pid, k) in _kept)
        {
            if (k.Round == _round) continue;
            LibC.Close(k.Fd);
            _kept.Remove(pid); // allowed while enumerating (no other change to the dictionary)
        }
        _round++;
    }

    /// <summary>True when <paramref name="root"/> is a mounted procfs (statfs f_type PROC_SUPER_MAGIC), not a tree of regular files.</summary>
    public static bool IsProcfs(string root)
    {
        byte[] path = Encoding.UTF8.GetBytes(root + "\0");
        long* buf = stackalloc long[32]; // struct statfs is 120 bytes on x86-64 and arm64; f_type comes first
        fixed (byte* p = path)
        {
            return LibC.StatFs(p, buf) == 0 && buf[0] == 0x9fa0;
        }
    }

    /// <summary>
    /// How many stat files the recorder can keep open: <paramref name="wanted"/>, raising the soft RLIMIT_NOFILE towards
    /// the hard limit when needed, and never more than half of the soft limit (the rest stays for everything else).
    /// </summary>
    public static int FileBudget(int wanted)
    {
        if (wanted <= 0) return 0;
        RLimit lim;
        if (GetRLimit(7 /* RLIMIT_NOFILE */, &lim) != 0) return 0;
        ulong need = (ulong)wanted * 2;
        if (lim.Cur < need && lim.Cur < lim.Max)
        {
            var raised = new RLimit { Cur = Math.Min(need, lim.Max), Max = lim.Max };
            if (SetRLimit(7, &raised) == 0) lim.Cur = raised.Cur;
        }
        return (int)Math.Min((ulong)wanted, lim.Cur / 2);
    }

    private struct RLimit
    {
        public ulong Cur;
        public ulong Max;
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
        if (_kept is not null)
        {
            ref Kept k = ref CollectionsMarshal.GetValueRefOrNullRef(_kept, pid);
            if (!Unsafe.IsNullRef(ref k))
            {
                if (ReadAll(k.Fd) == 0 && _length > 0)
                {
                    k.Round = _round;
                    return;
                }
                // ESRCH (reaped; the pid may already be another process's), nothing read, or another error: the
                // descriptor is done; the path tells what the pid is now (a new process, Gone or the real error)
                LibC.Close(k.Fd);
                _kept.Remove(pid);
            }
        }

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
            do fd = LibC.Open(p, LibC.ORdonly | LibC.OCloexec);
            while (fd < 0 && Marshal.GetLastPInvokeError() == Eintr);
        }
        if (fd < 0) throw Error(pid, Marshal.GetLastPInvokeError());
        int errno = ReadAll(fd);
        if (errno == 0 && _kept is not null && _kept.Count < MaxOpen)
        {
            _kept[pid] = new Kept { Fd = fd, Round = _round };
            return;
        }
        LibC.Close(fd);
        if (errno != 0) throw Error(pid, errno);
    }

    /// <summary>Reads the whole file from offset 0 into the buffer (<see cref="_length"/>); 0 or the errno.</summary>
    private int ReadAll(int fd)
    {
        _length = 0;
        while (true)
        {
            if (_length == _buffer.Length) Array.Resize(ref _buffer, _buffer.Length * 2);
            nint r;
            fixed (byte* b = &_buffer[_length])
            {
                r = LibC.PRead(fd, b, _buffer.Length - _length, _length);
            }
            if (r < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Eintr) continue;
                return errno;
            }
            if (r == 0) return 0;
            _length += (int)r;
            // procfs hands out the whole stat line in one read when the buffer has room: a short read ending the
            // line is the end (saves the read that would return 0, one syscall per process per sample)
            if (_length < _buffer.Length && _buffer[_length - 1] == (byte)'\n') return 0;
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

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, RLimit* limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, RLimit* limit);
}
