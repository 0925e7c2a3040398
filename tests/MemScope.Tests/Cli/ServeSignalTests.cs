using MemScope.TestSupport;
using Xunit;

namespace MemScope.Tests.Cli;

/// <summary>
/// `memscope serve` as a child process (LabProcess: the built memscope.dll, or MEMSCOPE_BIN) must stop on SIGTERM —
/// systemd's stop signal for deploy/memscope-serve.service — with exit 0. It used to ignore it until SIGKILL.
/// </summary>
public class ServeSignalTests
{
    [Fact]
    public void Serve_stops_on_sigterm_with_exit_0()
    {
        using var serve = new LabProcess("serve", "--listen", "127.0.0.1:0");
        Assert.StartsWith("memscope serve: listening on http://127.0.0.1:", serve.FirstLine);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        int rc = serve.Stop(TimeSpan.FromSeconds(20)); // killed (exit 137) when it does not stop by itself
        Assert.Equal(0, rc);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), $"took {watch.Elapsed}");
    }
}
