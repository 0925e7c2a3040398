using System.Globalization;

namespace MemScope.Cli;

/// <summary>Parses durations as people write them: 500ms, 5s, 2m, 1h, 7d, or a plain number of seconds.</summary>
public static class Durations
{
    public static TimeSpan Parse(string text, string option, bool allowZero = false)
    {
        if (!TryParse(text, out TimeSpan value) || value < TimeSpan.Zero || (!allowZero && value == TimeSpan.Zero))
            throw new CliException(ExitCodes.Usage, $"{option} {text}: not a valid duration (examples: 500ms, 5s, 2m, 1h)");
        return value;
    }

    public static bool TryParse(string text, out TimeSpan value)
    {
        value = default;
        string s = text.Trim().ToLowerInvariant();
        (string unit, double scale) = s.EndsWith("ms") ? ("ms", 0.001) : s.EndsWith('s') ? ("s", 1) : s.EndsWith('m') ? ("m", 60)
            : s.EndsWith('h') ? ("h", 3600) : s.EndsWith('d') ? ("d", 86400) : ("", 1);
        string number = s[..^unit.Length];
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double n) || double.IsNaN(n) || double.IsInfinity(n) || n > 1e9)
            return false;
        value = TimeSpan.FromSeconds(n * scale);
        return true;
    }
}
