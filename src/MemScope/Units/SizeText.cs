using System.Globalization;

namespace MemScope.Units;

/// <summary>
/// The one parser for sizes typed on a command line (record --max-size, lab --size/--rate/--chunk/..., leak rates).
/// Accepted: a non-negative number (invariant culture: "4096", "1.5", ".5", "1e3", "+2") followed, with or without
/// spaces, by an optional unit, case-insensitive: B, K, M, G, T, each optionally followed by "B" or "iB"
/// ("64K", "64KB", "64KiB", "64kib", "1 GB"). A trailing "/s" is ignored so rates read naturally ("4M/s").
/// <para>Every unit is BINARY: K = KB = KiB = 1024, M = 1024², G = 1024³, T = 1024⁴. All help texts promise binary
/// units (record's "1GB" has always meant 1 GiB, like procps' and the kernel's "kB"); nothing in MemScope takes
/// SI (1000) units, so writing "KB" never silently changes a figure by 2.4%.</para>
/// <para>Rejected: null/empty, negative numbers, NaN/infinity, unknown units ("5X", "lots"), and values of 2⁶⁴ bytes
/// or more (for <see cref="TryParse(string?, out long)"/>: 2⁶³ or more). Fractional bytes are truncated.
/// Range limits specific to one option (at least 64K, at most 1T, not 0) stay with that option.</para>
/// </summary>
public static class SizeText
{
    private const double TwoTo64 = 18446744073709551616.0;
    private const double TwoTo63 = 9223372036854775808.0;

    public static bool TryParse(string? text, out double bytes)
    {
        bytes = 0;
        if (text is null) return false;
        ReadOnlySpan<char> s = text.AsSpan().Trim();
        if (s.EndsWith("/s", StringComparison.OrdinalIgnoreCase)) s = s[..^2].TrimEnd();
        if (s.EndsWith("iB", StringComparison.OrdinalIgnoreCase)) s = s[..^2];
        else if (s.Length > 0 && s[^1] is 'B' or 'b') s = s[..^1];
        double scale = 1;
        if (s.Length > 0 && char.IsLetter(s[^1]))
        {
            // A second 'B' ("5BB") has always been read as bytes by the lab parsers; kept so no input becomes rejected.
            scale = char.ToUpperInvariant(s[^1]) switch { 'B' => 1, 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, 'T' => 1L << 40, _ => 0 };
            if (scale == 0) return false;
            s = s[..^1];
        }
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double n) || double.IsNaN(n) || double.IsInfinity(n) || n < 0)
            return false;
        double value = n * scale;
        if (value >= TwoTo64) return false;
        bytes = value;
        return true;
    }

    public static bool TryParse(string? text, out ulong bytes)
    {
        bytes = 0;
        if (!TryParse(text, out double value)) return false;
        bytes = (ulong)value;
        return true;
    }

    public static bool TryParse(string? text, out long bytes)
    {
        bytes = 0;
        if (!TryParse(text, out double value) || value >= TwoTo63) return false;
        bytes = (long)value;
        return true;
    }
}
