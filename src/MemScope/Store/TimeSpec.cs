using System.Globalization;
using System.Text.RegularExpressions;
using MemScope.Units;

namespace MemScope.Store;

/// <summary>
/// Parses the times, durations and sizes the history commands take: ISO 8601 ("2026-11-27T10:15:00Z",
/// "2026-11-27 10:15"), a time of day today in local time ("10:15", "10:15:30"), relative to now ("-10m", "-2h",
/// "-1d12h", see <see cref="DurationText"/>), "now", and Unix seconds ("1795772511.5" or "@1795772511.5").
/// </summary>
public static partial class TimeSpec
{
    public static bool TryParse(string text, DateTimeOffset now, out DateTimeOffset time)
    {
        time = default;
        string s = text.Trim();
        if (s.Length == 0) return false;
        if (s.Equals("now", StringComparison.OrdinalIgnoreCase)) { time = now; return true; }
        if (s[0] == '-' && DurationText.TryParse(s[1..], out TimeSpan back)) { time = now - back; return true; }
        if (s[0] == '@' && double.TryParse(s.AsSpan(1), NumberStyles.Float, CultureInfo.InvariantCulture, out double unix))
        {
            time = DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(unix * 1000)); return true;
        }
        // A bare number of 9+ digits is Unix seconds (as `date +%s` prints; '@' is taken by response files on the command line).
        if (UnixSeconds().IsMatch(s) && double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double secs))
        {
            time = DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(secs * 1000)); return true;
        }
        if (TimeOfDay().Match(s) is { Success: true } m)
        {
            int h = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            int min = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            double sec = m.Groups[3].Success ? double.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture) : 0;
            if (h > 23 || min > 59 || sec >= 60) return false;
            DateTimeOffset local = now.ToLocalTime();
            var day = new DateTime(local.Year, local.Month, local.Day, 0, 0, 0, DateTimeKind.Unspecified);
            DateTime at = day.AddHours(h).AddMinutes(min).AddSeconds(sec);
            time = new DateTimeOffset(at, TimeZoneInfo.Local.GetUtcOffset(at));
            return true;
        }
        if (!char.IsAsciiDigit(s[0])) return false;
        return DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal | DateTimeStyles.AllowWhiteSpaces, out time);
    }

    public static DateTimeOffset Parse(string text, DateTimeOffset now, string what) =>
        TryParse(text, now, out var t) ? t
            : throw new FormatException($"{what} '{text}': not a time (use ISO 8601 like 2026-11-27T10:15:00Z, HH:MM[:SS] for today, -10m for ten minutes ago, Unix seconds, or now)");

    [GeneratedRegex(@"^\d{9,}(\.\d+)?$")]
    private static partial Regex UnixSeconds();

    [GeneratedRegex(@"^(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?$")]
    private static partial Regex TimeOfDay();
}
