using System.CommandLine;
using System.Text.Json.Serialization;
using MemScope.Analysis.Doctor;
using MemScope.Store;

namespace MemScope.Cli.Commands;

/// <summary>`memscope doctor`: the expert's triage in one screen. Exit code 0 healthy, 1 warning, 2 critical.</summary>
public static class DoctorCommand
{
    public static Command Create()
    {
        var duration = new Option<string>("--duration") { Description = "How long to watch (e.g. 5s, 30s, 2m); with --db, the recorded window before --at (default there: 5m)", DefaultValueFactory = _ => "5s" };
        var interval = new Option<string>("--interval") { Description = "Time between samples", DefaultValueFactory = _ => "1s" };
        var json = new Option<bool>("--json") { Description = "Findings as JSON" };
        var markdown = new Option<bool>("--markdown") { Description = "Findings as Markdown, for tickets" };
        var all = new Option<bool>("--all") { Description = "Also list skipped rules and info findings in full" };
        var cmd = new Command("doctor", "Diagnose memory: picture, trend and specialised checks; names the cause with its evidence and the next step. " +
            "With --db/--at it examines a recording instead: the samples in [TIME - duration, TIME] (default duration 5m), no live reads");
        foreach (Option o in new Option[] { duration, interval, json, markdown, all }) cmd.Options.Add(o);
        SnapshotSource source = SnapshotSource.Add(cmd);
        cmd.SetAction(async (parse, ct) =>
        {
            bool replay = source.IsReplay(parse);
            // Over a recording the window defaults to 5 minutes (a recorder samples every few seconds).
            string durationText = replay && parse.GetResult(duration) is null or { Implicit: true } ? "5m" : parse.GetValue(duration)!;
            TimeSpan window = Durations.Parse(durationText, "--duration", allowZero: true);
            TimeSpan step = Durations.Parse(parse.GetValue(interval)!, "--interval");
            if (!replay && window > TimeSpan.FromHours(1)) throw new CliException(ExitCodes.Usage, "--duration: at most 1h");
            if (replay && window > TimeSpan.FromDays(7)) throw new CliException(ExitCodes.Usage, "--duration: at most 7d over a recording");
            string lang = GlobalOptions.LanguageOf(parse);
            DoctorContext context;
            if (replay)
            {
                // Never touches the live /proc or /sys: everything comes from the recording.
                using SnapshotReplay recording = source.Open(parse);
                DateTimeOffset at = parse.GetValue(source.At) is null && recording.Store.Extent() is var (_, lastSample, _)
                    ? lastSample.Time
                    : source.Time(parse);
                context = DoctorReplay.Build(recording, at, window, lang);
            }
            else
            {
                var sampler = new DoctorSampler(GlobalOptions.OpenProc(parse), GlobalOptions.OpenSys(parse));
                context = await sampler.SampleAsync(window, step, lang, ct, DoctorSources.Enrich(parse));
            }
            DoctorReport report = Doctor.Examine(context);
            TextWriter output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
                output.WriteLine(System.Text.Json.JsonSerializer.Serialize(DoctorJson.From(report, lang), DoctorJsonContext.Default.DoctorJson));
            else if (parse.GetValue(markdown))
                DoctorRenderer.Markdown(output, report, lang);
            else
                DoctorRenderer.Text(output, report, lang, parse.GetValue(all));
            return report.ExitCode;
        });
        return cmd;
    }
}

public sealed record EvidenceJson(string Label, string Value, string Source);
public sealed record FindingJson(string Id, string Severity, string Title, IReadOnlyList<EvidenceJson> Evidence, string Explanation, string? Cause,
    IReadOnlyList<string> Next, IReadOnlyList<string> Fixes);
public sealed record SkippedJson(string Id, string Reason);
public sealed record DoctorJson(DateTimeOffset Time, double WindowSeconds, int Samples, string Status, IReadOnlyList<FindingJson> Findings,
    IReadOnlyList<SkippedJson> Skipped, IReadOnlyList<EvidenceJson> HealthFigures)
{
    public static DoctorJson From(DoctorReport r, string lang) => new(r.Time, Math.Round(r.WindowSeconds, 2), r.Samples,
        r.Healthy ? "healthy" : r.Worst.ToString().ToLowerInvariant(),
        r.Findings.Select(f => new FindingJson(f.Id, f.Severity.ToString().ToLowerInvariant(), f.Title.In(lang),
            f.Evidence.Select(e => new EvidenceJson(e.Label, e.Value, e.Source)).ToList(), f.Explanation.In(lang), f.Cause?.In(lang),
            f.Next, f.Fixes.Select(x => x.In(lang)).ToList())).ToList(),
        r.Skipped.Select(s => new SkippedJson(s.Id, s.Reason)).ToList(),
        r.HealthFigures.Select(e => new EvidenceJson(e.Label, e.Value, e.Source)).ToList())
    {
        Replay = r.Replay,
    };

    /// <summary>"replay of PATH: N samples from T1 to T2 (window ...)" when built from a recording; null live.</summary>
    public string? Replay { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(DoctorJson))]
internal sealed partial class DoctorJsonContext : JsonSerializerContext;
