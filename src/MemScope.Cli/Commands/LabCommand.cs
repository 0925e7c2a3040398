using System.CommandLine;

namespace MemScope.Cli.Commands;

/// <summary>`memscope lab ...`: small workloads with known behaviour, for tests and demos. One subcommand per scenario.</summary>
internal static class LabCommand
{
    public static Command Create()
    {
        var cmd = new Command("lab", "Run a workload with known memory behaviour (for tests, demos and checking the other commands)");
        Command[] scenarios =
        [
            LabLeakCommand.Create(),
            LabMmapCommand.Create(),
            LabHeapCommand.Create(),
            LabShmemCommand.Create(),
            LabSlabCommand.Create(),
            LabHugepagesCommand.Create(),
            LabCacheThrashCommand.Create(),
            LabSwapCommand.Create(),
            LabOomCommand.Create(),
            LabWorkerCommand.Create(),
        ];
        foreach (Command c in scenarios) cmd.Subcommands.Add(c);
        return cmd;
    }
}
