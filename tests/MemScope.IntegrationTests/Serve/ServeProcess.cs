using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace MemScope.IntegrationTests.Serve;

/// <summary>
/// `memscope serve` as a child process (the real binary, `dotnet memscope.dll`), on a loopback port the kernel picks.
/// Killed (with its process tree) on Dispose.
/// </summary>
public sealed partial class ServeProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _stderr = [];

    public Uri BaseAddress { get; }
    public int Pid => _process.Id;
    public string Stderr { get { lock (_stderr) return string.Join('\n', _stderr); } }

    private ServeProcess(Process p, Uri address)
    {
        _process = p;
        BaseAddress = address;
    }

    public static string CliDll => Path.Combine(AppContext.BaseDirectory, "memscope.dll");

    /// <summary>Starts the server and waits for its "listening on" line. Pass no --listen to test the default bind.</summary>
    public static ServeProcess Start(params string[] args)
    {
        ProcessStartInfo psi = MemScope.TestSupport.CliRun.StartInfo(["serve", .. args]); // MEMSCOPE_BIN when set
        psi.Environment["DOTNET_gcServer"] = "0";
        var p = Process.Start(psi)!;
        var lines = new List<string>();
        var ready = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        p.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) { ready.TrySetException(new InvalidOperationException("memscope serve exited before listening")); return; }
            Match m = Listening().Match(e.Data);
            if (m.Success) ready.TrySetResult(new Uri(m.Groups[1].Value));
        };
        var self = new List<string>();
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (self) self.Add(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        try
        {
            if (!ready.Task.Wait(TimeSpan.FromSeconds(60))) throw new TimeoutException("memscope serve did not start within 60 s");
        }
        catch
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            p.WaitForExit(5000);
            lock (self) throw new InvalidOperationException($"memscope serve failed to start: {string.Join('\n', self)}");
        }
        var sp = new ServeProcess(p, ready.Task.Result);
        lock (self) sp._stderr.AddRange(self);
        return sp;
    }

    public bool HasExited => _process.HasExited;

    /// <summary>VmRSS of the server process in bytes.</summary>
    public long RssBytes()
    {
        foreach (string line in File.ReadLines($"/proc/{Pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        throw new InvalidOperationException("no VmRSS");
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
    }

    /// <summary>A TCP port free on loopback right now (for servers that need one up front, like Prometheus).</summary>
    public static int FreeLoopbackPort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"listening on (http://\S+/)")]
    private static partial Regex Listening();
}
