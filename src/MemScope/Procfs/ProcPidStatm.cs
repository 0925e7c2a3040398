namespace MemScope.Procfs;

/// <summary>/proc/PID/statm: sizes in pages (size resident shared text lib data dt; lib and dt are always 0 since 2.6).</summary>
public readonly record struct ProcPidStatm(ulong SizePages, ulong ResidentPages, ulong SharedPages, ulong TextPages,
    ulong LibPages, ulong DataPages, ulong DirtyPages)
{
    public static ProcPidStatm Read(string path) => KernelFile.Parse(path, Parse);

    public static ProcPidStatm Parse(ReadOnlySpan<char> content, string path)
    {
        Span<ulong> v = stackalloc ulong[7];
        ReadOnlySpan<char> rest = content;
        for (int i = 0; i < 7; i++)
        {
            ReadOnlySpan<char> t = SpanParsing.NextToken(ref rest);
            t = t.TrimEnd('\n');
            if (!SpanParsing.TryParseULong(t, out v[i]))
                throw KernelFileException.Malformed(path, 1, t, $"field {i + 1} of 7 is missing or not a number");
        }
        return new ProcPidStatm(v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
    }
}
