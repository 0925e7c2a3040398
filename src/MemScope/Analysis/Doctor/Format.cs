using System.Globalization;

namespace MemScope.Analysis.Doctor;

/// <summary>Figures as the evidence lines print them.</summary>
internal static class Format
{
    private static readonly string[] Units = ["B", "KiB", "MiB", "GiB", "TiB"];

    public static string Bytes(double bytes)
    {
        int u = 0;
        double v = Math.Abs(bytes);
        while (v >= 1024 && u < Units.Length - 1) { v /= 1024; u++; }
        string s = u == 0 ? v.ToString("0", CultureInfo.InvariantCulture) : v.ToString(v >= 100 ? "0" : "0.0", CultureInfo.InvariantCulture);
        return (bytes < 0 ? "-" : "") + s + " " + Units[u];
    }

    public static string Bytes(ulong? bytes) => bytes is ulong b ? Bytes((double)b) : "unknown";
    public static string Bytes(ulong bytes) => Bytes((double)bytes);
    public static string Bytes(long bytes) => Bytes((double)bytes);
    public static string Rate(double bytesPerSec) => Bytes(bytesPerSec) + "/s";
    public static string Pct(double fraction) => (fraction * 100).ToString("0.0", CultureInfo.InvariantCulture) + "%";
    public static string Num(double v) => v.ToString(v >= 100 ? "0" : "0.#", CultureInfo.InvariantCulture);
    public static string Duration(double seconds) => seconds switch
    {
        < 120 => $"{seconds:0} s",
        < 7200 => $"{seconds / 60:0} min",
        < 172800 => $"{seconds / 3600:0.#} h",
        _ => $"{seconds / 86400:0.#} days",
    };
}
