using System.CommandLine;
using System.Text.Json;
using MemScope.Analysis.Doctor;
using MemScope.Model;
using MemScope.Store;

namespace MemScope.Cli.Commands;

/// <summary>`memscope report --from T1 --to T2`: what happened to memory over a recorded window.</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var cmd = new Command("report", "Summarise a recorded window: peaks and lows, growers, swap and reclaim, OOM kills, doctor findings");
        var db = new Option<string?>("--db") { Description = "Recording (default: the one 'memscope record' writes)", HelpName = "PATH" };
        var from = new Option<string?>("--from") { Description = "Start (ISO 8601, HH:MM[:SS] today, -1h, Unix seconds or now; default: first sample)", HelpName = "TIME" };
        var to = new Option<string?>("--to") { Description = "End (default: last sample)", HelpName = "TIME" };
        var top = new Option<int>("--top", "-n") { Description = "Processes to list", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "JSON (bytes, ISO times)" };
        var markdown = new Option<bool>("--markdown") { Description = "Markdown (for tickets and post-mortems)" };
        var noDoctor = new Option<bool>("--no-doctor") { Description = "Skip the doctor's findings" };
        foreach (Option o in new Option[] { db, from, to, top, json, markdown, noDoctor }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            DateTimeOffset now = DateTimeOffset.Now;
            DateTimeOffset? a = parse.GetValue(from) is string f ? SnapshotSource.ParseTime(f, "--from") : null;
            DateTimeOffset? b = parse.GetValue(to) is string t ? SnapshotSource.ParseTime(t, "--to") : null;
            if (a > b) throw new CliException(ExitCodes.Usage, "--from is after --to");
            using SnapshotReplay replay = SnapshotReplay.Open(parse.GetValue(db) ?? HistoryStore.DefaultPath());
            string lang = parse.GetValue(GlobalOptions.Lang) ?? "en";
            HistoryReport report = HistoryReport.Build(replay.Store, a, b, Math.Max(1, parse.GetValue(top)),
                parse.GetValue(noDoctor) ? null : series => RunDoctor(replay, series, lang));
            if (parse.GetValue(noDoctor)) report = report with { FindingsUnavailable = "skipped (--no-doctor)" };
            TextWriter o = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json)) o.WriteLine(JsonSerializer.Serialize(report, HistoryJsonContext.Default.HistoryReport));
            else HistoryRenderer.Report(report, o, parse.GetValue(markdown));
            return ExitCodes.Ok;
        });
        return cmd;
    }

    /// <summary>
    /// The doctor over the recorded window, built exactly as `doctor --db` builds it (<see cref="DoctorReplay"/>):
    /// at most <see cref="DoctorReplay.DefaultMaxSamples"/> samples spread evenly (with processes, so the leak rule can
    /// see trends), the recorded OOM kills, sysctls and cgroups; rules whose sources were not recorded skip.
    /// </summary>
    internal static (IReadOnlyList<ReportFinding>?, string?) RunDoctor(SnapshotReplay replay, IReadOnlyList<Snapshot> series, string lang)
    {
        if (series.Count < 2) return (null, "needs at least two samples");
        DoctorContext context = DoctorReplay.Build(replay, series[^1].Time, series[^1].Time - series[0].Time, lang);
        DoctorReport report = Doctor.Examine(context);
        var findings = report.Findings
            .Select(f => new ReportFinding(f.Id, f.Severity.ToString().ToLowerInvariant(), f.Title.In(lang),
                f.Evidence.Select(e => $"{e.Label}: {e.Value} ({e.Source})").ToList()))
            .ToList();
        return (findings, null);
    }
}
