using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using MemScope.Model;
using MemScope.Store;

namespace MemScope.Cli.Commands;

/// <summary>
/// `memscope vmstat --db PATH --at TIME` (one line: the sample at or before TIME against the one before it) and
/// `--from T1 --to T2` (the recorded series: one line per sample after the first in the window, rates between
/// neighbours). Same renderer and options as live vmstat; every line carries its timestamp (as -t) and rates divide
/// by the measured interval between the two samples. A reboot between two samples gives the since-boot line.
/// </summary>
internal static class VmstatReplay
{
    public sealed record Flags(bool Stats, bool Forks, bool NoFirst, bool OneHeader, bool Json);

    public static int Run(ParseResult parse, SnapshotSource history, string? from, string? to, VmstatOptions options, Flags f)
    {
        TextWriter output = parse.InvocationConfiguration.Output;
        options = options with { Timestamp = true };
        bool series = from is not null || to is not null;
        if (series && parse.GetValue(history.At) is not null)
            throw new CliException(ExitCodes.Usage, "vmstat: --at replays one sample, --from/--to a series: give one or the other");
        if (series && (f.Stats || f.Forks))
            throw new CliException(ExitCodes.Usage, "vmstat: -s/-f show the counters of one sample: use --at TIME, not --from/--to");
        DateTimeOffset? a = from is null ? null : SnapshotSource.ParseTime(from, "--from");
        DateTimeOffset? b = to is null ? null : SnapshotSource.ParseTime(to, "--to");
        if (a is not null && b is not null && a > b)
            throw new CliException(ExitCodes.Usage, $"vmstat: --from {from} is after --to {to}");
        DateTimeOffset at = series ? default : history.Time(parse);

        using SnapshotReplay replay = history.Open(parse);
        if (series) return Series(output, replay, a, b, options, f);

        SampleInfo info = replay.Find(at);
        Snapshot laterSnap = replay.Store.Read(info.Id, processes: false);
        VmstatSample now = Sample(laterSnap);
        if (f.Forks)
        {
            output.Write((now.Stat.ProcessesCreated?.ToString(CultureInfo.InvariantCulture) ?? "-").PadLeft(13) + " forks\n");
            return ExitCodes.Ok;
        }
        if (f.Stats)
        {
            if (f.Json) output.Write(JsonSerializer.Serialize(VmstatJson.Stats(now), VmstatJsonContext.Default.VmstatStatsJson) + "\n");
            else output.Write(VmstatRenderer.RenderStats(now, options));
            return ExitCodes.Ok;
        }
        VmstatSample? before = replay.Store.Previous(info) is { } prev ? Sample(replay.Store.Read(prev.Id, processes: false)) : null;
        if (before is not null && Rebooted(before, now)) before = null;
        if (before is null && f.NoFirst)
            throw new CliException(ExitCodes.NotFound,
                $"vmstat: the sample at {SnapshotReplay.Format(now.Time)} has no earlier sample of the same boot to take rates from, and -y skips the since-boot line");
        int idleDebt = 0;
        if (f.Json)
            output.Write(JsonSerializer.Serialize(VmstatJson.Sample(before, now, 1), VmstatJsonContext.Default.VmstatSampleJson) + "\n");
        else
        {
            output.Write(VmstatRenderer.RenderHeader(options, now.Time));
            output.Write(Line(before, now, options, ref idleDebt));
        }
        return ExitCodes.Ok;
    }

    private static int Series(TextWriter output, SnapshotReplay replay, DateTimeOffset? from, DateTimeOffset? to, VmstatOptions options, Flags f)
    {
        List<Snapshot> snaps = replay.Range(from, to);
        if (snaps.Count < 2)
        {
            string window = $"{(from is { } x ? SnapshotReplay.Format(x) : "the first sample")} to {(to is { } y ? SnapshotReplay.Format(y) : "the last sample")}";
            throw new CliException(ExitCodes.NotFound,
                $"vmstat: {(snaps.Count == 0 ? "no samples" : "only one sample")} from {window} in {replay.Store.Path}; a line needs two neighbouring samples (recorded: {replay.Describe()})");
        }
        int height = int.MaxValue;
        if (!f.OneHeader)
        {
            int rows = 24;
            try { if (!Console.IsOutputRedirected && Console.WindowHeight > 0) rows = Console.WindowHeight; } catch (IOException) { }
            height = rows - 3 > 0 ? rows - 3 : 22;
        }
        var json = f.Json ? new List<VmstatSampleJson>(snaps.Count - 1) : null;
        VmstatSample previous = Sample(snaps[0]);
        int idleDebt = 0;
        for (int i = 1; i < snaps.Count; i++)
        {
            VmstatSample current = Sample(snaps[i]);
            VmstatSample? before = Rebooted(previous, current) ? null : previous;
            if (json is not null) json.Add(VmstatJson.Sample(before, current, 1));
            else
            {
                if ((i - 1) % height == 0) output.Write(VmstatRenderer.RenderHeader(options, current.Time));
                output.Write(Line(before, current, options, ref idleDebt));
            }
            previous = current;
        }
        if (json is not null) output.Write(JsonSerializer.Serialize(json, VmstatReplayJsonContext.Default.ListVmstatSampleJson) + "\n");
        return ExitCodes.Ok;
    }

    private static string Line(VmstatSample? before, VmstatSample now, VmstatOptions options, ref int idleDebt)
    {
        double seconds = before is null ? 0 : now.MonotonicSeconds - before.MonotonicSeconds;
        return VmstatRenderer.RenderLine(VmstatRenderer.Values(before, now, seconds, options, ref idleDebt), options, now.Time);
    }

    /// <summary>Counters restart at boot: rates across a reboot (boot time moved, or the clock ran backwards) are meaningless.</summary>
    private static bool Rebooted(VmstatSample a, VmstatSample b) =>
        (a.Stat.BootTimeUnixSeconds is ulong x && b.Stat.BootTimeUnixSeconds is ulong y && (x > y ? x - y : y - x) > 2)
        || b.MonotonicSeconds <= a.MonotonicSeconds;

    private static VmstatSample Sample(Snapshot s) => VmstatSample.FromSnapshot(s)
        ?? throw new CliException(ExitCodes.DataError, $"vmstat: the sample at {SnapshotReplay.Format(s.Time)} has no /proc/stat or /proc/vmstat recorded");
}

/// <summary>`vmstat --db --from --to --json`: the series as one array.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(List<VmstatSampleJson>))]
internal partial class VmstatReplayJsonContext : JsonSerializerContext;
