using System.Diagnostics;

namespace MemScope.IntegrationTests.Leak;

/// <summary>A `memscope lab ...` workload in its own process (the apphost next to the test binaries); killed on dispose.</summary>
internal sealed class LabProcess : IDisposable
{
    private readonly Process _process;
    public int Pid => _process.Id;
    public string FirstLine { get; }

    public LabProcess(params string[] args)
    {
        // MEMSCOPE_BIN when set, else the built apphost
        ProcessStartInfo psi = MemScope.TestSupport.CliRun.StartInfo(args, apphost: true);
        _process = Process.Start(psi)!;
        // The lab prints its pid and plan first: wait for it so the runtime's start-up is over.
        FirstLine = _process.StandardOutput.ReadLine() ?? throw new InvalidOperationException(
            $"memscope {string.Join(' ', args)} printed nothing: {_process.StandardError.ReadToEnd()}");
    }

    public string ReadRest()
    {
        _process.WaitForExit(30_000);
        return _process.StandardOutput.ReadToEnd();
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        _process.WaitForExit(5000);
        _process.Dispose();
    }
}
