using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace MemScope.IntegrationTests.Store;

/// <summary>A `memscope record` child process (dotnet memscope.dll from the test's output directory) with its -v lines.</summary>
internal sealed class RecorderProcess : IDisposable
{
    public Process Process { get; }
    public ConcurrentQueue<string> Lines { get; } = new();
    public ConcurrentQueue<string> ErrorLines { get; } = new();

    /// <summary>Committed samples reported by -v: (id, unix ms).</summary>
    public List<(long Id, long UnixMs, long Size)> Samples =>
        Lines.Where(l => l.StartsWith("sample ", StringComparison.Ordinal))
            .Select(l => l.Split(' '))
            .Select(p => (long.Parse(p[1], CultureInfo.InvariantCulture), long.Parse(p[2], CultureInfo.InvariantCulture),
                long.Parse(p[Array.IndexOf(p, "size") + 1], CultureInfo.InvariantCulture)))
            .ToList();

    public static string CliDll => Path.Combine(AppContext.BaseDirectory, "memscope.dll");

    public RecorderProcess(params string[] args)
    {
        ProcessStartInfo psi = MemScope.TestSupport.CliRun.StartInfo(["record", .. args]); // MEMSCOPE_BIN when set
        Process = Process.Start(psi)!;
        Process.OutputDataReceived += (_, e) => { if (e.Data is not null) Lines.Enqueue(e.Data); };
        Process.ErrorDataReceived += (_, e) => { if (e.Data is not null) ErrorLines.Enqueue(e.Data); };
        Process.BeginOutputReadLine();
        Process.BeginErrorReadLine();
    }

    public void WaitForSamples(int n, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (Samples.Count < n)
        {
            if (Process.HasExited) throw new InvalidOperationException($"recorder exited {Process.ExitCode}: {string.Join('\n', ErrorLines)}");
            if (sw.Elapsed > timeout) throw new TimeoutException($"only {Samples.Count} samples after {timeout}: {string.Join('\n', ErrorLines)}");
            Thread.Sleep(20);
        }
    }

    public int WaitForExit(TimeSpan timeout)
    {
        if (!Process.WaitForExit(timeout)) throw new TimeoutException("recorder did not exit");
        Process.WaitForExit(); // flush the async readers
        return Process.ExitCode;
    }

    public void Dispose()
    {
        try { if (!Process.HasExited) Process.Kill(); } catch (InvalidOperationException) { }
        Process.Dispose();
    }
}
