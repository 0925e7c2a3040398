namespace MemScope.Procfs;

/// <summary>
/// The memory-related lines of /proc/PID/status (proc(5)), in bytes. Kernel threads have no Vm* lines, so those are
/// null; RssAnon/RssFile/RssShmem appeared in 4.5, VmSwap in 2.6.34, VmPin in 3.2, HugetlbPages in 4.4, VmPMD in 4.0
/// (gone again in 5.x), NSpid in 4.1, CapAmb in 4.3. Identity lines (Pid, NSpid, Uid, Gid), capabilities and the
/// context-switch counters are parsed too. <see cref="ParseAll"/> keeps every line as text for tools that want the rest.
/// </summary>
public sealed record ProcPidStatus
{
    public string? Name { get; init; }
    public char? State { get; init; }
    public int? Tgid { get; init; }
    public int? Pid { get; init; }
    public int? PPid { get; init; }
    /// <summary>The pid in each nested pid namespace, outermost first (4.1+); null when the line is absent.</summary>
    public int[]? NSpid { get; init; }
    /// <summary>Real, effective, saved and filesystem uids.</summary>
    public uint? RealUid { get; init; }
    public uint? EffectiveUid { get; init; }
    public uint? SavedUid { get; init; }
    public uint? FsUid { get; init; }
    /// <summary>Real, effective, saved and filesystem gids.</summary>
    public uint? RealGid { get; init; }
    public uint? EffectiveGid { get; init; }
    public uint? SavedGid { get; init; }
    public uint? FsGid { get; init; }
    /// <summary>Capability masks (hex in the file).</summary>
    public ulong? CapInh { get; init; }
    public ulong? CapPrm { get; init; }
    public ulong? CapEff { get; init; }
    public ulong? CapBnd { get; init; }
    public ulong? CapAmb { get; init; }
    /// <summary>Cpus_allowed_list as printed ("0-3,8"); expand with <see cref="CpuList.Parse"/>.</summary>
    public string? CpusAllowedList { get; init; }
    public ulong? VoluntaryCtxtSwitches { get; init; }
    public ulong? NonvoluntaryCtxtSwitches { get; init; }
    public ulong? VmPeak { get; init; }
    public ulong? VmSize { get; init; }
    public ulong? VmLck { get; init; }
    public ulong? VmPin { get; init; }
    public ulong? VmHWM { get; init; }
    public ulong? VmRSS { get; init; }
    public ulong? RssAnon { get; init; }
    public ulong? RssFile { get; init; }
    public ulong? RssShmem { get; init; }
    public ulong? VmData { get; init; }
    public ulong? VmStk { get; init; }
    public ulong? VmExe { get; init; }
    public ulong? VmLib { get; init; }
    public ulong? VmPTE { get; init; }
    public ulong? VmPMD { get; init; }
    public ulong? VmSwap { get; init; }
    public ulong? HugetlbPages { get; init; }
    public int? Threads { get; init; }

    public static ProcPidStatus Read(string path) => KernelFile.Parse(path, Parse);

    public static ProcPidStatus Parse(ReadOnlySpan<char> content, string path)
    {
        var s = new Builder();
        int lineNumber = 0;
        foreach (ReadOnlySpan<char> raw in content.EnumerateLines())
        {
            lineNumber++;
            if (!SpanParsing.TrySplitKeyValue(raw, out var key, out var value)) continue;
            switch (key)
            {
                case "Name": s.Name = value.ToString(); break;
                case "State": if (value.Length > 0) s.State = value[0]; break;
                case "Tgid": s.Tgid = Int(value, path, lineNumber, raw); break;
                case "Pid": s.Pid = Int(value, path, lineNumber, raw); break;
                case "PPid": s.PPid = Int(value, path, lineNumber, raw); break;
                case "NSpid": s.NSpid = Ints(value, path, lineNumber, raw); break;
                case "Uid":
                {
                    ReadOnlySpan<char> rest = value;
                    s.RealUid = Id(ref rest); s.EffectiveUid = Id(ref rest); s.SavedUid = Id(ref rest); s.FsUid = Id(ref rest);
                    break;
                }
                case "Gid":
                {
                    ReadOnlySpan<char> rest = value;
                    s.RealGid = Id(ref rest); s.EffectiveGid = Id(ref rest); s.SavedGid = Id(ref rest); s.FsGid = Id(ref rest);
                    break;
                }
                case "CapInh": s.CapInh = Hex(value, path, lineNumber, raw); break;
                case "CapPrm": s.CapPrm = Hex(value, path, lineNumber, raw); break;
                case "CapEff": s.CapEff = Hex(value, path, lineNumber, raw); break;
                case "CapBnd": s.CapBnd = Hex(value, path, lineNumber, raw); break;
                case "CapAmb": s.CapAmb = Hex(value, path, lineNumber, raw); break;
                case "Cpus_allowed_list": s.CpusAllowedList = value.ToString(); break;
                case "voluntary_ctxt_switches": s.Voluntary = ULong(value, path, lineNumber, raw); break;
                case "nonvoluntary_ctxt_switches": s.Nonvoluntary = ULong(value, path, lineNumber, raw); break;
                case "Threads": s.Threads = Int(value, path, lineNumber, raw); break;
                case "VmPeak": s.VmPeak = Kb(value, path, lineNumber, raw); break;
                case "VmSize": s.VmSize = Kb(value, path, lineNumber, raw); break;
                case "VmLck": s.VmLck = Kb(value, path, lineNumber, raw); break;
                case "VmPin": s.VmPin = Kb(value, path, lineNumber, raw); break;
                case "VmHWM": s.VmHWM = Kb(value, path, lineNumber, raw); break;
                case "VmRSS": s.VmRSS = Kb(value, path, lineNumber, raw); break;
                case "RssAnon": s.RssAnon = Kb(value, path, lineNumber, raw); break;
                case "RssFile": s.RssFile = Kb(value, path, lineNumber, raw); break;
                case "RssShmem": s.RssShmem = Kb(value, path, lineNumber, raw); break;
                case "VmData": s.VmData = Kb(value, path, lineNumber, raw); break;
                case "VmStk": s.VmStk = Kb(value, path, lineNumber, raw); break;
                case "VmExe": s.VmExe = Kb(value, path, lineNumber, raw); break;
                case "VmLib": s.VmLib = Kb(value, path, lineNumber, raw); break;
                case "VmPTE": s.VmPTE = Kb(value, path, lineNumber, raw); break;
                case "VmPMD": s.VmPMD = Kb(value, path, lineNumber, raw); break;
                case "VmSwap": s.VmSwap = Kb(value, path, lineNumber, raw); break;
                case "HugetlbPages": s.HugetlbPages = Kb(value, path, lineNumber, raw); break;
            }

        }
        return s.Build();
    }

    private static ulong Kb(ReadOnlySpan<char> v, string path, int lineNumber, ReadOnlySpan<char> raw)
    {
        if (!SpanParsing.TryParseSizeValue(v, out long n, out bool kb) || n < 0)
            throw KernelFileException.Malformed(path, lineNumber, raw, "expected 'number kB'");
        if (!kb) return (ulong)n;
        if ((ulong)n > ulong.MaxValue / 1024)
            throw KernelFileException.Malformed(path, lineNumber, raw, "kB value overflows 64-bit bytes");
        return (ulong)n * 1024;
    }

    private static ulong ULong(ReadOnlySpan<char> v, string path, int lineNumber, ReadOnlySpan<char> raw)
    {
        ReadOnlySpan<char> rest = v;
        if (!SpanParsing.TryParseULong(SpanParsing.NextToken(ref rest), out ulong n))
            throw KernelFileException.Malformed(path, lineNumber, raw, "expected an unsigned number");
        return n;
    }

    private static ulong Hex(ReadOnlySpan<char> v, string path, int lineNumber, ReadOnlySpan<char> raw)
    {
        ReadOnlySpan<char> rest = v;
        if (!SpanParsing.TryParseHex(SpanParsing.NextToken(ref rest), out ulong n))
            throw KernelFileException.Malformed(path, lineNumber, raw, "expected a 64-bit hex mask");
        return n;
    }

    private static uint? Id(ref ReadOnlySpan<char> rest) =>
        uint.TryParse(SpanParsing.NextToken(ref rest), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out uint id) ? id : null;

    private static int[] Ints(ReadOnlySpan<char> v, string path, int lineNumber, ReadOnlySpan<char> raw)
    {
        int count = 0;
        ReadOnlySpan<char> rest = v;
        while (!SpanParsing.NextToken(ref rest).IsEmpty) count++;
        var result = new int[count];
        rest = v;
        for (int i = 0; i < count; i++)
            if (!int.TryParse(SpanParsing.NextToken(ref rest), System.Globalization.NumberStyles.None,
                    System.Globalization.CultureInfo.InvariantCulture, out result[i]))
                throw KernelFileException.Malformed(path, lineNumber, raw, "expected numbers");
        return result;
    }

    private static int Int(ReadOnlySpan<char> v, string path, int lineNumber, ReadOnlySpan<char> raw)
    {
        ReadOnlySpan<char> rest = v;
        if (!int.TryParse(SpanParsing.NextToken(ref rest), out int n))
            throw KernelFileException.Malformed(path, lineNumber, raw, "expected a number");
        return n;
    }

    /// <summary>Every "Key: value" line as text, in file order (first occurrence wins).</summary>
    public static IReadOnlyDictionary<string, string> ParseAll(ReadOnlySpan<char> content)
    {
        var all = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (ReadOnlySpan<char> raw in content.EnumerateLines())
            if (SpanParsing.TrySplitKeyValue(raw, out var key, out var value))
                all.TryAdd(key.ToString(), value.ToString());
        return all;
    }

    private sealed class Builder
    {
        public string? Name, CpusAllowedList; public char? State; public int? Tgid, Pid, PPid, Threads; public int[]? NSpid;
        public uint? RealUid, EffectiveUid, SavedUid, FsUid, RealGid, EffectiveGid, SavedGid, FsGid;
        public ulong? CapInh, CapPrm, CapEff, CapBnd, CapAmb, Voluntary, Nonvoluntary;
        public ulong? VmPeak, VmSize, VmLck, VmPin, VmHWM, VmRSS, RssAnon, RssFile, RssShmem, VmData, VmStk, VmExe, VmLib, VmPTE, VmPMD, VmSwap, HugetlbPages;
        public ProcPidStatus Build() => new()
        {
            Name = Name, State = State, Tgid = Tgid, Pid = Pid, PPid = PPid, NSpid = NSpid, Threads = Threads,
            RealUid = RealUid, EffectiveUid = EffectiveUid, SavedUid = SavedUid, FsUid = FsUid,
            RealGid = RealGid, EffectiveGid = EffectiveGid, SavedGid = SavedGid, FsGid = FsGid,
            CapInh = CapInh, CapPrm = CapPrm, CapEff = CapEff, CapBnd = CapBnd, CapAmb = CapAmb,
            CpusAllowedList = CpusAllowedList, VoluntaryCtxtSwitches = Voluntary, NonvoluntaryCtxtSwitches = Nonvoluntary,
            VmPeak = VmPeak, VmSize = VmSize, VmLck = VmLck, VmPin = VmPin, VmHWM = VmHWM, VmRSS = VmRSS, RssAnon = RssAnon,
            RssFile = RssFile, RssShmem = RssShmem, VmData = VmData, VmStk = VmStk, VmExe = VmExe, VmLib = VmLib, VmPTE = VmPTE,
            VmPMD = VmPMD, VmSwap = VmSwap, HugetlbPages = HugetlbPages,
        };
    }
}
