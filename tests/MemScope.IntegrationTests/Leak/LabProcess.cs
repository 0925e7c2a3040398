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
        var psi = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "memscope"))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (string a in args) psi.ArgumentList.Add(a);
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
