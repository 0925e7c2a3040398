namespace MemScope.Procfs;

/// <summary>
/// /proc/swaps (mm/swapfile.c swap_show): a header line, then one line per active swap area:
/// "Filename Type Size Used Priority" with Size and Used in KiB (converted to bytes here). The filename is printed
/// with seq_file_path(…, " \t\n\\"), so a space is "\040", a tab "\011", a newline "\012" and a backslash "\134";
/// we decode them. Type is "partition" or "file" ("unknown" in theory). An empty table means no swap is active.
/// </summary>
public sealed class Swaps
{
    public Swaps(IReadOnlyList<SwapArea> areas) => Areas = areas;

    public IReadOnlyList<SwapArea> Areas { get; }

    public ulong TotalBytes => Areas.Aggregate(0UL, (s, a) => s + a.SizeBytes);
    public ulong UsedBytes => Areas.Aggregate(0UL, (s, a) => s + a.UsedBytes);

    public static Swaps Read(string path) => KernelFile.Parse(path, Parse);

    public static Swaps Parse(ReadOnlySpan<char> content, string path)
    {
        var areas = new List<SwapArea>(2);
        int lineNumber = 0;
        foreach (ReadOnlySpan<char> raw in content.EnumerateLines())
        {
            lineNumber++;
            ReadOnlySpan<char> line = raw.Trim();
            if (line.IsEmpty) continue;
            if (lineNumber == 1 && line.StartsWith("Filename", StringComparison.Ordinal)) continue;
            ReadOnlySpan<char> rest = line;
            ReadOnlySpan<char> name = SpanParsing.NextToken(ref rest);
            ReadOnlySpan<char> type = SpanParsing.NextToken(ref rest);
            ReadOnlySpan<char> size = SpanParsing.NextToken(ref rest);
            ReadOnlySpan<char> used = SpanParsing.NextToken(ref rest);
            ReadOnlySpan<char> prio = SpanParsing.NextToken(ref rest);
            if (prio.IsEmpty)
                throw KernelFileException.Malformed(path, lineNumber, raw, "expected 'filename type size used priority'");
            if (!SpanParsing.TryParseULong(size, out ulong sizeKb))
                throw KernelFileException.Malformed(path, lineNumber, size, "size is not a number");
            if (!SpanParsing.TryParseULong(used, out ulong usedKb))
                throw KernelFileException.Malformed(path, lineNumber, used, "used is not a number");
            if (!SpanParsing.TryParseLong(prio, out long priority))
                throw KernelFileException.Malformed(path, lineNumber, prio, "priority is not a number");
            areas.Add(new SwapArea(Unescape(name), type.ToString(), checked(sizeKb * 1024), checked(usedKb * 1024), priority));
        }
        return new Swaps(areas);
    }

    /// <summary>Decodes the kernel's octal escapes (\040 etc.); anything else is kept as written.</summary>
    public static string Unescape(ReadOnlySpan<char> s)
    {
        if (s.IndexOf('\\') < 0) return s.ToString();
        var sb = new System.Text.StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 3 < s.Length && IsOctal(s[i + 1]) && IsOctal(s[i + 2]) && IsOctal(s[i + 3]))
            {
                sb.Append((char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
                i += 3;
            }
            else sb.Append(s[i]);
        }
        return sb.ToString();
    }

    private static bool IsOctal(char c) => c is >= '0' and <= '7';
}

/// <summary>One active swap area; sizes in bytes. Higher priority areas are used first; equal priorities round-robin.</summary>
public sealed record SwapArea(string Filename, string Type, ulong SizeBytes, ulong UsedBytes, long Priority)
{
    public double UsedFraction => SizeBytes == 0 ? 0 : (double)UsedBytes / SizeBytes;
}
