using System.CommandLine;
using System.Text.Json;
using MemScope.Model;
using MemScope.Store;
using ScottPlot;

namespace MemScope.Cli.Commands;

/// <summary>
/// `memscope plot`: charts of a recorded window with ScottPlot: memory composition (stacked), swap and si/so, PSI,
/// and the top processes' RSS. Writes PNG or SVG files and prints their paths.
/// </summary>
internal static class PlotCommand
{
    public static readonly string[] Charts = ["memory", "swap", "psi", "processes"];

    public static Command Create()
    {
        var cmd = new Command("plot", "Charts of a recording: memory composition, swap and si/so, PSI, top processes' RSS");
        var db = new Option<string?>("--db") { Description = "Recording (default: the one 'memscope record' writes)", HelpName = "PATH" };
        var from = new Option<string?>("--from") { Description = "Start (ISO 8601, HH:MM[:SS] today, -1h, Unix seconds or now; default: first sample)", HelpName = "TIME" };
        var to = new Option<string?>("--to") { Description = "End (default: last sample)", HelpName = "TIME" };
        var outDir = new Option<string>("--out", "-o") { Description = "Directory for the files", DefaultValueFactory = _ => ".", HelpName = "DIR" };
        var format = new Option<string>("--format") { Description = "png or svg", DefaultValueFactory = _ => "png" };
        format.AcceptOnlyFromAmong("png", "svg");
        var top = new Option<int>("--top", "-n") { Description = "Processes in the RSS chart", DefaultValueFactory = _ => 8 };
        var width = new Option<int>("--width") { Description = "Pixels", DefaultValueFactory = _ => 1200 };
        var height = new Option<int>("--height") { Description = "Pixels", DefaultValueFactory = _ => 600 };
        var json = new Option<bool>("--json") { Description = "Print the files written as JSON" };
        foreach (Option o in new Option[] { db, from, to, outDir, format, top, width, height, json }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            DateTimeOffset? a = parse.GetValue(from) is string f ? SnapshotSource.ParseTime(f, "--from") : null;
            DateTimeOffset? b = parse.GetValue(to) is string t ? SnapshotSource.ParseTime(t, "--to") : null;
            int w = parse.GetValue(width), h = parse.GetValue(height);
            if (w < 200 || h < 150 || w > 10000 || h > 10000) throw new CliException(ExitCodes.Usage, "--width/--height: 200x150 to 10000x10000 pixels");
            using HistoryStore store = HistoryStore.OpenForReading(parse.GetValue(db) ?? HistoryStore.DefaultPath());
            List<Snapshot> series = store.ReadSystemRange(a, b);
            if (series.Count < 2)
                throw new CliException(ExitCodes.NotFound, $"need at least 2 samples in the window to plot, found {series.Count}");
            string dir = Path.GetFullPath(parse.GetValue(outDir)!);
            Directory.CreateDirectory(dir);
            string ext = parse.GetValue(format)!;
            var files = new List<string>();
            foreach (var (name, plot) in Build(store, series, Math.Max(1, parse.GetValue(top))))
            {
                string path = Path.Combine(dir, $"memscope-{name}.{ext}");
                if (ext == "svg") plot.SaveSvg(path, w, h); else plot.SavePng(path, w, h);
                files.Add(path);
            }
            TextWriter o = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
                o.WriteLine(JsonSerializer.Serialize(new PlotResultJson(files, series.Count, series[0].Time, series[^1].Time), HistoryJsonContext.Default.PlotResultJson));
            else foreach (string p in files) o.WriteLine(p);
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private const double GiB = 1024.0 * 1024 * 1024;

    /// <summary>The four charts for a window of samples.</summary>
    internal static IEnumerable<(string Name, Plot Plot)> Build(HistoryStore store, List<Snapshot> series, int top)
    {
        double[] xs = series.Select(s => s.Time.LocalDateTime.ToOADate()).ToArray();
        string window = $"{SnapshotReplay.Format(series[0].Time)} to {SnapshotReplay.Format(series[^1].Time)}";

        // 1. Composition, stacked: anon, page cache (without shmem), buffers, slab, shmem, free; the rest is "other kernel".
        var layers = new (string Label, Func<MemScope.Procfs.Meminfo, double> Value, string Color)[]
        {
            ("anon", m => m.AnonPages ?? 0, "#d62728"),
            ("page cache", m => (double)(m.Cached ?? 0) - (m.Shmem ?? 0), "#1f77b4"),
            ("buffers", m => m.Buffers ?? 0, "#17becf"),
            ("slab", m => m.Slab ?? 0, "#9467bd"),
            ("shmem", m => m.Shmem ?? 0, "#e377c2"),
            ("free", m => m.MemFree ?? 0, "#2ca02c"),
        };
        var memory = NewPlot($"Memory composition ({window})", "GiB");
        var cumulative = new double[layers.Length][];
        for (int l = 0; l < layers.Length; l++)
            cumulative[l] = series.Select((s, i) => Math.Max(0, layers[l].Value(s.System.Meminfo)) / GiB + (l > 0 ? cumulative[l - 1][i] : 0)).ToArray();
        // Draw from the top layer down so each filled area covers only its own band.
        for (int l = layers.Length - 1; l >= 0; l--)
        {
            var sc = memory.Add.Scatter(xs, cumulative[l]);
            sc.LegendText = layers[l].Label;
            sc.Color = Color.FromHex(layers[l].Color);
            sc.FillY = true;
            sc.FillYValue = 0;
            sc.FillYColor = sc.Color.WithAlpha(1.0);
            sc.MarkerSize = 0;
        }
        double[] total = series.Select(s => (s.System.Meminfo.MemTotal ?? 0) / GiB).ToArray();
        var tl = memory.Add.Scatter(xs, total);
        tl.LegendText = "MemTotal";
        tl.Color = Colors.Black;
        tl.LinePattern = LinePattern.Dashed;
        tl.MarkerSize = 0;
        yield return ("memory", memory);

        // 2. Swap used and si/so.
        var swap = NewPlot($"Swap ({window})", "swap used, GiB");
        var used = swap.Add.Scatter(xs, series.Select(s => s.System.Meminfo is { SwapTotal: ulong t, SwapFree: ulong f } && t >= f ? (t - f) / GiB : 0).ToArray());
        used.LegendText = "swap used";
        used.Color = Color.FromHex("#ff7f0e");
        used.FillY = true;
        used.FillYColor = used.Color.WithAlpha(0.3);
        used.MarkerSize = 0;
        double[] si = Rate(series, "pswpin"), so = Rate(series, "pswpout");
        var siLine = swap.Add.Scatter(xs, si);
        siLine.LegendText = "si (pages/s)";
        siLine.Axes.YAxis = swap.Axes.Right;
        siLine.Color = Color.FromHex("#1f77b4");
        siLine.MarkerSize = 0;
        var soLine = swap.Add.Scatter(xs, so);
        soLine.LegendText = "so (pages/s)";
        soLine.Axes.YAxis = swap.Axes.Right;
        soLine.Color = Color.FromHex("#d62728");
        soLine.MarkerSize = 0;
        swap.Axes.Right.Label.Text = "pages/s";
        yield return ("swap", swap);

        // 3. PSI.
        var psi = NewPlot($"Memory pressure, PSI avg10 ({window})", "% of time stalled");
        foreach (var (label, pick, color) in new (string, Func<Snapshot, double?>, string)[]
                 {
                     ("some", s => s.System.MemoryPressure?.Some?.Avg10, "#ff7f0e"),
                     ("full", s => s.System.MemoryPressure?.Full?.Avg10, "#d62728"),
                 })
        {
            var l = psi.Add.Scatter(xs, series.Select(s => pick(s) ?? double.NaN).ToArray());
            l.LegendText = label;
            l.Color = Color.FromHex(color);
            l.MarkerSize = 0;
        }
        psi.Axes.SetLimitsY(0, Math.Max(1, series.Max(s => s.System.MemoryPressure?.Some?.Avg10 ?? 0) * 1.2));
        yield return ("psi", psi);

        // 4. Top processes by peak RSS in the window.
        var procs = NewPlot($"Top {top} processes by RSS ({window})", "RSS, MiB");
        var infos = store.ListSamples(series[0].Time, series[^1].Time);
        var timeOf = infos.ToDictionary(i => i.Id, i => i.Time.LocalDateTime.ToOADate());
        var points = store.ReadProcessPoints(infos.Min(i => i.Id), infos.Max(i => i.Id)).Where(p => timeOf.ContainsKey(p.SampleId)).ToList();
        var palette = new ScottPlot.Palettes.Category10();
        int k = 0;
        foreach (var g in points.GroupBy(p => p.IdentId).OrderByDescending(g => g.Max(p => p.Rss)).Take(top))
        {
            var list = g.OrderBy(p => p.SampleId).ToList();
            var l = procs.Add.Scatter(list.Select(p => timeOf[p.SampleId]).ToArray(), list.Select(p => p.Rss / 1048576.0).ToArray());
            l.LegendText = $"{list[0].Pid} {list[0].Comm}";
            l.Color = palette.GetColor(k++);
            l.MarkerSize = list.Count == 1 ? 5 : 0;
        }
        yield return ("processes", procs);
    }

    private static Plot NewPlot(string title, string yLabel)
    {
        var p = new Plot();
        p.Title(title);
        p.YLabel(yLabel);
        p.Axes.DateTimeTicksBottom();
        p.ShowLegend(Alignment.UpperLeft);
        return p;
    }

    /// <summary>Per-second rate of a vmstat counter between neighbouring samples (the first point repeats the second).</summary>
    private static double[] Rate(List<Snapshot> series, string counter)
    {
        var r = new double[series.Count];
        for (int i = 1; i < series.Count; i++)
            r[i] = Rates.PerSec(series[i - 1].System.Vmstat?[counter], series[i].System.Vmstat?[counter], Snapshot.Elapsed(series[i - 1], series[i])) ?? double.NaN;
        r[0] = series.Count > 1 ? r[1] : 0;
        return r;
    }
}
