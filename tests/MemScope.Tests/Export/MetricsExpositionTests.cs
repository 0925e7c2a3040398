using System.Text.Json;
using MemScope.Export;
using MemScope.Model;
using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.Tests.Export;

public class MetricsExpositionTests
{
    private static string NodeExporterRoot => Path.Combine(Paths.SharedFixtures, "node_exporter");

    private static (string Text, JsonElement Expected) RenderFixture()
    {
        var proc = new ProcFs(Path.Combine(NodeExporterRoot, "proc"));
        var sys = new SysFs(Path.Combine(NodeExporterRoot, "sys"));
        SystemSnapshot system = new SnapshotCollector(proc, sys).CollectSystem();
        string text = MetricsExposition.Render(new ExpositionInput { System = system });
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(NodeExporterRoot, "expected.json")));
        return (text, doc.RootElement.Clone());
    }

    [Fact]
    public void Meminfo_metrics_have_node_exporter_names_and_the_oracle_values()
    {
        var (text, expected) = RenderFixture();
        var samples = PromText.Parse(text);
        JsonElement mem = expected.GetProperty("proc/meminfo");
        JsonElement values = mem.GetProperty("values");
        int checkedCount = 0;
        foreach (JsonProperty m in mem.GetProperty("metrics").EnumerateObject())
        {
            string name = m.Value.GetString()!;
            double want = values.GetProperty(m.Name).GetDouble();
            Assert.True(PromText.Single(samples, name) is double got, $"{name} missing");
            Assert.Equal(want, PromText.Single(samples, name));
            checkedCount++;
        }
        Assert.Equal(42, checkedCount);
        // MemAvailable is absent from the fixture: absent in the output too, never 0.
        foreach (string absent in mem.GetProperty("absent").EnumerateArray().Select(e => e.GetString()!))
            Assert.Null(PromText.Single(samples, MetricsExposition.NodeMemoryName(absent)));
        // Exactly the meminfo lines, nothing invented.
        Assert.Equal(42, samples.Count(s => s.Name.StartsWith("node_memory_", StringComparison.Ordinal)));
    }

    [Fact]
    public void Meminfo_types_and_help_match_node_exporter_oracle()
    {
        var (text, _) = RenderFixture();
        string oracle = File.ReadAllText(Path.Combine(NodeExporterRoot, "_oracle", "e2e-output.txt"));
        foreach (string name in new[] { "node_memory_MemTotal_bytes", "node_memory_Active_anon_bytes", "node_memory_HugePages_Total",
                     "node_vmstat_pgfault", "node_vmstat_oom_kill", "node_pressure_memory_waiting_seconds_total", "node_pressure_memory_stalled_seconds_total" })
        {
            string help = oracle.Split('\n').Single(l => l.StartsWith($"# HELP {name} ", StringComparison.Ordinal));
            string type = oracle.Split('\n').Single(l => l.StartsWith($"# TYPE {name} ", StringComparison.Ordinal));
            Assert.Contains(help + "\n", text);
            Assert.Contains(type + "\n", text);
        }
    }

    [Fact]
    public void Vmstat_and_pressure_equal_the_oracle()
    {
        var (text, expected) = RenderFixture();
        var samples = PromText.Parse(text);
        foreach (JsonProperty v in expected.GetProperty("proc/vmstat").GetProperty("values").EnumerateObject())
            Assert.Equal(v.Value.GetDouble(), PromText.Single(samples, "node_vmstat_" + v.Name));
        JsonElement psi = expected.GetProperty("proc/pressure/memory");
        foreach (JsonProperty m in psi.GetProperty("metrics").EnumerateObject())
            Assert.Equal(psi.GetProperty("values").GetProperty(m.Name).GetDouble(), PromText.Single(samples, m.Value.GetString()!));
        // vmstat is untyped, like node_exporter; counters we do not export are absent.
        Assert.Contains("# TYPE node_vmstat_pswpin untyped\n", text);
        Assert.Null(PromText.Single(samples, "node_vmstat_nr_free_pages"));
    }

    [Fact]
    public void Zone_watermarks_equal_the_zoneinfo_oracle()
    {
        var proc = new ProcFs(Path.Combine(NodeExporterRoot, "proc"));
        SystemSnapshot system = new SnapshotCollector(proc, new SysFs(Path.Combine(NodeExporterRoot, "sys"))).CollectSystem();
        var zones = MetricsExposition.ZonesOf(system.Zoneinfo);
        Assert.NotNull(zones);
        var samples = PromText.Parse(MetricsExposition.Render(new ExpositionInput { System = system, Zones = zones, PageSize = 4096 }));
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(NodeExporterRoot, "expected.json")));
        int n = 0;
        foreach (JsonProperty zone in doc.RootElement.GetProperty("proc/zoneinfo").GetProperty("values").EnumerateObject())
        {
            string node = zone.Name.Split('/')[0], name = zone.Name.Split('/')[1];
            foreach (string w in new[] { "min", "low", "high" })
            {
                double want = zone.Value.GetProperty(w).GetDouble();
                var got = samples.Single(s => s.Name == $"memscope_zone_{w}_pages" && s.Labels["node"] == node && s.Labels["zone"] == name);
                Assert.Equal(want, got.Value);
                Assert.Equal(want * 4096, samples.Single(s => s.Name == $"memscope_zone_{w}_bytes" && s.Labels["node"] == node && s.Labels["zone"] == name).Value);
                n++;
            }
            if (zone.Value.TryGetProperty("nr_free_pages", out JsonElement free))
                Assert.Equal(free.GetDouble(), samples.Single(s => s.Name == "memscope_zone_free_pages" && s.Labels["zone"] == name).Value);
        }
        Assert.Equal(15, n);
    }

    [Theory]
    [InlineData("MemTotal", "node_memory_MemTotal_bytes")]
    [InlineData("Active(anon)", "node_memory_Active_anon_bytes")]
    [InlineData("Inactive(file)", "node_memory_Inactive_file_bytes")]
    [InlineData("HugePages_Total", "node_memory_HugePages_Total")]
    [InlineData("HugePages_Surp", "node_memory_HugePages_Surp")]
    [InlineData("Hugepagesize", "node_memory_Hugepagesize_bytes")]
    [InlineData("Committed_AS", "node_memory_Committed_AS_bytes")]
    [InlineData("NFS_Unstable", "node_memory_NFS_Unstable_bytes")]
    public void Meminfo_key_maps_to_node_exporter_name(string key, string name) =>
        Assert.Equal(name, MetricsExposition.NodeMemoryName(key));

    [Fact]
    public void Pressure_seconds_use_node_exporters_arithmetic()
    {
        // node_exporter: float64(total)/1000/1000, e.g. 14036781 µs -> 14.036781000000001 (the cpu oracle value).
        var psi = new Pressure(new PressureLine(0, 0, 0, 14036781), null);
        var meminfo = Meminfo.Parse("MemTotal: 1 kB\n", "meminfo");
        string text = MetricsExposition.Render(new ExpositionInput { System = new SystemSnapshot { Meminfo = meminfo, MemoryPressure = psi } });
        Assert.Equal(14.036781000000001, PromText.Single(PromText.Parse(text), "node_pressure_memory_waiting_seconds_total"));
        Assert.DoesNotContain("node_pressure_memory_stalled_seconds_total", text); // no "full" line: absent, not 0
    }

    [Fact]
    public void Label_values_and_help_are_escaped()
    {
        var w = new PrometheusTextWriter();
        w.BeginFamily("memscope_test", MetricType.Gauge, "back\\slash and\nnewline");
        w.Sample(1UL, ("cmdline", "a \"quoted\" \\path\\ with\nnewline\tand tab"));
        string text = w.ToString();
        Assert.Equal("# HELP memscope_test back\\\\slash and\\nnewline\n# TYPE memscope_test gauge\n" +
                     "memscope_test{cmdline=\"a \\\"quoted\\\" \\\\path\\\\ with\\nnewline and tab\"} 1\n", text);
        Assert.Equal("a \"quoted\" \\path\\ with\nnewline and tab", PromText.Parse(text).Single().Labels["cmdline"]);
    }

    [Fact]
    public void Writer_rejects_bad_names_and_duplicate_families()
    {
        var w = new PrometheusTextWriter();
        Assert.Throws<ArgumentException>(() => w.BeginFamily("1bad", MetricType.Gauge, "x"));
        Assert.Throws<ArgumentException>(() => w.BeginFamily("bad-name", MetricType.Gauge, "x"));
        w.BeginFamily("ok_name", MetricType.Gauge, "x");
        Assert.Throws<InvalidOperationException>(() => w.BeginFamily("ok_name", MetricType.Gauge, "x"));
        Assert.Throws<ArgumentException>(() => w.Sample(1UL, ("__reserved", "v")));
    }

    [Theory]
    [InlineData(double.NaN, "NaN")]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    [InlineData(3.0, "3")]
    [InlineData(0.5, "0.5")]
    [InlineData(1e300, "1E+300")]
    public void Doubles_are_formatted_as_the_format_wants(double v, string text) =>
        Assert.Equal(text, PrometheusTextWriter.FormatDouble(v));

    [Fact]
    public void Processes_zones_and_findings_render_with_bounded_labels()
    {
        var meminfo = Meminfo.Parse("MemTotal: 1000 kB\n", "meminfo");
        var procs = new[]
        {
            new ProcessSnapshot { Pid = 42, Comm = "web \"srv\"", CommandLine = "/usr/bin/web --token=" + new string('x', 300), RssBytes = 4096, PssBytes = 2048, UssBytes = 1024, SwapBytes = 0, OomScore = 700 },
            new ProcessSnapshot { Pid = 7, Comm = "db", CommandLine = "db", RssBytes = 8192, SmapsDenied = true, OomScore = null },
        };
        var input = new ExpositionInput
        {
            System = new SystemSnapshot { Meminfo = meminfo },
            TopProcesses = procs,
            Zones = [new ZoneWatermarks(0, "Normal", 100, 10, 12, 14)],
            Findings = [new ActiveFinding("low-available", "critical"), new ActiveFinding("swap-activity", "warning")],
            PageSize = 4096,
        };
        var samples = PromText.Parse(MetricsExposition.Render(input));
        var rss = samples.Where(s => s.Name == "memscope_process_rss_bytes").ToList();
        Assert.Equal(2, rss.Count);
        Assert.Equal("web \"srv\"", rss[0].Labels["comm"]);
        Assert.True(rss[0].Labels["cmdline"].Length <= 101, "cmdline label is cut");
        // Unknown PSS (denied) and unknown oom_score are absent, never 0.
        Assert.Single(samples, s => s.Name == "memscope_process_pss_bytes");
        Assert.Single(samples, s => s.Name == "memscope_process_oom_score");
        Assert.Equal(14 * 4096, samples.Single(s => s.Name == "memscope_zone_high_bytes").Value);
        Assert.Equal(100, samples.Single(s => s.Name == "memscope_zone_free_pages" && s.Labels["zone"] == "Normal").Value);
        var findings = samples.Where(s => s.Name == "memscope_finding").ToList();
        Assert.Equal(["low-available", "swap-activity"], findings.Select(f => f.Labels["id"]));
        Assert.All(findings, f => Assert.Equal(1, f.Value));

        var hidden = PromText.Parse(MetricsExposition.Render(input with { IncludeCmdline = false }));
        Assert.All(hidden.Where(s => s.Name.StartsWith("memscope_process_", StringComparison.Ordinal)),
            s => Assert.Equal(["comm", "pid"], s.Labels.Keys.Order()));
    }

    [SkippableFact]
    public void Fixture_exposition_passes_promtool_except_node_exporters_own_camelcase_names()
    {
        string promtool = TestEnv.RequireTool("promtool");
        var (text, _) = RenderFixture();
        var problems = Promtool.CheckMetrics(promtool, text);
        Assert.Empty(Promtool.Unexpected(problems));
        // The camelCase complaints are the very ones node_exporter's own output gets (same names).
        string oracle = File.ReadAllText(Path.Combine(NodeExporterRoot, "_oracle", "e2e-output.txt"));
        foreach (string p in problems)
            Assert.Contains($"# TYPE {p.Split(' ')[0]} ", oracle);
    }
}
