namespace MemScope.Procfs;

/// <summary>One line of a PSI file: share of wall time (percent) that tasks stalled, averaged over 10 s, 60 s and 300 s, and the total stall time.</summary>
public readonly record struct PressureLine(double Avg10, double Avg60, double Avg300, ulong TotalMicroseconds);

/// <summary>
/// /proc/pressure/{memory,io,cpu,irq} (Linux 4.20+, CONFIG_PSI; may be disabled with psi=0). "some" = at least one
/// task stalled; "full" = all non-idle tasks stalled at once. cpu has "full" only since 5.13; irq only "full".
/// </summary>
public sealed record Pressure(PressureLine? Some, PressureLine? Full)
{
    public static Pressure Read(string path) => KernelFile.Parse(path, Parse);

    public static Pressure Parse(ReadOnlySpan<char> content, string path)
    {
        PressureLine? some = null, full = null;
        int lineNumber = 0;
        foreach (ReadOnlySpan<char> raw in content.EnumerateLines())
        {
            lineNumber++;
            ReadOnlySpan<char> rest = raw;
            ReadOnlySpan<char> kind = SpanParsing.NextToken(ref rest);
            if (kind.IsEmpty) continue;
            double a10 = double.NaN, a60 = double.NaN, a300 = double.NaN;
            ulong? total = null;
            while (true)
            {
                ReadOnlySpan<char> t = SpanParsing.NextToken(ref rest);
                if (t.IsEmpty) break;
                int eq = t.IndexOf('=');
                if (eq < 0) throw KernelFileException.Malformed(path, lineNumber, t, "expected key=value");
                ReadOnlySpan<char> k = t[..eq], v = t[(eq + 1)..];
                bool ok = k switch
                {
                    "avg10" => SpanParsing.TryParseDouble(v, out a10),
                    "avg60" => SpanParsing.TryParseDouble(v, out a60),
                    "avg300" => SpanParsing.TryParseDouble(v, out a300),
                    "total" => SpanParsing.TryParseULong(v, out ulong tot) && (total = tot) is not null,
                    _ => true,
                };
                if (!ok) throw KernelFileException.Malformed(path, lineNumber, t, $"'{k}' is not a number");
            }
            if (total is null || double.IsNaN(a10) || double.IsNaN(a60) || double.IsNaN(a300))
                throw KernelFileException.Malformed(path, lineNumber, raw, "missing avg10/avg60/avg300/total");
            var line = new PressureLine(a10, a60, a300, total.Value);
            if (kind.SequenceEqual("some")) some = line;
            else if (kind.SequenceEqual("full")) full = line;
        }
        return new Pressure(some, full);
    }
}
