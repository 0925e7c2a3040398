using MemScope.Analysis.Doctor;

namespace MemScope.Cli.Commands;

/// <summary>Text and Markdown renderings of a doctor report.</summary>
public static class DoctorRenderer
{
    public static void Text(TextWriter o, DoctorReport r, string lang, bool all)
    {
        bool zh = lang == "zh";
        if (r.Replay is { } replay) o.WriteLine((zh ? "回放：" : "Replay: ") + replay[(replay.StartsWith("replay of ", StringComparison.Ordinal) ? "replay of ".Length : 0)..]);
        var shown = r.Findings.Where(f => all || f.Severity > Severity.Info || r.Findings.Count(x => x.Severity > Severity.Info) == 0).ToList();
        if (r.Healthy)
        {
            o.WriteLine(zh ? $"内存状况良好（观察 {r.WindowSeconds:0} 秒，{r.Samples} 次采样）。" : $"Memory is healthy (watched {r.WindowSeconds:0} s, {r.Samples} samples).");
            foreach (Evidence e in r.HealthFigures) o.WriteLine($"  {e.Label,-16} {e.Value}   [{e.Source}]");
            if (shown.Count > 0) o.WriteLine();
        }
        else
        {
            int critical = r.Findings.Count(f => f.Severity == Severity.Critical), warning = r.Findings.Count(f => f.Severity == Severity.Warning);
            o.WriteLine(zh ? $"发现问题：{critical} 个严重，{warning} 个警告（观察 {r.WindowSeconds:0} 秒，{r.Samples} 次采样）。"
                           : $"Found {critical} critical and {warning} warning finding(s) (watched {r.WindowSeconds:0} s, {r.Samples} samples).");
            o.WriteLine();
        }
        foreach (Finding f in shown)
        {
            o.WriteLine($"[{Word(f.Severity, zh)}] {f.Id}: {f.Title.In(lang)}");
            foreach (Evidence e in f.Evidence) o.WriteLine($"    {e.Label}: {e.Value}   [{e.Source}]");
            o.WriteLine($"  {(zh ? "说明" : "Why")}: {f.Explanation.In(lang)}");
            if (f.Cause is not null) o.WriteLine($"  {(zh ? "可能原因" : "Likely cause")}: {f.Cause.In(lang)}");
            if (f.Next.Count > 0) o.WriteLine($"  {(zh ? "下一步" : "Next")}: {string.Join("  |  ", f.Next)}");
            foreach (Text fix in f.Fixes) o.WriteLine($"  {(zh ? "修复" : "Fix")}: {fix.In(lang)}");
            o.WriteLine();
        }
        if (r.Skipped.Count > 0)
        {
            if (all)
                foreach (SkippedRule s in r.Skipped) o.WriteLine($"{(zh ? "跳过" : "skipped")} {s.Id}: {s.Reason}");
            else
                o.WriteLine(zh ? $"{r.Skipped.Count} 条规则因缺少数据被跳过（{string.Join(", ", r.Skipped.Select(s => s.Id))}）；--all 查看原因。"
                               : $"{r.Skipped.Count} rule(s) skipped for missing sources ({string.Join(", ", r.Skipped.Select(s => s.Id))}); --all shows why.");
        }
    }

    public static void Markdown(TextWriter o, DoctorReport r, string lang)
    {
        o.WriteLine($"## memscope doctor — {(r.Healthy ? "healthy" : r.Worst.ToString().ToLowerInvariant())}");
        o.WriteLine();
        o.WriteLine($"{r.Time:u}, {r.WindowSeconds:0} s window, {r.Samples} samples.");
        if (r.Replay is { } replay) o.WriteLine($"\n{char.ToUpperInvariant(replay[0])}{replay[1..]}.");
        o.WriteLine();
        if (r.Healthy)
            foreach (Evidence e in r.HealthFigures) o.WriteLine($"- **{e.Label}**: {e.Value} (`{e.Source}`)");
        foreach (Finding f in r.Findings)
        {
            o.WriteLine($"### {Word(f.Severity, false)}: {f.Title.In(lang)} (`{f.Id}`)");
            o.WriteLine();
            o.WriteLine("| evidence | value | source |");
            o.WriteLine("|---|---|---|");
            foreach (Evidence e in f.Evidence) o.WriteLine($"| {Escape(e.Label)} | {Escape(e.Value)} | `{Escape(e.Source)}` |");
            o.WriteLine();
            o.WriteLine(f.Explanation.In(lang));
            if (f.Cause is not null) { o.WriteLine(); o.WriteLine($"**Likely cause:** {f.Cause.In(lang)}"); }
            if (f.Next.Count > 0) { o.WriteLine(); o.WriteLine("**Next:** " + string.Join(", ", f.Next.Select(n => $"`{n}`"))); }
            foreach (Text fix in f.Fixes) o.WriteLine($"- {fix.In(lang)}");
            o.WriteLine();
        }
        foreach (SkippedRule s in r.Skipped) o.WriteLine($"- skipped `{s.Id}`: {s.Reason}");
    }

    private static string Word(Severity s, bool zh) => s switch
    {
        Severity.Critical => zh ? "严重" : "CRITICAL",
        Severity.Warning => zh ? "警告" : "WARNING",
        _ => zh ? "信息" : "info",
    };

    private static string Escape(string s) => s.Replace("|", "\\|");
}
