using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace MemScope.Tracing;

/// <summary>Owns a perf event file descriptor; closing it removes the event from the kernel.</summary>
public sealed class SafePerfEventHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public SafePerfEventHandle() : base(ownsHandle: true) { }
    public SafePerfEventHandle(int fd) : base(ownsHandle: true) => SetHandle(fd);
    public int Fd => (int)handle;
    protected override bool ReleaseHandle() => PerfEventNative.Close((int)handle) == 0;
}

/// <summary>perf_event_open failed; <see cref="Errno"/> says why (EACCES/EPERM: privilege, ENOENT/EINVAL: support).</summary>
public sealed class PerfEventException(string what, int errno)
    : Exception($"{what}: {PerfEventNative.StrError(errno)}{Hint(errno)}")
{
    public int Errno { get; } = errno;
    public bool IsPermission => Errno is PerfEventNative.EACCES or PerfEventNative.EPERM;
    public bool IsUnsupported => Errno is PerfEventNative.ENOENT or PerfEventNative.ENOSYS or PerfEventNative.EOPNOTSUPP;

    private static string Hint(int errno) => errno switch
    {
        PerfEventNative.EACCES or PerfEventNative.EPERM =>
            " (needs root or CAP_PERFMON, or kernel.perf_event_paranoid <= -1 for system-wide tracepoints)",
        PerfEventNative.EMFILE => " (too many open files: raise ulimit -n)",
        PerfEventNative.ENOSYS => " (this kernel has no perf_event_open)",
        _ => "",
    };
}

/// <summary>
/// One perf event (a counter, or a sampled event with an optional mmap ring). Dispose closes the fd; every event is
/// also registered with <see cref="BorrowedState"/> so a forgotten one is still closed at process exit.
/// </summary>
public sealed class PerfEvent : IDisposable
{
    private readonly SafePerfEventHandle _handle;
    private PerfRing? _ring;

    private PerfEvent(SafePerfEventHandle handle, string name, int cpu, int pid)
    {
        _handle = handle;
        Name = name;
        Cpu = cpu;
        Pid = pid;
    }

    /// <summary>What the event is, for messages (e.g. "filemap:mm_filemap_get_pages cpu 1").</summary>
    public string Name { get; }
    public int Cpu { get; }
    public int Pid { get; }
    public int Fd => _handle.Fd;
    public bool IsClosed => _handle.IsClosed;
    public PerfRing? Ring => _ring;

    /// <summary>Opens an event; throws <see cref="PerfEventException"/> with a clear reason.</summary>
    public static PerfEvent Open(PerfEventAttr attr, int pid, int cpu, string name, PerfEvent? group = null)
    {
        if (attr.Size == 0) attr.Size = PerfEventAttr.CurrentSize;
        int fd = PerfEventNative.PerfEventOpen(ref attr, pid, cpu, group?.Fd ?? -1, PerfEventNative.FlagFdCloexec);
        if (fd < 0 && -fd == PerfEventNative.E2BIG && attr.Size > 128)
        {
            // Kernels older than 6.3 know at most 128 bytes (VER7); with a zero tail they accept the smaller size.
            attr.Size = 128;
            fd = PerfEventNative.PerfEventOpen(ref attr, pid, cpu, group?.Fd ?? -1, PerfEventNative.FlagFdCloexec);
        }
        if (fd < 0) throw new PerfEventException($"perf_event_open {name}{(cpu >= 0 ? $" cpu {cpu}" : "")}", -fd);
        var ev = new PerfEvent(new SafePerfEventHandle(fd), name, cpu, pid);
        BorrowedState.Track(ev);
        return ev;
    }

    /// <summary>Tracepoint attr: counting (period 0) or sampling every event (period 1) with the given fields.</summary>
    public static PerfEventAttr TracepointAttr(ulong tracepointId, PerfSample sample = PerfSample.None, bool disabled = true)
    {
        var attr = new PerfEventAttr
        {
            Type = PerfPmu.TypeOf("tracepoint") ?? PerfType.Tracepoint,
            Size = PerfEventAttr.CurrentSize,
            Config = tracepointId,
            SampleType = (ulong)sample,
            SamplePeriod = sample == PerfSample.None ? 0UL : 1UL,
            WakeupEvents = 0, // no wakeup per sample (an irq_work self-IPI each, costly in VMs): we poll the rings
            Flags = disabled ? (ulong)PerfAttrFlags.Disabled : 0UL,
        };
        return attr;
    }

    public void Enable() => Check(PerfEventNative.Ioctl(Fd, PerfEventNative.IocEnable, 0), "enable");
    public void Disable() => Check(PerfEventNative.Ioctl(Fd, PerfEventNative.IocDisable, 0), "disable");
    public void Reset() => Check(PerfEventNative.Ioctl(Fd, PerfEventNative.IocReset, 0), "reset");

    /// <summary>Applies a tracepoint filter such as "order == 9"; EINVAL means the kernel rejected the expression.</summary>
    public void SetFilter(string filter) => Check(PerfEventNative.IoctlSetFilter(Fd, filter), $"filter '{filter}'");

    /// <summary>Sends this event's samples into <paramref name="target"/>'s ring (same CPU only).</summary>
    public void SetOutput(PerfEvent target) => Check(PerfEventNative.Ioctl(Fd, PerfEventNative.IocSetOutput, target.Fd), "set output");

    /// <summary>The kernel's id of this event (what PERF_SAMPLE_IDENTIFIER / PERF_SAMPLE_ID carry).</summary>
    public ulong Id
    {
        get
        {
            Check(PerfEventNative.IoctlId(Fd, out ulong id), "id");
            return id;
        }
    }

    /// <summary>Reads the counter value (read_format 0: one u64).</summary>
    public unsafe ulong ReadCounter()
    {
        ulong value = 0;
        nint n = PerfEventNative.Read(Fd, &value, 8);
        if (n != 8) throw new PerfEventException($"read {Name}", n < 0 ? Marshal.GetLastPInvokeError() : PerfEventNative.EINVAL);
        return value;
    }

    /// <summary>Maps a ring buffer of 2^<paramref name="pagesLog2"/> data pages for this event's samples.</summary>
    public PerfRing MapRing(int pagesLog2 = 6)
    {
        _ring ??= PerfRing.Map(this, pagesLog2);
        return _ring;
    }

    private void Check(int rc, string what)
    {
        if (rc < 0) throw new PerfEventException($"{Name}: {what}", -rc);
    }

    public void Dispose()
    {
        _ring?.Dispose();
        _handle.Dispose();
        BorrowedState.Untrack(this);
    }
}

/// <summary>
/// A perf mmap ring: one metadata page (struct perf_event_mmap_page) then 2^n data pages. Records are read between
/// data_tail and data_head; records that wrap the end are copied out.
/// </summary>
public sealed unsafe class PerfRing : IDisposable
{
    private nint _base;
    private readonly nuint _length;
    private readonly ulong _dataSize;
    private readonly ulong _dataOffset;
    private byte[] _scratch = new byte[256];

    private PerfRing(nint @base, nuint length, ulong dataOffset, ulong dataSize)
    {
        _base = @base;
        _length = length;
        _dataOffset = dataOffset;
        _dataSize = dataSize;
    }

    /// <summary>Records lost because the ring was full (PERF_RECORD_LOST), summed.</summary>
    public ulong Lost { get; private set; }

    internal static PerfRing Map(PerfEvent ev, int pagesLog2)
    {
        int page = PerfEventNative.PageSize;
        nuint length = (nuint)(page * (1 + (1 << pagesLog2)));
        nint addr = PerfEventNative.Mmap(0, length, PerfEventNative.ProtRead | PerfEventNative.ProtWrite, PerfEventNative.MapShared, ev.Fd, 0);
        if (addr == PerfEventNative.MapFailed) throw new PerfEventException($"mmap ring of {ev.Name}", Marshal.GetLastPInvokeError());
        byte* meta = (byte*)addr;
        ulong dataOffset = *(ulong*)(meta + 1040);
        ulong dataSize = *(ulong*)(meta + 1048);
        if (dataSize == 0) { dataOffset = (ulong)page; dataSize = (ulong)(page << pagesLog2); } // pre-4.1 kernels
        return new PerfRing(addr, length, dataOffset, dataSize);
    }

    /// <summary>
    /// Hands every complete record (header included) to <paramref name="onRecord"/> and frees the space. Returns the
    /// number of records. The span is only valid during the call.
    /// </summary>
    public int Drain(RecordHandler onRecord)
    {
        if (_base == 0) return 0;
        byte* meta = (byte*)_base;
        ulong head = Volatile.Read(ref *(ulong*)(meta + 1024)); // data_head, acquire
        ulong tail = *(ulong*)(meta + 1032);
        byte* data = meta + _dataOffset;
        int count = 0;
        Span<byte> hdr = stackalloc byte[8]; // header: u32 type, u16 misc, u16 size
        while (tail < head)
        {
            ulong at = tail % _dataSize;
            CopyOut(data, at, hdr);
            uint type = BitConverter.ToUInt32(hdr);
            ushort size = BitConverter.ToUInt16(hdr[6..]);
            if (size < 8 || tail + size > head) break;
            ReadOnlySpan<byte> record;
            if (at + size <= _dataSize) record = new ReadOnlySpan<byte>(data + at, size);
            else
            {
                if (_scratch.Length < size) _scratch = new byte[Math.Max(size, _scratch.Length * 2)];
                CopyOut(data, at, _scratch.AsSpan(0, size));
                record = _scratch.AsSpan(0, size);
            }
            if (type == PerfEventNative.PerfRecordLost && record.Length >= 24) Lost += BitConverter.ToUInt64(record[16..]);
            onRecord((int)type, record);
            tail += size;
            count++;
        }
        Volatile.Write(ref *(ulong*)(meta + 1032), tail); // data_tail, release
        return count;
    }

    private void CopyOut(byte* data, ulong at, Span<byte> dest)
    {
        ulong first = Math.Min((ulong)dest.Length, _dataSize - at);
        new ReadOnlySpan<byte>(data + at, (int)first).CopyTo(dest);
        if (first < (ulong)dest.Length) new ReadOnlySpan<byte>(data, dest.Length - (int)first).CopyTo(dest[(int)first..]);
    }

    public void Dispose()
    {
        if (_base != 0)
        {
            PerfEventNative.Munmap(_base, _length);
            _base = 0;
        }
    }
}

/// <summary>Receives one perf record: its PERF_RECORD_* type and its bytes (header included).</summary>
public delegate void RecordHandler(int type, ReadOnlySpan<byte> record);
