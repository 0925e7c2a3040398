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
        if (!fs.LooksLikeProcfs())
            throw new CliException(ExitCodes.Usage, $"--proc-root {root}: not a procfs (no readable meminfo there)");
        return fs;
    }

    public static SysFs OpenSys(ParseResult parse) => new(parse.GetValue(SysRoot) ?? "/sys");

    public static void AddTo(RootCommand root)
    {
        root.Options.Add(ProcRoot);
        root.Options.Add(SysRoot);
        root.Options.Add(Lang);
    }
}
