using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using MemScope.Export;
using MemScope.Procfs;
using Xunit.Abstractions;

namespace MemScope.IntegrationTests.Serve;

/// <summary>One `memscope serve` child process shared by the tests of this class.</summary>
public sealed class ServeFixture : IDisposable
{
    public ServeProcess Server { get; } = ServeProcess.Start("--listen", "127.0.0.1:0", "--interval", "1s", "--top", "15");
    public HttpClient Http { get; }

    public ServeFixture() => Http = new HttpClient { BaseAddress = Server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

    public void Dispose()
    {
        Http.Dispose();
        Server.Dispose();
    }
}

public class ServeIntegrationTests(ServeFixture fx, ITestOutputHelper output) : IClassFixture<ServeFixture>
{
    private HttpClient Http => fx.Http;

    private static Dictionary<string, ulong> LiveMeminfo()
    {
        var m = Meminfo.Read("/proc/meminfo");
        return m.Entries.ToDictionary(e => e.Key, e => e.Value);
    }

    [Fact]
    public async Task Metrics_equal_live_proc_meminfo()
    {
        HttpResponseMessage r = await Http.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", r.Content.Headers.ContentType!.ToString());
        var samples = PromText.Parse(await r.Content.ReadAsStringAsync());
        Dictionary<string, ulong> live = LiveMeminfo();
        ulong total = live["MemTotal"];
        // Fields that do not move while the machine runs: exact.
        string[] fixedFields = ["MemTotal", "SwapTotal", "VmallocTotal", "Hugepagesize", "HugePages_Total", "CommitLimit", "DirectMap1G"];
        int compared = 0;
        foreach (var (key, value) in live)
        {
            string name = MetricsExposition.NodeMemoryName(key);
            double? got = PromText.Single(samples, name);
            Assert.True(got is not null, $"{name} (from meminfo {key}) missing from /metrics");
            if (fixedFields.Contains(key))
                Assert.Equal((double)value, got!.Value);
            else
            {
                // Moving fields: the snapshot is up to 1 s old on a busy machine; allow 5% of MemTotal of drift.
                double drift = Math.Abs(got!.Value - value);
                Assert.True(drift <= 0.05 * total, $"{name}: /metrics {got} vs /proc/meminfo {value}");
            }
            compared++;
        }
        output.WriteLine($"compared {compared} meminfo fields; MemTotal {total}");
        Assert.True(compared >= 40);
        Assert.Equal((double)total, PromText.Single(samples, "node_memory_MemTotal_bytes"));
        // PSI and vmstat come along.
        Assert.NotNull(PromText.Single(samples, "node_vmstat_pgfault"));
        if (File.Exists("/proc/pressure/memory"))
            Assert.NotNull(PromText.Single(samples, "node_pressure_memory_waiting_seconds_total"));
        // Top processes: bounded, and this test host is among the processes read.
        var rss = samples.Where(s => s.Name == "memscope_process_rss_bytes").ToList();
        Assert.InRange(rss.Count, 1, 15);
        Assert.All(rss, s => Assert.True(s.Value > 0));
        Assert.True(PromText.Single(samples, "memscope_processes") >= rss.Count);
        Assert.Contains(samples, s => s.Name == "memscope_zone_min_pages");
    }

    [Fact]
    public async Task Processes_gauge_counts_the_processes_this_test_started()
    {
        // A quiet CI box may run fewer than a dozen processes: start our own instead of assuming a busy machine.
        const int started = 12;
        static double Gauge(string text, string name) => PromText.Single(PromText.Parse(text), name)!.Value;
        var sleepers = Enumerable.Range(0, started).Select(_ => Process.Start(new ProcessStartInfo("sleep", "60"))!).ToList();
        try
        {
            // A collection begun after the sleepers started: wait out the interval, let a scrape start a refresh
            // (that scrape is answered from the previous collection), then take the next newer one.
            await Task.Delay(1100);
            double seen = Gauge(await Http.GetStringAsync("/metrics"), "memscope_collections_total");
            double processes = 0;
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(20))
            {
                string text = await Http.GetStringAsync("/metrics");
                if (Gauge(text, "memscope_collections_total") > seen + 1) { processes = Gauge(text, "memscope_processes"); break; }
                await Task.Delay(200);
            }
            int live = Directory.EnumerateDirectories("/proc").Count(d => char.IsAsciiDigit(Path.GetFileName(d)[0]));
            output.WriteLine($"memscope_processes {processes} with {started} sleepers started; /proc lists {live} now");
            // the sleepers, the server and this test host at least; and not more than /proc lists (with room for churn)
            Assert.InRange(processes, started + 2, live + 200);
        }
        finally
        {
            foreach (Process p in sleepers) { p.Kill(); p.WaitForExit(); p.Dispose(); }
        }
    }

    [SkippableFact]
    public async Task Live_exposition_passes_promtool()
    {
        string promtool = TestEnv.RequireTool("promtool");
        string text = await Http.GetStringAsync("/metrics");
        List<string> problems = Promtool.CheckMetrics(promtool, text);
        output.WriteLine($"promtool: {problems.Count} camelCase notes on node_exporter-compatible names, {Promtool.Unexpected(problems).Count} other problems");
        Assert.Empty(Promtool.Unexpected(problems));
    }

    [Fact]
    public async Task Json_api_serves_the_model()
    {
        using var snap = JsonDocument.Parse(await Http.GetStringAsync("/api/snapshot"));
        ulong total = snap.RootElement.GetProperty("memory").GetProperty("total_bytes").GetUInt64();
        Assert.Equal(LiveMeminfo()["MemTotal"], total);
        ulong sum = 0;
        foreach (JsonElement part in snap.RootElement.GetProperty("composition").EnumerateArray()) sum += part.GetProperty("bytes").GetUInt64();
        Assert.Equal(total, sum);
        Assert.Equal(total, snap.RootElement.GetProperty("meminfo").GetProperty("MemTotal").GetUInt64());

        using var procs = JsonDocument.Parse(await Http.GetStringAsync("/api/processes"));
        var list = procs.RootElement.GetProperty("processes").EnumerateArray().ToList();
        Assert.InRange(list.Count, 1, 15);
        ulong prev = ulong.MaxValue;
        foreach (JsonElement p in list)
        {
            ulong r = p.GetProperty("rss_bytes").GetUInt64();
            // Ranked by RSS when listed; each is re-read for PSS afterwards, so allow what a busy process moves meanwhile.
            Assert.True(prev == ulong.MaxValue || r <= prev + 64UL * 1048576, $"not ranked by rss: {r} after {prev}");
            prev = r;
            if (p.GetProperty("pss_bytes").ValueKind == JsonValueKind.Number)
                Assert.True(p.GetProperty("pss_bytes").GetUInt64() <= r + 4096 * 16, "PSS <= RSS");
        }
        using var findings = JsonDocument.Parse(await Http.GetStringAsync("/api/findings"));
        Assert.Equal(JsonValueKind.Array, findings.RootElement.GetProperty("findings").ValueKind);
    }

    [Fact]
    public async Task Unknown_paths_give_404_and_other_methods_405()
    {
        foreach (string path in new[] { "/nope", "/metrics/x", "/api", "/api/snapshots", "/../etc/passwd", "/index.html.bak" })
            Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync(path)).StatusCode);
        foreach (HttpMethod method in new[] { HttpMethod.Post, HttpMethod.Put, HttpMethod.Delete, HttpMethod.Patch })
            foreach (string path in new[] { "/metrics", "/api/snapshot", "/api/processes", "/api/findings", "/" })
            {
                using var req = new HttpRequestMessage(method, path) { Content = new StringContent("x") };
                Assert.Equal(HttpStatusCode.MethodNotAllowed, (await Http.SendAsync(req)).StatusCode);
            }
        // The dashboard and its assets are served from the binary.
        HttpResponseMessage page = await Http.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("chart-composition", await page.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync("/dashboard.js")).StatusCode);
        Assert.False(fx.Server.HasExited);
    }

    [Fact]
    public async Task Concurrent_scrapes_share_one_collection_per_interval()
    {
        // 20 scrapers hammer /metrics for 3 s with a 1 s interval: a few collections, thousands of scrapes.
        static double Collections(string text) => PromText.Single(PromText.Parse(text), "memscope_collections_total")!.Value;
        double before = Collections(await Http.GetStringAsync("/metrics"));
        var sw = Stopwatch.StartNew();
        int scrapes = 0;
        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(async () =>
        {
            while (sw.Elapsed < TimeSpan.FromSeconds(3))
            {
                (await Http.GetAsync("/metrics")).EnsureSuccessStatusCode();
                Interlocked.Increment(ref scrapes);
            }
        })));
        await Task.Delay(300); // let a refresh started by the last scrapes finish
        double after = Collections(await Http.GetStringAsync("/metrics"));
        double secs = sw.Elapsed.TotalSeconds;
        output.WriteLine($"{scrapes} scrapes in {secs:F1} s cost {after - before} collections (interval 1 s)");
        Assert.True(scrapes >= 100, $"only {scrapes} scrapes");
        Assert.InRange(after - before, 1, Math.Ceiling(secs) + 1);
    }

    [Fact]
    public async Task Hide_cmdline_drops_the_label_and_the_field()
    {
        using var server = ServeProcess.Start("--listen", "127.0.0.1:0", "--hide-cmdline", "--top", "5", "--top-by", "pss");
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        string text = await http.GetStringAsync("/metrics");
        Assert.DoesNotContain("cmdline=", text);
        var pss = PromText.Parse(text).Where(s => s.Name == "memscope_process_pss_bytes").Select(s => s.Value).ToList();
        Assert.InRange(pss.Count, 1, 5);
        Assert.Equal(pss.OrderByDescending(v => v), pss); // ranked by PSS
        string json = await http.GetStringAsync("/api/processes");
        using var doc = JsonDocument.Parse(json);
        Assert.True(doc.RootElement.GetProperty("cmdline_hidden").GetBoolean());
        Assert.All(doc.RootElement.GetProperty("processes").EnumerateArray(), p => Assert.Equal(JsonValueKind.Null, p.GetProperty("cmdline").ValueKind));
    }

    [Fact]
    public void Default_bind_is_loopback_only()
    {
        IPEndPoint def = Cli.Commands.ServeCommand.ParseListen(Cli.Commands.ServeCommand.DefaultListen);
        Assert.True(IPAddress.IsLoopback(def.Address));
        Assert.Equal(9256, def.Port);
        ServeProcess server;
        try
        {
            server = ServeProcess.Start(); // no --listen at all
        }
        catch (InvalidOperationException e) when (e.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase) || e.Message.Contains("cannot listen", StringComparison.Ordinal))
        {
            Skip.If(!TestEnv.InCi, "port 9256 is taken on this machine");
            throw;
        }
        using (server)
        {
            Assert.Equal(new Uri("http://127.0.0.1:9256/"), server.BaseAddress);
            // The kernel's socket table: listening (state 0A) on 127.0.0.1:9256 (0100007F:2428), nothing on 0.0.0.0 or ::.
            var listening = File.ReadLines("/proc/net/tcp").Concat(File.Exists("/proc/net/tcp6") ? File.ReadLines("/proc/net/tcp6") : [])
                .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(f => f.Length > 3 && f[3] == "0A")
                .Select(f => f[1]).Where(a => a.EndsWith(":2428", StringComparison.Ordinal)).ToList();
            Assert.Equal(["0100007F:2428"], listening);
        }
    }
}
