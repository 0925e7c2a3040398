using System.Globalization;
using System.Runtime.InteropServices;

namespace MemScope.Cli.Commands;

/// <summary>Size parsing and the few libc calls the address-space labs need (mmap, madvise), AOT-safe.</summary>
internal static partial class LabMemory
{
    /// <summary>Parses "25%", "25", "0.25" into a fraction 0..1.</summary>
    public static bool TryParseFraction(string text, out double fraction)
    {
        ReadOnlySpan<char> s = text.AsSpan().Trim();
        bool percent = s.EndsWith("%");
        if (percent) s = s[..^1];
        fraction = 0;
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || double.IsNaN(v)) return false;
        fraction = percent || v > 1 ? v / 100 : v;
        return fraction is >= 0 and <= 1;
    }

    public const int ProtRead = 1, ProtWrite = 2, MapPrivate = 2, MapAnonymous = 0x20, MadvNoHugepage = 15, MadvHugepage = 14;

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    public static partial nint Mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    public static partial int Madvise(nint addr, nuint length, int advice);

    /// <summary>Sleeps until killed, or for <paramref name="seconds"/> when given.</summary>
    public static void Hold(double? seconds)
    {
        if (seconds is double s) Thread.Sleep(TimeSpan.FromSeconds(s));
        else Thread.Sleep(Timeout.Infinite);
    }
}
