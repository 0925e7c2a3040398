namespace MemScope.Procfs;

/// <summary>One block of /proc/PID/smaps: the maps header line plus that mapping's counters.</summary>
public sealed record SmapsMapping
{
    public required MemoryMapping Mapping { get; init; }
    public required SmapsFields Fields { get; init; }
    /// <summary>The VmFlags two-letter codes (rd wr ex sh mr mw me ms gd pf ... ht nh hg mg um uw); null before 3.8 (old format).</summary>
    public IReadOnlyList<string>? VmFlags { get; init; }
    /// <summary>THPeligible (5.0+; 4.19 printed it too): whether the mapping may get transparent huge pages. Null when absent.</summary>
    public bool? ThpEligible { get; init; }
    /// <summary>ProtectionKey (4.9+, only on machines with memory protection keys). Null when absent.</summary>
    public int? ProtectionKey { get; init; }

    public bool HasVmFlag(string flag)
    {
        if (VmFlags is null) return false;
        foreach (string f in VmFlags) if (f == flag) return true;
        return false;
    }
}

/// <summary>
/// /proc/PID/smaps (2.6.14+): per mapping, the maps header line followed by "Key: N kB" lines. Fields and their
/// order vary by kernel (see <see cref="SmapsFields"/>): unknown keys are ignored, absent keys stay null. The old
/// format (before 3.8) has no VmFlags line; values without a unit (THPeligible, ProtectionKey) are read apart.
/// </summary>
public static class ProcPidSmaps
{
    public static List<SmapsMapping> Read(string path) => KernelFile.Parse(path, Parse);

    public static List<SmapsMapping> Parse(ReadOnlySpan<char> content, string path)
    {
        var list = new List<SmapsMapping>(64);
        int n = SmapsFields.Keys.Count;
        Span<ulong> values = stackalloc ulong[n];
        Span<bool> present = stackalloc bool[n];
        MemoryMapping? current = null;
        IReadOnlyList<string>? vmFlags = null;
        bool? thp = null;
        int? pkey = null;
        int lineNumber = 0;

        foreach (ReadOnlySpan<char> line in content.EnumerateLines())
        {
            lineNumber++;
            if (line.IsWhiteSpace()) continue;
            if (IsHeader(line))
            {
                if (current is not null) list.Add(Build(current, values, present, vmFlags, thp, pkey));
                current = ProcPidMaps.ParseLine(line, path, lineNumber);
                values.Clear();
                present.Clear();
                vmFlags = null;
                thp = null;
                pkey = null;
                continue;
            }
            if (current is null)
                throw KernelFileException.Malformed(path, lineNumber, line, "counter line before the first mapping header");
            if (!SpanParsing.TrySplitKeyValue(line, out var key, out var value))
                throw KernelFileException.Malformed(path, lineNumber, line, "neither a mapping header nor 'Key: value'");

            if (SmapsFields.Keys.TryGetIndex(key, out int i))
            {
                if (!SpanParsing.TryParseSizeValue(value, out long v, out bool kb) || v < 0)
                    throw KernelFileException.Malformed(path, lineNumber, line, $"'{key}' is not 'number kB'");
                if (present[i]) continue;
                if (kb && (ulong)v > ulong.MaxValue / 1024)
                    throw KernelFileException.Malformed(path, lineNumber, line, $"'{key}' overflows 64-bit bytes");
                values[i] = kb ? (ulong)v * 1024 : (ulong)v;
                present[i] = true;
            }
            else if (key.SequenceEqual("VmFlags"))
            {
                var flags = new List<string>(12);
                ReadOnlySpan<char> rest = value;
                while (true)
                {
                    ReadOnlySpan<char> f = SpanParsing.NextToken(ref rest);
                    if (f.IsEmpty) break;
                    flags.Add(KnownFlags.TryGetIndex(f, out int fi) ? KnownFlags.Names[fi] : f.ToString());
                }
                vmFlags = flags;
            }
            else if (key.SequenceEqual("THPeligible"))
            {
                if (SpanParsing.TryParseULong(value, out ulong t)) thp = t != 0;
            }
            else if (key.SequenceEqual("ProtectionKey"))
            {
                if (SpanParsing.TryParseLong(value, out long k)) pkey = (int)k;
            }
            // Any other key (a field newer than this build) is ignored.
        }
        if (current is not null) list.Add(Build(current, values, present, vmFlags, thp, pkey));
        return list;
    }

    /// <summary>VmFlags codes from fs/proc/task_mmu.c (show_smap_vma_flags), shared so each mapping does not allocate them.</summary>
    private static readonly KeySet KnownFlags = new(
        "rd", "wr", "ex", "sh", "mr", "mw", "me", "ms", "gd", "pf", "dw", "lo", "io", "sr", "rr", "dc", "de", "ac", "nr",
        "ht", "sf", "nl", "ar", "wf", "dd", "sd", "mm", "hg", "nh", "mg", "um", "uw", "ss", "bt", "mt", "sl", "lf", "gu");

    /// <summary>
    /// A header starts with a hex address followed by '-' or a space; counter lines start with a key and a colon.
    /// Keys such as "Anonymous" or "FilePmdMapped" begin with hex letters, so the first token decides: a header's
    /// first token never ends with ':'.
    /// </summary>
    private static bool IsHeader(ReadOnlySpan<char> line)
    {
        int end = line.IndexOfAny(' ', '\t');
        ReadOnlySpan<char> first = end < 0 ? line : line[..end];
        if (first.IsEmpty || first[^1] == ':') return false;
        foreach (char c in first)
            if (!char.IsAsciiHexDigit(c) && c != '-') return false;
        return end > 0;
    }

    private static SmapsMapping Build(MemoryMapping m, ReadOnlySpan<ulong> values, ReadOnlySpan<bool> present,
        IReadOnlyList<string>? vmFlags, bool? thp, int? pkey) => new()
    {
        Mapping = m,
        Fields = SmapsFields.FromValues(values, present),
        VmFlags = vmFlags,
        ThpEligible = thp,
        ProtectionKey = pkey,
    };

    /// <summary>Sums every mapping's counters; a field is null in the sum only when no mapping had it.</summary>
    public static SmapsFields Sum(IEnumerable<SmapsMapping> mappings) => SumFields(mappings.Select(m => m.Fields));

    public static SmapsFields SumFields(IEnumerable<SmapsFields> fields)
    {
        int n = SmapsFields.Keys.Count;
        var values = new ulong[n];
        var present = new bool[n];
        foreach (SmapsFields f in fields)
        {
            ulong?[] row = f.ToArray();
            for (int i = 0; i < n; i++)
                if (row[i] is ulong v) { values[i] += v; present[i] = true; }
        }
        return SmapsFields.FromValues(values, present);
    }
}
