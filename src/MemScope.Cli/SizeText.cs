using System.Globalization;

namespace MemScope.Cli;

/// <summary>Parses sizes as people write them on a command line: 4096, 64K, 100M, 1.5G, 2MiB, 1GB (binary units), 4M/s.</summary>
public static class SizeText
{
    public static bool TryParse(string? text, out ulong bytes)
    {
        bytes = 0;
        if (!TryParse(text, out double value) || value > ulong.MaxValue) return false;
        bytes = (ulong)value;
        return true;
    }

    public static bool TryParse(string? text, out double bytes)
    {
        bytes = 0;
        if (text is null) return false;
        ReadOnlySpan<char> s = text.AsSpan().Trim();
        if (s.EndsWith("/s", StringComparison.OrdinalIgnoreCase)) s = s[..^2];
        if (s.EndsWith("iB", StringComparison.OrdinalIgnoreCase)) s = s[..^2];
        else if (s.Length > 1 && (s[^1] is 'B' or 'b') && char.IsLetter(s[^2])) s = s[..^1];
        double scale = 1;
        if (s.Length > 0 && char.IsLetter(s[^1]))
        {
            scale = char.ToUpperInvariant(s[^1]) switch { 'B' => 1, 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, 'T' => 1L << 40, _ => 0 };
            if (scale == 0) return false;
            s = s[..^1];
        }
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double n) || n < 0 || double.IsNaN(n) || double.IsInfinity(n))
            return false;
        bytes = n * scale;
        return true;
    }
}
