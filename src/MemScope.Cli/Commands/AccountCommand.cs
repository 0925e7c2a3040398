using System.CommandLine;
using System.Text.Json.Serialization;
using MemScope.Analysis;
using MemScope.Cli.Rendering;
using MemScope.Model;

namespace MemScope.Cli.Commands;

/// <summary>`memscope account`: the balance sheet of physical memory, summing to MemTotal.</summary>
public static class AccountCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print the balance sheet as JSON (bytes)" };
        var explain = new Option<bool>("--explain") { Description = "Explain every line under the table" };
        var cmd = new Command("account", "Where every byte went: a balance sheet of physical memory that sums to MemTotal");
        cmd.Options.Add(json);
        cmd.Options.Add(explain);
        cmd.SetAction(parse =>
        {
            var proc = GlobalOptions.OpenProc(parse);
            var sys = GlobalOptions.OpenSys(parse);
            Snapshot snapshot = new SnapshotCollector(proc, sys).Collect(new CollectOptions
            {
                Processes = true,
                Detail = ProcessDetail.WithSmapsRollup,
            });
            // tmpfs usage comes from statfs on live mounts: only meaningful for the live /proc.
            AccountExtras extras = proc.Root == "/proc"
                ? AccountExtrasReader.Read(proc, sys)
                : new AccountExtras([], SafeSysv(proc), Sysfs.NumaNodes.Read(sys));
            MemoryAccount account = MemoryAccountBuilder.Build(snapshot, extras);
            TextWriter output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                output.WriteLine(System.Text.Json.JsonSerializer.Serialize(AccountJson.From(account, snapshot), AccountJsonContext.Default.AccountJson));
                return ExitCodes.Ok;
            }
            Render(output, account, snapshot, parse.GetValue(explain));
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static IReadOnlyList<Procfs.SysvShmSegment> SafeSysv(Procfs.ProcFs proc)
    {
        try { return Procfs.SysvShm.Read(proc.PathOf("sysvipc/shm")); }
        catch (Procfs.KernelFileException) { return []; }
    }

    internal static void Render(TextWriter output, MemoryAccount account, Snapshot snapshot, bool explain)
    {
        var table = new TextTable("LINE", ">BYTES", ">SIZE", ">%", "RECLAIMABLE", "SOURCE");
        foreach (AccountLine line in account.Lines)
        {
            table.Add(line.Title, line.Bytes?.ToString() ?? "unknown", HumanSize.Format(line.Bytes), Pct(line.Bytes, account.MemTotalBytes),
                ReclaimWord(line.Reclaimable), line.Source);
            foreach (AccountLine d in line.Details)
                table.Add("  └ " + d.Title, d.Bytes?.ToString() ?? "unknown", HumanSize.Format(d.Bytes), Pct(d.Bytes, account.MemTotalBytes), "", d.Source);
        }
        table.Add("MemTotal", account.MemTotalBytes.ToString(), HumanSize.Format(account.MemTotalBytes), "100.0", "", "meminfo MemTotal (= sum of the lines)");
        table.Write(output);

        output.WriteLine();
        ProcessCoverage pc = account.Processes;
        long? anon = account.Lines.First(l => l.Id == "anon").Bytes;
        output.WriteLine($"Processes: {pc.Counted} counted; their PSS adds up to {HumanSize.Format(pc.PssBytes)}" +
                         (pc.RssAnonBytes is long ra ? $", their anonymous RSS to {HumanSize.Format(ra)} of AnonPages {HumanSize.Format(anon)}" : "") +
                         (pc.Unreadable > 0 ? $"; {pc.Unreadable} processes' smaps_rollup unreadable (run as root): PSS unknown for them" : ""));
        if (MemoryAccountBuilder.UnexplainedUsedBytes(account, snapshot.System.Meminfo) is long unexplained)
            output.WriteLine($"Used memory (MemTotal − MemAvailable) not explained by process PSS: {HumanSize.Format(unexplained)}");
        output.WriteLine();
        output.WriteLine("Overlaps (not added again):");
        foreach (AccountOverlap o in account.Overlaps)
            output.WriteLine($"  {o.Field,-28} {HumanSize.Format(o.Bytes),9}  {o.Note}");
        foreach (string note in account.Notes) output.WriteLine($"Note: {note}");
        if (explain)
        {
            output.WriteLine();
            foreach (AccountLine line in account.Lines) output.WriteLine($"{line.Title}: {line.What}");
        }
    }

    private static string Pct(long? part, long total) =>
        part is long p && total > 0 ? (100.0 * p / total).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) : "-";

    private static string ReclaimWord(Reclaim r) => r switch
    {
        Reclaim.Yes => "yes",
        Reclaim.Partly => "swap only",
        Reclaim.No => "no",
        Reclaim.Free => "free",
        _ => "unknown",
    };
}

public sealed record AccountLineJson(string Id, string Title, long? Bytes, double? Percent, string Reclaimable, string Source, string What,
    IReadOnlyList<AccountLineJson> Details);
public sealed record AccountOverlapJson(string Field, long? Bytes, string Note);
public sealed record AccountJson(DateTimeOffset Time, long MemTotalBytes, IReadOnlyList<AccountLineJson> Lines, IReadOnlyList<AccountOverlapJson> Overlaps,
    int ProcessesCounted, int ProcessesUnreadable, long? ProcessesPssBytes, long? ProcessesRssAnonBytes, long? UnexplainedUsedBytes,
    IReadOnlyList<string> Notes)
{
    public static AccountJson From(MemoryAccount a, Snapshot s)
    {
        AccountLineJson Line(AccountLine l) => new(l.Id, l.Title, l.Bytes,
            l.Bytes is long b ? Math.Round(100.0 * b / a.MemTotalBytes, 2) : null,
            l.Reclaimable.ToString().ToLowerInvariant(), l.Source, l.What, l.Details.Select(Line).ToList());
        return new AccountJson(s.Time, a.MemTotalBytes, a.Lines.Select(Line).ToList(),
            a.Overlaps.Select(o => new AccountOverlapJson(o.Field, o.Bytes, o.Note)).ToList(),
            a.Processes.Counted, a.Processes.Unreadable, a.Processes.PssBytes, a.Processes.RssAnonBytes,
            MemoryAccountBuilder.UnexplainedUsedBytes(a, s.System.Meminfo), a.Notes);
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(AccountJson))]
internal sealed partial class AccountJsonContext : JsonSerializerContext;
