using System.Diagnostics;
using MemScope.Cli;

namespace MemScope.TestSupport;

/// <summary>Exit code and captured output of one memscope run.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr);

/// <summary>
/// Runs the CLI with captured stdout/stderr: in-process through <see cref="CliHost.Run"/> by default, or — when the
/// environment variable MEMSCOPE_BIN names an executable (the Native AOT build in CI) — as a child process of that
/// binary with the same arguments, stdin closed and the test's environment. Child processes that tests start
/// themselves (labs, record, serve) should come from <see cref="StartInfo"/> so they run the same binary.
/// </summary>
public static class CliRun
{
    /// <summary>The binary under test (full path) when MEMSCOPE_BIN is set, else null (in-process / JIT build).</summary>
    public static string? Binary { get; } = ResolveBinary();

    /// <summary>True when the tests run against an external binary (MEMSCOPE_BIN).</summary>
    public static bool UsingBinary => Binary is not null;

    /// <summary>How long one child run may take before it is killed and the test fails (MEMSCOPE_BIN_TIMEOUT seconds).</summary>
    public static TimeSpan ChildTimeout { get; } = TimeSpan.FromSeconds(
        int.TryParse(Environment.GetEnvironmentVariable("MEMSCOPE_BIN_TIMEOUT"), out int s) && s > 0 ? s : 600);

    public static CliResult Run(params string[] args) => Binary is null ? RunInProcess(args) : RunChild(args);

    /// <summary>Always in-process, for tests that need the CLI's process (its pid, its state) to be the test's own.</summary>
    public static CliResult RunInProcess(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliHost.Run(args, stdout, stderr);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>
    /// A start description for memscope as a child process: MEMSCOPE_BIN when set; otherwise the build next to the
    /// tests, as the apphost (<paramref name="apphost"/>, when present) or `dotnet memscope.dll`. Output is
    /// redirected; stdin is redirected only when asked (the caller then owns it).
    /// </summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args, bool apphost = false, bool redirectStdin = false)
    {
        string[] command = Command(apphost);
        var psi = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = redirectStdin,
            UseShellExecute = false,
        };
        foreach (string a in command.Skip(1).Concat(args)) psi.ArgumentList.Add(a);
        return psi;
    }

    /// <summary>The command line that starts memscope (before its arguments): [MEMSCOPE_BIN], [apphost] or [dotnet, memscope.dll].</summary>
    public static string[] Command(bool apphost = false)
    {
        if (Binary is not null) return [Binary];
        string appHost = Path.Combine(AppContext.BaseDirectory, "memscope");
        if (apphost && File.Exists(appHost)) return [appHost];
        string dotnet = Environment.ProcessPath is string p && Path.GetFileNameWithoutExtension(p) == "dotnet" ? p : "dotnet";
        return [dotnet, Path.Combine(AppContext.BaseDirectory, "memscope.dll")];
    }

    private static CliResult RunChild(string[] args)
    {
        // stdin is a closed pipe (as for a command in a script): nothing waits for a key, and `top` sees no terminal.
        ProcessStartInfo psi = StartInfo(args, redirectStdin: true);
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {Binary}");
        p.StandardInput.Close();
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(ChildTimeout))
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            p.WaitForExit();
            throw new TimeoutException(
                $"{Binary} {string.Join(' ', args)} did not exit within {ChildTimeout.TotalSeconds:F0} s; stderr: {stderr.Result}");
        }
        p.WaitForExit(); // the redirected streams are complete
        return new CliResult(p.ExitCode, stdout.Result, stderr.Result);
    }

    private static string? ResolveBinary()
    {
        string? bin = Environment.GetEnvironmentVariable("MEMSCOPE_BIN");
        if (string.IsNullOrEmpty(bin)) return null;
        string full = Path.GetFullPath(bin);
        if (!File.Exists(full)) throw new InvalidOperationException($"MEMSCOPE_BIN={bin}: no such file");
        return full;
    }
}
