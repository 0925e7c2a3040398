using System.Globalization;

namespace MemScope.Cli.Rendering;

/// <summary>Byte counts for people: binary units (KiB, MiB, GiB) with 3 significant digits; unknown as "-".</summary>
public static class HumanSize
{
    private static readonly string[] Units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

    public static string Format(long? bytes) => bytes is long b ? Format(b) : "-";
    public static string Format(ulong? bytes) => bytes is ulong b ? Format((double)b) : "-";
    public static string Format(ulong bytes) => Format((double)bytes);
    public static string Format(long bytes) => bytes < 0 ? "-" + Format((double)-bytes) : Format((double)bytes);

    public static string Format(double bytes)
    {
        int unit = 0;
        while (Math.Abs(bytes) >= 1024 && unit < Units.Length - 1)
        {
            bytes /= 1024;
            unit++;
        }
        if (unit == 0) return string.Create(CultureInfo.InvariantCulture, $"{bytes:0}B");
        string number = Math.Abs(bytes) >= 100 ? bytes.ToString("0", CultureInfo.InvariantCulture)
            : Math.Abs(bytes) >= 10 ? bytes.ToString("0.0", CultureInfo.InvariantCulture)
            : bytes.ToString("0.00", CultureInfo.InvariantCulture);
        return number + Units[unit];
    }

    /// <summary>A rate such as "1.2MiB/s"; unknown as "-".</summary>
    public static string Rate(double? bytesPerSecond) =>
        bytesPerSecond is double r ? (r < 0 ? "-" + Format(-r) : "+" + Format(r)) + "/s" : "-";

    public static string Percent(double? fraction) =>
        fraction is double f ? (f * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%" : "-";
}
