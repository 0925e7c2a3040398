using MemScope.Cli;

namespace MemScope.TestSupport;

/// <summary>Runs the CLI in-process with captured stdout/stderr.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr);

public static class CliRun
{
    public static CliResult Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliHost.Run(args, stdout, stderr);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }
}
