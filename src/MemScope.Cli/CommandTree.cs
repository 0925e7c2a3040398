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
    /// Anything else (help, a typo, other commands) gets the whole tree.
    /// </summary>
    public static RootCommand Build(string[] args)
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
        RootCommand root = NewRoot();
        root.Subcommands.Add(only());
        return root;
    }

    private static RootCommand NewRoot()
    {
        var root = new RootCommand("memscope: where Linux memory went, and why");
        // '-h' means "human" in free/ps as in procps, so help is --help or -? only.
        for (int i = root.Options.Count - 1; i >= 0; i--)
            if (root.Options[i] is HelpOption) root.Options.RemoveAt(i);
        root.Options.Add(new HelpOption("--help", "-?"));
        GlobalOptions.AddTo(root);
        return root;
    }
}
