using System.Globalization;
using System.Text;
using MemScope.Cli.Rendering;
using MemScope.Store;

namespace MemScope.Cli.Commands;

/// <summary>Text and Markdown for `memscope report` and `memscope diff`.</summary>
internal static class HistoryRenderer
{
    /// <summary>A table written as aligned text or as a Markdown table.</summary>
    private sealed class Table(bool markdown, params string[] headers)
    {
        private readonly TextTable _text = new(headers);
        private readonly List<string[]> _rows = [];
        public void Add(params string[] cells) { _text.Add(cells); _rows.Add(cells); }
        public int Count => _rows.Count;

        public void Write(TextWriter o)
        {
            if (!markdown) { _text.Write(o, "  "); return; }
            string[] h = headers.Select(x => x.TrimStart('>')).ToArray();
            o.WriteLine("| " + string.Join(" | ", h) + " |");
            o.WriteLine("|" + string.Join("|", headers.Select(x => x.StartsWith('>') ? "---:" : "---")) + "|");
            foreach (var r in _rows) o.WriteLine("| " + string.Join(" | ", r.Select(c => c.Replace("|", "\\|"))) + " |");
        }
    }

    private static string T(DateTimeOffset? t) => t is { } x ? x.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "-";
    private static string Clock(DateTimeOffset? t) => t is { } x ? x.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture) : "-";

    private static string Value(double? v, string unit) => v is not double d ? "-" : unit switch
    {
        "bytes" => HumanSize.Format(d),
        "percent" => d.ToString("0.00", CultureInfo.InvariantCulture) + "%",
        _ => d.ToString("0.##", CultureInfo.InvariantCulture),
    };

    private static string Signed(long? bytes) => bytes is long b ? (b > 0 ? "+" : "") + HumanSize.Format(b) : "-";
    private static string Count(double? n) => n is double d ? (d >= 100 ? d.ToString("N0", CultureInfo.InvariantCulture) : d.ToString("0.##", CultureInfo.InvariantCulture)) : "-";

    private static void Heading(TextWriter o, bool md, string title)
    {
        o.WriteLine();
        o.WriteLine(md ? "## " + title : title);
        if (md) o.WriteLine();
    }

    private static string Command(string comm, string cmdline, int max = 60)
    {
        string s = cmdline.Length > 0 ? cmdline : $"[{comm}]";
        return s.Length > max ? s[..(max - 3)] + "..." : s;
    }

    public static void Report(HistoryReport r, TextWriter o, bool md)
    {
        string span = $"{T(r.From)} to {T(r.To)}";
        string every = r.MedianIntervalSeconds is double i ? $", every {i.ToString("0.#", CultureInfo.InvariantCulture)}s" : "";
        o.WriteLine(md ? $"# Memory report: {span}" : $"Memory report: {span}");
        if (md) o.WriteLine();
        o.WriteLine($"{r.Samples} samples{every}, from {r.Database}");

        Heading(o, md, "Peaks and lows");
        var t = new Table(md, "figure", ">first", ">last", ">low", "at", ">high", "at");
        foreach (Extreme e in r.Extremes)
        {
            if (e.Max is null) continue;
            t.Add(e.Name, Value(e.First, e.Unit), Value(e.Last, e.Unit), Value(e.Min, e.Unit), Clock(e.MinTime), Value(e.Max, e.Unit), Clock(e.MaxTime));
        }
        t.Write(o);

        Heading(o, md, "Largest growers (RSS over the window)");
        if (r.Growers.Count == 0) o.WriteLine(md ? "No process grew." : "  no process grew");
        else
        {
            var g = new Table(md, ">PID", "COMMAND", ">RSS first", ">RSS last", ">growth", ">peak", ">PSS growth", "note");
            foreach (ProcessGrowth p in r.Growers)
                g.Add(p.Pid.ToString(CultureInfo.InvariantCulture), Command(p.Comm, p.CommandLine), HumanSize.Format(p.FirstRssBytes),
                    HumanSize.Format(p.LastRssBytes), Signed(p.RssGrowthBytes), HumanSize.Format(p.PeakRssBytes), Signed(p.PssGrowthBytes), Note(p));
            g.Write(o);
        }
        if (r.Shrinkers.Count > 0)
        {
            Heading(o, md, "Shrank most");
            var s = new Table(md, ">PID", "COMMAND", ">RSS first", ">RSS last", ">change", "note");
            foreach (ProcessGrowth p in r.Shrinkers.Take(5))
                s.Add(p.Pid.ToString(CultureInfo.InvariantCulture), Command(p.Comm, p.CommandLine), HumanSize.Format(p.FirstRssBytes),
                    HumanSize.Format(p.LastRssBytes), Signed(p.RssGrowthBytes), Note(p));
            s.Write(o);
        }

        Heading(o, md, "Swap and reclaim activity");
        var a = new Table(md, "counter", ">total", ">peak /s", "at", "meaning");
        foreach (CounterActivity c in r.Activity)
            a.Add(c.Name, Count(c.Total), Count(c.PeakPerSec), Clock(c.PeakTime), c.Meaning);
        a.Write(o);

        Heading(o, md, "OOM kills");
        if (r.OomVictims is { Count: > 0 } victims)
        {
            var v = new Table(md, "time", ">PID", "COMMAND", ">anon RSS", "cgroup", ">oom_score_adj");
            foreach (OomVictim k in victims)
                v.Add(T(k.Time), k.Pid.ToString(CultureInfo.InvariantCulture), k.Command, k.AnonRssBytes is ulong rss ? HumanSize.Format(rss) : "-",
                    (k.Cgroup ?? "-") + (k.CgroupLimit ? " (its limit)" : ""), k.OomScoreAdj?.ToString(CultureInfo.InvariantCulture) ?? "-");
            v.Write(o);
            if (r.OomKills is ulong n && n > (ulong)victims.Count)
                o.WriteLine($"{(md ? "" : "  ")}The oom_kill counter rose by {n}: {n - (ulong)victims.Count} kill(s) not in the recorded kernel log.");
        }
        else
        {
            if (r.OomVictims is null)
                o.WriteLine($"{(md ? "" : "  ")}From the /proc/vmstat oom_kill counter only, victims unknown: {r.OomVictimsUnavailable}.");
            if (md && r.OomVictims is null) o.WriteLine();
            if (r.OomKills is null) o.WriteLine($"{(md ? "" : "  ")}{(r.OomVictims is null ? "unknown" : "none in the recorded kernel log")} (no oom_kill counter in /proc/vmstat on this kernel)");
            else if (r.OomKills == 0) o.WriteLine(md ? "None." : "  none");
            else
            {
                foreach (OomKillEvent e in r.OomKillEvents) o.WriteLine($"{(md ? "- " : "  ")}{T(e.Time)}: {e.Kills} process{(e.Kills == 1 ? "" : "es")} killed");
                if (r.OomVictims is not null) o.WriteLine($"{(md ? "" : "  ")}No kill in the recorded kernel log for these.");
            }
        }

        Heading(o, md, "Doctor findings over the window");
        if (r.Findings is null) o.WriteLine($"  unavailable: {r.FindingsUnavailable}");
        else if (r.Findings.Count == 0) o.WriteLine(md ? "None: memory looked healthy." : "  none: memory looked healthy");
        else
            foreach (ReportFinding f in r.Findings)
            {
                o.WriteLine($"{(md ? "- **" : "  ")}{f.Severity.ToUpperInvariant()}{(md ? "**" : "")} {f.Title} ({f.Id})");
                foreach (string ev in f.Evidence) o.WriteLine($"{(md ? "  - " : "      ")}{ev}");
            }
    }

    private static string Note(ProcessGrowth p)
    {
        var parts = new List<string>();
        if (p.Started) parts.Add("started " + Clock(p.FirstSeen));
        if (p.Exited) parts.Add("exited " + Clock(p.LastSeen));
        return string.Join(", ", parts);
    }

    public static void Diff(SnapshotDiff d, TextWriter o, bool md, int top)
    {
        o.WriteLine($"{(md ? "# " : "")}Changes from {T(d.Before)} to {T(d.After)} ({d.Seconds.ToString("0.#", CultureInfo.InvariantCulture)}s)");
        Heading(o, md, "System (/proc/meminfo)");
        var m = new Table(md, "field", ">before", ">after", ">change");
        foreach (FieldChange f in d.Meminfo.Take(top))
        {
            bool pages = f.Name.StartsWith("HugePages_", StringComparison.Ordinal);
            string F(ulong? v) => v is ulong x ? (pages ? x.ToString(CultureInfo.InvariantCulture) : HumanSize.Format(x)) : "-";
            m.Add(f.Name, F(f.Before), F(f.After), f.Delta is long dl ? (pages ? dl.ToString("+0;-0", CultureInfo.InvariantCulture) : Signed(dl)) : "-");
        }
        if (m.Count == 0) o.WriteLine("  no change"); else m.Write(o);

        var events = d.Vmstat.Where(f => f.Delta > 0 && IsEvent(f.Name)).Take(top).ToList();
        if (events.Count > 0)
        {
            Heading(o, md, "Events (/proc/vmstat)");
            var v = new Table(md, "counter", ">count");
            foreach (FieldChange f in events) v.Add(f.Name, Count(f.Delta));
            v.Write(o);
        }

        Processes(o, md, "Grew", d.Grew, both: true);
        Processes(o, md, "Shrank", d.Shrank, both: true);
        Processes(o, md, "New processes", d.New, both: false);
        Processes(o, md, "Gone processes", d.Gone, both: false);
    }

    private static bool IsEvent(string name) => !name.StartsWith("nr_", StringComparison.Ordinal);

    private static void Processes(TextWriter o, bool md, string title, IReadOnlyList<ProcessChange> list, bool both)
    {
        Heading(o, md, title);
        if (list.Count == 0) { o.WriteLine(md ? "None." : "  none"); return; }
        var t = both
            ? new Table(md, ">PID", "COMMAND", ">RSS before", ">RSS after", ">change", ">PSS change")
            : new Table(md, ">PID", "COMMAND", ">RSS", ">PSS");
        foreach (ProcessChange p in list)
        {
            string pid = p.Pid.ToString(CultureInfo.InvariantCulture);
            if (both) t.Add(pid, Command(p.Comm, p.CommandLine), HumanSize.Format(p.RssBefore), HumanSize.Format(p.RssAfter), Signed(p.RssDelta), Signed(p.PssDelta));
            else t.Add(pid, Command(p.Comm, p.CommandLine), HumanSize.Format(p.RssAfter ?? p.RssBefore), HumanSize.Format(p.PssAfter ?? p.PssBefore));
        }
        t.Write(o);
    }
}
