using System.CommandLine;
using System.CommandLine.Help;
using MemScope.Cli.Commands;

namespace MemScope.Cli;

/// <summary>The whole command line. Each command lives in Commands/, one file each; add yours to the list.</summary>
public static class CommandTree
{
    public static RootCommand Build()
    {
        RootCommand root = NewRoot();

        Command[] commands =
        [
            DoctorCommand.Create(),
            AccountCommand.Create(),
            ExplainCommand.Create(),
            TopCommand.Create(),
            SlabCommand.Create(),
            ServeCommand.Create(),
            FreeCommand.Create(),
            CgroupsCommand.Create(),
            LeakCommand.Create(),
            MapsCommand.Create(),
            PagesCommand.Create(),
            HugepagesCommand.Create(),
            LabCommand.Create(),
            VmstatCommand.Create(),
            OomCommand.Create(),
            PsCommand.Create(),
            RecordCommand.Create(),
            SwapCommand.Create(),
            FincoreCommand.Create(),
            CachestatCommand.Create(),
            CachetopCommand.Create(),
            CacheCommand.Create(),
            ReportCommand.Create(),
            DiffCommand.Create(),
            PlotCommand.Create(),
        ];
        foreach (Command c in commands) root.Subcommands.Add(c);
        return root;
    }

    /// <summary>
    /// The tree for one run. The one-shot commands people time against procps (free, vmstat, ps, maps) get a root
    /// holding only themselves: building all 25 commands' options costs more start-up than `free` does work.
    /// Anything else (help, a typo, other commands) gets the whole tree. Without a help token in the arguments their
    /// root is a plain <see cref="Command"/>: RootCommand's constructor builds its help and version options, whose
    /// descriptions load System.CommandLine's ResourceManager through reflection (~0.5 ms of a 3 ms `memscope free`
    /// in the native binary); neither option can match `memscope free ...` unless a help token is there.
    /// </summary>
    public static Command Build(string[] args)
    {
        Func<Command>? only = args.Length == 0 ? null : args[0] switch
        {
            "free" => FreeCommand.Create,
            "vmstat" => VmstatCommand.Create,
            "ps" => PsCommand.Create,
            "maps" => MapsCommand.Create,
            _ => null,
        };
        if (only is null) return Build();
        Command root = Array.Exists(args, MayAskForHelp) ? NewRoot() : NewPlainRoot();
        root.Subcommands.Add(only());
        return root;
    }

    /// <summary>`--help`, or `-?` alone or bundled with short options (`-b?`).</summary>
    private static bool MayAskForHelp(string arg) =>
        arg == "--help" || (arg.Length > 1 && arg[0] == '-' && arg[1] != '-' && arg.Contains('?'));

    private static Command NewPlainRoot()
    {
        var root = new Command(Name, Description);
        GlobalOptions.AddTo(root);
        return root;
    }

    /// <summary>The root's name, as RootCommand names itself after the executable: "memscope".</summary>
    private const string Name = "memscope";

    private const string Description = "memscope: where Linux memory went, and why";

    private static RootCommand NewRoot()
    {
        var root = new RootCommand(Description);
        // '-h' means "human" in free/ps as in procps, so help is --help or -? only.
        for (int i = root.Options.Count - 1; i >= 0; i--)
            if (root.Options[i] is HelpOption) root.Options.RemoveAt(i);
        root.Options.Add(new HelpOption("--help", "-?"));
        GlobalOptions.AddTo(root);
        return root;
    }
}
