namespace MemScope.Procfs;

/// <summary>
/// /proc/PID/stat (proc(5)). comm is taken up to the LAST ')' since it may hold spaces and parentheses. Fields
/// after comm are kept in order; old kernels print fewer (44 before 3.3, 52 since 3.5), so later fields are null.
/// Signed fields (priority, nice, cutime...) are kept as two's-complement and read through the signed accessors.
/// </summary>
public sealed class ProcPidStat
{
    /// <summary>proc(5) names of fields 1..52.</summary>
    public static readonly string[] FieldNames =
    [
        "pid", "comm", "state", "ppid", "pgrp", "session", "tty_nr", "tpgid", "flags", "minflt", "cminflt", "majflt",
        "cmajflt", "utime", "stime", "cutime", "cstime", "priority", "nice", "num_threads", "itrealvalue", "starttime",
        "vsize", "rss", "rsslim", "startcode", "endcode", "startstack", "kstkesp", "kstkeip", "signal", "blocked",
        "sigignore", "sigcatch", "wchan", "nswap", "cnswap", "exit_signal", "processor", "rt_priority", "policy",
        "delayacct_blkio_ticks", "guest_time", "cguest_time", "start_data", "end_data", "start_brk", "arg_start",
        "arg_end", "env_start", "env_end", "exit_code",
    ];

    private readonly ulong[] _fields; // fields 4.. (ppid onward), index 0 = field 4

    private ProcPidStat(int pid, string comm, char state, ulong[] fields, int count)
    {
        Pid = pid;
        Comm = comm;
        State = state;
        _fields = fields;
        FieldCount = count + 3;
    }

    public int Pid { get; }
    public string Comm { get; }
    public char State { get; }
    /// <summary>How many fields the line had (44 on kernels before 3.3, 52 on current ones).</summary>
    public int FieldCount { get; }

    /// <summary>Field by its 1-based proc(5) number (4..52), as unsigned; null when the kernel did not print it.</summary>
    public ulong? Field(int number) => number >= 4 && number - 4 < FieldCount - 3 ? _fields[number - 4] : null;
    public long? SignedField(int number) => Field(number) is ulong v ? unchecked((long)v) : null;
    public ulong? Field(string name)
    {
        int i = Array.IndexOf(FieldNames, name);
        return i < 0 ? null : Field(i + 1);
    }

    public int PPid => (int)(SignedField(4) ?? 0);
    public ulong MinorFaults => Field(10) ?? 0;
    public ulong MajorFaults => Field(12) ?? 0;
    public ulong UserTicks => Field(14) ?? 0;
    public ulong SystemTicks => Field(15) ?? 0;
    public long Nice => SignedField(19) ?? 0;
    public long Threads => SignedField(20) ?? 0;
    /// <summary>Start time in clock ticks after boot: with the pid, the identity of a process.</summary>
    public ulong StartTimeTicks => Field(22) ?? 0;
    public ulong VsizeBytes => Field(23) ?? 0;
    public ulong RssPages => Field(24) ?? 0;
    public ulong? Processor => Field(39);

    public static ProcPidStat Read(string path) => KernelFile.Parse(path, Parse);

    public static ProcPidStat Parse(ReadOnlySpan<char> content, string path)
    {
        int open = content.IndexOf('(');
        int close = content.LastIndexOf(')');
        if (open <= 0 || close < open)
            throw KernelFileException.Malformed(path, 1, content, "no '(comm)'");
        // Only the first line matters; junk after a newline past the fields is ignored below.
        if (!int.TryParse(content[..open].Trim(), out int pid))
            throw KernelFileException.Malformed(path, 1, content[..open], "pid is not a number");
        string comm = content[(open + 1)..close].ToString();
        ReadOnlySpan<char> rest = content[(close + 1)..];
        int newline = rest.IndexOf('\n');
        if (newline >= 0) rest = rest[..newline];
        ReadOnlySpan<char> stateToken = SpanParsing.NextToken(ref rest);
        if (stateToken.Length != 1)
            throw KernelFileException.Malformed(path, 1, stateToken, "state is not one letter");
        var fields = new ulong[FieldNames.Length - 3];
        int count = 0;
        while (count < fields.Length)
        {
            ReadOnlySpan<char> t = SpanParsing.NextToken(ref rest);
            if (t.IsEmpty) break;
            if (SpanParsing.TryParseULong(t, out ulong u)) fields[count] = u;
            else if (SpanParsing.TryParseLong(t, out long s)) fields[count] = unchecked((ulong)s);
            else throw KernelFileException.Malformed(path, 1, t, $"field {count + 4} ({FieldNames[count + 3]}) is not a number");
            count++;
        }
        if (count < 21) // up to rss (field 24) is needed for anything useful
            throw KernelFileException.Malformed(path, 1, content, $"only {count + 3} fields");
        return new ProcPidStat(pid, comm, stateToken[0], fields, count);
    }
}
