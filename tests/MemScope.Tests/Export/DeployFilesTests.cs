using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using MemScope.Export;
using MemScope.Model;
using MemScope.Procfs;

namespace MemScope.Tests.Export;

/// <summary>
/// deploy/: the Prometheus scrape config, alert rules (and their unit tests), Grafana dashboard and systemd unit.
/// promtool comes from Debian's prometheus package (.ci/install-deps.sh installs it).
/// </summary>
public partial class DeployFilesTests
{
    private static string Deploy(string file) => Path.Combine(Paths.RepoRoot, "deploy", file);

    private static (int Code, string Output) Promtool(params string[] args)
    {
        string promtool = TestEnv.RequireTool("promtool");
        var psi = new ProcessStartInfo(promtool) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.Combine(Paths.RepoRoot, "deploy") };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        Task<string> so = p.StandardOutput.ReadToEndAsync(), se = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(60_000), "promtool hung");
        return (p.ExitCode, so.Result + se.Result);
    }

    [SkippableFact]
    public void Alert_rules_pass_promtool_and_their_unit_tests()
    {
        var check = Promtool("check", "rules", "alerts.yml");
        Assert.True(check.Code == 0, check.Output);
        var test = Promtool("test", "rules", "alerts.test.yml");
        Assert.True(test.Code == 0, test.Output);
        Assert.Contains("SUCCESS", test.Output);
    }

    [SkippableFact]
    public void Prometheus_config_passes_promtool()
    {
        var check = Promtool("check", "config", "prometheus.yml");
        Assert.True(check.Code == 0, check.Output);
        Assert.Contains("1 rule files found", check.Output);
    }

    [Fact]
    public void There_is_an_alert_named_after_every_doctor_finding_id()
    {
        string rules = File.ReadAllText(Deploy("alerts.yml"));
        string[] ids = ["low-available", "leak-suspect", "swap-activity", "reclaim-stall", "watermark", "oom-kill", "cache-thrash",
            "shmem", "slab", "hugepages-unused", "overcommit", "cgroup-limit", "numa-imbalance"];
        foreach (string id in ids)
        {
            Assert.Contains($"finding: {id}}}", rules);
            Assert.Contains($"memscope_finding{{id=\"{id}\"}}", rules);
        }
        // Every id the doctor can report that is not informational has its alert.
        foreach (string id in MemScope.Analysis.Doctor.Doctor.RuleIds.Where(i => i != "account-gap"))
            Assert.Contains($"finding: {id}}}", rules);
    }

    /// <summary>Every metric name MemScope can export: meminfo keys, the vmstat fields, PSI, and the memscope_* families.</summary>
    private static HashSet<string> ExportableNames()
    {
        var names = new HashSet<string>(StringComparer.Ordinal) { "up", "node_pressure_memory_waiting_seconds_total", "node_pressure_memory_stalled_seconds_total" };
        foreach (string key in Meminfo.Keys.Names) names.Add(MetricsExposition.NodeMemoryName(key));
        var input = new ExpositionInput
        {
            System = new SystemSnapshot { Meminfo = Meminfo.Parse("MemTotal: 1 kB\n", "meminfo") },
            TopProcesses = [new ProcessSnapshot { Pid = 1, Comm = "x", RssBytes = 1, PssBytes = 1, UssBytes = 1, SwapBytes = 1, OomScore = 1 }],
            Zones = [new ZoneWatermarks(0, "Normal", 1, 1, 1, 1)],
            Findings = [new ActiveFinding("x", "warning")],
            CollectionSeconds = 1, CollectionsTotal = 1, SnapshotTime = DateTimeOffset.UnixEpoch,
        };
        foreach (Match m in TypeLine().Matches(MetricsExposition.Render(input))) names.Add(m.Groups[1].Value);
        return names;
    }

    private static IEnumerable<string> MetricNamesIn(string text) =>
        MetricName().Matches(text).Select(m => m.Value).Distinct();

    private static bool Exported(HashSet<string> names, string n) =>
        names.Contains(n) || (n.StartsWith("node_vmstat_", StringComparison.Ordinal) && MetricsExposition.IsExportedVmstat(n["node_vmstat_".Length..]));

    [Fact]
    public void Grafana_dashboard_and_alerts_use_only_metrics_memscope_exports()
    {
        HashSet<string> names = ExportableNames();
        using var dash = JsonDocument.Parse(File.ReadAllText(Deploy("grafana-dashboard.json")));
        var exprs = new List<string>();
        void Walk(JsonElement e)
        {
            if (e.ValueKind == JsonValueKind.Object)
                foreach (JsonProperty p in e.EnumerateObject())
                {
                    if (p.Name is "expr" or "definition" && p.Value.ValueKind == JsonValueKind.String) exprs.Add(p.Value.GetString()!);
                    Walk(p.Value);
                }
            else if (e.ValueKind == JsonValueKind.Array)
                foreach (JsonElement x in e.EnumerateArray()) Walk(x);
        }
        Walk(dash.RootElement);
        Assert.True(exprs.Count >= 15, $"only {exprs.Count} queries in the dashboard");
        var used = exprs.SelectMany(MetricNamesIn).Concat(MetricNamesIn(File.ReadAllText(Deploy("alerts.yml")))).Distinct().ToList();
        Assert.Contains("node_memory_MemTotal_bytes", used);
        Assert.Contains("memscope_process_pss_bytes", used);
        Assert.Contains("memscope_finding", used);
        Assert.All(used, n => Assert.True(Exported(names, n), $"{n} is used in deploy/ but MemScope does not export it"));
        // Panels have unique ids and a datasource variable, so the JSON imports into any Grafana.
        var ids = dash.RootElement.GetProperty("panels").EnumerateArray().Select(p => p.GetProperty("id").GetInt32()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Contains("datasource", dash.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray().Select(v => v.GetProperty("name").GetString()));
    }

    [Fact]
    public void Systemd_unit_runs_serve_read_only_and_on_loopback_by_default()
    {
        string unit = File.ReadAllText(Deploy("memscope-serve.service"));
        Assert.Contains("ExecStart=/usr/local/bin/memscope serve --listen ${MEMSCOPE_LISTEN}", unit);
        Assert.Contains("Environment=MEMSCOPE_LISTEN=127.0.0.1:9256", unit);
        Assert.Contains("ProtectSystem=strict", unit);
        Assert.Contains("NoNewPrivileges=yes", unit);
        Assert.Contains("--hide-cmdline", unit);
        // Every option in MEMSCOPE_OPTS parses.
        string opts = Regex.Match(unit, "Environment=\"MEMSCOPE_OPTS=([^\"]*)\"").Groups[1].Value;
        Assert.Contains("--top-by pss", opts);
        var parse = MemScope.Cli.CommandTree.Build().Parse(["serve", "--listen", "127.0.0.1:9256", .. opts.Split(' ', StringSplitOptions.RemoveEmptyEntries)]);
        Assert.Empty(parse.Errors);
    }

    [GeneratedRegex(@"^# TYPE (\S+) ", RegexOptions.Multiline)]
    private static partial Regex TypeLine();

    [GeneratedRegex(@"\b(?:node|memscope)_[A-Za-z0-9_]+\b")]
    private static partial Regex MetricName();
}
