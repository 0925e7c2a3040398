namespace MemScope.Procfs;

/// <summary>
/// Files holding one integer: /proc/PID/oom_score (0..2000 since 4.19's rescale; 0..1000 before),
/// /proc/PID/oom_score_adj [-1000, 1000] (2.6.36+), /proc/PID/oom_adj [-17, 15] (deprecated), and sysctls.
/// </summary>
public static class SingleNumberFile
{
    public static long Read(string path) => KernelFile.Parse(path, Parse);

    public static long Parse(ReadOnlySpan<char> content, string path)
    {
        ReadOnlySpan<char> t = content.Trim();
        if (!SpanParsing.TryParseLong(t, out long v))
            throw KernelFileException.Malformed(path, 1, t, "expected one integer");
        return v;
    }
}
