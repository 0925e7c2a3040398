using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using MemScope.Model;
using MemScope.Procfs;

namespace MemScope.Cli.Commands;

/// <summary>One reading of the three files vmstat needs, taken together.</summary>
internal sealed record VmstatSample(Meminfo Meminfo, ProcStat Stat, Vmstat Vmstat, double MonotonicSeconds, DateTimeOffset Time, double? UptimeSeconds)
{
    public static VmstatSample Read(ProcFs proc)
    {
        var stat = proc.ReadStat();
        var vm = proc.ReadVmstat();
        var mem = proc.ReadMeminfo();
        return new VmstatSample(mem, stat, vm, System.Diagnostics.Stopwatch.GetTimestamp() / (double)System.Diagnostics.Stopwatch.Frequency,
            DateTimeOffset.Now, proc.TryReadUptimeSeconds());
    }

    /// <summary>Bytes per page of the machine the figures come from (a recording keeps its own).</summary>
    public int PageSize { get; init; } = Environment.SystemPageSize;

    /// <summary>
    /// The same three files as recorded in a snapshot (memscope record). Null when the sample lacks /proc/stat or
    /// /proc/vmstat. The monotonic clock is the recorded one, else the wall clock.
    /// </summary>
    public static VmstatSample? FromSnapshot(Snapshot s) =>
        s.System.Stat is ProcStat stat && s.System.Vmstat is Vmstat vm
            ? new VmstatSample(s.System.Meminfo, stat, vm, s.MonotonicSeconds ?? s.Time.ToUnixTimeMilliseconds() / 1000.0, s.Time, s.System.UptimeSeconds)
            {
                PageSize = s.PageSize,
            }
            : null;
}

/// <summary>vmstat's options, as procps-ng 4.0.2 names them.</summary>
internal sealed record VmstatOptions
{
    public bool Active { get; init; }
    public bool Wide { get; init; }
    public bool Timestamp { get; init; }
    /// <summary>-S: bytes per displayed unit (1, 1000, 1024, 1e6, 1 MiB); 1024 (KiB) by default.</summary>
    public ulong DataUnit { get; init; } = 1024;
    /// <summary>The -S letter as typed, shown in the -s table ("K" by default).</summary>
    public string UnitLetter { get; init; } = "K";
}

/// <summary>
/// vmstat text exactly as procps-ng 4.0.2 prints it (vmstat.c new_format/sum_format): the first line averages since
/// boot the way procps does (counts × HZ / total CPU ticks of all CPUs), later lines are deltas over the nominal
/// delay, rounded as procps rounds. A counter missing from the kernel files prints "-" (procps prints 0).
/// </summary>
internal static class VmstatRenderer
{
    public const int Hz = 100;

    private const string Header = "procs -----------memory---------- ---swap-- -----io---- -system-- ------cpu-----";
    private const string WideHeader = "--procs-- -----------------------memory---------------------- ---swap-- -----io---- -system-- ----------cpu----------";
    private const string TimestampHeader = " -----timestamp-----";
    private static readonly int[] Widths = [2, 2, 6, 6, 6, 6, 4, 4, 5, 5, 4, 4, 2, 2, 2, 2, 2];
    private static readonly int[] WideWidths = [4, 4, 12, 12, 12, 12, 4, 4, 5, 5, 4, 4, 3, 3, 3, 3, 3, 3];

    public static string RenderHeader(VmstatOptions o, DateTimeOffset now)
    {
        var sb = new StringBuilder(256);
        sb.Append(o.Wide ? WideHeader : Header);
        if (o.Timestamp) sb.Append(TimestampHeader);
        sb.Append('\n');
        string[] names = ["r", "b", "swpd", "free", o.Active ? "inact" : "buff", o.Active ? "active" : "cache", "si", "so", "bi", "bo", "in", "cs", "us", "sy", "id", "wa", "st", "gu"];
        AppendRow(sb, names, o.Wide ? WideWidths : Widths);
        if (o.Timestamp) sb.Append(' ').Append(LocalClock.ZoneAbbreviation(now).PadLeft(TimestampHeader.Length - 1));
        sb.Append('\n');
        return sb.ToString();
    }

    /// <summary>The procps values of one line: since boot when <paramref name="previous"/> is null.</summary>
    public static string?[] Values(VmstatSample? previous, VmstatSample current, int delaySeconds, VmstatOptions o, ref int idleDebt) =>
        Values(previous, current, (double)delaySeconds, o, ref idleDebt);

    /// <summary>
    /// As above over an interval of <paramref name="seconds"/>: a whole number of seconds divides as procps does
    /// ((delta + sleep/2) / sleep); any other interval (a recording's measured one) rounds delta/seconds half up.
    /// </summary>
    public static string?[] Values(VmstatSample? previous, VmstatSample current, double seconds, VmstatOptions o, ref int idleDebt)
    {
        ulong kbPerPage = (ulong)current.PageSize / 1024;
        Meminfo m = current.Meminfo;
        ProcStat s = current.Stat;
        string?[] v = new string?[18];
        v[0] = Str(s.ProcsRunning);
        v[1] = Str(s.ProcsBlocked);
        ulong? swapUsed = m.SwapTotal is ulong st && m.SwapFree is ulong sf ? (sf < st ? st - sf : 0) : null;
        v[2] = Conv(swapUsed, o);
        v[3] = Conv(m.MemFree, o);
        v[4] = Conv(o.Active ? m.Inactive : m.Buffers, o);
        v[5] = Conv(o.Active ? m.Active : (m.Cached is ulong c ? c + (m.SReclaimable ?? 0) : null), o);

        if (previous is null)
        {
            CpuTicks t = s.Cpu;
            ulong use = t.User + t.Nice;
            ulong sys = t.System + (t.Irq ?? 0) + (t.SoftIrq ?? 0);
            ulong idl = t.Idle, iow = t.IoWait ?? 0, sto = t.Steal ?? 0;
            ulong gue = (t.Guest ?? 0) + (t.GuestNice ?? 0);
            ulong div = use + sys + idl + iow + sto;
            if (div == 0) { div = 1; idl = 1; }
            ulong half = div / 2;
            use = use >= gue ? use - gue : 0;
            Vmstat vm = current.Vmstat;
            v[6] = vm["pswpin"] is ulong pin ? U32((ProcpsFormat.UnitConvert(pin * kbPerPage, o.DataUnit) * Hz + half) / div) : null;
            v[7] = vm["pswpout"] is ulong pout ? U32((ProcpsFormat.UnitConvert(pout * kbPerPage, o.DataUnit) * Hz + half) / div) : null;
            v[8] = vm["pgpgin"] is ulong bi ? U32((bi * Hz + half) / div) : null;
            v[9] = vm["pgpgout"] is ulong bo ? U32((bo * Hz + half) / div) : null;
            v[10] = s.InterruptsTotal is ulong intr ? U32((intr * Hz + half) / div) : null;
            v[11] = s.ContextSwitches is ulong cs ? U32((cs * Hz + half) / div) : null;
            v[12] = U32((100 * use + half) / div);
            v[13] = U32((100 * sys + half) / div);
            v[14] = U32((100 * idl + half) / div);
            v[15] = t.IoWait is null ? null : U32((100 * iow + half) / div);
            v[16] = t.Steal is null ? null : U32((100 * sto + half) / div);
            v[17] = t.Guest is null ? null : U32((100 * gue + half) / div);
        }
        else
        {
            CpuTicks a = previous.Stat.Cpu, b = s.Cpu;
            long use = D(a.User, b.User) + D(a.Nice, b.Nice);
            long sys = D(a.System, b.System) + D(a.Irq, b.Irq) + D(a.SoftIrq, b.SoftIrq);
            long idl = D(a.Idle, b.Idle), iow = D(a.IoWait, b.IoWait), sto = D(a.Steal, b.Steal);
            long gue = D(a.Guest, b.Guest) + D(a.GuestNice, b.GuestNice);
            // idle can run backwards for a moment (a kernel "feature"): carry the debt to the next line
            if (idleDebt != 0) { idl = (int)idl + idleDebt; idleDebt = 0; }
            if ((int)idl < 0) { idleDebt = (int)idl; idl = 0; }
            ulong div = unchecked((ulong)(use + sys + idl + iow + sto));
            if (div == 0) { div = 1; idl = 1; }
            ulong half = div / 2;
            use = use >= gue ? use - gue : 0;
            bool whole = seconds >= 1 && seconds == Math.Floor(seconds) && seconds <= uint.MaxValue;
            ulong sleep = whole ? (ulong)seconds : 1, sleepHalf = sleep / 2;
            ulong PerSec(ulong delta) => whole ? unchecked(delta + sleepHalf) / sleep
                : seconds > 0 ? (ulong)Math.Min(Math.Floor(delta / seconds + 0.5), ulong.MaxValue) : 0;
            Vmstat va = previous.Vmstat, vb = current.Vmstat;
            v[6] = Delta(va["pswpin"], vb["pswpin"]) is ulong pin ? U32(PerSec(ProcpsFormat.UnitConvert(unchecked(pin * kbPerPage), o.DataUnit))) : null;
            v[7] = Delta(va["pswpout"], vb["pswpout"]) is ulong pout ? U32(PerSec(ProcpsFormat.UnitConvert(unchecked(pout * kbPerPage), o.DataUnit))) : null;
            v[8] = Delta(va["pgpgin"], vb["pgpgin"]) is ulong bi ? U32(PerSec(bi)) : null;
            v[9] = Delta(va["pgpgout"], vb["pgpgout"]) is ulong bo ? U32(PerSec(bo)) : null;
            v[10] = Delta(previous.Stat.InterruptsTotal, s.InterruptsTotal) is ulong intr ? U32(PerSec(unchecked((ulong)(int)intr))) : null;
            v[11] = Delta(previous.Stat.ContextSwitches, s.ContextSwitches) is ulong cs ? U32(PerSec(unchecked((ulong)(int)cs))) : null;
            v[12] = U32(unchecked((ulong)(100 * use) + half) / div);
            v[13] = U32(unchecked((ulong)(100 * sys) + half) / div);
            v[14] = U32(unchecked((ulong)(100 * idl) + half) / div);
            v[15] = b.IoWait is null ? null : U32(unchecked((ulong)(100 * iow) + half) / div);
            v[16] = b.Steal is null ? null : U32(unchecked((ulong)(100 * sto) + half) / div);
            v[17] = b.Guest is null ? null : U32(unchecked((ulong)(100 * gue) + half) / div);
        }
        return v;
    }

    public static string RenderLine(string?[] values, VmstatOptions o, DateTimeOffset now)
    {
        var sb = new StringBuilder(160);
        string[] shown = new string[o.Wide ? 18 : 17];
        for (int i = 0; i < shown.Length; i++) shown[i] = values[i] ?? "-";
        AppendRow(sb, shown, o.Wide ? WideWidths : Widths);
        if (o.Timestamp) sb.Append(' ').Append(LocalClock.Format(now));
        sb.Append('\n');
        return sb.ToString();
    }

    /// <summary>`vmstat -s`: the event counter table (sum_format).</summary>
    public static string RenderStats(VmstatSample x, VmstatOptions o)
    {
        Meminfo m = x.Meminfo;
        FreeFigures f = FreeFigures.From(m);
        var sb = new StringBuilder(2048);
        void Mem(ulong? bytes, string what) =>
            sb.Append(Pad(bytes is ulong b ? ProcpsFormat.UnitConvert(b / 1024, o.DataUnit).ToString(CultureInfo.InvariantCulture) : "-"))
              .Append(' ').Append(o.UnitLetter).Append(' ').Append(what).Append('\n');
        void Num(ulong? n, string what) =>
            sb.Append(Pad(n?.ToString(CultureInfo.InvariantCulture) ?? "-")).Append(' ').Append(what).Append('\n');
        Mem(m.MemTotal, "total memory");
        Mem(f.UsedBytes, "used memory");
        Mem(m.Active, "active memory");
        Mem(m.Inactive, "inactive memory");
        Mem(m.MemFree, "free memory");
        Mem(m.Buffers, "buffer memory");
        Mem(f.CacheBytes, "swap cache");
        Mem(m.SwapTotal, "total swap");
        Mem(f.SwapUsedBytes, "used swap");
        Mem(m.SwapFree, "free swap");
        CpuTicks t = x.Stat.Cpu;
        Num(t.User, "non-nice user cpu ticks");
        Num(t.Nice, "nice user cpu ticks");
        Num(t.System, "system cpu ticks");
        Num(t.Idle, "idle cpu ticks");
        Num(t.IoWait, "IO-wait cpu ticks");
        Num(t.Irq, "IRQ cpu ticks");
        Num(t.SoftIrq, "softirq cpu ticks");
        Num(t.Steal, "stolen cpu ticks");
        Num(t.Guest, "non-nice guest cpu ticks");
        Num(t.GuestNice, "nice guest cpu ticks");
        Num(x.Vmstat["pgpgin"], "K paged in");
        Num(x.Vmstat["pgpgout"], "K paged out");
        Num(x.Vmstat["pswpin"], "pages swapped in");
        Num(x.Vmstat["pswpout"], "pages swapped out");
        Num(x.Stat.InterruptsTotal, "interrupts");
        Num(x.Stat.ContextSwitches, "CPU context switches");
        Num(x.Stat.BootTimeUnixSeconds, "boot time");
        Num(x.Stat.ProcessesCreated, "forks");
        return sb.ToString();
    }

    private static string Pad(string s) => s.PadLeft(13);

    private static void AppendRow(StringBuilder sb, string[] cells, int[] widths)
    {
        for (int i = 0; i < widths.Length && i < cells.Length; i++)
        {
            if (i > 0) sb.Append(' ');
            sb.Append(cells[i].PadLeft(widths[i]));
        }
    }

    private static string? Str(ulong? v) => v?.ToString(CultureInfo.InvariantCulture);
    private static string? Conv(ulong? bytes, VmstatOptions o) =>
        bytes is ulong b ? ProcpsFormat.UnitConvert(b / 1024, o.DataUnit).ToString(CultureInfo.InvariantCulture) : null;
    private static string U32(ulong v) => unchecked((uint)v).ToString(CultureInfo.InvariantCulture);
    private static long D(ulong? a, ulong? b) => a is ulong x && b is ulong y ? unchecked((long)(y - x)) : 0;
    private static ulong? Delta(ulong? a, ulong? b) => a is ulong x && b is ulong y ? unchecked(y - x) : null;
}

/// <summary>Local time as C's localtime()/strftime see it (TZ honoured), for vmstat -t.</summary>
internal static class LocalClock
{
    [StructLayout(LayoutKind.Sequential)]
    private struct Tm
    {
        public int Sec, Min, Hour, MDay, Mon, Year, WDay, YDay, IsDst;
        public long GmtOff;
        public IntPtr Zone;
    }

    [DllImport("libc", EntryPoint = "localtime_r")]
    private static extern IntPtr LocalTimeR(ref long time, out Tm result);

    [DllImport("libc", EntryPoint = "tzset")]
    private static extern void TzSet();

    private static bool TryLocal(DateTimeOffset t, out Tm tm)
    {
        tm = default;
        try
        {
            TzSet();
            long seconds = t.ToUnixTimeSeconds();
            return LocalTimeR(ref seconds, out tm) != IntPtr.Zero;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { return false; }
    }

    /// <summary>strftime("%Z"): "UTC", "CET"...</summary>
    public static string ZoneAbbreviation(DateTimeOffset t) =>
        TryLocal(t, out Tm tm) && tm.Zone != IntPtr.Zero ? Marshal.PtrToStringUTF8(tm.Zone) ?? "" : "";

    /// <summary>strftime("%Y-%m-%d %H:%M:%S").</summary>
    public static string Format(DateTimeOffset t)
    {
        if (TryLocal(t, out Tm tm))
            return string.Create(CultureInfo.InvariantCulture, $"{tm.Year + 1900:D4}-{tm.Mon + 1:D2}-{tm.MDay:D2} {tm.Hour:D2}:{tm.Min:D2}:{tm.Sec:D2}");
        return t.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
    }
}
