using System.CommandLine;
using System.Text;
using MemScope.Analysis;
using MemScope.Analysis.Doctor;
using MemScope.Model;
using MemScope.Procfs;

namespace MemScope.Cli.Commands;

/// <summary>
/// `memscope top`: the memory-first top. Meters, si/so and reclaim, the doctor's top finding, and a process table with
/// RES, PSS, USS, SWAP, growth and oom_score. PSS/USS come from smaps_rollup for the rows on screen only. Keys as in
/// top: M (RES), P (PSS), S (swap), G (growth), / filter, arrows, Enter (segment view), ? help, q quit.
/// `-b -n N -d SECONDS` prints plain frames for scripts.
/// </summary>
internal static class TopCommand
{
    public static Command Create()
    {
        var delay = new Option<double>("--delay", "-d") { Description = "Seconds between refreshes", DefaultValueFactory = _ => 2 };
        var batch = new Option<bool>("--batch", "-b") { Description = "Batch mode: plain text frames, no keys (for scripts and logs)" };
        var iterations = new Option<int?>("--iterations", "-n") { Description = "Stop after N frames" };
        var sort = new Option<string>("--sort", "-o") { Description = "Sort key: rss, pss, uss, swap, growth", DefaultValueFactory = _ => "rss" };
        var rows = new Option<int?>("--rows") { Description = "Process rows per frame (default: what fits; 20 in batch mode)" };
        var filter = new Option<string?>("--filter") { Description = "Only processes whose pid, name or command line contains this text" };
        var cmd = new Command("top", "Live, memory-first process view (RES, PSS, USS, swap, growth, oom_score)");
        foreach (Option o in new Option[] { delay, batch, iterations, sort, rows, filter }) cmd.Options.Add(o);
        cmd.SetAction(async (parse, ct) =>
        {
            double seconds = parse.GetValue(delay);
            if (!(seconds >= 0.1) || seconds > 3600) throw new CliException(ExitCodes.Usage, $"--delay {seconds}: between 0.1 and 3600 seconds");
            int? frames = parse.GetValue(iterations);
            if (frames is <= 0) throw new CliException(ExitCodes.Usage, "--iterations must be at least 1");
            TopSortKey key = ParseSort(parse.GetValue(sort)!);
            var state = new TopState(GlobalOptions.OpenProc(parse), GlobalOptions.OpenSys(parse), key, parse.GetValue(filter));
            if (parse.GetValue(batch))
                return await Batch(parse.InvocationConfiguration.Output, state, seconds, frames, parse.GetValue(rows) ?? 20, ct);
            if (Console.IsInputRedirected || Console.IsOutputRedirected)
                throw new CliException(ExitCodes.Usage, "top needs a terminal for its interactive view; use -b for batch mode");
            return await Interactive(state, seconds, frames, ct);
        });
        return cmd;
    }

    private static TopSortKey ParseSort(string s) => s.ToLowerInvariant() switch
    {
        "rss" or "res" or "mem" or "m" => TopSortKey.Rss,
        "pss" or "p" => TopSortKey.Pss,
        "uss" => TopSortKey.Uss,
        "swap" or "s" => TopSortKey.Swap,
        "growth" or "g" => TopSortKey.Growth,
        _ => throw new CliException(ExitCodes.Usage, $"--sort {s}: use rss, pss, uss, swap or growth"),
    };

    private static async Task<int> Batch(TextWriter o, TopState state, double seconds, int? frames, int rows, CancellationToken ct)
    {
        for (int n = 0; frames is null || n < frames; n++)
        {
            if (n > 0)
            {
                try { await Task.Delay(TimeSpan.FromSeconds(seconds), ct); }
                catch (OperationCanceledException) { break; }
            }
            TopFrame frame = state.Refresh(rows);
            foreach (string line in frame.Lines(int.MaxValue / 2, rows + 6, selected: -1, color: false)) o.WriteLine(line);
            o.WriteLine();
            o.Flush();
        }
        return ExitCodes.Ok;
    }

    private static async Task<int> Interactive(TopState state, double seconds, int? frames, CancellationToken ct)
    {
        bool color = Environment.GetEnvironmentVariable("NO_COLOR") is not { Length: > 0 };
        Console.Write("\u001b[?1049h\u001b[?25l"); // alternate screen, hide cursor
        int selected = 0, shown = 0;
        try
        {
            TopFrame frame = state.Refresh(Rows());
            while (!ct.IsCancellationRequested)
            {
                Draw(frame, selected, color);
                shown++;
                if (frames is int max && shown >= max) break;
                DateTime due = DateTime.UtcNow.AddSeconds(seconds);
                bool refresh = false;
                while (!refresh && DateTime.UtcNow < due && !ct.IsCancellationRequested)
                {
                    if (!Console.KeyAvailable) { await Task.Delay(30, CancellationToken.None); continue; }
                    ConsoleKeyInfo k = Console.ReadKey(intercept: true);
                    switch (k.Key)
                    {
                        case ConsoleKey.Q: return ExitCodes.Ok;
                        case ConsoleKey.UpArrow: selected = Math.Max(0, selected - 1); Draw(frame, selected, color); continue;
                        case ConsoleKey.DownArrow: selected = Math.Min(Math.Max(0, frame.Rows.Count - 1), selected + 1); Draw(frame, selected, color); continue;
                        case ConsoleKey.Enter:
                            if (selected < frame.Rows.Count) ShowSegments(state.Proc, frame.Rows[selected].Process);
                            Draw(frame, selected, color);
                            continue;
                    }
                    switch (k.KeyChar)
                    {
                        case 'M': state.Sort = TopSortKey.Rss; refresh = true; break;
                        case 'P': state.Sort = TopSortKey.Pss; refresh = true; break;
                        case 'S': state.Sort = TopSortKey.Swap; refresh = true; break;
                        case 'G': state.Sort = TopSortKey.Growth; refresh = true; break;
                        case 'U': state.Sort = TopSortKey.Uss; refresh = true; break;
                        case '/': state.Filter = Prompt("filter (pid, name or command; empty clears): "); selected = 0; refresh = true; break;
                        case '?': ShowHelp(); Draw(frame, selected, color); break;
                        case 'q': return ExitCodes.Ok;
                    }
                }
                frame = state.Refresh(Rows());
                selected = Math.Min(selected, Math.Max(0, frame.Rows.Count - 1));
            }
            return ExitCodes.Ok;
        }
        finally
        {
            Console.Write("\u001b[0m\u001b[?25h\u001b[?1049l"); // restore: attributes, cursor, main screen
        }

        static int Rows() => Math.Max(1, SafeHeight() - 6);
    }

    private static int SafeHeight() { try { return Console.WindowHeight > 0 ? Console.WindowHeight : 24; } catch (IOException) { return 24; } }
    private static int SafeWidth() { try { return Console.WindowWidth > 0 ? Console.WindowWidth : 80; } catch (IOException) { return 80; } }

    private static void Draw(TopFrame frame, int selected, bool color)
    {
        int width = SafeWidth(), height = SafeHeight();
        var sb = new StringBuilder("\u001b[H");
        foreach (string line in frame.Lines(width, height, selected, color)) sb.Append(line).Append("\u001b[K\r\n");
        sb.Append("\u001b[J");
        string text = sb.ToString();
        Console.Write(text.EndsWith("\r\n\u001b[J") ? text[..^5] + "\u001b[J" : text);
    }

    private static void ShowScreen(IEnumerable<string> lines)
    {
        int width = SafeWidth(), height = SafeHeight();
        var sb = new StringBuilder("\u001b[H\u001b[2J");
        foreach (string line in lines.Take(height - 1)) sb.Append(line.Length > width ? line[..width] : line).Append("\r\n");
        sb.Append("(press any key to return)");
        Console.Write(sb.ToString());
        Console.ReadKey(intercept: true);
    }

    private static void ShowSegments(ProcFs proc, ProcessSnapshot p)
    {
        var text = new StringWriter();
        try
        {
            MapsCommand.RenderSegments(text, MapsCommand.ReadProcess(proc, p.Pid), "rss", picture: false);
        }
        catch (CliException e) { text.WriteLine(e.Message); }
        ShowScreen(new[] { $"Segment view of {p.Comm} (pid {p.Pid})", "" }.Concat(text.ToString().Split('\n')));
    }

    private static void ShowHelp() => ShowScreen(
    [
        "memscope top — keys",
        "",
        "  M  sort by resident memory (RES)      P  sort by PSS (shared pages divided among sharers)",
        "  S  sort by swap                        G  sort by growth per second since the last refresh",
        "  U  sort by USS (private memory)        /  filter by pid, name or command line",
        "  ↑ ↓  move the selection                Enter  segment view of the selected process",
        "  ?  this help                           q  quit",
        "",
        "PSS and USS are read from smaps_rollup for the rows on screen only; '-' means unknown (not readable).",
        "GROWTH is the change of RES per second between two refreshes. OOM is oom_score (higher is killed first).",
    ]);

    private static string? Prompt(string text)
    {
        Console.Write($"\u001b[{SafeHeight()};1H\u001b[K{text}\u001b[?25h");
        var sb = new StringBuilder();
        while (true)
        {
            ConsoleKeyInfo k = Console.ReadKey(intercept: true);
            if (k.Key == ConsoleKey.Enter) break;
            if (k.Key == ConsoleKey.Escape) { sb.Clear(); break; }
            if (k.Key == ConsoleKey.Backspace) { if (sb.Length > 0) { sb.Length--; Console.Write("\b \b"); } continue; }
            if (!char.IsControl(k.KeyChar)) { sb.Append(k.KeyChar); Console.Write(k.KeyChar); }
        }
        Console.Write("\u001b[?25l");
        return sb.Length == 0 ? null : sb.ToString();
    }
}

/// <summary>What `memscope top` carries from one refresh to the next: the previous snapshot (for rates and growth), sort and filter.</summary>
internal sealed class TopState(ProcFs proc, Sysfs.SysFs sys, TopSortKey sort, string? filter)
{
    private readonly SnapshotCollector _collector = new(proc, sys);
    private Snapshot? _previous;

    public ProcFs Proc { get; } = proc;
    public TopSortKey Sort { get; set; } = sort;
    public string? Filter { get; set; } = filter;

    public TopFrame Refresh(int rows)
    {
        Snapshot now = _collector.Collect(new CollectOptions { Processes = true, Detail = ProcessDetail.Cheap });
        Rates? rates = _previous is null ? null : Rates.Between(_previous, now);
        var before = _previous?.Processes.ToDictionary(p => p.Key);
        string? f = Filter;
        IReadOnlyList<TopRow> selected = TopProcesses.Select(now.Processes, before, rates?.ElapsedSeconds ?? 0, Sort, rows, ReadRollup,
            f is null ? null : p => Matches(p, f));
        // The doctor's quick rules on the two latest snapshots (rules that need a longer window skip themselves).
        Finding? top = null;
        try
        {
            DoctorReport report = Doctor.Examine(new DoctorContext { Samples = _previous is null ? [now] : [_previous, now] });
            top = report.Findings.FirstOrDefault(x => x.Severity > Severity.Info);
        }
        catch (Exception e) when (e is KernelFileException or InvalidOperationException) { }
        _previous = now;
        return new TopFrame(now, rates, selected, top, Sort, Filter);
    }

    /// <summary>A number filters by exact pid; text by name or command line (case-insensitive).</summary>
    private static bool Matches(ProcessSnapshot p, string filter) =>
        int.TryParse(filter, out int pid) ? p.Pid == pid
            : p.Comm.Contains(filter, StringComparison.OrdinalIgnoreCase) || p.CommandLine.Contains(filter, StringComparison.OrdinalIgnoreCase);

    private SmapsFields? ReadRollup(ProcessSnapshot p)
    {
        try { return ProcPidSmapsRollup.Read(Proc.PidPath(p.Pid, "smaps_rollup")); }
        catch (KernelFileException) { return null; }
    }
}
