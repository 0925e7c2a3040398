using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Serialization;
using MemScope.Analysis;
using MemScope.Cli.Rendering;
using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.Cli.Commands;

/// <summary>`memscope slab`: slabtop for people — caches by memory, with reclaimability and growth per second.</summary>
public static class SlabCommand
{
    public static Command Create()
    {
        var watch = new Option<bool>("--watch", "-w") { Description = "Refresh every interval, showing growth per second" };
        var interval = new Option<double>("--interval", "-d") { Description = "Seconds between refreshes", DefaultValueFactory = _ => 2 };
        var count = new Option<int?>("--count", "-n") { Description = "Stop after this many refreshes (with --watch)" };
        var top = new Option<int>("--top") { Description = "Show this many caches", DefaultValueFactory = _ => 20 };
        var json = new Option<bool>("--json") { Description = "JSON output (one object per refresh)" };
        var cmd = new Command("slab", "Kernel slab caches sorted by memory: objects, object size, reclaimable or not, growth per second");
        foreach (Option o in new Option[] { watch, interval, count, top, json }) cmd.Options.Add(o);
        SnapshotSource source = SnapshotSource.Add(cmd);
        cmd.SetAction(async (parse, ct) =>
        {
            if (source.IsReplay(parse))
            {
                if (parse.GetValue(watch))
                    throw new CliException(ExitCodes.Usage, "--watch follows the live system; with --db/--at slab shows one recorded moment");
                return Replay(parse, source, Math.Max(1, parse.GetValue(top)), parse.GetValue(json));
            }
            double seconds = parse.GetValue(interval);
            if (!(seconds > 0) || seconds > 86400) throw new CliException(ExitCodes.Usage, $"--interval {seconds}: must be between 0 and 86400 seconds");
            int? limit = parse.GetValue(count);
            if (limit is <= 0) throw new CliException(ExitCodes.Usage, "--count must be at least 1");
            int topN = Math.Max(1, parse.GetValue(top));
            ProcFs proc = GlobalOptions.OpenProc(parse);
            SysFs sys = GlobalOptions.OpenSys(parse);
            TextWriter output = parse.InvocationConfiguration.Output;
            bool asJson = parse.GetValue(json);
            bool live = parse.GetValue(watch);

            Slabinfo? previous = null;
            long previousAt = 0;
            int refreshes = 0;
            while (true)
            {
                Slabinfo? current = TryRead(proc, out string? why);
                long now = Stopwatch.GetTimestamp();
                Meminfo meminfo = proc.ReadMeminfo();
                double elapsed = previous is null ? 0 : Stopwatch.GetElapsedTime(previousAt, now).TotalSeconds;
                IReadOnlyList<SlabRow> rows = current is null ? [] :
                    SlabUsage.Rows(current, previous, elapsed, Environment.SystemPageSize, name => SlabAttributes.IsReclaimable(sys, name));
                if (asJson)
                    output.WriteLine(System.Text.Json.JsonSerializer.Serialize(SlabJson.From(meminfo, rows, why, topN), SlabJsonContext.Default.SlabJson));
                else
                    Render(output, meminfo, rows, why, topN, live);
                refreshes++;
                if (!live || (limit is int n && refreshes >= n)) break;
                previous = current;
                previousAt = now;
                try { await Task.Delay(TimeSpan.FromSeconds(seconds), ct); }
                catch (OperationCanceledException) { break; }
            }
            return ExitCodes.Ok;
        });
        return cmd;
    }

    /// <summary>
    /// The caches as recorded: the /proc/slabinfo reading at or before the sample at --at (the recorder reads it every
    /// few samples, root only), growth against the reading before it, meminfo's totals from the sample itself.
    /// Reclaimability comes from live /sys and is not recorded: shown as unknown. Reads nothing live.
    /// </summary>
    private static int Replay(ParseResult parse, SnapshotSource source, int topN, bool asJson)
    {
        TextWriter output = parse.InvocationConfiguration.Output;
        using MemScope.Store.SnapshotReplay replay = source.Open(parse);
        MemScope.Store.HistoryStore store = replay.Store;
        MemScope.Store.SampleInfo at = replay.Find(source.Time(parse));
        Model.Snapshot snap = store.Read(at.Id, processes: false);
        IReadOnlyList<SlabRow> rows = [];
        string? why = null;
        string replayLine = $"replay of {store.Path} at {MemScope.Store.SnapshotReplay.Format(at.Time)}";
        if (store.SlabinfoAt(at.Id) is var (readAt, slab))
        {
            (MemScope.Store.SampleInfo At, Slabinfo Slab)? before = readAt.Id > 1 ? store.SlabinfoAt(readAt.Id - 1) : null;
            double elapsed = before is { } b ? (readAt.Time - b.At.Time).TotalSeconds : 0;
            rows = SlabUsage.Rows(slab, before?.Slab, elapsed, snap.PageSize, _ => null);
            replayLine += $"; per-cache figures read at {readAt.Time.ToLocalTime():HH:mm:ss}" +
                          (before is { } b2 ? $", growth since the reading of {b2.At.Time.ToLocalTime():HH:mm:ss}" : "") +
                          "; reclaimability (from /sys) not recorded";
        }
        else why = store.SlabinfoUnavailableReason() + ": showing the recorded meminfo totals";
        if (asJson)
        {
            SlabJson j = SlabJson.From(snap.System.Meminfo, rows, why, topN) with { Time = at.Time, Replay = replayLine };
            output.WriteLine(System.Text.Json.JsonSerializer.Serialize(j, SlabJsonContext.Default.SlabJson));
            return ExitCodes.Ok;
        }
        output.WriteLine("Replay: " + replayLine["replay of ".Length..]);
        Render(output, snap.System.Meminfo, rows, why, topN, live: rows.Any(r => r.GrowthBytesPerSec is not null));
        return ExitCodes.Ok;
    }

    private static Slabinfo? TryRead(ProcFs proc, out string? why)
    {
        why = null;
        try { return Slabinfo.Read(proc.PathOf("slabinfo")); }
        catch (KernelFileException e) when (e.Error == KernelFileError.Denied)
        {
            why = "/proc/slabinfo is readable by root only: showing the meminfo totals (run as root for per-cache figures)";
        }
        catch (KernelFileException e) when (e.Error == KernelFileError.Gone)
        {
            why = "/proc/slabinfo does not exist on this kernel (CONFIG_SLUB_DEBUG off?): showing the meminfo totals";
        }
        return null;
    }

    private static void Render(TextWriter output, Meminfo m, IReadOnlyList<SlabRow> rows, string? why, int top, bool live)
    {
        output.WriteLine($"Slab: {HumanSize.Format(m.Slab)}   reclaimable {HumanSize.Format(m.SReclaimable)}   unreclaimable {HumanSize.Format(m.SUnreclaim)}");
        if (why is not null)
        {
            output.WriteLine(why);
            return;
        }
        var table = new TextTable("CACHE", ">MEMORY", ">ACTIVE", ">TOTAL", ">USE", ">OBJ SIZE", "RECLAIM", ">GROWTH");
        foreach (SlabRow r in rows.Take(top))
            table.Add(r.Name, HumanSize.Format(r.MemoryBytes), r.ActiveObjects.ToString(), r.TotalObjects.ToString(),
                HumanSize.Percent(r.Usage), r.ObjectSizeBytes.ToString(), r.Reclaimable switch { true => "yes", false => "no", _ => "?" },
                live ? HumanSize.Rate(r.GrowthBytesPerSec) : "-");
        table.Write(output);
        if (rows.Count > top) output.WriteLine($"({rows.Count - top} smaller caches not shown; --top N)");
        output.WriteLine();
    }
}

public sealed record SlabRowJson(string Name, ulong MemoryBytes, ulong ActiveObjects, ulong TotalObjects, ulong ObjectSizeBytes,
    bool? Reclaimable, double? GrowthBytesPerSec);
public sealed record SlabJson(DateTimeOffset Time, ulong? SlabBytes, ulong? SreclaimableBytes, ulong? SunreclaimBytes, string? Unavailable,
    IReadOnlyList<SlabRowJson> Caches)
{
    /// <summary>With --db: which recording and which readings (absent live).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Replay { get; init; }

    public static SlabJson From(Meminfo m, IReadOnlyList<SlabRow> rows, string? why, int top) => new(DateTimeOffset.UtcNow, m.Slab,
        m.SReclaimable, m.SUnreclaim, why,
        rows.Take(top).Select(r => new SlabRowJson(r.Name, r.MemoryBytes, r.ActiveObjects, r.TotalObjects, r.ObjectSizeBytes, r.Reclaimable,
            r.GrowthBytesPerSec is double g ? Math.Round(g, 1) : null)).ToList());
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(SlabJson))]
internal sealed partial class SlabJsonContext : JsonSerializerContext;
