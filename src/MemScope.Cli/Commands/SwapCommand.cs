using System.CommandLine;
using System.Globalization;
using System.Text.Json.Serialization;
using MemScope.Analysis;
using MemScope.Cli.Rendering;
using MemScope.Model;
using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.Cli.Commands;

/// <summary>
/// `memscope swap`: swap devices and usage, swap-in/out rates, who holds swap, the reclaim tunables, every zone's free
/// pages against its watermarks, kswapd vs direct reclaim, PSI, and why swapping happens now. `--watch` follows free
/// vs watermarks and si/so over time.
/// </summary>
public static class SwapCommand
{
    public static Command Create()
    {
        var interval = new Option<double>("--interval", "-d") { Description = "Seconds between the two readings (and between --watch rows)", DefaultValueFactory = _ => 1 };
        var watch = new Option<bool>("--watch", "-w") { Description = "Follow free vs watermarks and swap-in/out over time (one row per interval)" };
        var count = new Option<int?>("--count", "-n") { Description = "With --watch: stop after this many rows" };
        var top = new Option<int>("--top") { Description = "Processes to list", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "JSON output (with --watch: one object per interval)" };
        var cmd = new Command("swap", "Swap and reclaim: devices, si/so rates, processes holding swap, watermarks per zone, kswapd vs direct reclaim, PSI, and why. " +
            "With --db/--at: the same report from a recording (the sample at or before TIME and the one before it); --watch is live only");
        var explain = new Option<bool>("--explain") { Description = "explain each column under the table (--lang zh for Chinese)" };
        foreach (Option o in new Option[] { interval, watch, count, top, json, explain }) cmd.Options.Add(o);
        SnapshotSource source = SnapshotSource.Add(cmd);
        cmd.SetAction(async (parse, ct) =>
        {
            if (source.IsReplay(parse))
            {
                if (parse.GetValue(watch))
                    throw new CliException(ExitCodes.Usage, "--watch follows the live system; with --db/--at swap shows one recorded moment (for a series use 'memscope vmstat --db PATH --from T1 --to T2')");
                return Replay(parse, source, Math.Clamp(parse.GetValue(top), 1, 1000), parse.GetValue(json), parse.GetValue(explain));
            }
            double seconds = parse.GetValue(interval);
            if (!(seconds > 0) || seconds > 86400) throw new CliException(ExitCodes.Usage, $"--interval {seconds}: must be between 0 and 86400 seconds");
            int? limit = parse.GetValue(count);
            if (limit is <= 0) throw new CliException(ExitCodes.Usage, "--count must be at least 1");
            int topN = Math.Clamp(parse.GetValue(top), 1, 1000);
            ProcFs proc = GlobalOptions.OpenProc(parse);
            SysFs sys = GlobalOptions.OpenSys(parse);
            TextWriter output = parse.InvocationConfiguration.Output;
            bool asJson = parse.GetValue(json);
            var collector = new SnapshotCollector(proc, sys);
            MemoryCgroups cgroups = MemoryCgroups.Discover(proc, sys);

            if (parse.GetValue(watch))
            {
                await Watch(output, collector, seconds, limit, asJson, ct);
                return ExitCodes.Ok;
            }

            Snapshot a = collector.Collect(new CollectOptions { Processes = true });
            List<MemoryCgroup> cgA = cgroups.All().ToList();
            try { await Task.Delay(TimeSpan.FromSeconds(seconds), ct); }
            catch (OperationCanceledException) { return ExitCodes.Interrupted; }
            Snapshot b = collector.Collect(new CollectOptions { Processes = true });
            List<MemoryCgroup> cgB = cgroups.All().ToList();
            b = WithSwapPss(b, proc, topN);
            SysVm? sysvm = null;
            try { sysvm = proc.ReadSysVm(); } catch (KernelFileException) { }
            var cgCache = new Dictionary<int, string?>();
            SwapReport report = SwapAnalysis.Build(a, b, sysvm, cgA, cgB, pid =>
            {
                if (!cgCache.TryGetValue(pid, out string? p)) cgCache[pid] = p = cgroups.ForProcess(proc, pid)?.Path;
                return p;
            }, topN);
            if (asJson)
                output.WriteLine(System.Text.Json.JsonSerializer.Serialize(report, SwapJsonContext.Default.SwapReport));
            else
            {
                Render(output, report);
                if (parse.GetValue(explain))
                    ExplainFooter.Write(output, GlobalOptions.LanguageOf(parse), "free.swap", "vmstat.si", "vmstat.so", "process.swap", "smaps.SwapPss",
                        "vm.swappiness", "vm.min_free_kbytes", "vm.watermark_scale_factor", "vm.zone_reclaim_mode", "vm.vfs_cache_pressure",
                        "zone.free", "zone.watermarks", "meminfo.Active(anon)", "meminfo.Inactive(file)", "reclaim.pgscan", "psi.some", "psi.full");
            }
            return ExitCodes.Ok;
        });
        return cmd;
    }

    /// <summary>
    /// The report from a recording: the sample at or before --at and its predecessor, processes as recorded (VmSwap for
    /// all, SwapPss where smaps_rollup was recorded, else unknown), the sysctls in effect then. Reads nothing live.
    /// </summary>
    private static int Replay(ParseResult parse, SnapshotSource source, int topN, bool asJson, bool explain)
    {
        TextWriter output = parse.InvocationConfiguration.Output;
        DateTimeOffset at = source.Time(parse);
        using MemScope.Store.SnapshotReplay replay = source.Open(parse);
        if (replay.PairAt(at, processes: true) is not var (a, b))
            throw new CliException(ExitCodes.NotFound,
                $"swap needs two samples for rates; {MemScope.Store.SnapshotReplay.Format(replay.Find(at).Time)} is the first sample of {replay.Store.Path} ({replay.Describe()})");
        string missing = b.System.Zoneinfo is null ? "; zoneinfo, swap devices and sysctls are not in this recording (older schema)" : "";
        bool cgroupsRecorded = b.System.MemoryCgroups is not null;
        // Schema 4 stores each process's memory cgroup with its identity; older recordings leave the column '-'.
        var recordedCgroup = new Dictionary<int, string?>();
        foreach (ProcessSnapshot p in b.Processes) recordedCgroup[p.Pid] = p.MemoryCgroup;
        string processCgroups = replay.Store.SchemaVersion < 4 ? ", a process's cgroup is not recorded (older schema)" : "";
        SwapReport report = SwapAnalysis.Build(a, b, b.System.SysVm, a.System.MemoryCgroups ?? [], b.System.MemoryCgroups ?? [],
            pid => recordedCgroup.GetValueOrDefault(pid), topN) with
        {
            Replay = $"replay of {replay.Store.Path} at {MemScope.Store.SnapshotReplay.Format(b.Time)} (rates over the {Snapshot.Elapsed(a, b):0.0} s since the sample of {a.Time.ToLocalTime():HH:mm:ss}); " +
                     $"SWAP PSS only where smaps_rollup was recorded (top processes by RSS){processCgroups}" +
                     (cgroupsRecorded ? "" : ", memory cgroups not recorded") + missing,
        };
        if (asJson)
        {
            output.WriteLine(System.Text.Json.JsonSerializer.Serialize(report, SwapJsonContext.Default.SwapReport));
            return ExitCodes.Ok;
        }
        output.WriteLine("Replay: " + report.Replay["replay of ".Length..]);
        output.WriteLine();
        Render(output, report);
        if (explain)
            ExplainFooter.Write(output, GlobalOptions.LanguageOf(parse), "free.swap", "vmstat.si", "vmstat.so", "process.swap", "smaps.SwapPss",
                "vm.swappiness", "vm.min_free_kbytes", "vm.watermark_scale_factor", "vm.zone_reclaim_mode", "vm.vfs_cache_pressure",
                "zone.free", "zone.watermarks", "meminfo.Active(anon)", "meminfo.Inactive(file)", "reclaim.pgscan", "psi.some", "psi.full");
        return ExitCodes.Ok;
    }

    /// <summary>Reads smaps_rollup (SwapPss) for the processes holding most swap by VmSwap only: it is costly for everyone.</summary>
    private static Snapshot WithSwapPss(Snapshot s, ProcFs proc, int top)
    {
        var reader = new ProcessReader(proc);
        var chosen = s.Processes.Where(p => p.SwapBytes is > 0).OrderByDescending(p => p.SwapBytes).Take(top * 2).Select(p => p.Pid).ToHashSet();
        if (chosen.Count == 0) return s;
        var list = s.Processes.Select(p =>
        {
            if (!chosen.Contains(p.Pid)) return p;
            ProcessSnapshot? detailed = reader.TryRead(p.Pid, ProcessDetail.WithSmapsRollup);
            return detailed is not null && detailed.StartTimeTicks == p.StartTimeTicks ? detailed : p;
        }).ToList();
        return s with { Processes = list };
    }

    private static string Mib(double? bytesPerSec) => bytesPerSec is double v ? (v / (1024 * 1024)).ToString("0.0", CultureInfo.InvariantCulture) : "-";
    private static string Num(double? v) => v is double d ? d.ToString("0", CultureInfo.InvariantCulture) : "-";

    public static void Render(TextWriter o, SwapReport r)
    {
        ulong? used = r.SwapTotalBytes is ulong t && r.SwapFreeBytes is ulong f && t >= f ? t - f : null;
        o.WriteLine($"Swap: total {HumanSize.Format(r.SwapTotalBytes)}, used {HumanSize.Format(used)}, free {HumanSize.Format(r.SwapFreeBytes)}, " +
            $"swap cache {HumanSize.Format(r.SwapCachedBytes)}   in {Mib(r.Reclaim.SwapInBytesPerSec)} MiB/s, out {Mib(r.Reclaim.SwapOutBytesPerSec)} MiB/s " +
            $"(over {r.IntervalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s)");
        if (r.Devices.Count == 0) o.WriteLine("  no swap device or file is active");
        else
        {
            var dev = new TextTable("  DEVICE", "TYPE", ">SIZE", ">USED", ">USE%", ">PRIORITY");
            foreach (SwapArea d in r.Devices)
                dev.Add("  " + d.Filename, d.Type, HumanSize.Format(d.SizeBytes), HumanSize.Format(d.UsedBytes), HumanSize.Percent(d.UsedFraction),
                    d.Priority.ToString(CultureInfo.InvariantCulture));
            dev.Write(o);
        }
        o.WriteLine();
        o.WriteLine($"Tunables: swappiness {V(r.Swappiness)}  min_free_kbytes {V(r.MinFreeKbytes)}  watermark_scale_factor {V(r.WatermarkScaleFactor)}  " +
            $"zone_reclaim_mode {V(r.ZoneReclaimMode)}  vfs_cache_pressure {V(r.VfsCachePressure)}");
        o.WriteLine();
        o.WriteLine("Zones: free pages against the watermarks (kswapd wakes below low, sleeps above high; below min, allocations reclaim directly)");
        var zones = new TextTable(">NODE", "ZONE", ">FREE", ">MIN", ">LOW", ">HIGH", "STATE", ">ANON LRU", ">FILE LRU");
        foreach (ZoneWatermarks z in r.Zones)
            zones.Add(z.Node.ToString(CultureInfo.InvariantCulture), z.Zone, HumanSize.Format(z.FreeBytes), HumanSize.Format(z.MinBytes),
                HumanSize.Format(z.LowBytes), HumanSize.Format(z.HighBytes), SwapAnalysis.Describe(z.State), HumanSize.Format(z.AnonLruBytes),
                HumanSize.Format(z.FileLruBytes));
        if (r.Zones.Count == 0) o.WriteLine("  /proc/zoneinfo is not readable here");
        else zones.Write(o);
        foreach (NodeLru n in r.Nodes)
            o.WriteLine($"  node {n.Node} LRU: anon active {HumanSize.Format(n.ActiveAnonBytes)} inactive {HumanSize.Format(n.InactiveAnonBytes)}; " +
                $"file active {HumanSize.Format(n.ActiveFileBytes)} inactive {HumanSize.Format(n.InactiveFileBytes)}");
        o.WriteLine();
        ReclaimActivity rc = r.Reclaim;
        var rec = new TextTable("Reclaim (pages/s)", ">kswapd", ">direct");
        rec.Add("scanned (pgscan)", Num(rc.ScanKswapdPerSec), Num(rc.ScanDirectPerSec));
        rec.Add("reclaimed (pgsteal)", Num(rc.StealKswapdPerSec), Num(rc.StealDirectPerSec));
        rec.Add("allocation stalls/s (allocstall)", "", rc.AllocStallPerSec is double st ? st.ToString("0.0", CultureInfo.InvariantCulture) : "-");
        rec.Write(o);
        o.WriteLine($"  since boot: kswapd scanned {V(rc.ScanKswapd)}, direct scanned {V(rc.ScanDirect)}, allocation stalls {V(rc.AllocStall)}, " +
            $"pages swapped out {V(rc.PswpOut)}, in {V(rc.PswpIn)}");
        if (r.MemoryPressure is { } psi)
            o.WriteLine($"PSI memory: some {P(psi.Some?.Avg10)} (60 s {P(psi.Some?.Avg60)}), full {P(psi.Full?.Avg10)} (60 s {P(psi.Full?.Avg60)})");
        else o.WriteLine("PSI memory: not available on this kernel");
        o.WriteLine();
        o.WriteLine("Processes holding most swap");
        if (r.Processes.Count == 0) o.WriteLine("  none");
        else
        {
            var pt = new TextTable(">  PID", "COMMAND", ">SWAP", ">SWAP PSS", ">RSS", ">SWAP GROWTH", "CGROUP");
            foreach (SwapProcess p in r.Processes)
                pt.Add("  " + p.Pid.ToString(CultureInfo.InvariantCulture), p.Comm, HumanSize.Format(p.SwapBytes), HumanSize.Format(p.SwapPssBytes),
                    HumanSize.Format(p.RssBytes), HumanSize.Rate(p.SwapGrowthBytesPerSec), p.Cgroup ?? "-");
            pt.Write(o);
        }
        if (r.Cgroups.Count > 0)
        {
            o.WriteLine();
            o.WriteLine("Memory cgroups using swap or near their limit");
            var ct = new TextTable("  CGROUP", ">USAGE", ">LIMIT", ">SWAP", ">SWAP LIMIT", ">SWAP GROWTH", ">LIMIT HITS");
            foreach (SwapCgroup c in r.Cgroups)
                ct.Add("  " + c.Path, HumanSize.Format(c.UsageBytes), HumanSize.Format(c.LimitBytes), HumanSize.Format(c.SwapBytes),
                    HumanSize.Format(c.SwapLimitBytes), HumanSize.Rate(c.SwapGrowthBytesPerSec), c.LimitHitsDelta is ulong d ? $"+{d}" : "-");
            ct.Write(o);
        }
        o.WriteLine();
        o.WriteLine("Why");
        foreach (string s in r.Explanation) o.WriteLine("  - " + s);
    }

    private static string V(long? v) => v?.ToString(CultureInfo.InvariantCulture) ?? "?";
    private static string V(ulong? v) => v?.ToString(CultureInfo.InvariantCulture) ?? "?";
    private static string P(double? v) => v is double d ? d.ToString("0.00", CultureInfo.InvariantCulture) + "%" : "-";

    private static async Task Watch(TextWriter o, SnapshotCollector collector, double seconds, int? limit, bool asJson, CancellationToken ct)
    {
        Snapshot prev = collector.Collect();
        int rows = 0;
        if (!asJson)
        {
            var zones = SwapAnalysis.Zones(prev.System.Zoneinfo, prev.PageSize);
            o.WriteLine("TIME      si MiB/s  so MiB/s  kswapd scan/s  direct scan/s  stalls/s  " +
                string.Join("  ", zones.Select(z => $"n{z.Node} {z.Zone}: free/low/high state")));
        }
        while (limit is null || rows < limit)
        {
            try { await Task.Delay(TimeSpan.FromSeconds(seconds), ct); }
            catch (OperationCanceledException) { break; }
            Snapshot cur = collector.Collect();
            ReclaimActivity rc = SwapAnalysis.Reclaim(prev, cur);
            IReadOnlyList<ZoneWatermarks> zones = SwapAnalysis.Zones(cur.System.Zoneinfo, cur.PageSize);
            if (asJson)
            {
                var row = new SwapWatchJson(cur.Time, rc.SwapInBytesPerSec, rc.SwapOutBytesPerSec, rc.ScanKswapdPerSec, rc.ScanDirectPerSec,
                    rc.AllocStallPerSec, zones, cur.System.Meminfo.SwapTotal is ulong t && cur.System.Meminfo.SwapFree is ulong f ? t - f : null);
                o.WriteLine(System.Text.Json.JsonSerializer.Serialize(row, SwapJsonContext.Default.SwapWatchJson));
            }
            else
            {
                o.WriteLine($"{cur.Time.ToLocalTime():HH:mm:ss}  {Mib(rc.SwapInBytesPerSec),8}  {Mib(rc.SwapOutBytesPerSec),8}  {Num(rc.ScanKswapdPerSec),13}  " +
                    $"{Num(rc.ScanDirectPerSec),13}  {(rc.AllocStallPerSec is double s ? s.ToString("0.0", CultureInfo.InvariantCulture) : "-"),8}  " +
                    string.Join("  ", zones.Select(z => $"{HumanSize.Format(z.FreeBytes)}/{HumanSize.Format(z.LowBytes)}/{HumanSize.Format(z.HighBytes)} {Short(z.State)}")));
            }
            o.Flush();
            prev = cur;
            rows++;
        }
    }

    private static string Short(WatermarkState s) => s switch
    {
        WatermarkState.AboveHigh => "ok",
        WatermarkState.BetweenLowAndHigh => "low<free<high",
        WatermarkState.BelowLow => "BELOW LOW",
        WatermarkState.BelowMin => "BELOW MIN",
        _ => "?",
    };
}

public sealed record SwapWatchJson(DateTimeOffset Time, double? SwapInBytesPerSec, double? SwapOutBytesPerSec, double? ScanKswapdPerSec,
    double? ScanDirectPerSec, double? AllocStallPerSec, IReadOnlyList<ZoneWatermarks> Zones, ulong? SwapUsedBytes);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true, UseStringEnumConverter = true)]
[JsonSerializable(typeof(SwapReport))]
[JsonSerializable(typeof(SwapWatchJson))]
internal sealed partial class SwapJsonContext : JsonSerializerContext;
