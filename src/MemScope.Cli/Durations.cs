using MemScope.Units;

namespace MemScope.Cli;

/// <summary>Reads a duration option or fails with a usage error; parsing is <see cref="DurationText"/>.</summary>
public static class Durations
{
    public static TimeSpan Parse(string text, string option, bool allowZero = false)
    {
        if (!DurationText.TryParse(text, out TimeSpan value) || (!allowZero && value == TimeSpan.Zero))
            throw new CliException(ExitCodes.Usage, $"{option} {text}: not a valid duration (examples: 500ms, 5s, 2m, 1h)");
        return value;
    }
}
