using System.Globalization;

namespace MemScope.Units;

/// <summary>
/// The one parser for durations typed on a command line (record --interval/--retain, relative times "-10m" in the
/// history commands, doctor/leak/serve --duration/--interval, lab --duration).
/// Accepted: a plain non-negative number of seconds ("5", "0.5", "1e3"), or one or more parts "number unit" with
/// optional spaces ("500ms", "5 s", "1h30m", "1.5h"), units case-insensitive: ms, s, m or min (minutes), h, d, w.
/// Numbers use the invariant culture (".5", "+2", "1e3" are numbers).
/// <para>Rejected: null/empty, negative parts, NaN/infinity, unknown units ("5x", "5 parsecs", "1y"), a unit with no
/// number, and totals that do not fit a <see cref="TimeSpan"/>. Zero is accepted ("0", "0s"); whether an option
/// allows it (and its minimum/maximum) is that option's decision.</para>
/// </summary>
public static class DurationText
{
    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = default;
        if (text is null) return false;
        ReadOnlySpan<char> s = text.AsSpan().Trim();
        if (s.IsEmpty) return false;
        double ticks;
        if (double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double plain))
        {
            if (!Valid(plain)) return false;
            ticks = plain * TimeSpan.TicksPerSecond;
        }
        else
        {
            ticks = 0;
            while (!s.IsEmpty)
            {
                int end = NumberLength(s);
                if (end == 0 || !double.TryParse(s[..end], NumberStyles.Float, CultureInfo.InvariantCulture, out double n) || !Valid(n))
                    return false;
                s = s[end..].TrimStart();
                int letters = 0;
                while (letters < s.Length && char.IsAsciiLetter(s[letters])) letters++;
                long unit = UnitTicks(s[..letters]);
                if (unit == 0) return false;
                ticks += n * unit;
                s = s[letters..].TrimStart();
            }
        }
        if (!(ticks < TimeSpan.MaxValue.Ticks)) return false;
        duration = TimeSpan.FromTicks((long)Math.Round(ticks));
        return true;
    }

    private static bool Valid(double n) => n >= 0 && !double.IsInfinity(n);   // NaN fails n >= 0

    /// <summary>Length of the number at the start of <paramref name="s"/>: sign, digits, point, exponent.</summary>
    private static int NumberLength(ReadOnlySpan<char> s)
    {
        int i = 0;
        if (i < s.Length && s[i] is '+' or '-') i++;
        while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.')) i++;
        if (i < s.Length && s[i] is 'e' or 'E')
        {
            int j = i + 1;
            if (j < s.Length && s[j] is '+' or '-') j++;
            if (j < s.Length && char.IsAsciiDigit(s[j]))
            {
                while (j < s.Length && char.IsAsciiDigit(s[j])) j++;
                i = j;
            }
        }
        return i;
    }

    private static long UnitTicks(ReadOnlySpan<char> unit)
    {
        Span<char> lower = stackalloc char[3];
        if (unit.Length is 0 or > 3) return 0;
        int len = unit.ToLowerInvariant(lower);
        return lower[..len] switch
        {
            "ms" => TimeSpan.TicksPerMillisecond,
            "s" => TimeSpan.TicksPerSecond,
            "m" or "min" => TimeSpan.TicksPerMinute,
            "h" => TimeSpan.TicksPerHour,
            "d" => TimeSpan.TicksPerDay,
            "w" => 7 * TimeSpan.TicksPerDay,
            _ => 0,
        };
    }
}
