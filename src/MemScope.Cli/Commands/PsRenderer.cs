using System.Globalization;
using System.Text;
using MemScope.Model;

namespace MemScope.Cli.Commands;

/// <summary>One row of `memscope ps`: a process with its user name and share of MemTotal.</summary>
internal sealed record PsRow(ProcessSnapshot P, string User, double? MemPercent)
{
    public string Command => P.CommandLine.Length > 0 ? P.CommandLine : $"[{P.Comm}]";
    /// <summary>Set only when the CGROUP column is wanted (<see cref="PsCgroupColumn"/>); its Path is null when unknown.</summary>
    public PsCgroupValue? Cgroup { get; init; }
}

/// <summary>A `ps --by user|command` group: sums over its processes; PSS/USS sums are null when any member's is unknown.</summary>
internal sealed record PsGroup(string Key, int Count, ulong Virt, ulong Rss, ulong? Swap, ulong? Pss, ulong? Uss, int UnknownPss, double? MemPercent);

/// <summary>A column of the ps table: id (for --columns, --sort and CSV), title, alignment, text and sort value.</summary>
internal sealed record PsColumn(string Id, string Title, bool Left, Func<PsRow, bool, string> Text, Func<PsRow, IComparable?> Key, bool Descending, string Description);

internal static class PsRenderer
{
    public static readonly PsColumn[] Columns =
    [
        new("pid", "PID", false, (r, _) => Num(r.P.Pid), r => r.P.Pid, false, "process id"),
        new("ppid", "PPID", false, (r, _) => Num(r.P.PPid), r => r.P.PPid, false, "parent process id"),
        new("user", "USER", true, (r, _) => r.User, r => r.User, false, "real user (from /etc/passwd)"),
        new("state", "S", true, (r, _) => r.P.State.ToString(), r => r.P.State, false, "state letter from stat"),
        new("threads", "THR", false, (r, _) => Num(r.P.Threads), r => r.P.Threads, true, "threads"),
        new("virt", "VIRT", false, (r, h) => Size(r.P.VirtBytes, h), r => r.P.VirtBytes, true, "virtual size (statm size)"),
        new("rss", "RES", false, (r, h) => Size(r.P.RssBytes, h), r => r.P.RssBytes, true, "resident set size (statm resident)"),
        new("shr", "SHR", false, (r, h) => Size(r.P.SharedBytes, h), r => r.P.SharedBytes, true, "resident file-backed + shmem (statm shared)"),
        new("anon", "ANON", false, (r, h) => Size(r.P.RssAnonBytes, h), r => r.P.RssAnonBytes, true, "RssAnon (status)"),
        new("file", "FILE", false, (r, h) => Size(r.P.RssFileBytes, h), r => r.P.RssFileBytes, true, "RssFile (status)"),
        new("shmem", "SHMEM", false, (r, h) => Size(r.P.RssShmemBytes, h), r => r.P.RssShmemBytes, true, "RssShmem (status)"),
        new("swap", "SWAP", false, (r, h) => Size(r.P.SwapBytes, h), r => r.P.SwapBytes, true, "VmSwap (status)"),
        new("pss", "PSS", false, (r, h) => Size(r.P.PssBytes, h), r => r.P.PssBytes, true, "proportional set size (smaps_rollup)"),
        new("uss", "USS", false, (r, h) => Size(r.P.UssBytes, h), r => r.P.UssBytes, true, "unique set size: private clean + dirty (smaps_rollup)"),
        new("swappss", "SWAPPSS", false, (r, h) => Size(r.P.SwapPssBytes, h), r => r.P.SwapPssBytes, true, "proportional swap (smaps_rollup)"),
        new("pte", "PTE", false, (r, h) => Size(r.P.PageTableBytes, h), r => r.P.PageTableBytes, true, "page tables, VmPTE (status)"),
        new("mem", "%MEM", false, (r, _) => r.MemPercent is double m ? m.ToString("0.0", CultureInfo.InvariantCulture) : "-", r => r.MemPercent, true, "RES as a share of MemTotal"),
        new("minflt", "MINFLT", false, (r, _) => Num(r.P.MinorFaults), r => r.P.MinorFaults, true, "minor page faults since start"),
        new("majflt", "MAJFLT", false, (r, _) => Num(r.P.MajorFaults), r => r.P.MajorFaults, true, "major page faults since start"),
        new("oom", "OOM", false, (r, _) => r.P.OomScore is long s ? Num(s) : "-", r => r.P.OomScore, true, "oom_score: the OOM killer's badness"),
        new("oomadj", "OOMADJ", false, (r, _) => r.P.OomScoreAdj is long s ? Num(s) : "-", r => r.P.OomScoreAdj, true, "oom_score_adj"),
        new("comm", "COMM", true, (r, _) => r.P.Comm, r => r.P.Comm, false, "command name (stat comm)"),
        PsCgroupColumn.Column,
        new("command", "COMMAND", true, (r, _) => r.Command, r => r.Command, false, "command line"),
    ];

    public static readonly string[] DefaultColumns = ["pid", "user", "virt", "rss", "shr", "swap", "pss", "uss", "mem", "minflt", "majflt", "oom", "command"];

    public static PsColumn Column(string id) =>
        Columns.FirstOrDefault(c => c.Id == id) ?? (id is "res" or "vsz" ? Column(id == "res" ? "rss" : "virt") : null)
        ?? throw new CliException(ExitCodes.Usage, $"ps: unknown column '{id}' (known: {string.Join(", ", Columns.Select(c => c.Id))})");

    /// <summary>The table; with <paramref name="lineWidth"/> (a terminal) a last COMMAND column is cut to fit.</summary>
    public static string RenderTable(IReadOnlyList<PsRow> rows, IReadOnlyList<PsColumn> cols, bool human, int? lineWidth)
    {
        var cells = new string[rows.Count + 1][];
        cells[0] = cols.Select(c => c.Title).ToArray();
        for (int i = 0; i < rows.Count; i++)
        {
            cells[i + 1] = new string[cols.Count];
            for (int j = 0; j < cols.Count; j++) cells[i + 1][j] = cols[j].Text(rows[i], human);
        }
        if (lineWidth is int lw && cols.Count > 1 && cols[^1].Id == "command")
        {
            int prefix = 0;
            for (int j = 0; j < cols.Count - 1; j++) prefix += cells.Max(r => r[j].Length) + 1;
            int room = Math.Max(10, lw - prefix);
            foreach (string[] row in cells)
                if (row[^1].Length > room) row[^1] = row[^1][..(room - 1)] + "…";
        }
        return Align(cells, cols.Select(c => c.Left).ToArray());
    }

    public static string RenderGroups(IReadOnlyList<PsGroup> groups, string by, bool human)
    {
        var cells = new string[groups.Count + 1][];
        cells[0] = [by == "user" ? "USER" : "COMMAND", "COUNT", "SWAP", "USS", "PSS", "RES", "%MEM"];
        for (int i = 0; i < groups.Count; i++)
        {
            PsGroup g = groups[i];
            string mark = g.UnknownPss > 0 && g.Pss is not null ? "*" : "";
            cells[i + 1] = [g.Key, Num(g.Count), Size(g.Swap, human), Size(g.Uss, human) + mark, Size(g.Pss, human) + mark, Size(g.Rss, human),
                g.MemPercent is double m ? m.ToString("0.0", CultureInfo.InvariantCulture) : "-"];
        }
        return Align(cells, [true, false, false, false, false, false, false]);
    }

    private static string Align(string[][] cells, bool[] left)
    {
        int n = left.Length;
        var widths = new int[n];
        foreach (string[] row in cells)
            for (int j = 0; j < n; j++) widths[j] = Math.Max(widths[j], row[j].Length);
        var sb = new StringBuilder(cells.Length * 100);
        foreach (string[] row in cells)
        {
            for (int j = 0; j < n; j++)
            {
                if (j > 0) sb.Append(' ');
                bool last = j == n - 1;
                sb.Append(left[j] ? (last ? row[j] : row[j].PadRight(widths[j])) : row[j].PadLeft(widths[j]));
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    public static string Csv(IReadOnlyList<PsRow> rows, IReadOnlyList<PsColumn> cols)
    {
        var sb = new StringBuilder();
        sb.AppendJoin(',', cols.Select(c => IsSize(c.Id) ? c.Id + "_bytes" : c.Id)).Append('\n');
        foreach (PsRow r in rows)
        {
            sb.AppendJoin(',', cols.Select(c => Quote(IsSize(c.Id) ? RawBytes(c, r) : c.Text(r, false) is "-" ? "" : c.Text(r, false))));
            sb.Append('\n');
        }
        return sb.ToString();
    }

    public static string CsvGroups(IReadOnlyList<PsGroup> groups, string by)
    {
        var sb = new StringBuilder();
        sb.Append(by).Append(",count,swap_bytes,uss_bytes,pss_bytes,rss_bytes,virt_bytes,mem_percent\n");
        foreach (PsGroup g in groups)
            sb.Append(Quote(g.Key)).Append(',').Append(g.Count).Append(',').Append(g.Swap?.ToString(CultureInfo.InvariantCulture)).Append(',')
              .Append(g.Uss?.ToString(CultureInfo.InvariantCulture)).Append(',').Append(g.Pss?.ToString(CultureInfo.InvariantCulture)).Append(',')
              .Append(g.Rss.ToString(CultureInfo.InvariantCulture)).Append(',').Append(g.Virt.ToString(CultureInfo.InvariantCulture)).Append(',')
              .Append(g.MemPercent?.ToString("0.00", CultureInfo.InvariantCulture)).Append('\n');
        return sb.ToString();
    }

    private static bool IsSize(string id) => id is "virt" or "rss" or "shr" or "swap" or "pss" or "uss" or "anon" or "file" or "shmem" or "swappss" or "pte";

    private static string RawBytes(PsColumn c, PsRow r) => c.Key(r) is IComparable v ? Convert.ToString(v, CultureInfo.InvariantCulture) ?? "" : "";

    private static string Quote(string s) =>
        s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;

    private static string Num(long v) => v.ToString(CultureInfo.InvariantCulture);
    private static string Num(ulong v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>KiB as ps prints RSS/VSZ, or with -h a short human size (1024-based): 512K, 1.2M, 35M, 1.1G.</summary>
    public static string Size(ulong? bytes, bool human)
    {
        if (bytes is not ulong b) return "-";
        if (!human) return (b / 1024).ToString(CultureInfo.InvariantCulture);
        string[] units = ["B", "K", "M", "G", "T", "P"];
        double v = b;
        int u = 0;
        while (v >= 1024 && u < units.Length - 1) { v /= 1024; u++; }
        if (u == 0) return b.ToString(CultureInfo.InvariantCulture) + "B";
        return (v < 10 ? v.ToString("0.0", CultureInfo.InvariantCulture) : Math.Round(v).ToString("0", CultureInfo.InvariantCulture)) + units[u];
    }
}
