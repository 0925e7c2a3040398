using MemScope.Procfs;

namespace MemScope.Cli.Commands;

/// <summary>`memscope leak PID --trace`: uprobes on the allocator, outstanding allocations by stack.</summary>
internal static class LeakTraceCommand
{
    public static int Run(ProcFs proc, int pid, TimeSpan? duration, TimeSpan interval, int top, TimeSpan olderThan, int sampleEvery,
        bool json, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        throw new CliException(ExitCodes.Unsupported, "--trace is not built yet");
    }
}
