using System.Text;
using MemScope.Model;
using MemScope.Procfs;

namespace MemScope.Export;

/// <summary>One zone's free pages and watermarks (from /proc/zoneinfo), in pages.</summary>
public sealed record ZoneWatermarks(int Node, string Zone, ulong? FreePages, ulong MinPages, ulong LowPages, ulong HighPages);

/// <summary>One active doctor finding as exported: a stable id (e.g. "low-available") and its severity.</summary>
public sealed record ActiveFinding(string Id, string Severity);

/// <summary>What goes into one /metrics rendering.</summary>
public sealed record ExpositionInput
{
    public required SystemSnapshot System { get; init; }
    /// <summary>The top N processes, already chosen (bounded label cardinality).</summary>
    public IReadOnlyList<ProcessSnapshot> TopProcesses { get; init; } = [];
    /// <summary>Null: the zoneinfo source is unavailable (family omitted).</summary>
    public IReadOnlyList<ZoneWatermarks>? Zones { get; init; }
    /// <summary>Null: no doctor ran (family omitted); empty: healthy.</summary>
    public IReadOnlyList<ActiveFinding>? Findings { get; init; }
    public bool IncludeCmdline { get; init; } = true;
    /// <summary>Longest cmdline label value; longer ones are cut and end with "…".</summary>
    public int CmdlineMaxChars { get; init; } = 100;
    public int PageSize { get; init; } = Environment.SystemPageSize;
    public int ProcessesSeen { get; init; }
    public double? CollectionSeconds { get; init; }
    /// <summary>Collections the server made so far (shows that N scrapers share one collection per interval).</summary>
    public ulong? CollectionsTotal { get; init; }
    public DateTimeOffset? SnapshotTime { get; init; }
}

/// <summary>
/// Renders a snapshot as Prometheus text. System metrics use node_exporter's exact names, types and units for the
/// same sources, so existing node_exporter dashboards and alerts work unchanged:
/// <list type="bullet">
/// <item>meminfo: <c>node_memory_&lt;Key&gt;_bytes</c> gauges, "(x)" becoming "_x" (Active(anon) → Active_anon);
/// the HugePages_* lines are page counts, so they carry no _bytes suffix (node_memory_HugePages_Total).</item>
/// <item>vmstat: <c>node_vmstat_&lt;name&gt;</c>, untyped, raw values as the kernel prints them: node_exporter's
/// default fields plus the reclaim counters (see <see cref="IsExportedVmstat"/>).</item>
/// <item>PSI memory: <c>node_pressure_memory_waiting_seconds_total</c> (some) and <c>..._stalled_seconds_total</c> (full).</item>
/// </list>
/// MemScope's own metrics are prefixed <c>memscope_</c>.
/// Note: node_exporter's CamelCase meminfo names trip promtool's "snake_case" lint exactly as node_exporter's own
/// output does; that naming is kept on purpose for dashboard compatibility.
/// </summary>
public static class MetricsExposition
{
    public static string Render(ExpositionInput input)
    {
        var w = new PrometheusTextWriter(new StringBuilder(32 * 1024));
        WriteMeminfo(w, input.System.Meminfo);
        if (input.System.Vmstat is { } vm) WriteVmstat(w, vm);
        if (input.System.MemoryPressure is { } psi) WritePressure(w, psi);
        WriteProcesses(w, input);
        if (input.Zones is { } zones) WriteZones(w, zones, input.PageSize);
        if (input.Findings is { } findings) WriteFindings(w, findings);
        WriteSelf(w, input);
        return w.ToString();
    }

    /// <summary>The zones of a parsed /proc/zoneinfo that have watermarks; null when zoneinfo is unknown.</summary>
    public static IReadOnlyList<ZoneWatermarks>? ZonesOf(Zoneinfo? zoneinfo)
    {
        if (zoneinfo is null) return null;
        var list = new List<ZoneWatermarks>();
        foreach (ZoneinfoZone z in zoneinfo.Zones)
            if (z.Min is ulong min && z.Low is ulong low && z.High is ulong high)
                list.Add(new ZoneWatermarks(z.Node, z.Name, z.PagesFree, min, low, high));
        return list;
    }

    /// <summary>node_exporter's name for a meminfo key: "(x)" → "_x", other odd characters → "_", "_bytes" for kB lines.</summary>
    public static string NodeMemoryName(string key)
    {
        var sb = new StringBuilder(key.Length + 16);
        foreach (char c in key)
        {
            if (c == '(') sb.Append('_');
            else if (c == ')') continue;
            else sb.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        }
        string field = sb.ToString();
        return IsPageCount(key) ? $"node_memory_{field}" : $"node_memory_{field}_bytes";
    }

    /// <summary>In /proc/meminfo only the HugePages_{Total,Free,Rsvd,Surp} lines have no kB unit (they count pages).</summary>
    public static bool IsPageCount(string key) => key.StartsWith("HugePages_", StringComparison.Ordinal);

    private static void WriteMeminfo(PrometheusTextWriter w, Meminfo mi)
    {
        // Sorted by metric name like node_exporter; a key that maps onto an already written name is skipped.
        var byName = new SortedDictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var (key, value) in mi.Entries)
        {
            if (key is "MemUsed" or "FilePages") continue; // per-node meminfo only
            byName.TryAdd(NodeMemoryName(key), value);
        }
        foreach (var (name, value) in byName)
        {
            string field = name["node_memory_".Length..];
            w.BeginFamily(name, MetricType.Gauge, $"Memory information field {field}.");
            w.Sample(value);
        }
    }

    /// <summary>
    /// node_exporter's default vmstat fields (^(oom_kill|pgpg|pswp|pg.*fault)) plus the reclaim and refault counters
    /// MemScope's alerts use (pgscan*, pgsteal*, allocstall*, workingset_*, compact_stall, thp_fault_*), under the
    /// same node_vmstat_ naming node_exporter gives them with a wider --collector.vmstat.fields.
    /// </summary>
    public static bool IsExportedVmstat(string key) =>
        key == "oom_kill" || key.StartsWith("pgpg", StringComparison.Ordinal) || key.StartsWith("pswp", StringComparison.Ordinal)
        || (key.StartsWith("pg", StringComparison.Ordinal) && key.Contains("fault", StringComparison.Ordinal))
        || key.StartsWith("pgscan", StringComparison.Ordinal) || key.StartsWith("pgsteal", StringComparison.Ordinal)
        || key.StartsWith("allocstall", StringComparison.Ordinal) || key.StartsWith("workingset_", StringComparison.Ordinal)
        || key == "compact_stall" || key.StartsWith("thp_fault_", StringComparison.Ordinal);

    private static void WriteVmstat(PrometheusTextWriter w, Vmstat vm)
    {
        var byName = new SortedDictionary<string, ulong>(StringComparer.Ordinal);
        foreach (var (key, value) in vm.Entries)
            if (IsExportedVmstat(key)) byName.TryAdd(key, value);
        foreach (var (key, value) in byName)
        {
            w.BeginFamily("node_vmstat_" + PrometheusTextWriter.SanitizeMetricName(key), MetricType.Untyped,
                $"/proc/vmstat information field {key}.");
            w.Sample(value);
        }
    }

    private static void WritePressure(PrometheusTextWriter w, Pressure psi)
    {
        // node_exporter's spelling and arithmetic: float64(total µs) / 1000 / 1000.
        if (psi.Full is { } full)
        {
            w.BeginFamily("node_pressure_memory_stalled_seconds_total", MetricType.Counter,
                "Total time in seconds no process could make progress due to memory congestion");
            w.Sample(full.TotalMicroseconds / 1000.0 / 1000.0);
        }
        if (psi.Some is { } some)
        {
            w.BeginFamily("node_pressure_memory_waiting_seconds_total", MetricType.Counter,
                "Total time in seconds that processes have waited for memory");
            w.Sample(some.TotalMicroseconds / 1000.0 / 1000.0);
        }
    }

    private static void WriteProcesses(PrometheusTextWriter w, ExpositionInput input)
    {
        var top = input.TopProcesses;
        var labels = new (string, string)[input.IncludeCmdline ? 3 : 2];
        void Family(string name, string help, Func<ProcessSnapshot, double?> value)
        {
            w.BeginFamily(name, MetricType.Gauge, help);
            foreach (ProcessSnapshot p in top)
            {
                if (value(p) is not double v) continue; // unknown is absent, never 0
                labels[0] = ("pid", p.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
                labels[1] = ("comm", p.Comm);
                if (input.IncludeCmdline) labels[2] = ("cmdline", Cut(p.CommandLine, input.CmdlineMaxChars));
                w.Sample(v, labels);
            }
        }
        Family("memscope_process_rss_bytes", "Resident set size of a top process (statm resident pages x page size).", p => p.RssBytes);
        Family("memscope_process_pss_bytes", "Proportional set size of a top process (smaps_rollup Pss); absent when unreadable.", p => p.PssBytes);
        Family("memscope_process_uss_bytes", "Unique set size of a top process (smaps_rollup Private_Clean + Private_Dirty); absent when unreadable.", p => p.UssBytes);
        Family("memscope_process_swap_bytes", "Swapped-out anonymous memory of a top process (status VmSwap).", p => p.SwapBytes);
        Family("memscope_process_oom_score", "The kernel's OOM badness score of a top process (/proc/PID/oom_score, 0..2000).", p => p.OomScore);
    }

    private static void WriteZones(PrometheusTextWriter w, IReadOnlyList<ZoneWatermarks> zones, int pageSize)
    {
        void Family(string what, string help, Func<ZoneWatermarks, ulong?> pages)
        {
            w.BeginFamily($"memscope_zone_{what}_pages", MetricType.Gauge, $"{help} (pages).");
            foreach (ZoneWatermarks z in zones)
                if (pages(z) is ulong v) w.Sample(v, ("node", z.Node.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("zone", z.Zone));
            w.BeginFamily($"memscope_zone_{what}_bytes", MetricType.Gauge, $"{help} (bytes).");
            foreach (ZoneWatermarks z in zones)
                if (pages(z) is ulong v) w.Sample(v * (ulong)pageSize, ("node", z.Node.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("zone", z.Zone));
        }
        Family("free", "Free pages in the zone", z => z.FreePages);
        Family("min", "Zone watermark min: below it only atomic/reclaim allocations succeed", z => z.MinPages);
        Family("low", "Zone watermark low: below it kswapd wakes", z => z.LowPages);
        Family("high", "Zone watermark high: kswapd reclaims until free is above it", z => z.HighPages);
    }

    private static void WriteFindings(PrometheusTextWriter w, IReadOnlyList<ActiveFinding> findings)
    {
        w.BeginFamily("memscope_finding", MetricType.Gauge,
            "An active doctor finding (value 1), labelled with its stable id and severity; no series when healthy.");
        var seen = new HashSet<(string, string)>();
        foreach (ActiveFinding f in findings)
            if (seen.Add((f.Id, f.Severity))) w.Sample(1UL, ("id", f.Id), ("severity", f.Severity));
    }

    private static void WriteSelf(PrometheusTextWriter w, ExpositionInput input)
    {
        w.BeginFamily("memscope_processes", MetricType.Gauge, "Processes read in the last collection.");
        w.Sample((ulong)Math.Max(0, input.ProcessesSeen));
        if (input.CollectionSeconds is double secs)
        {
            w.BeginFamily("memscope_collection_duration_seconds", MetricType.Gauge, "Time the last snapshot collection took.");
            w.Sample(secs);
        }
        if (input.CollectionsTotal is ulong n)
        {
            w.BeginFamily("memscope_collections_total", MetricType.Counter, "Snapshot collections made since the server started.");
            w.Sample(n);
        }
        if (input.SnapshotTime is { } t)
        {
            w.BeginFamily("memscope_snapshot_timestamp_seconds", MetricType.Gauge, "Unix time of the snapshot these metrics come from.");
            w.Sample(t.ToUnixTimeMilliseconds() / 1000.0);
        }
    }

    private static string Cut(string s, int max) => s.Length <= max ? s : string.Concat(s.AsSpan(0, max), "…");
}
