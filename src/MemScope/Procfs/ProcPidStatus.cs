namespace MemScope.Procfs;

/// <summary>
/// The memory-related lines of /proc/PID/status (proc(5)), in bytes. Kernel threads have no Vm* lines, so those are
/// null; RssAnon/RssFile/RssShmem appeared in 4.5, VmSwap in 2.6.34, VmPin in 3.2, HugetlbPages in 4.4.
/// <see cref="ParseAll"/> keeps every line as text for tools that want the rest.
/// </summary>
public sealed record ProcPidStatus
{
    public string? Name { get; init; }
    public char? State { get; init; }
    public int? Tgid { get; init; }
    public int? PPid { get; init; }
    /// <summary>Real, effective, saved and filesystem uids.</summary>
    public uint? RealUid { get; init; }
    public uint? EffectiveUid { get; init; }
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
                case "PPid": s.PPid = Int(value, path, lineNumber, raw); break;
                case "Uid":
                {
                    ReadOnlySpan<char> rest = value;
                    if (uint.TryParse(SpanParsing.NextToken(ref rest), out uint r)) s.RealUid = r;
                    if (uint.TryParse(SpanParsing.NextToken(ref rest), out uint e)) s.EffectiveUid = e;
                    break;
                }
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
        return kb ? (ulong)n * 1024 : (ulong)n;
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
        public string? Name; public char? State; public int? Tgid, PPid, Threads; public uint? RealUid, EffectiveUid;
        public ulong? VmPeak, VmSize, VmLck, VmPin, VmHWM, VmRSS, RssAnon, RssFile, RssShmem, VmData, VmStk, VmExe, VmLib, VmPTE, VmSwap, HugetlbPages;
        public ProcPidStatus Build() => new()
        {
            Name = Name, State = State, Tgid = Tgid, PPid = PPid, Threads = Threads, RealUid = RealUid, EffectiveUid = EffectiveUid,
            VmPeak = VmPeak, VmSize = VmSize, VmLck = VmLck, VmPin = VmPin, VmHWM = VmHWM, VmRSS = VmRSS, RssAnon = RssAnon,
            RssFile = RssFile, RssShmem = RssShmem, VmData = VmData, VmStk = VmStk, VmExe = VmExe, VmLib = VmLib, VmPTE = VmPTE,
            VmSwap = VmSwap, HugetlbPages = HugetlbPages,
        };
    }
}
