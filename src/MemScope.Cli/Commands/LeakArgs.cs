using System.CommandLine;
using System.CommandLine.Parsing;
using MemScope.Units;

namespace MemScope.Cli.Commands;

/// <summary>Options taking durations ("30s", "500ms", "2m", "1h") and rates ("1M/s", "512K/s", "1MiB/s") for leak and lab;
/// parsing is <see cref="DurationText"/> and <see cref="SizeText"/>.</summary>
internal static class LeakArgs
{
    public static Option<TimeSpan> DurationOption(string name, TimeSpan defaultValue, string description) => new(name)
    {
        Description = description,
        DefaultValueFactory = _ => defaultValue,
        CustomParser = r =>
        {
            string text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (DurationText.TryParse(text, out TimeSpan t)) return t;
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
            if (SizeText.TryParse(text, out double v)) return v;   // "1M/s": the "/s" is optional
            r.AddError($"{name} '{text}': expected a rate like 1M/s, 512K/s or 1048576");
            return defaultValue;
        },
    };
}
