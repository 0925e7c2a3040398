using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using MemScope.Procfs;
using Xunit.Abstractions;

namespace MemScope.IntegrationTests.Serve;

/// <summary>
/// `memscope serve` against real consumers: Debian's Prometheus server, headless Chromium, and 50 concurrent scrapers.
/// Every server and browser started here is killed at the end of its test. Needs the Debian packages prometheus and
/// chromium (.ci/install-deps.sh); outside CI a missing one skips the test.
/// </summary>
public class ServeFleetTests(ITestOutputHelper output)
{
    private static string TempDir(string what)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"memscope_{what}_{Environment.ProcessId}_{Guid.NewGuid():N}"[..48]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    [SkippableFact]
    public async Task Prometheus_scrapes_serve_and_answers_MemTotal_for_the_target()
    {
        string prometheus = TestEnv.RequireTool("prometheus");
        using ServeProcess serve = ServeProcess.Start("--listen", "127.0.0.1:0", "--interval", "1s");
        string target = $"{serve.BaseAddress.Host}:{serve.BaseAddress.Port}";
        int promPort = ServeProcess.FreeLoopbackPort();
        string dir = TempDir("prom");
        string config = Path.Combine(dir, "prometheus.yml");
        File.WriteAllText(config, $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
            scrape_configs:
              - job_name: memscope
                static_configs:
                  - targets: ['{target}']
            """);
        var psi = new ProcessStartInfo(prometheus) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { $"--config.file={config}", $"--storage.tsdb.path={Path.Combine(dir, "data")}",
                     $"--web.listen-address=127.0.0.1:{promPort}", "--log.level=warn", "--storage.tsdb.retention.time=1h" })
            psi.ArgumentList.Add(a);
        using Process prom = Process.Start(psi)!;
        var promLog = new List<string>();
        prom.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (promLog) promLog.Add(e.Data); };
        prom.OutputDataReceived += (_, e) => { };
        prom.BeginErrorReadLine();
        prom.BeginOutputReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{promPort}"), Timeout = TimeSpan.FromSeconds(5) };
            ulong memTotal = Meminfo.Read("/proc/meminfo").MemTotal!.Value;
            JsonElement? sample = null;
            var sw = Stopwatch.StartNew();
            while (sw.Elapsed < TimeSpan.FromSeconds(60) && sample is null)
            {
                await Task.Delay(500);
                Assert.False(prom.HasExited, $"prometheus exited: {string.Join('\n', promLog)}");
                try
                {
                    string body = await http.GetStringAsync("/api/v1/query?query=" + Uri.EscapeDataString("node_memory_MemTotal_bytes{job=\"memscope\"}"));
                    using var doc = JsonDocument.Parse(body);
                    var result = doc.RootElement.GetProperty("data").GetProperty("result");
                    if (result.GetArrayLength() > 0) sample = result[0].Clone();
                }
                catch (HttpRequestException) { /* not up yet */ }
                catch (TaskCanceledException) { }
            }
            Assert.True(sample is not null, $"Prometheus never had node_memory_MemTotal_bytes for {target} within 60 s; log: {string.Join('\n', promLog)}");
            JsonElement s = sample!.Value;
            Assert.Equal(target, s.GetProperty("metric").GetProperty("instance").GetString());
            double value = double.Parse(s.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
            Assert.Equal((double)memTotal, value);
            output.WriteLine($"Prometheus {promPort} scraped {target} after {sw.Elapsed.TotalSeconds:F1} s: node_memory_MemTotal_bytes = {value}");

            // The scrape was healthy, and MemScope's own series are there too.
            string up = await http.GetStringAsync("/api/v1/query?query=" + Uri.EscapeDataString("up{job=\"memscope\"}"));
            Assert.Contains("\"1\"", up);
            string procs = await http.GetStringAsync("/api/v1/query?query=" + Uri.EscapeDataString("count(memscope_process_rss_bytes)"));
            using var pd = JsonDocument.Parse(procs);
            Assert.True(double.Parse(pd.RootElement.GetProperty("data").GetProperty("result")[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture) >= 1);
        }
        finally
        {
            if (!prom.HasExited) { prom.Kill(entireProcessTree: true); prom.WaitForExit(10_000); }
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
        }
    }

    private static string[] ChromiumArgs(string profile) =>
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-dev-shm-usage", $"--user-data-dir={profile}", "--window-size=1280,1500",
        "--virtual-time-budget=8000",
    ];

    private static (int Code, string Stdout, string Stderr) RunChromium(string chromium, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(chromium) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using Process p = Process.Start(psi)!;
        Task<string> so = p.StandardOutput.ReadToEndAsync(), se = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(90_000))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit(10_000);
            throw new TimeoutException("chromium did not finish within 90 s");
        }
        return (p.ExitCode, so.Result, se.Result);
    }

    [SkippableFact]
    public void Dashboard_renders_charts_with_data_and_findings_in_headless_chromium()
    {
        string? chromium = File.Exists("/usr/bin/chromium") ? "/usr/bin/chromium" : TestEnv.Which("chromium");
        TestEnv.Require(chromium is not null, "Debian's chromium (.ci/install-deps.sh installs it)");
        using ServeProcess serve = ServeProcess.Start("--listen", "127.0.0.1:0", "--interval", "1s", "--top", "12");
        string profile = TempDir("chromium");
        try
        {
            string url = serve.BaseAddress.ToString();
            var dom = RunChromium(chromium!, [.. ChromiumArgs(profile), "--dump-dom", url]);
            Assert.True(dom.Code == 0, $"chromium --dump-dom exited {dom.Code}: {dom.Stderr}");
            string html = dom.Stdout;
            // Charts drawn from live data: each SVG has at least one data point and its series paths.
            foreach (string chart in new[] { "chart-composition", "chart-swap", "chart-swapio" })
            {
                var m = System.Text.RegularExpressions.Regex.Match(html, $"id=\"{chart}\"[^>]*data-points=\"(\\d+)\"");
                Assert.True(m.Success && int.Parse(m.Groups[1].Value) >= 1, $"{chart} has no data points");
            }
            foreach (string series in new[] { "anon", "cache", "free", "swap-used" })
                Assert.Contains($"data-series=\"{series}\"", html);
            // Swap I/O rates need two snapshots: either drawn, or the chart says it waits (never a fake 0 line).
            Assert.True(html.Contains("data-series=\"swap-in\"") || html.Contains("data-state=\"waiting\""), "swap I/O chart neither drawn nor waiting");
            Assert.Contains("class=\"status ok\"", html);
            // Findings list loaded (the doctor's findings, or the healthy / unavailable line).
            Assert.Matches("id=\"findings\"[^>]*data-loaded=\"true\"", html);
            Assert.True(html.Contains("class=\"finding ") || html.Contains("class=\"healthy\""), "findings list shows neither findings nor the healthy line");
            // Top processes table filled from /api/processes.
            int rows = System.Text.RegularExpressions.Regex.Matches(html, "<tr data-pid=\"\\d+\"").Count;
            Assert.InRange(rows, 1, 12);
            // MemTotal shown in the summary is the machine's.
            Assert.DoesNotContain("id=\"s-total\">–<", html);

            string shot = Path.Combine(Paths.RepoRoot, "artifacts", "serve-dashboard.png");
            Directory.CreateDirectory(Path.GetDirectoryName(shot)!);
            File.Delete(shot);
            var png = RunChromium(chromium!, [.. ChromiumArgs(profile), $"--screenshot={shot}", url]);
            Assert.True(png.Code == 0, $"chromium --screenshot exited {png.Code}: {png.Stderr}");
            byte[] bytes = File.ReadAllBytes(shot);
            Assert.True(bytes.Length > 20_000, "screenshot too small to hold the dashboard");
            Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
            output.WriteLine($"dashboard screenshot: {shot} ({bytes.Length} bytes), {rows} process rows");
        }
        finally
        {
            try { Directory.Delete(profile, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public async Task Fifty_concurrent_scrapers_for_10_s_get_only_200s_and_rss_stays_bounded()
    {
        using ServeProcess serve = ServeProcess.Start("--listen", "127.0.0.1:0", "--interval", "1s");
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 50, PooledConnectionLifetime = TimeSpan.FromMinutes(5) };
        using var http = new HttpClient(handler) { BaseAddress = serve.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        (await http.GetAsync("/metrics")).EnsureSuccessStatusCode(); // warm up: JIT, first collection
        long rssStart = serve.RssBytes();
        long rssPeak = rssStart;
        var statuses = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var latencies = new System.Collections.Concurrent.ConcurrentBag<double>();
        long bytes = 0;
        var duration = TimeSpan.FromSeconds(10);
        var sw = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource(duration);
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                rssPeak = Math.Max(rssPeak, serve.RssBytes());
                try { await Task.Delay(250, stop.Token); } catch (OperationCanceledException) { }
            }
        });
        var clients = Enumerable.Range(0, 50).Select(_ => Task.Run(async () =>
        {
            while (sw.Elapsed < duration)
            {
                var t = Stopwatch.StartNew();
                string key;
                try
                {
                    using HttpResponseMessage r = await http.GetAsync("/metrics");
                    byte[] body = await r.Content.ReadAsByteArrayAsync();
                    Interlocked.Add(ref bytes, body.Length);
                    key = ((int)r.StatusCode).ToString(CultureInfo.InvariantCulture);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    key = e.GetType().Name;
                }
                latencies.Add(t.Elapsed.TotalMilliseconds);
                statuses.AddOrUpdate(key, 1, (_, n) => n + 1);
            }
        })).ToArray();
        await Task.WhenAll(clients);
        await sampler;
        double secs = sw.Elapsed.TotalSeconds;
        long rssEnd = serve.RssBytes();
        var sorted = latencies.Order().ToArray();
        int total = statuses.Values.Sum();
        output.WriteLine($"50 clients x {secs:F1} s: {total} scrapes ({total / secs:F0}/s), {bytes / 1048576.0:F0} MiB served; " +
                         $"statuses {string.Join(", ", statuses.Select(kv => $"{kv.Key}={kv.Value}"))}; " +
                         $"latency p50 {sorted[sorted.Length / 2]:F1} ms, p99 {sorted[(int)(sorted.Length * 0.99)]:F1} ms, max {sorted[^1]:F1} ms; " +
                         $"server RSS start {rssStart / 1048576.0:F1} MiB, peak {rssPeak / 1048576.0:F1} MiB, end {rssEnd / 1048576.0:F1} MiB");
        Assert.Equal(["200"], statuses.Keys);
        Assert.True(total >= 500, $"only {total} scrapes in 10 s");
        // Bounded: the responses are one cached byte array per interval; RSS must not grow with the request count.
        Assert.True(rssPeak < 300L * 1048576, $"server RSS peaked at {rssPeak / 1048576} MiB");
        Assert.True(rssPeak - rssStart < 150L * 1048576, $"server RSS grew by {(rssPeak - rssStart) / 1048576} MiB under load");
        Assert.False(serve.HasExited);
    }

    /// <summary>A fake procfs root whose meminfo has 3% available: the doctor must report low-available (critical).</summary>
    internal static string LowMemoryRoot()
    {
        string root = TempDir("lowmem");
        File.WriteAllText(Path.Combine(root, "meminfo"), """
            MemTotal:       16384000 kB
            MemFree:          200000 kB
            MemAvailable:     491520 kB
            Buffers:           10000 kB
            Cached:           400000 kB
            SwapCached:            0 kB
            Active:         12000000 kB
            Inactive:        3000000 kB
            SwapTotal:             0 kB
            SwapFree:              0 kB
            Dirty:              1000 kB
            Writeback:             0 kB
            AnonPages:      14800000 kB
            Mapped:           100000 kB
            Shmem:             50000 kB
            Slab:             300000 kB
            SReclaimable:     100000 kB
            SUnreclaim:       200000 kB
            KernelStack:       20000 kB
            PageTables:        60000 kB
            CommitLimit:     8192000 kB
            Committed_AS:   20000000 kB
            HugePages_Total:       0
            HugePages_Free:        0
            HugePages_Rsvd:        0
            HugePages_Surp:        0
            Hugepagesize:       2048 kB
            """.Replace("            ", ""));
        return root;
    }

    [SkippableFact]
    public async Task Doctor_findings_reach_the_api_the_metrics_and_the_dashboard()
    {
        string root = LowMemoryRoot();
        string sysRoot = TempDir("sys");
        try
        {
            using ServeProcess serve = ServeProcess.Start("--proc-root", root, "--sys-root", sysRoot, "--listen", "127.0.0.1:0", "--interval", "1s");
            using var http = new HttpClient { BaseAddress = serve.BaseAddress };
            using var doc = JsonDocument.Parse(await http.GetStringAsync("/api/findings"));
            Assert.True(doc.RootElement.GetProperty("available").GetBoolean());
            JsonElement low = doc.RootElement.GetProperty("findings").EnumerateArray().Single(f => f.GetProperty("id").GetString() == "low-available");
            Assert.Equal("critical", low.GetProperty("severity").GetString());
            Assert.Contains(low.GetProperty("evidence").EnumerateArray(), e => e.GetString()!.Contains("MemAvailable", StringComparison.Ordinal));
            string metrics = await http.GetStringAsync("/metrics");
            Assert.Contains("memscope_finding{id=\"low-available\",severity=\"critical\"} 1\n", metrics);
            Assert.Equal(3.0, Math.Round(100.0 * PromText.Single(PromText.Parse(metrics), "node_memory_MemAvailable_bytes")!.Value / (16384000.0 * 1024)));

            string? chromium = File.Exists("/usr/bin/chromium") ? "/usr/bin/chromium" : TestEnv.Which("chromium");
            TestEnv.Require(chromium is not null, "Debian's chromium (.ci/install-deps.sh installs it)");
            string profile = TempDir("chromium");
            try
            {
                var dom = RunChromium(chromium!, [.. ChromiumArgs(profile), "--dump-dom", serve.BaseAddress.ToString()]);
                Assert.True(dom.Code == 0, $"chromium exited {dom.Code}: {dom.Stderr}");
                Assert.Contains("class=\"finding critical\" data-id=\"low-available\"", dom.Stdout);
                Assert.Contains("MemAvailable", dom.Stdout); // the evidence is listed under the finding
                string shot = Path.Combine(Paths.RepoRoot, "artifacts", "serve-dashboard-findings.png");
                var png = RunChromium(chromium!, [.. ChromiumArgs(profile), $"--screenshot={shot}", serve.BaseAddress.ToString()]);
                Assert.True(png.Code == 0 && File.Exists(shot), $"chromium --screenshot failed: {png.Stderr}");
                output.WriteLine($"findings screenshot: {shot}");
            }
            finally
            {
                try { Directory.Delete(profile, recursive: true); } catch (IOException) { }
            }
        }
        finally
        {
            Directory.Delete(root, recursive: true);
            Directory.Delete(sysRoot, recursive: true);
        }
    }
}
