using System.CommandLine;
using MemScope.Export.Explain;
using MemScope.Cli.Rendering;

namespace MemScope.Cli.Commands;

/// <summary>`memscope explain [TERM]`: every field and concept in plain English or Chinese, with its source and formula.</summary>
public static class ExplainCommand
{
    public static Command Create()
    {
        var term = new Argument<string[]>("term") { Description = "What to explain (loosely matched: buff/cache, Buffers, RES, oom_adj, 大页)", Arity = ArgumentArity.ZeroOrMore };
        var cmd = new Command("explain", "Explain a figure or concept (English or Chinese with --lang zh); without a term, list them by topic");
        cmd.Arguments.Add(term);
        cmd.SetAction(parse =>
        {
            string lang = GlobalOptions.LanguageOf(parse);
            TextWriter o = parse.InvocationConfiguration.Output;
            string text = string.Join(' ', parse.GetValue(term) ?? []);
            if (text.Length == 0)
            {
                List(o, lang);
                return ExitCodes.Ok;
            }
            IReadOnlyList<FieldEntry> hits = FieldRegistry.Find(text);
            if (hits.Count == 0)
                throw new CliException(ExitCodes.NotFound, lang == "zh" ? $"没有关于 '{text}' 的解释；运行 'memscope explain' 查看全部条目" : $"nothing to explain for '{text}'; 'memscope explain' lists every entry");
            foreach (FieldEntry e in hits.Take(3)) Write(o, e, lang);
            if (hits.Count > 3) o.WriteLine(lang == "zh" ? $"（另有 {hits.Count - 3} 个匹配：{string.Join(", ", hits.Skip(3).Select(h => h.Id))}）" : $"({hits.Count - 3} more matches: {string.Join(", ", hits.Skip(3).Select(h => h.Id))})");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    internal static void Write(TextWriter o, FieldEntry e, string lang)
    {
        bool zh = lang == "zh";
        o.WriteLine($"{e.Title.In(lang)}  [{e.Id}]");
        o.WriteLine();
        o.WriteLine("  " + e.Explanation.In(lang));
        o.WriteLine();
        if (e.Formula is not null) o.WriteLine($"  {(zh ? "公式" : "Formula")}: {e.Formula}");
        if (e.Source != "concept") o.WriteLine($"  {(zh ? "来源" : "Source")}: {e.Source}");
        if (e.Unit.Length > 0) o.WriteLine($"  {(zh ? "单位" : "Unit")}: {e.Unit}");
        if (e.Commands.Count > 0) o.WriteLine($"  {(zh ? "显示于" : "Shown by")}: {string.Join(", ", e.Commands)}");
        o.WriteLine();
    }

    private static void List(TextWriter o, string lang)
    {
        foreach (string topic in Topics.Order)
        {
            o.WriteLine(Topics.Title(topic).In(lang));
            var table = new TextTable("ID", lang == "zh" ? "名称" : "NAME");
            foreach (FieldEntry e in FieldRegistry.All.Where(e => e.Topic == topic)) table.Add(e.Id, e.Title.In(lang));
            table.Write(o, "  ");
            o.WriteLine();
        }
        o.WriteLine(lang == "zh" ? "用法：memscope explain 术语（例如 buff/cache、RES、oom_adj、大页）" : "Usage: memscope explain TERM (e.g. buff/cache, RES, oom_adj, 大页)");
    }
}

/// <summary>The `--explain` footer of a view: each shown column's meaning under the table, in the chosen language.</summary>
public static class ExplainFooter
{
    /// <summary>
    /// One line pointing to `memscope account` when used memory is far from what the processes' PSS explains
    /// (the common "free says 20 GB used but processes add up to 6 GB" question). Silent when PSS is unreadable.
    /// </summary>
    public static void AccountPointer(TextWriter o, Procfs.ProcFs proc, Sysfs.SysFs sys, string lang)
    {
        var snapshot = new Model.SnapshotCollector(proc, sys).Collect(new Model.CollectOptions { Processes = true, Detail = Model.ProcessDetail.WithSmapsRollup });
        var account = Analysis.MemoryAccountBuilder.Build(snapshot);
        if (Analysis.MemoryAccountBuilder.UnexplainedUsedBytes(account, snapshot.System.Meminfo) is not long gap) return;
        if (gap < Analysis.Doctor.DoctorThresholds.UnexplainedUsedFraction * account.MemTotalBytes) return;
        o.WriteLine(lang == "zh"
            ? $"注意：已用内存中有 {HumanSize.Format(gap)} 无法由进程的 PSS 解释（内核、共享内存、大页池……）；运行 'memscope account' 查看明细。"
            : $"Note: {HumanSize.Format(gap)} of used memory is not explained by the processes' PSS (kernel, shared memory, huge page pools...); run 'memscope account' for the balance sheet.");
    }

    public static void Write(TextWriter o, string lang, params string[] ids)
    {
        o.WriteLine();
        foreach (string id in ids)
        {
            FieldEntry e = FieldRegistry.Get(id) ?? throw new InvalidOperationException($"no explain entry '{id}'");
            string formula = e.Formula is null ? "" : $" ({e.Formula})";
            o.WriteLine($"{e.Title.In(lang)}: {e.Explanation.In(lang)}{formula} [{e.Source}]");
        }
    }
}
