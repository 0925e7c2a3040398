using System.Globalization;

namespace MemScope.Cli.Commands;

/// <summary>
/// Number formatting that reproduces procps-ng 4.0.2 digit for digit: free's scale_size() (C integer and float
/// arithmetic, glibc's "%.1f" rounding) and vmstat's unitConvert() (single-precision float).
/// </summary>
internal static class ProcpsFormat
{
    private static readonly char[] Up = ['B', 'K', 'M', 'G', 'T', 'P'];

    /// <summary>
    /// free's scale_size(). <paramref name="bytes"/> is the signed 64-bit product procps computes (kB × 1024, which
    /// wraps to a negative number for CommitLimit − Committed_AS when overcommitted). <paramref name="exponent"/>:
    /// 0 default (KiB, or kB with --si), 1 bytes, 2 kilo, 3 mega, 4 giga, 5 tera, 6 peta.
    /// </summary>
    public static string ScaleSize(long bytes, int exponent, bool si, bool human)
    {
        double baseValue = si ? 1000.0 : 1024.0;
        if (!human)
        {
            return exponent switch
            {
                0 => (bytes / (long)baseValue).ToString(CultureInfo.InvariantCulture),
                1 => bytes.ToString(CultureInfo.InvariantCulture),
                _ => Truncate(bytes / Power(baseValue, exponent - 1)),
            };
        }

        string buf = bytes.ToString(CultureInfo.InvariantCulture) + "B";
        if (buf.Length <= 4) return buf;
        for (int i = 1; i < Up.Length; i++)
        {
            double scaled = bytes / Power(baseValue, i);
            string suffix = si ? Up[i].ToString() : Up[i] + "i";
            int limit = si ? 4 : 5;
            buf = FormatFixed1((float)scaled) + suffix;
            if (buf.Length <= limit) return buf;
            buf = Truncate(scaled) + suffix;
            if (buf.Length <= limit) return buf;
        }
        return buf;
    }

    private static double Power(double b, int e)
    {
        double r = 1;
        for (int i = 0; i < e; i++) r *= b;
        return r;
    }

    /// <summary>C's (long) cast of a double: truncation toward zero.</summary>
    private static string Truncate(double v)
    {
        double t = Math.Truncate(v);
        if (t >= 9.2e18 || t <= -9.2e18) return ((long)Math.Clamp(t, long.MinValue, long.MaxValue)).ToString(CultureInfo.InvariantCulture);
        return ((long)t).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// glibc printf("%.1f") of a float promoted to double: the exact binary value rounded to one decimal, ties to
    /// even; a negative value keeps its sign even when it rounds to zero ("-0.0").
    /// </summary>
    public static string FormatFixed1(float value)
    {
        if (float.IsNaN(value)) return "nan";
        if (float.IsInfinity(value)) return value > 0 ? "inf" : "-inf";
        bool negative = value < 0 || (value == 0 && float.IsNegative(value));
        double v = Math.Abs((double)value);
        // A float has a 24-bit mantissa, so v × 10 is exact in a double (53 bits).
        double t = v * 10;
        double floor = Math.Floor(t);
        double frac = t - floor;
        if (frac > 0.5 || (frac == 0.5 && Math.IEEERemainder(floor, 2) != 0)) floor += 1;
        // floor is an integer-valued double; print it exactly.
        string digits = floor < 1e15
            ? ((long)floor).ToString(CultureInfo.InvariantCulture)
            : new System.Numerics.BigInteger(floor).ToString(CultureInfo.InvariantCulture);
        if (digits.Length < 2) digits = digits.PadLeft(2, '0');
        string text = digits[..^1] + "." + digits[^1];
        return negative ? "-" + text : text;
    }

    /// <summary>
    /// vmstat's unitConvert(): <c>(unsigned long)((float)kb / dataUnit * 1024)</c>, computed in single precision as
    /// procps does (so large KiB figures round to the nearest float, exactly like the real vmstat).
    /// </summary>
    public static ulong UnitConvert(ulong kb, ulong dataUnit)
    {
        float cv = (float)kb / (float)dataUnit * 1024f;
        return cv <= 0 ? 0 : cv >= 1.8446744e19f ? ulong.MaxValue : (ulong)cv;
    }
}
