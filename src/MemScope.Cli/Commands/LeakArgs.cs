using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace MemScope.Cli.Commands;

/// <summary>Parsers for durations ("30s", "500ms", "2m", "1h") and rates ("1M/s", "512K/s", "1MiB/s") used by leak and lab.</summary>
internal static class LeakArgs
{
    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        string s = text.Trim().ToLowerInvariant();
        (string unit, double scale)[] units = [("ms", 0.001), ("s", 1), ("m", 60), ("min", 60), ("h", 3600)];
        double factor = 1;
        foreach ((string unit, double scale) in units.OrderByDescending(u => u.unit.Length))
            if (s.EndsWith(unit, StringComparison.Ordinal) && !char.IsAsciiLetter(s[..^unit.Length].LastOrDefault()))
            {
                s = s[..^unit.Length];
                factor = scale;
                break;
            }
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double n) || n < 0 || double.IsInfinity(n)) return false;
        value = TimeSpan.FromSeconds(n * factor);
        return true;
    }

    /// <summary>"1M/s", "1MiB/s", "512k", "1048576": bytes per second; K/M/G are powers of 1024.</summary>
    public static bool TryParseRate(string text, out double bytesPerSec)
    {
        bytesPerSec = 0;
        string s = text.Trim();
        if (s.EndsWith("/s", StringComparison.OrdinalIgnoreCase)) s = s[..^2];
        return TryParseSize(s, out bytesPerSec);
    }

    public static bool TryParseSize(string text, out double bytes)
    {
        bytes = 0;
        string s = text.Trim();
        foreach (string suffix in new[] { "iB", "B", "b" })
            if (s.EndsWith(suffix, StringComparison.Ordinal) && s.Length > suffix.Length) { s = s[..^suffix.Length]; break; }
        double scale = 1;
        if (s.Length > 0)
        {
            switch (char.ToUpperInvariant(s[^1]))
            {
                case 'K': scale = 1024; s = s[..^1]; break;
                case 'M': scale = 1024 * 1024; s = s[..^1]; break;
                case 'G': scale = 1024.0 * 1024 * 1024; s = s[..^1]; break;
            }
        }
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double n) || n < 0 || double.IsInfinity(n)) return false;
        bytes = n * scale;
        return true;
    }

    public static Option<TimeSpan> DurationOption(string name, TimeSpan defaultValue, string description) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r =>
        {
            string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (TryParseDuration(text, out TimeSpan t)) return t;
            r.AddError($"{name} '{text}': expected a duration like 30s, 500ms, 2m or 1h");
            return defaultValue;
        },
    };

    public static Option<double> RateOption(string name, double defaultValue, string description) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r =>
        {
            string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (TryParseRate(text, out double v)) return v;
            r.AddError($"{name} '{text}': expected a rate like 1M/s, 512K/s or 1048576");
            return defaultValue;
        },
    };
}
