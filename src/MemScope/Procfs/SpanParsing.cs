using System.Globalization;

namespace MemScope.Procfs;

/// <summary>Small span helpers shared by the kernel-file parsers. No allocation on the happy path.</summary>
public static class SpanParsing
{
    /// <summary>Parses an unsigned decimal integer, no sign, no spaces.</summary>
    public static bool TryParseULong(ReadOnlySpan<char> s, out ulong value) =>
        ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    /// <summary>Parses a possibly negative decimal integer.</summary>
    public static bool TryParseLong(ReadOnlySpan<char> s, out long value) =>
        long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

    public static bool TryParseHex(ReadOnlySpan<char> s, out ulong value) =>
        ulong.TryParse(s, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);

    public static bool TryParseDouble(ReadOnlySpan<char> s, out double value) =>
        double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out value);

    /// <summary>Returns the next whitespace-separated token and advances <paramref name="rest"/> past it.</summary>
    public static ReadOnlySpan<char> NextToken(ref ReadOnlySpan<char> rest)
    {
        rest = rest.TrimStart();
        int end = rest.IndexOfAny(' ', '\t', '\n');
        if (end < 0) end = rest.Length;
        ReadOnlySpan<char> token = rest[..end];
        rest = rest[end..];
        return token;
    }

    /// <summary>
    /// Splits a "Key: value [kB]" line (meminfo, status, smaps) at the first colon. Tolerates no space after the
    /// colon (the kernel drops it when a number fills the column).
    /// </summary>
    public static bool TrySplitKeyValue(ReadOnlySpan<char> line, out ReadOnlySpan<char> key, out ReadOnlySpan<char> value)
    {
        int colon = line.IndexOf(':');
        if (colon <= 0)
        {
            key = value = default;
            return false;
        }
        key = line[..colon].Trim();
        value = line[(colon + 1)..].Trim();
        return key.Length > 0;
    }

    /// <summary>Parses "123 kB" or "123" into a value and whether it was in kB.</summary>
    public static bool TryParseSizeValue(ReadOnlySpan<char> value, out long number, out bool kilobytes)
    {
        kilobytes = false;
        ReadOnlySpan<char> rest = value;
        ReadOnlySpan<char> digits = NextToken(ref rest);
        if (!TryParseLong(digits, out number)) return false;
        rest = rest.Trim();
        if (rest.Length == 0) return true;
        if (rest.Equals("kB", StringComparison.Ordinal) || rest.Equals("KB", StringComparison.Ordinal) || rest.Equals("kb", StringComparison.Ordinal))
        {
            kilobytes = true;
            return true;
        }
        return false;
    }
}
