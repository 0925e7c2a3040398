using System.CommandLine;
using System.Globalization;
using System.Net;
using MemScope.Cli.Serve;
using MemScope.Export;

namespace MemScope.Cli.Commands;

/// <summary>
/// `memscope serve`: Prometheus /metrics, a JSON API and a live dashboard over HTTP. Read-only; loopback unless
/// --listen says otherwise.
/// </summary>
internal static class ServeCommand
{
    public const string DefaultListen = "127.0.0.1:9256";

    public static Command Create()
    {
        var listen = new Option<string>("--listen", "-l")
        {
            Description = $"Address and port to serve on (default {DefaultListen}; loopback only unless you name another address, e.g. 0.0.0.0:9256 or [::]:9256)",
            DefaultValueFactory = _ => DefaultListen,
        };
        var top = new Option<int>("--top", "-n") { Description = "Processes exported per key (bounded label cardinality, 0..500)", DefaultValueFactory = _ => 20 };
        var topBy = new Option<string>("--top-by") { Description = "Rank processes by rss, pss, uss or swap", DefaultValueFactory = _ => "rss" };
        topBy.AcceptOnlyFromAmong("rss", "pss", "uss", "swap");
        var interval = new Option<string>("--interval") { Description = "How long a snapshot is reused (e.g. 5s, 500ms, 1m); scrapes within it share one collection", DefaultValueFactory = _ => "5s" };
        var hide = new Option<bool>("--hide-cmdline") { Description = "Never expose process command lines (they can hold secrets); comm and pid only" };

        var cmd = new Command("serve", "Serve Prometheus metrics, a JSON API and a live dashboard (read-only)");
        cmd.Options.Add(listen);
        cmd.Options.Add(top);
        cmd.Options.Add(topBy);
        cmd.Options.Add(interval);
        cmd.Options.Add(hide);
        cmd.SetAction(async (parse, ct) =>
        {
            int n = parse.GetValue(top);
            if (n is < 0 or > 500) throw new CliException(ExitCodes.Usage, $"--top {n}: must be between 0 and 500");
            var options = new ServeOptions
            {
                Listen = ParseListen(parse.GetValue(listen) ?? DefaultListen),
                Top = n,
                TopBy = TopProcesses.ParseKey(parse.GetValue(topBy) ?? "rss"),
                Interval = ParseDuration(parse.GetValue(interval) ?? "5s", "--interval"),
                HideCmdline = parse.GetValue(hide),
            };
            var proc = GlobalOptions.OpenProc(parse);
            var sys = GlobalOptions.OpenSys(parse);
            TextWriter output = parse.InvocationConfiguration.Output;
            TextWriter error = parse.InvocationConfiguration.Error;
            if (!IPAddress.IsLoopback(options.Listen.Address))
                error.WriteLine($"memscope: warning: serving on {options.Listen}, reachable from other machines (read-only; firewall it or put a proxy with TLS in front)");

            var doctor = new ServeDoctor(proc, sys, options.Interval);
            await using ServeHost host = ServeHost.Create(proc, sys, options, doctor.Evaluate, ServeSources.Zones);
            try
            {
                await host.StartAsync(ct);
            }
            catch (IOException e)
            {
                throw new CliException(ExitCodes.IoError, $"cannot listen on {options.Listen}: {e.Message}");
            }
            // CliHost turns System.CommandLine's termination handling off (ct never fires on a signal), so Ctrl-C and
            // SIGTERM (systemd's stop) are ours to catch: without this, serve ignored both until SIGKILL.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var signals = new List<System.Runtime.InteropServices.PosixSignalRegistration>();
            foreach (var sig in new[] { System.Runtime.InteropServices.PosixSignal.SIGINT, System.Runtime.InteropServices.PosixSignal.SIGTERM })
                signals.Add(System.Runtime.InteropServices.PosixSignalRegistration.Create(sig, c => { c.Cancel = true; stop.Cancel(); }));
            output.WriteLine($"memscope serve: listening on {host.Address} (metrics {host.Address}metrics, dashboard {host.Address}); Ctrl-C stops");
            output.Flush();
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
            finally
            {
                foreach (var r in signals) r.Dispose();
                await host.StopAsync();
            }
            return ExitCodes.Ok;
        });
        return cmd;
    }

    /// <summary>"127.0.0.1:9256", "[::1]:9256", "0.0.0.0:9256", "localhost:9256", ":9256" (= loopback).</summary>
    public static IPEndPoint ParseListen(string s)
    {
        string text = s.Trim();
        int colon = text.LastIndexOf(':');
        if (colon < 0 || colon == text.Length - 1)
            throw new CliException(ExitCodes.Usage, $"--listen {s}: expected HOST:PORT, e.g. 127.0.0.1:9256");
        string host = text[..colon];
        string portText = text[(colon + 1)..];
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > 65535)
            throw new CliException(ExitCodes.Usage, $"--listen {s}: '{portText}' is not a port (0-65535)");
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        IPAddress address;
        if (host.Length == 0 || host.Equals("localhost", StringComparison.OrdinalIgnoreCase)) address = IPAddress.Loopback;
        else if (!IPAddress.TryParse(host, out address!))
            throw new CliException(ExitCodes.Usage, $"--listen {s}: '{host}' is not an IP address (names other than localhost are not resolved)");
        return new IPEndPoint(address, port);
    }

    /// <summary>"5s", "500ms", "2m", "1h", or a bare number of seconds (<see cref="Units.DurationText"/>), up to a day.</summary>
    public static TimeSpan ParseDuration(string s, string option)
    {
        if (!Units.DurationText.TryParse(s, out TimeSpan ts) || ts > TimeSpan.FromDays(1))
            throw new CliException(ExitCodes.Usage, $"{option} {s}: expected a duration like 5s, 500ms or 1m");
        if (ts < TimeSpan.FromMilliseconds(100))
            throw new CliException(ExitCodes.Usage, $"{option} {s}: at least 100ms");
        return ts;
    }
}
