using System.CommandLine;
using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.Cli;

/// <summary>Options every command understands: where /proc and /sys are, and the language of explanations.</summary>
public static class GlobalOptions
{
    public static readonly Option<string> ProcRoot = new("--proc-root")
    {
        Description = "Read procfs from this directory (e.g. /host/proc in a container, or a fixture tree)",
        DefaultValueFactory = _ => "/proc",
        Recursive = true,
    };

    public static readonly Option<string> SysRoot = new("--sys-root")
    {
        Description = "Read sysfs from this directory",
        DefaultValueFactory = _ => "/sys",
        Recursive = true,
    };

    public static readonly Option<string?> Lang = new("--lang")
    {
        Description = "Language of explanations and findings: en or zh (default from LC_ALL/LANG)",
        Recursive = true,
    };

    /// <summary>Opens and validates the procfs root; a directory that is not a procfs gives one clear error.</summary>
    public static ProcFs OpenProc(ParseResult parse)
    {
        string root = parse.GetValue(ProcRoot) ?? "/proc";
        var fs = new ProcFs(root);
        // The default /proc is the kernel's own: checking it costs a second meminfo read in every command (start-up
        // time of `free`); a --proc-root given by the user is checked.
        if (parse.GetResult(ProcRoot) is not { Implicit: false } && root == "/proc") return fs;
        if (!fs.LooksLikeProcfs())
            throw new CliException(ExitCodes.Usage, $"--proc-root {root}: not a procfs (no readable meminfo there)");
        return fs;
    }

    /// <summary>"zh" or "en": --lang, else LC_ALL / LC_MESSAGES / LANG starting with "zh", else English.</summary>
    public static string LanguageOf(ParseResult parse)
    {
        string? asked = parse.GetValue(Lang);
        if (asked is not null)
        {
            string l = asked.Trim().ToLowerInvariant();
            if (l.StartsWith("zh", StringComparison.Ordinal)) return "zh";
            if (l.StartsWith("en", StringComparison.Ordinal)) return "en";
            throw new CliException(ExitCodes.Usage, $"--lang {asked}: unknown language (use en or zh)");
        }
        foreach (string variable in new[] { "LC_ALL", "LC_MESSAGES", "LANG" })
        {
            string? value = Environment.GetEnvironmentVariable(variable);
            if (string.IsNullOrEmpty(value)) continue;
            return value.StartsWith("zh", StringComparison.OrdinalIgnoreCase) ? "zh" : "en";
        }
        return "en";
    }

    public static SysFs OpenSys(ParseResult parse) => new(parse.GetValue(SysRoot) ?? "/sys");

    public static void AddTo(Command root)
    {
        root.Options.Add(ProcRoot);
        root.Options.Add(SysRoot);
        root.Options.Add(Lang);
    }
}
