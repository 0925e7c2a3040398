using System.Globalization;
using MemScope.Analysis;
using MemScope.Analysis.Doctor;
using MemScope.Cli.Rendering;
using MemScope.Model;

namespace MemScope.Cli.Commands;

/// <summary>What one refresh of `memscope top` shows: system meters, the header line, the top finding and the rows.</summary>
internal sealed record TopFrame(Snapshot Snapshot, Rates? Rates, IReadOnlyList<TopRow> Rows, Finding? TopFinding, TopSortKey Sort, string? Filter)
{
    /// <summary>Renders the frame as lines of at most <paramref name="width"/> columns; the table fills what is left of <paramref name="height"/>.</summary>
    public List<string> Lines(int width, int height, int selected, bool color)
    {
        var m = Snapshot.System.Meminfo;
        double total = m.MemTotal ?? 1;
        ulong available = m.MemAvailable ?? m.MemFree ?? 0;
        ulong used = (m.MemTotal ?? 0) - Math.Min(available, m.MemTotal ?? 0);
        ulong cache = (m.Cached ?? 0) + (m.SReclaimable ?? 0);
        ulong swapTotal = m.SwapTotal ?? 0, swapUsed = swapTotal - Math.Min(m.SwapFree ?? 0, swapTotal);
        int bar = Math.Clamp(width - 62, 10, 60);
        var lines = new List<string>
        {
            $"memscope top - {Snapshot.Time.ToLocalTime():HH:mm:ss}  {Snapshot.Processes.Count} processes  sort {SortName(Sort)}" +
                (Filter is { Length: > 0 } ? $"  filter '{Filter}'" : "") + "  (? help, q quit)",
            $"Mem  {Meter(used / total, (m.Buffers ?? 0) / total, cache / total, bar)} used {HumanSize.Format(used)} buff {HumanSize.Format(m.Buffers)} cache {HumanSize.Format(cache)} avail {HumanSize.Format(available)}",
            $"Swap {Meter(swapTotal == 0 ? 0 : (double)swapUsed / swapTotal, 0, 0, bar)} used {HumanSize.Format(swapUsed)} of {HumanSize.Format(swapTotal)}",
            Pressure() + "  " + Activity(),
            TopFinding is { } f ? $"{(f.Severity == Severity.Critical ? "CRITICAL" : f.Severity == Severity.Warning ? "WARNING" : "info")} {f.Id}: {f.Title.En}" : "doctor: nothing above info",
        };
        string header = $"{"PID",7} {"USER",-8} {"RES",8} {"PSS",8} {"USS",8} {"SWAP",8} {"GROWTH/s",9} {"OOM",5} COMMAND";
        lines.Add(header);
        int room = Math.Max(0, height - lines.Count);
        for (int i = 0; i < Rows.Count && i < room; i++)
        {
            TopRow r = Rows[i];
            ProcessSnapshot p = r.Process;
            string command = p.CommandLine.Length > 0 ? p.CommandLine : $"[{p.Comm}]";
            string line = $"{p.Pid,7} {Truncate(UserNames.System.NameOf(p.Uid), 8),-8} {HumanSize.Format(p.RssBytes),8} {HumanSize.Format(r.PssBytes),8} " +
                          $"{HumanSize.Format(r.UssBytes),8} {HumanSize.Format(p.SwapBytes),8} {Growth(r.GrowthBytesPerSec),9} {p.OomScore?.ToString(CultureInfo.InvariantCulture) ?? "-",5} {command}";
            line = Fit(line, width);
            if (i == selected) line = color ? $"\u001b[7m{line.PadRight(width)}\u001b[0m" : ">" + line[1..];
            lines.Add(line);
        }
        for (int i = 0; i < lines.Count; i++)
            if (!lines[i].StartsWith('\u001b')) lines[i] = Fit(lines[i], width);
        return lines;
    }

    private string Pressure()
    {
        var psi = Snapshot.System.MemoryPressure;
        return psi is null ? "PSI unavailable" : $"PSI some {psi.Some?.Avg10:0.00}% full {psi.Full?.Avg10.ToString("0.00", CultureInfo.InvariantCulture) ?? "-"}%";
    }

    private string Activity()
    {
        if (Rates is not { } r) return "si/so -  reclaim -";
        double page = Snapshot.PageSize;
        return $"si {HumanSize.Format((r.SwapInPagesPerSec ?? 0) * page)}/s so {HumanSize.Format((r.SwapOutPagesPerSec ?? 0) * page)}/s  " +
               $"reclaim kswapd {Num(r.StealKswapdPerSec)}/s direct {Num(r.StealDirectPerSec)}/s  faults {Num(r.FaultsPerSec)}/s";
    }

    private static string Meter(double used, double buffers, double cache, int width)
    {
        int u = (int)Math.Round(Math.Clamp(used, 0, 1) * width);
        int b = Math.Min(width - u, (int)Math.Round(Math.Clamp(buffers, 0, 1) * width));
        int c = Math.Min(width - u - b, (int)Math.Round(Math.Clamp(cache, 0, 1) * width));
        return "[" + new string('|', u) + new string('b', b) + new string('c', c) + new string(' ', width - u - b - c) + "]";
    }

    private static string Num(double? v) => v is double d ? (d >= 1000 ? (d / 1000).ToString("0.0", CultureInfo.InvariantCulture) + "k" : d.ToString("0", CultureInfo.InvariantCulture)) : "-";
    private static string Growth(double? g) => g is double x ? (x >= 0 ? "+" : "-") + HumanSize.Format(Math.Abs(x)) : "-";
    private static string Truncate(string s, int n) => s.Length <= n ? s : s[..(n - 1)] + "+";
    private static string Fit(string s, int width) => DisplayWidth.Of(s) <= width ? s : s[..Math.Max(0, width)];

    public static string SortName(TopSortKey k) => k switch
    {
        TopSortKey.Pss => "PSS", TopSortKey.Uss => "USS", TopSortKey.Swap => "SWAP", TopSortKey.Growth => "GROWTH", _ => "RES",
    };
}
