namespace MemScope.Procfs;

/// <summary>CPU time in USER_HZ ticks from one "cpu" line of /proc/stat. steal (2.6.11), guest (2.6.24) and guest_nice (2.6.33) may be absent.</summary>
public readonly record struct CpuTicks(ulong User, ulong Nice, ulong System, ulong Idle, ulong? IoWait, ulong? Irq,
    ulong? SoftIrq, ulong? Steal, ulong? Guest, ulong? GuestNice)
{
    /// <summary>All ticks; guest time is already part of user time, so it is not added again.</summary>
    public ulong Total => User + Nice + System + Idle + (IoWait ?? 0) + (Irq ?? 0) + (SoftIrq ?? 0) + (Steal ?? 0);
}

/// <summary>
/// /proc/stat: the aggregate CPU line, interrupts, context switches, boot time and process counts. The per-IRQ and
/// per-softirq columns are kept too (<see cref="Interrupts"/>, <see cref="SoftIrqs"/>; softirq since 2.6.31).
/// </summary>
public sealed record ProcStat(
    CpuTicks Cpu,
    IReadOnlyList<CpuTicks> PerCpu,
    ulong? InterruptsTotal,
    ulong? ContextSwitches,
    ulong? BootTimeUnixSeconds,
    ulong? ProcessesCreated,
    ulong? ProcsRunning,
    ulong? ProcsBlocked)
{
    /// <summary>The "intr" line after its total: count per IRQ number (index = IRQ).</summary>
    public IReadOnlyList<ulong> Interrupts { get; init; } = [];
    public ulong? SoftIrqTotal { get; init; }
    /// <summary>The "softirq" line after its total, in kernel order: HI TIMER NET_TX NET_RX BLOCK IRQ_POLL TASKLET SCHED HRTIMER RCU.</summary>
    public IReadOnlyList<ulong> SoftIrqs { get; init; } = [];
    public static readonly string[] SoftIrqNames = ["hi", "timer", "net_tx", "net_rx", "block", "irq_poll", "tasklet", "sched", "hrtimer", "rcu"];

    public static ProcStat Read(string path) => KernelFile.Parse(path, Parse);

    public static ProcStat Parse(ReadOnlySpan<char> content, string path)
    {
        CpuTicks? cpu = null;
        var perCpu = new List<CpuTicks>();
        ulong? intr = null, ctxt = null, btime = null, processes = null, running = null, blocked = null, softTotal = null;
        ulong[] irqs = [], softs = [];
        int lineNumber = 0;
        foreach (ReadOnlySpan<char> raw in content.EnumerateLines())
        {
            lineNumber++;
            ReadOnlySpan<char> rest = raw;
            ReadOnlySpan<char> key = SpanParsing.NextToken(ref rest);
            if (key.StartsWith("cpu"))
            {
                CpuTicks ticks = ParseCpu(rest, path, lineNumber, raw);
                if (key.Length == 3) cpu = ticks; else perCpu.Add(ticks);
                continue;
            }
            switch (key)
            {
                case "intr": intr = First(rest, path, lineNumber, raw); irqs = After(rest, path, lineNumber, raw); break;
                case "softirq": softTotal = First(rest, path, lineNumber, raw); softs = After(rest, path, lineNumber, raw); break;
                case "ctxt": ctxt = First(rest, path, lineNumber, raw); break;
                case "btime": btime = First(rest, path, lineNumber, raw); break;
                case "processes": processes = First(rest, path, lineNumber, raw); break;
                case "procs_running": running = First(rest, path, lineNumber, raw); break;
                case "procs_blocked": blocked = First(rest, path, lineNumber, raw); break;
            }
        }
        if (cpu is null) throw new KernelFileException(KernelFileError.Malformed, path, "no aggregate 'cpu' line");
        return new ProcStat(cpu.Value, perCpu, intr, ctxt, btime, processes, running, blocked)
        {
            Interrupts = irqs, SoftIrqTotal = softTotal, SoftIrqs = softs,
        };
    }

    /// <summary>The numbers after the first one on a line.</summary>
    private static ulong[] After(ReadOnlySpan<char> rest, string path, int lineNumber, ReadOnlySpan<char> raw)
    {
        SpanParsing.NextToken(ref rest);
        int count = 0;
        ReadOnlySpan<char> scan = rest;
        while (!SpanParsing.NextToken(ref scan).IsEmpty) count++;
        var values = new ulong[count];
        for (int i = 0; i < count; i++)
            if (!SpanParsing.TryParseULong(SpanParsing.NextToken(ref rest), out values[i]))
                throw KernelFileException.Malformed(path, lineNumber, raw, "expected numbers");
        return values;
    }

    private static ulong First(ReadOnlySpan<char> rest, string path, int lineNumber, ReadOnlySpan<char> raw)
    {
        ReadOnlySpan<char> t = SpanParsing.NextToken(ref rest);
        if (!SpanParsing.TryParseULong(t, out ulong v))
            throw KernelFileException.Malformed(path, lineNumber, raw, "expected a number");
        return v;
    }

    private static CpuTicks ParseCpu(ReadOnlySpan<char> rest, string path, int lineNumber, ReadOnlySpan<char> raw)
    {
        Span<ulong> v = stackalloc ulong[10];
        int n = 0;
        while (n < 10)
        {
            ReadOnlySpan<char> t = SpanParsing.NextToken(ref rest);
            if (t.IsEmpty) break;
            if (!SpanParsing.TryParseULong(t, out v[n]))
                throw KernelFileException.Malformed(path, lineNumber, raw, "cpu ticks must be numbers");
            n++;
        }
        if (n < 4) throw KernelFileException.Malformed(path, lineNumber, raw, "cpu line has fewer than 4 fields");
        ulong? At(int i, Span<ulong> s) => i < n ? s[i] : null;
        return new CpuTicks(v[0], v[1], v[2], v[3], At(4, v), At(5, v), At(6, v), At(7, v), At(8, v), At(9, v));
    }
}
