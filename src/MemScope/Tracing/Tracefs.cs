using System.Buffers.Binary;
using System.Globalization;
using MemScope.Procfs;

namespace MemScope.Tracing;

/// <summary>tracefs is missing or cannot be used; the message is one line saying what is missing.</summary>
public sealed class TracefsUnavailableException(string message) : Exception(message);

/// <summary>
/// Access to tracefs: found through /proc/mounts; when absent and we are root, mounted at /sys/kernel/tracing and
/// unmounted again when the last MemScope user releases it (a marker in /run/memscope says the mount is ours, a
/// shared flock says who still uses it, so concurrent memscope runs never pull it from under each other and a crashed
/// run's mount is removed by the next run). Perf tracepoint events keep working after the unmount: open a scope,
/// read ids and formats (and define probes), dispose.
/// </summary>
public sealed class Tracefs : IDisposable
{
    public const string DefaultMountPoint = "/sys/kernel/tracing";
    public const string StateDir = "/run/memscope";
    private static readonly string LockPath = Path.Combine(StateDir, "tracefs.lock");
    private static readonly string MarkerPath = Path.Combine(StateDir, "tracefs.mounted");

    // One hold per process, shared by nested scopes (flock locks belong to open file descriptions, so a second
    // lock fd in the same process would conflict with the first).
    private static readonly object Gate = new();
    private static int _refs;
    private static int _lockFd = -1;
    private static string? _root;
    private static bool _ours;
    private bool _disposed;

    private Tracefs(string root, bool mountedByUs)
    {
        Root = root;
        MountedByUs = mountedByUs;
    }

    /// <summary>The tracefs directory (holding events/, uprobe_events...).</summary>
    public string Root { get; }

    /// <summary>True when a MemScope run mounted it (this one or a crashed one): it is unmounted when released.</summary>
    public bool MountedByUs { get; }

    /// <summary>
    /// Finds tracefs, mounting it when absent and root. Throws <see cref="TracefsUnavailableException"/> with one clear
    /// line when it is neither mounted nor mountable. Dispose the result as soon as the ids, formats and probes
    /// needed are read or defined.
    /// </summary>
    public static Tracefs Open(string procRoot = "/proc")
    {
        lock (Gate)
        {
            if (_refs > 0 && _root is not null && FindMount(procRoot) == _root)
            {
                _refs++;
                return new Tracefs(_root, _ours);
            }
            int fd = OpenLockFile();
            try
            {
                if (fd >= 0) PerfEventNative.Flock(fd, PerfEventNative.LockSh);
                string? found = FindMount(procRoot);
                bool ours = found is not null && SafeRead(MarkerPath)?.Trim() == found;
                if (found is null)
                {
                    if (!Procfs.Privilege.IsRoot)
                        throw new TracefsUnavailableException(
                            "tracefs is not mounted and mounting it needs root (mount -t tracefs nodev /sys/kernel/tracing)");
                    if (!Directory.Exists(DefaultMountPoint))
                        throw new TracefsUnavailableException($"this kernel has no tracefs ({DefaultMountPoint} is missing: CONFIG_TRACING off)");
                    if (fd >= 0 && !TryExclusive(fd, TimeSpan.FromSeconds(5)))
                        throw new TracefsUnavailableException("tracefs is being mounted or unmounted by another memscope; try again");
                    found = FindMount(procRoot); // someone may have mounted it meanwhile
                    if (found is null)
                    {
                        if (PerfEventNative.Mount("nodev", DefaultMountPoint, "tracefs", 0, 0) != 0)
                        {
                            int errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
                            throw new TracefsUnavailableException($"cannot mount tracefs at {DefaultMountPoint}: {PerfEventNative.StrError(errno)}");
                        }
                        found = DefaultMountPoint;
                        ours = true;
                        if (fd >= 0) TryWrite(MarkerPath, found + "\n");
                    }
                    else ours = SafeRead(MarkerPath)?.Trim() == found;
                    if (fd >= 0) PerfEventNative.Flock(fd, PerfEventNative.LockSh); // downgrade: others may use it too
                }
                _lockFd = fd;
                fd = -1;
                _root = found;
                _ours = ours;
                _refs = 1;
                return new Tracefs(found, ours);
            }
            finally
            {
                if (fd >= 0) PerfEventNative.Close(fd);
            }
        }
    }

    private static bool TryExclusive(int fd, TimeSpan wait)
    {
        PerfEventNative.Flock(fd, PerfEventNative.LockUn);
        var until = DateTime.UtcNow + wait;
        while (true)
        {
            if (PerfEventNative.Flock(fd, PerfEventNative.LockEx | PerfEventNative.LockNb) == 0) return true;
            if (DateTime.UtcNow > until) return false;
            Thread.Sleep(50);
        }
    }

    /// <summary>The tracefs mount point from /proc/mounts (or debugfs's tracing/), null when not mounted.</summary>
    public static string? FindMount(string procRoot = "/proc")
    {
        string? text = KernelFile.TryReadAllText(Path.Combine(procRoot, "mounts"));
        if (text is null) return null;
        string? viaDebugfs = null;
        foreach (ReadOnlySpan<char> line in text.AsSpan().EnumerateLines())
        {
            ReadOnlySpan<char> rest = line;
            SpanParsing.NextToken(ref rest);
            string mountPoint = UnescapeMount(SpanParsing.NextToken(ref rest));
            ReadOnlySpan<char> type = SpanParsing.NextToken(ref rest);
            if (type.SequenceEqual("tracefs") && Directory.Exists(Path.Combine(mountPoint, "events"))) return mountPoint;
            if (type.SequenceEqual("debugfs") && viaDebugfs is null && Directory.Exists(Path.Combine(mountPoint, "tracing", "events")))
                viaDebugfs = Path.Combine(mountPoint, "tracing");
        }
        return viaDebugfs;
    }

    /// <summary>/proc/mounts escapes space, tab, newline and backslash as octal (\040...).</summary>
    internal static string UnescapeMount(ReadOnlySpan<char> s)
    {
        if (s.IndexOf('\\') < 0) return s.ToString();
        var sb = new System.Text.StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 3 < s.Length && IsOctal(s[i + 1]) && IsOctal(s[i + 2]) && IsOctal(s[i + 3]))
            {
                sb.Append((char)(((s[i + 1] - '0') << 6) | ((s[i + 2] - '0') << 3) | (s[i + 3] - '0')));
                i += 3;
            }
            else sb.Append(s[i]);
        }
        return sb.ToString();
    }

    private static bool IsOctal(char c) => c is >= '0' and <= '7';

    public string EventDir(string system, string name) => Path.Combine(Root, "events", system, name);

    public bool HasEvent(string system, string name) => File.Exists(Path.Combine(EventDir(system, name), "id"));

    /// <summary>The tracepoint id (PERF_TYPE_TRACEPOINT config), or null when this kernel lacks the event.</summary>
    public ulong? EventId(string system, string name)
    {
        string? text = SafeRead(Path.Combine(EventDir(system, name), "id"));
        return text is not null && ulong.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out ulong id) ? id : null;
    }

    /// <summary>The event's record layout from its format file, or null when the event does not exist.</summary>
    public TracepointFormat? EventFormat(string system, string name)
    {
        string path = Path.Combine(EventDir(system, name), "format");
        string? text = SafeRead(path);
        return text is null ? null : TracepointFormat.Parse(text, $"{system}:{name}", path);
    }

    /// <summary>Text of a tracefs file (relative to the root), or null when absent/unreadable.</summary>
    public string? ReadText(string relative) => SafeRead(Path.Combine(Root, relative));

    /// <summary>
    /// Appends a command to a tracefs control file (uprobe_events, kprobe_events...). Opened without O_TRUNC, which
    /// would clear every probe on the system. Returns 0 or an errno.
    /// </summary>
    public int WriteCommand(string relative, string command)
    {
        string path = Path.Combine(Root, relative);
        try
        {
            using var h = File.OpenHandle(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
            byte[] bytes = System.Text.Encoding.ASCII.GetBytes(command + "\n");
            RandomAccess.Write(h, bytes, 0);
            return 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            int errno = e.HResult & 0xFFFF;
            if (e is UnauthorizedAccessException) return PerfEventNative.EACCES;
            if (e.Message.Contains("busy", StringComparison.OrdinalIgnoreCase)) return PerfEventNative.EBUSY;
            if (e is FileNotFoundException or DirectoryNotFoundException) return PerfEventNative.ENOENT;
            return errno is > 0 and < 4096 ? errno : PerfEventNative.EINVAL;
        }
    }

    /// <summary>Releases this user's hold; the last MemScope user of a mount we made unmounts it.</summary>
    public void Dispose()
    {
        lock (Gate)
        {
            if (_disposed) return;
            _disposed = true;
            if (_refs == 0) return;
            if (--_refs > 0) return;
            int fd = _lockFd;
            _lockFd = -1;
            string? root = _root;
            bool ours = _ours;
            _root = null;
            try
            {
                if (!ours || root is null || !Procfs.Privilege.IsRoot) return;
                // Become the only user, or leave it to whoever still holds it: the last one unmounts.
                if (fd >= 0 && PerfEventNative.Flock(fd, PerfEventNative.LockEx | PerfEventNative.LockNb) != 0) return;
                if (SafeRead(MarkerPath)?.Trim() != root) return;
                // Plain umount (no MNT_DETACH): if anything still has a tracefs file open we get EBUSY and leave it.
                if (PerfEventNative.Umount2(root, 0) == 0) TryDelete(MarkerPath);
            }
            finally
            {
                if (fd >= 0) PerfEventNative.Close(fd);
            }
        }
    }

    private static int OpenLockFile()
    {
        try
        {
            Directory.CreateDirectory(StateDir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return -1; // not root: we will not mount anything anyway
        }
        return PerfEventNative.OpenFile(LockPath, PerfEventNative.OCreat | PerfEventNative.ORdwr | PerfEventNative.OCloexec, 0x1a4 /* 0644 */);
    }

    internal static string? SafeRead(string path)
    {
        try { return File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    private static void TryWrite(string path, string text)
    {
        try { File.WriteAllText(path, text); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}

/// <summary>One field of a tracepoint record, from events/SYS/NAME/format.</summary>
public sealed record TracepointField(string Name, int Offset, int Size, bool Signed);

/// <summary>The record layout of a tracepoint (common fields included); reads fields from PERF_SAMPLE_RAW data.</summary>
public sealed class TracepointFormat
{
    private readonly Dictionary<string, TracepointField> _fields;

    private TracepointFormat(string name, ulong? id, Dictionary<string, TracepointField> fields)
    {
        Name = name;
        Id = id;
        _fields = fields;
    }

    public string Name { get; }
    public ulong? Id { get; }
    public IReadOnlyCollection<TracepointField> Fields => _fields.Values;

    public TracepointField? this[string field] => _fields.GetValueOrDefault(field);
    public bool Has(string field) => _fields.ContainsKey(field);

    /// <summary>Parses the format file's text; lines look like "field:unsigned long index;	offset:24;	size:8;	signed:0;".</summary>
    public static TracepointFormat Parse(string text, string name, string path = "format")
    {
        var fields = new Dictionary<string, TracepointField>(StringComparer.Ordinal);
        ulong? id = null;
        int lineNo = 0;
        foreach (ReadOnlySpan<char> raw in text.AsSpan().EnumerateLines())
        {
            lineNo++;
            ReadOnlySpan<char> line = raw.Trim();
            if (line.StartsWith("ID:"))
            {
                if (ulong.TryParse(line[3..].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out ulong v)) id = v;
                continue;
            }
            if (!line.StartsWith("field:")) continue;
            // split into "field:decl", "offset:N", "size:N", "signed:N"
            string? decl = null;
            int offset = -1, size = -1;
            bool signed = false;
            foreach (Range r in line.Split(';'))
            {
                ReadOnlySpan<char> part = line[r].Trim();
                if (part.StartsWith("field:")) decl = part[6..].ToString();
                else if (part.StartsWith("offset:")) offset = int.TryParse(part[7..], NumberStyles.None, CultureInfo.InvariantCulture, out int o) ? o : -1;
                else if (part.StartsWith("size:")) size = int.TryParse(part[5..], NumberStyles.None, CultureInfo.InvariantCulture, out int z) ? z : -1;
                else if (part.StartsWith("signed:")) signed = part[7..].Trim() is "1";
            }
            if (decl is null || offset < 0 || size <= 0)
                throw KernelFileException.Malformed(path, lineNo, raw, "tracepoint field without name, offset or size");
            string fieldName = FieldName(decl);
            fields[fieldName] = new TracepointField(fieldName, offset, size, signed);
        }
        return new TracepointFormat(name, id, fields);
    }

    /// <summary>"unsigned long index" → index; "char name[32]" → name; "__data_loc char[] x" → x.</summary>
    private static string FieldName(string decl)
    {
        ReadOnlySpan<char> d = decl.AsSpan().Trim();
        int space = d.LastIndexOf(' ');
        ReadOnlySpan<char> last = space >= 0 ? d[(space + 1)..] : d;
        int br = last.IndexOf('[');
        if (br >= 0) last = last[..br];
        return last.TrimStart('*').ToString();
    }

    /// <summary>Reads an unsigned field (1, 2, 4 or 8 bytes, little or big endian as the host) from raw data.</summary>
    public static ulong ReadUnsigned(ReadOnlySpan<byte> raw, TracepointField f)
    {
        if (f.Offset + f.Size > raw.Length) return 0;
        ReadOnlySpan<byte> s = raw.Slice(f.Offset, f.Size);
        return f.Size switch
        {
            1 => s[0],
            2 => BitConverter.IsLittleEndian ? BinaryPrimitives.ReadUInt16LittleEndian(s) : BinaryPrimitives.ReadUInt16BigEndian(s),
            4 => BitConverter.IsLittleEndian ? BinaryPrimitives.ReadUInt32LittleEndian(s) : BinaryPrimitives.ReadUInt32BigEndian(s),
            8 => BitConverter.IsLittleEndian ? BinaryPrimitives.ReadUInt64LittleEndian(s) : BinaryPrimitives.ReadUInt64BigEndian(s),
            _ => 0,
        };
    }

    public static long ReadSigned(ReadOnlySpan<byte> raw, TracepointField f) => f.Size switch
    {
        1 => (sbyte)ReadUnsigned(raw, f),
        2 => (short)ReadUnsigned(raw, f),
        4 => (int)ReadUnsigned(raw, f),
        _ => (long)ReadUnsigned(raw, f),
    };
}
