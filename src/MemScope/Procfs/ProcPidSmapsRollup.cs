namespace MemScope.Procfs;

/// <summary>/proc/PID/smaps_rollup (Linux 4.14+): the smaps counters summed over every mapping, in one cheap read.</summary>
public static class ProcPidSmapsRollup
{
    public static SmapsFields Read(string path) => KernelFile.Parse(path, Parse);

    public static SmapsFields Parse(ReadOnlySpan<char> content, string path)
    {
        Span<ulong> values = stackalloc ulong[SmapsFields.Keys.Count];
        Span<bool> present = stackalloc bool[SmapsFields.Keys.Count];
        int lineNumber = 0;
        bool any = false;
        foreach (ReadOnlySpan<char> raw in content.EnumerateLines())
        {
            lineNumber++;
            if (!SpanParsing.TrySplitKeyValue(raw, out var key, out var value)) continue;
            if (!SmapsFields.Keys.TryGetIndex(key, out int i)) continue;
            if (!SpanParsing.TryParseSizeValue(value, out long n, out bool kb) || n < 0)
                throw KernelFileException.Malformed(path, lineNumber, raw, $"'{key}' is not 'number kB'");
            if (present[i]) continue;
            if (kb && (ulong)n > ulong.MaxValue / 1024)
                throw KernelFileException.Malformed(path, lineNumber, raw, $"'{key}' overflows 64-bit bytes");
            values[i] = kb ? (ulong)n * 1024 : (ulong)n;
            present[i] = true;
            any = true;
        }
        if (!any) throw new KernelFileException(KernelFileError.Malformed, path, "no counters (empty file)");
        return SmapsFields.FromValues(values, present);
    }
}
