using System.Diagnostics;
using System.Text.RegularExpressions;

namespace MemScope.IntegrationTests.Maps;

/// <summary>A `memscope lab ...` child process: started with the built apphost, killed on dispose.</summary>
public sealed class LabProcess : IDisposable
{
    private readonly Process _process;

    public LabProcess(params string[] args)
    {
        // MEMSCOPE_BIN when set, else the built apphost (or dotnet memscope.dll)
        ProcessStartInfo psi = MemScope.TestSupport.CliRun.StartInfo(["lab", .. args], apphost: true, redirectStdin: true);
        _process = Process.Start(psi) ?? throw new InvalidOperationException("cannot start memscope lab");
    }

    public int Pid => _process.Id;

    /// <summary>The next line the lab prints (fails the test after 60 s).</summary>
    public string ReadLine()
    {
        var task = _process.StandardOutput.ReadLineAsync();
        if (!task.Wait(TimeSpan.FromSeconds(60)))
            throw new TimeoutException("memscope lab printed nothing for 60 s: " + _process.StandardError.ReadToEnd());
        return task.Result ?? throw new InvalidOperationException("memscope lab exited: " + _process.StandardError.ReadToEnd());
    }

    public void Continue() => _process.StandardInput.WriteLine();

    public static ulong Hex(string line, string pattern) =>
        Convert.ToUInt64(Regex.Match(line, pattern).Groups[1].Value, 16);

    public void Dispose()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        _process.WaitForExit(5000);
        _process.Dispose();
    }
}
