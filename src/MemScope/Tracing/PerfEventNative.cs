using System.Runtime.InteropServices;

namespace MemScope.Tracing;

/// <summary>
/// <c>struct perf_event_attr</c> (include/uapi/linux/perf_event.h), PERF_ATTR_SIZE_VER8 = 136 bytes. Blittable; the
/// kernel accepts any size it knows (64 since 2.6.31 … 136 since 6.3) and rejects non-zero bytes past its own size,
/// so leaving the tail zeroed works on older kernels too.
/// </summary>
[StructLayout(LayoutKind.Sequential, Size = 136)]
public struct PerfEventAttr
{
    public const uint CurrentSize = 136;

    public uint Type;               // PMU type: read from /sys/bus/event_source/devices/*/type
    public uint Size;
    public ulong Config;            // tracepoint id, kprobe/uprobe flags...
    public ulong SamplePeriod;      // or sample_freq when Flags has Freq
    public ulong SampleType;
    public ulong ReadFormat;
    public ulong Flags;             // the bitfield: disabled, inherit, ... (PerfAttrFlags)
    public uint WakeupEvents;       // or wakeup_watermark when Flags has Watermark
    public uint BpType;
    public ulong Config1;           // bp_addr, kprobe_func, uprobe_path
    public ulong Config2;           // bp_len, kprobe_addr, probe_offset
    public ulong BranchSampleType;
    public ulong SampleRegsUser;
    public uint SampleStackUser;
    public int ClockId;
    public ulong SampleRegsIntr;
    public uint AuxWatermark;
    public ushort SampleMaxStack;
    public ushort Reserved2;
    public uint AuxSampleSize;
    public uint AuxAction;
    public ulong SigData;
    public ulong Config3;
}

/// <summary>Bits of <see cref="PerfEventAttr.Flags"/> (in declaration order of the C bitfield).</summary>
[Flags]
public enum PerfAttrFlags : ulong
{
    None = 0,
    Disabled = 1UL << 0,
    Inherit = 1UL << 1,
    Pinned = 1UL << 2,
    Exclusive = 1UL << 3,
    ExcludeUser = 1UL << 4,
    ExcludeKernel = 1UL << 5,
    ExcludeHv = 1UL << 6,
    ExcludeIdle = 1UL << 7,
    Mmap = 1UL << 8,
    Comm = 1UL << 9,
    Freq = 1UL << 10,
    InheritStat = 1UL << 11,
    EnableOnExec = 1UL << 12,
    Task = 1UL << 13,
    Watermark = 1UL << 14,
    SampleIdAll = 1UL << 18,
    Mmap2 = 1UL << 23,
    CommExec = 1UL << 24,
    UseClockId = 1UL << 25,
    ContextSwitch = 1UL << 26,
    InheritThread = 1UL << 35,
    RemoveOnExec = 1UL << 36,
}

/// <summary>PERF_SAMPLE_* bits: the order of fields in a PERF_RECORD_SAMPLE follows the bit order.</summary>
[Flags]
public enum PerfSample : ulong
{
    None = 0,
    Ip = 1UL << 0,
    Tid = 1UL << 1,
    Time = 1UL << 2,
    Addr = 1UL << 3,
    Read = 1UL << 4,
    Callchain = 1UL << 5,
    Id = 1UL << 6,
    Cpu = 1UL << 7,
    Period = 1UL << 8,
    StreamId = 1UL << 9,
    Raw = 1UL << 10,
    Identifier = 1UL << 16,
}

/// <summary>Well-known PMU types that are fixed by the ABI (the dynamic ones come from sysfs, see <see cref="PerfPmu"/>).</summary>
public static class PerfType
{
    public const uint Hardware = 0;
    public const uint Software = 1;
    public const uint Tracepoint = 2;
}

/// <summary>Raw syscalls and ioctls for perf_event_open, cachestat, mmap and friends. Blittable, AOT-safe.</summary>
public static unsafe partial class PerfEventNative
{
    public const ulong FlagFdCloexec = 8;       // PERF_FLAG_FD_CLOEXEC

    public const uint IocEnable = 0x2400;
    public const uint IocDisable = 0x2401;
    public const uint IocRefresh = 0x2402;
    public const uint IocReset = 0x2403;
    public const uint IocSetOutput = 0x2405;
    public const uint IocSetFilter = 0x40082406;
    public const uint IocId = 0x80082407;

    public const int PerfRecordLost = 2;
    public const int PerfRecordSample = 9;

    // errno values used to explain failures
    public const int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, E2BIG = 7, EBADF = 9, EAGAIN = 11, ENOMEM = 12, EACCES = 13,
        EBUSY = 16, EINVAL = 22, EMFILE = 24, ENOSYS = 38, EOPNOTSUPP = 95;

    /// <summary>perf_event_open's syscall number for this architecture; null when we do not know it.</summary>
    public static long? PerfEventOpenNr => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 298,
        Architecture.Arm64 => 241,
        Architecture.RiscV64 => 241,
        Architecture.LoongArch64 => 241,
        Architecture.X86 => 336,
        Architecture.Arm => 364,
        Architecture.Ppc64le => 319,
        Architecture.S390x => 331,
        _ => null,
    };

    /// <summary>cachestat(2) is 451 on every architecture (Linux 6.5+).</summary>
    public const long CachestatNr = 451;

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial nint Syscall(nint number, nint a1, nint a2, nint a3, nint a4, nint a5);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int IoctlPtr(int fd, nuint request, nint arg);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, void* buffer, nuint count);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static partial nint Mmap(nint addr, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(nint addr, nuint length);

    [LibraryImport("libc", EntryPoint = "mincore", SetLastError = true)]
    public static partial int Mincore(nint addr, nuint length, byte* vec);

    [LibraryImport("libc", EntryPoint = "posix_fadvise", SetLastError = true)]
    public static partial int PosixFadvise(int fd, long offset, long length, int advice);

    [LibraryImport("libc", EntryPoint = "sysconf", SetLastError = true)]
    public static partial long Sysconf(int name);

    [LibraryImport("libc", EntryPoint = "getpid")]
    public static partial int Getpid();

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mount(string source, string target, string fstype, ulong flags, nint data);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Umount2(string target, int flags);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenRaw(string path, int flags, int mode);

    /// <summary>open(2) without .NET's own advisory locking; returns the fd or -1.</summary>
    public static int OpenFile(string path, int flags, int mode = 0) => OpenRaw(path, flags, mode);

    public const int ORdonly = 0, OWronly = 1, ORdwr = 2, OCreat = 0x40, ONonblock = 0x800, OCloexec = 0x80000;

    /// <summary>O_DIRECT as it appears in /proc/PID/fdinfo flags (octal 040000 on x86, 0200000 on arm/arm64/ppc).</summary>
    public static int ODirect => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.Arm64 or Architecture.Arm or Architecture.Ppc64le => 0x10000,
        _ => 0x4000,
    };

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(int fd, int operation);

    [LibraryImport("libc", EntryPoint = "strerror")]
    private static partial nint StrErrorPtr(int errnum);

    public const int ProtNone = 0, ProtRead = 1, ProtWrite = 2, MapShared = 1, MapPrivate = 2;
    public static readonly nint MapFailed = -1;
    public const int PosixFadvDontneed = 4, PosixFadvWillneed = 3;
    public const int LockSh = 1, LockEx = 2, LockNb = 4, LockUn = 8;
    private const int ScPagesize = 30, ScNprocessorsConf = 83;

    public static int PageSize { get; } = (int)Math.Max(4096, Sysconf(ScPagesize));

    /// <summary>perf_event_open(2). Returns the fd, or -errno.</summary>
    public static int PerfEventOpen(ref PerfEventAttr attr, int pid, int cpu, int groupFd, ulong flags)
    {
        if (PerfEventOpenNr is not long nr) return -ENOSYS;
        if (attr.Size == 0) attr.Size = PerfEventAttr.CurrentSize;
        fixed (PerfEventAttr* p = &attr)
        {
            nint r = Syscall((nint)nr, (nint)p, pid, cpu, groupFd, (nint)flags);
            return r < 0 ? -Marshal.GetLastPInvokeError() : (int)r;
        }
    }

    /// <summary>An ioctl with an integer argument; returns 0 or -errno.</summary>
    public static int Ioctl(int fd, uint request, nint arg)
    {
        int r = IoctlPtr(fd, request, arg);
        return r < 0 ? -Marshal.GetLastPInvokeError() : r;
    }

    /// <summary>PERF_EVENT_IOC_SET_FILTER with a NUL-terminated ASCII string.</summary>
    public static int IoctlSetFilter(int fd, string filter)
    {
        byte[] bytes = new byte[filter.Length + 1];
        System.Text.Encoding.ASCII.GetBytes(filter, bytes);
        fixed (byte* b = bytes) return Ioctl(fd, IocSetFilter, (nint)b);
    }

    /// <summary>PERF_EVENT_IOC_ID: the kernel's id of the event (what PERF_SAMPLE_IDENTIFIER carries).</summary>
    public static int IoctlId(int fd, out ulong id)
    {
        ulong v = 0;
        int r = Ioctl(fd, IocId, (nint)(&v));
        id = v;
        return r;
    }

    /// <summary>struct cachestat_range (uapi/linux/mman.h).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct CachestatRange
    {
        public ulong Off;
        public ulong Len; // 0 = to the end of the file
    }

    /// <summary>struct cachestat (uapi/linux/mman.h), page counts.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct CachestatResult
    {
        public ulong NrCache;
        public ulong NrDirty;
        public ulong NrWriteback;
        public ulong NrEvicted;
        public ulong NrRecentlyEvicted;
    }

    /// <summary>cachestat(2) (Linux 6.5+). Returns 0 or -errno (-ENOSYS on older kernels).</summary>
    public static int Cachestat(int fd, ulong offset, ulong length, out CachestatResult result)
    {
        var range = new CachestatRange { Off = offset, Len = length };
        CachestatResult r = default;
        nint rc = Syscall((nint)CachestatNr, fd, (nint)(&range), (nint)(&r), 0, 0);
        result = r;
        return rc < 0 ? -Marshal.GetLastPInvokeError() : 0;
    }

    /// <summary>Online CPUs from /sys/devices/system/cpu/online ("0-3,5"); falls back to sysconf.</summary>
    public static int[] OnlineCpus(string sysRoot = "/sys")
    {
        try
        {
            string text = File.ReadAllText(Path.Combine(sysRoot, "devices/system/cpu/online")).Trim();
            return ParseCpuList(text);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            long n = Sysconf(ScNprocessorsConf);
            return Enumerable.Range(0, (int)Math.Max(1, n)).ToArray();
        }
    }

    /// <summary>Parses a kernel cpu list such as "0-3,5,7-8".</summary>
    public static int[] ParseCpuList(string text)
    {
        var cpus = new List<int>();
        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int dash = part.IndexOf('-');
            if (dash < 0) cpus.Add(int.Parse(part, System.Globalization.CultureInfo.InvariantCulture));
            else
            {
                int a = int.Parse(part.AsSpan(0, dash), System.Globalization.CultureInfo.InvariantCulture);
                int b = int.Parse(part.AsSpan(dash + 1), System.Globalization.CultureInfo.InvariantCulture);
                if (b < a || b - a > 65536) throw new FormatException($"bad cpu range '{part}'");
                for (int c = a; c <= b; c++) cpus.Add(c);
            }
        }
        if (cpus.Count == 0) throw new FormatException("empty cpu list");
        return cpus.ToArray();
    }

    /// <summary>The C library's text for an errno value.</summary>
    public static string StrError(int errno)
    {
        if (errno < 0) errno = -errno;
        nint p = StrErrorPtr(errno);
        return p == 0 ? $"errno {errno}" : Marshal.PtrToStringUTF8(p) ?? $"errno {errno}";
    }
}

/// <summary>PMU type numbers, read from /sys/bus/event_source/devices/NAME/type (never hard-coded).</summary>
public static class PerfPmu
{
    /// <summary>The type number of a PMU ("tracepoint", "kprobe", "uprobe"...), or null when the kernel lacks it.</summary>
    public static uint? TypeOf(string name, string sysRoot = "/sys")
    {
        string path = Path.Combine(sysRoot, "bus/event_source/devices", name, "type");
        try
        {
            string text = File.ReadAllText(path).Trim();
            return uint.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out uint t) ? t : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The bit to set in config for a return probe (format/retprobe, e.g. "config:0"); null when absent.</summary>
    public static int? RetprobeBit(string pmu, string sysRoot = "/sys")
    {
        string path = Path.Combine(sysRoot, "bus/event_source/devices", pmu, "format/retprobe");
        try
        {
            string text = File.ReadAllText(path).Trim(); // "config:0"
            int colon = text.IndexOf(':');
            return colon >= 0 && int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int bit) ? bit : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
