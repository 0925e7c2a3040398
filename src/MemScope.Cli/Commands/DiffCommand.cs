using System.CommandLine;
using System.Text.Json;
using MemScope.Model;
using MemScope.Store;

namespace MemScope.Cli.Commands;

/// <summary>`memscope diff T1 T2`: what grew or shrank between two recorded moments.</summary>
internal static class DiffCommand
{
    public static Command Create()
    {
        var cmd = new Command("diff", "What grew or shrank between two recorded moments (system fields, processes, new and gone)");
        var t1 = new Argument<string>("T1") { Description = "Earlier time (ISO 8601, HH:MM[:SS] today, -10m, Unix seconds or now)" };
        var t2 = new Argument<string>("T2") { Description = "Later time (default: now, i.e. the last sample)", Arity = ArgumentArity.ZeroOrOne, DefaultValueFactory = _ => "now" };
        var db = new Option<string?>("--db") { Description = "Recording (default: the one 'memscope record' writes)", HelpName = "PATH" };
        var top = new Option<int>("--top", "-n") { Description = "Rows per section", DefaultValueFactory = _ => 15 };
        var json = new Option<bool>("--json") { Description = "JSON (bytes, ISO times)" };
        var markdown = new Option<bool>("--markdown") { Description = "Markdown" };
        cmd.Arguments.Add(t1);
        cmd.Arguments.Add(t2);
        foreach (Option o in new Option[] { db, top, json, markdown }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            DateTimeOffset a = SnapshotSource.ParseTime(parse.GetValue(t1)!, "T1");
            DateTimeOffset b = SnapshotSource.ParseTime(parse.GetValue(t2)!, "T2");
            if (a > b) (a, b) = (b, a);
            using SnapshotReplay replay = SnapshotReplay.Open(parse.GetValue(db) ?? HistoryStore.DefaultPath());
            SampleInfo sa = replay.Store.AtOrBefore(a) ?? replay.Store.AtOrAfter(a)
                ?? throw new StoreException(StoreError.NotFound, $"no samples in {replay.Store.Path}");
            SampleInfo sb = replay.Find(b);
            if (sa.Id == sb.Id)
                throw new CliException(ExitCodes.NotFound, $"T1 and T2 fall on the same sample ({SnapshotReplay.Format(sa.Time)}); {replay.Describe()}");
            int n = Math.Max(1, parse.GetValue(top));
            SnapshotDiff diff = SnapshotDiff.Between(replay.Store.Read(sa.Id), replay.Store.Read(sb.Id), n);
            TextWriter o = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json)) o.WriteLine(JsonSerializer.Serialize(diff, HistoryJsonContext.Default.SnapshotDiff));
            else HistoryRenderer.Diff(diff, o, parse.GetValue(markdown), n);
            return ExitCodes.Ok;
        });
        return cmd;
    }
}
