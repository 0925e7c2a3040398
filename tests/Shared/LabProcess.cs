using System.Diagnostics;

namespace MemScope.TestSupport;

/// <summary>
/// A `memscope lab ...` workload run as a child process of the test (the same built memscope.dll). Waits for its
/// "pid N:" line; Dispose sends SIGTERM (so the scenario cleans up) and waits, then kills if it has to.
/// </summary>
public sealed class LabProcess : IDisposable
{
    private readonly Process _process;

    public LabProcess(params string[] args)
    {
        ProcessStartInfo psi = CliRun.StartInfo(args); // MEMSCOPE_BIN when set, else dotnet memscope.dll
        _process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start memscope");
        var ready = _process.StandardOutput.ReadLineAsync();
        if (!ready.Wait(TimeSpan.FromSeconds(120)) || ready.Result is null)
        {
            string err = _process.HasExited ? _process.StandardError.ReadToEnd() : "(still running)";
            Kill();
            throw new InvalidOperationException($"memscope {string.Join(' ', args)} did not report ready: {err}");
        }
        FirstLine = ready.Result;
    }

    public int Pid => _process.Id;
    public string FirstLine { get; }
    public bool HasExited => _process.HasExited;

    /// <summary>SIGTERM and wait for a clean exit (the scenario's cleanup runs).</summary>
    public int Stop(TimeSpan? timeout = null)
    {
        if (!_process.HasExited)
        {
            Signal(_process.Id, 15);
            if (!_process.WaitForExit(timeout ?? TimeSpan.FromSeconds(60))) Kill();
        }
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>For a lab that ends by itself: waits for its own exit (no signal that could race its cleanup).</summary>
    public int WaitForExit(TimeSpan? timeout = null)
    {
        if (!_process.WaitForExit(timeout ?? TimeSpan.FromSeconds(60))) return Stop();
        _process.WaitForExit();
        return _process.ExitCode;
    }

    public void Kill()
    {
        try { _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        _process.WaitForExit();
    }

    public void Dispose()
    {
        Stop();
        _process.Dispose();
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Signal(int pid, int signal);
}
