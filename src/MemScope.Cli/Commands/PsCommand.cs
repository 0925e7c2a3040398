using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using MemScope.Model;
using MemScope.Procfs;

namespace MemScope.Cli.Commands;

/// <summary>
/// `memscope ps`: the process memory table (PID, USER, VIRT, RES, SHR, SWAP, PSS, USS, %MEM, faults, oom_score,
/// COMMAND; more with --columns). Cheap files (stat, statm, status) for every process; smaps_rollup (PSS/USS) only
/// when it is wanted: as root, with --pss, when sorting by pss/uss/swappss, or with --by (which sums PSS, as smem -u).
/// Unreadable figures print as "-" and the footer says how many processes that hides.
/// </summary>
internal static class PsCommand
{
    private static readonly string[] SmapsColumns = ["pss", "uss", "swappss"];

    public static Command Create()
    {
        var cmd = new Command("ps", "Per-process memory: RSS, PSS, USS, swap, page tables, faults, OOM score");
        var sort = new Option<string>("--sort") { Description = "sort key: rss (default), pss, uss, swap, virt, shr, pte, mem, minflt, majflt, oom, pid, user, command...", DefaultValueFactory = _ => "rss" };
        var top = new Option<int?>("--top", "-n") { Description = "show only the first N rows" };
        var pids = new Option<string[]>("--pid", "-p") { Description = "only these PIDs (repeatable, or a comma list)", AllowMultipleArgumentsPerToken = false };
        var users = new Option<string[]>("--user", "-u") { Description = "only processes of these users (names or uids; repeatable or comma list)" };
        var by = new Option<string?>("--by") { Description = "aggregate per user or per command (sums like smem -u)" };
        by.AcceptOnlyFromAmong("user", "command");
        var columns = new Option<string?>("--columns", "-o") { Description = "comma list of columns (ids as in --explain), e.g. pid,user,rss,pte,command" };
        var pss = new Option<bool>("--pss") { Description = "read smaps_rollup for PSS/USS even when not root" };
        var noPss = new Option<bool>("--no-pss") { Description = "never read smaps_rollup (cheapest)" };
        var human = new Option<bool>("--human", "-h") { Description = "human-readable sizes (default KiB, as ps)" };
        var wide = new Option<bool>("--wide", "-w") { Description = "do not shorten command lines" };
        var kernel = new Option<bool>("--kernel-threads") { Description = "include kernel threads (they own no user memory)" };
        var json = new Option<bool>("--json") { Description = "JSON, sizes in bytes" };
        var csv = new Option<bool>("--csv") { Description = "CSV, sizes in bytes" };
        var explain = new Option<bool>("--explain") { Description = "print what each column means" };
        foreach (Option o in new Option[] { sort, top, pids, users, by, columns, pss, noPss, human, wide, kernel, json, csv, explain }) cmd.Options.Add(o);
        SnapshotSource history = SnapshotSource.Add(cmd);
        Option<bool> cgroup = PsCgroupColumn.AddOption(cmd);

        cmd.SetAction(parse =>
        {
            TextWriter output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(explain))
            {
                foreach (PsColumn c in PsRenderer.Columns) output.Write($"{c.Id,-9} {c.Title,-8} {c.Description}\n");
                return ExitCodes.Ok;
            }
            string sortKey = (parse.GetValue(sort) ?? "rss").ToLowerInvariant();
            PsColumn sortColumn = PsRenderer.Column(sortKey);
            string? groupBy = parse.GetValue(by);
            List<PsColumn> cols = (parse.GetValue(columns) is string list
                    ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(s => s.ToLowerInvariant())
                    : PsRenderer.DefaultColumns)
                .Select(PsRenderer.Column).ToList();
            cols = PsCgroupColumn.WithColumn(cols, parse.GetValue(cgroup));
            int? topN = parse.GetValue(top);
            if (topN is < 1) throw new CliException(ExitCodes.Usage, $"ps: --top must be at least 1 (got {topN})");

            HashSet<int>? pidSet = null;
            foreach (string spec in parse.GetValue(pids) ?? [])
                foreach (string p in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    if (!int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid <= 0)
                        throw new CliException(ExitCodes.Usage, $"ps: --pid '{p}' is not a process id");
                    (pidSet ??= []).Add(pid);
                }
            HashSet<uint>? uidSet = null;
            foreach (string spec in parse.GetValue(users) ?? [])
                foreach (string u in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    (uidSet ??= []).Add(UserNames.System.UidOf(u) ?? throw new CliException(ExitCodes.NotFound, $"ps: no such user '{u}'"));

            bool isRoot = Procfs.Privilege.IsRoot;
            bool wantSmaps = !parse.GetValue(noPss) && (isRoot || parse.GetValue(pss) || groupBy is not null
                || SmapsColumns.Contains(sortColumn.Id) || (parse.GetValue(columns) is not null && cols.Any(c => SmapsColumns.Contains(c.Id))));
            if (parse.GetValue(noPss) && SmapsColumns.Contains(sortColumn.Id))
                throw new CliException(ExitCodes.Usage, $"ps: --sort {sortColumn.Id} needs smaps_rollup, which --no-pss turns off");

            // --db/--at: the process table recorded then (memscope record), never the live /proc. The recorder read
            // smaps_rollup for its top N by RSS only: the others' PSS/USS/SwapPss are unknown ("-"), not zero.
            Snapshot snap;
            Replayed? replayed = null;
            ProcFs? liveProc = null;
            bool asJson = parse.GetValue(json), asCsv = parse.GetValue(csv);
            // Everything printed, and with --top N on a table or CSV what the sort and filters need for every process:
            // the rest is read afterwards for the N rows printed only (JSON counts smaps_rollup denials over all).
            ProcessFiles shownFiles = FilesFor(cols.Select(c => c.Id).Append(sortColumn.Id), wantSmaps,
                everyField: asJson, byGroup: groupBy is not null, userFilter: uidSet is not null);
            ProcessFiles scanFiles = topN is not null && groupBy is null && !asJson
                ? FilesFor([sortColumn.Id], wantSmaps, everyField: false, byGroup: false, userFilter: uidSet is not null)
                : shownFiles;
            if (history.IsReplay(parse))
            {
                DateTimeOffset at = history.Time(parse);
                using MemScope.Store.SnapshotReplay replay = history.Open(parse);
                MemScope.Store.SampleInfo info = replay.Find(at);
                snap = replay.Store.Read(info.Id, processes: true);
                replayed = new Replayed(replay.Store.RecordedTopN(info.Id));
                if (pidSet is not null) snap = snap with { Processes = snap.Processes.Where(p => pidSet.Contains(p.Pid)).ToList() };
                wantSmaps = true;
            }
            else
            {
                ProcFs proc = liveProc = GlobalOptions.OpenProc(parse);
                var collector = new SnapshotCollector(proc, GlobalOptions.OpenSys(parse));
                snap = collector.Collect(new CollectOptions
                {
                    Processes = true,
                    Files = scanFiles,
                    Pids = pidSet,
                    MaxParallelism = Environment.ProcessorCount,
                });
            }
            if (pidSet is not null)
            {
                var missing = pidSet.Where(p => snap.Processes.All(x => x.Pid != p)).Order().ToList();
                string when = replayed is null ? "" : $" in the sample recorded at {MemScope.Store.SnapshotReplay.Format(snap.Time)}";
                if (missing.Count > 0)
                    throw new CliException(ExitCodes.NotFound, missing.Count == 1
                        ? $"ps: no process with PID {missing[0]}{when}"
                        : $"ps: no processes with PIDs {string.Join(", ", missing)}{when}");
            }

            ulong? memTotal = snap.System.Meminfo.MemTotal;
            IEnumerable<ProcessSnapshot> procs = snap.Processes;
            if (!parse.GetValue(kernel) && pidSet is null) procs = procs.Where(p => !p.IsKernelThread);
            if (uidSet is not null) procs = procs.Where(p => p.Uid is uint u && uidSet.Contains(u));
            List<PsRow> rows = procs.Select(p => Row(p, memTotal)).ToList();
            if (PsCgroupColumn.Wanted(cols, sortColumn, parse.GetValue(cgroup)))
                rows = replayed is null ? PsCgroupColumn.Fill(rows, GlobalOptions.OpenProc(parse), GlobalOptions.OpenSys(parse)) : PsCgroupColumn.Fill(rows, null, null);

            int smapsDenied = rows.Count(r => r.P.SmapsDenied || r.P.SmapsUnavailable);

            if (groupBy is not null)
            {
                List<PsGroup> groups = Group(rows, groupBy, memTotal);
                groups = SortGroups(groups, sortColumn.Id).ToList();
                if (topN is int g) groups = groups.Take(g).ToList();
                if (asJson) output.Write(JsonSerializer.Serialize(PsJson.Groups(groups, groupBy, snap, wantSmaps, smapsDenied) with { PssRecordedForTopN = replayed?.TopN ?? NotReplayed(replayed) }, PsJsonContext.Relaxed.PsGroupsJson) + "\n");
                else if (asCsv) output.Write(PsRenderer.CsvGroups(groups, groupBy));
                else
                {
                    output.Write(PsRenderer.RenderGroups(groups, groupBy, parse.GetValue(human)));
                    WriteFooter(output, rows.Count, snap, wantSmaps, isRoot, smapsDenied, groups.Sum(x => x.UnknownPss) > 0, replayed);
                }
                return ExitCodes.Ok;
            }

            rows = Sort(rows, sortColumn).ToList();
            if (topN is int n)
                rows = liveProc is not null && scanFiles != shownFiles ? ReadRest(rows, new ProcessReader(liveProc), scanFiles, shownFiles, n, memTotal)
                    : rows.Take(n).ToList();
            if (asJson) output.Write(JsonSerializer.Serialize(PsJson.Table(rows, snap, wantSmaps, smapsDenied) with { PssRecordedForTopN = replayed?.TopN ?? NotReplayed(replayed) }, PsJsonContext.Relaxed.PsTableJson) + "\n");
            else if (asCsv) output.Write(PsRenderer.Csv(rows, cols));
            else
            {
                int? width = parse.GetValue(wide) ? null : TerminalWidth();
                output.Write(PsRenderer.RenderTable(rows, cols, parse.GetValue(human), width));
                WriteFooter(output, rows.Count, snap, wantSmaps, isRoot, rows.Count(r => r.P.SmapsDenied || r.P.SmapsUnavailable), false, replayed);
            }
            return ExitCodes.Ok;
        });
        return cmd;
    }

    /// <summary>
    /// The first <paramref name="n"/> of the sorted <paramref name="rows"/>, read with <paramref name="scanned"/>,
    /// completed with the files of <paramref name="shown"/>. A process that exited since the scan gives its place to
    /// the next one, as if the scan had not seen it.
    /// </summary>
    private static List<PsRow> ReadRest(List<PsRow> rows, ProcessReader reader, ProcessFiles scanned, ProcessFiles shown, int n, ulong? memTotal)
    {
        var result = new List<PsRow>(Math.Min(n, rows.Count));
        foreach (PsRow r in rows)
        {
            if (result.Count == n) break;
            if (reader.TryReadMore(r.P, scanned, shown) is not { } p) continue;
            result.Add(Row(p, memTotal) with { Cgroup = r.Cgroup });
        }
        return result;
    }

    private static PsRow Row(ProcessSnapshot p, ulong? memTotal) =>
        new(p, UserNames.System.NameOf(p.Uid), memTotal is > 0 ? Math.Round(100.0 * p.RssBytes / memTotal.Value, 1) : null);

    /// <summary>
    /// The per-process files behind what is printed: the columns shown and the sort key, the --user filter (uid from
    /// status), --by groups (VIRT, RES, SWAP, PSS/USS and the uid), everything for --json. stat is always read. VIRT,
    /// RES, SHR and %MEM stay on statm even when status is read: status carries the same mm counters on a live kernel,
    /// but captured trees (prometheus/procfs's) hold a statm and a status taken apart, and the figures must not
    /// depend on which columns are shown.
    /// </summary>
    internal static ProcessFiles FilesFor(IEnumerable<string> columnIds, bool smaps, bool everyField, bool byGroup, bool userFilter)
    {
        if (everyField) return smaps ? ProcessFiles.All : ProcessFiles.Cheap;
        ProcessFiles files = ProcessFiles.Stat;
        if (userFilter) files |= ProcessFiles.Status;
        if (byGroup)
        {
            files |= ProcessFiles.Status | ProcessFiles.Statm;
            if (smaps) files |= ProcessFiles.SmapsRollup;
        }
        foreach (string id in columnIds)
        {
            switch (id)
            {
                case "user" or "anon" or "file" or "shmem" or "swap" or "pte": files |= ProcessFiles.Status; break;
                case "virt" or "rss" or "mem": files |= ProcessFiles.Statm; break;
                // statm's shared, or RssFile + RssShmem from status where statm's is corrupt
                case "shr": files |= ProcessFiles.Statm | ProcessFiles.Status; break;
                case "pss" or "uss" or "swappss": if (smaps) files |= ProcessFiles.SmapsRollup; break;
                case "oom": files |= ProcessFiles.OomScore; break;
                case "oomadj": files |= ProcessFiles.OomScoreAdj; break;
                case "command": files |= ProcessFiles.Cmdline; break;
            }
        }
        return files;
    }

    /// <summary>The terminal's width, or null when stdout is not a terminal (then, as ps, lines are not cut).</summary>
    private static int? TerminalWidth()
    {
        try { return !Console.IsOutputRedirected && Console.WindowWidth > 0 ? Console.WindowWidth : null; }
        catch (IOException) { return null; }
    }

    /// <summary>A table replayed from a recording: how many processes got smaps_rollup per sample (null: not recorded).</summary>
    private sealed record Replayed(int? TopN);

    /// <summary>JSON's pss_recorded_for_top_n: absent live, 0 when a replayed sample recorded no PSS at all.</summary>
    private static int? NotReplayed(Replayed? r) => r is null ? null : 0;

    private static void WriteFooter(TextWriter o, int shown, Snapshot snap, bool smapsRead, bool isRoot, int smapsDenied, bool groupsHide, Replayed? replayed)
    {
        var parts = new List<string> { $"{shown} processes" };
        if (replayed is not null)
        {
            parts.Add($"recorded at {MemScope.Store.SnapshotReplay.Format(snap.Time)}");
            parts.Add(replayed.TopN is int n and > 0
                ? $"PSS/USS/SWAPPSS were recorded for the top {n} by RSS only ('-' for the others)"
                : "PSS/USS/SWAPPSS were not recorded ('-')");
            if (smapsDenied > 0) parts.Add($"{smapsDenied} of those had smaps_rollup denied when recorded");
        }
        else if (!smapsRead) parts.Add(isRoot ? "PSS/USS not read (--no-pss)" : "PSS/USS not read: run as root or pass --pss");
        else if (smapsDenied > 0) parts.Add($"PSS/USS unknown for {smapsDenied} of them (smaps_rollup: permission denied, or absent before Linux 4.14)");
        if (groupsHide) parts.Add("'*': the group's PSS/USS sum leaves those out");
        if (snap.ProcessesDenied > 0) parts.Add($"{snap.ProcessesDenied} more could not be read at all (permission denied)");
        o.Write(string.Join("; ", parts) + "\n");
    }

    private static IEnumerable<PsRow> Sort(List<PsRow> rows, PsColumn c)
    {
        // unknown values last, whatever the direction; ties by pid
        var known = rows.Where(r => c.Key(r) is not null);
        var unknown = rows.Where(r => c.Key(r) is null).OrderBy(r => r.P.Pid);
        var ordered = c.Descending
            ? known.OrderByDescending(r => c.Key(r), Comparer<IComparable?>.Default).ThenBy(r => r.P.Pid)
            : known.OrderBy(r => c.Key(r), Comparer<IComparable?>.Default).ThenBy(r => r.P.Pid);
        return ordered.Concat(unknown);
    }

    private static List<PsGroup> Group(List<PsRow> rows, string by, ulong? memTotal)
    {
        var groups = new List<PsGroup>();
        foreach (var g in rows.GroupBy(r => by == "user" ? r.User : r.P.Comm))
        {
            ulong rss = 0, virt = 0, swap = 0, pss = 0, uss = 0;
            bool swapKnown = true;
            int unknown = 0;
            foreach (PsRow r in g)
            {
                rss += r.P.RssBytes;
                virt += r.P.VirtBytes;
                if (r.P.SwapBytes is ulong s) swap += s; else swapKnown = false;
                if (r.P.PssBytes is ulong p && r.P.UssBytes is ulong u) { pss += p; uss += u; } else unknown++;
            }
            // PSS/USS: the sum over members that could be read; UnknownPss says how many could not (shown with '*')
            groups.Add(new PsGroup(g.Key, g.Count(), virt, rss, swapKnown ? swap : null, unknown < g.Count() ? pss : null, unknown < g.Count() ? uss : null,
                unknown, memTotal is > 0 ? Math.Round(100.0 * rss / memTotal.Value, 1) : null));
        }
        return groups;
    }

    private static IEnumerable<PsGroup> SortGroups(List<PsGroup> groups, string key) => key switch
    {
        "pss" => groups.OrderByDescending(g => g.Pss ?? 0),
        "uss" => groups.OrderByDescending(g => g.Uss ?? 0),
        "swap" => groups.OrderByDescending(g => g.Swap ?? 0),
        "virt" => groups.OrderByDescending(g => g.Virt),
        "user" or "command" or "comm" => groups.OrderBy(g => g.Key, StringComparer.Ordinal),
        "pid" => groups.OrderByDescending(g => g.Count),
        _ => groups.OrderByDescending(g => g.Rss),
    };
}

internal sealed record PsProcessJson
{
    public int Pid { get; init; }
    public int Ppid { get; init; }
    public uint? Uid { get; init; }
    public required string User { get; init; }
    public required string Comm { get; init; }
    public required string Command { get; init; }
    public char State { get; init; }
    public int Threads { get; init; }
    public bool KernelThread { get; init; }
    public ulong StartTimeTicks { get; init; }
    public ulong VirtBytes { get; init; }
    public ulong RssBytes { get; init; }
    public ulong SharedBytes { get; init; }
    public ulong? RssAnonBytes { get; init; }
    public ulong? RssFileBytes { get; init; }
    public ulong? RssShmemBytes { get; init; }
    public ulong? SwapBytes { get; init; }
    public ulong? PssBytes { get; init; }
    public ulong? UssBytes { get; init; }
    public ulong? SwapPssBytes { get; init; }
    public ulong? PageTableBytes { get; init; }
    public ulong? DataBytes { get; init; }
    public ulong? StackBytes { get; init; }
    public ulong? LockedBytes { get; init; }
    public double? MemPercent { get; init; }
    public ulong MinorFaults { get; init; }
    public ulong MajorFaults { get; init; }
    public long? OomScore { get; init; }
    public long? OomScoreAdj { get; init; }
    /// <summary>smaps_rollup was wanted but not readable: pss/uss are unknown (null), not zero.</summary>
    public bool SmapsDenied { get; init; }
    /// <summary>smaps_rollup does not exist (kernel before 4.14): pss/uss unknown.</summary>
    public bool SmapsUnavailable { get; init; }
    /// <summary>Only with --cgroup (or a cgroup column): the memory cgroup path, null when unknown.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public PsCgroupValue? MemoryCgroup { get; init; }
}

internal sealed record PsTableJson
{
    public required DateTimeOffset Time { get; init; }
    public ulong? MemTotalBytes { get; init; }
    public bool PssRead { get; init; }
    public int ProcessesShown { get; init; }
    public int ProcessesSmapsDenied { get; init; }
    public int ProcessesDenied { get; init; }
    public int ProcessesGone { get; init; }
    /// <summary>Replay only: the recorder read PSS/USS/SwapPss for this many processes (largest RSS); the others' are null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? PssRecordedForTopN { get; init; }
    public required List<PsProcessJson> Processes { get; init; }
}

internal sealed record PsGroupJson
{
    public required string Key { get; init; }
    public int Count { get; init; }
    public ulong VirtBytes { get; init; }
    public ulong RssBytes { get; init; }
    public ulong? SwapBytes { get; init; }
    public ulong? PssBytes { get; init; }
    public ulong? UssBytes { get; init; }
    /// <summary>Members whose PSS/USS could not be read; pss/uss sum the others (null when none could be read).</summary>
    public int PssUnknownCount { get; init; }
    public double? MemPercent { get; init; }
}

internal sealed record PsGroupsJson
{
    public required DateTimeOffset Time { get; init; }
    public required string By { get; init; }
    public ulong? MemTotalBytes { get; init; }
    public bool PssRead { get; init; }
    public int ProcessesSmapsDenied { get; init; }
    public int ProcessesDenied { get; init; }
    /// <summary>Replay only: the recorder read PSS/USS/SwapPss for this many processes (largest RSS); groups sum those.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? PssRecordedForTopN { get; init; }
    public required List<PsGroupJson> Groups { get; init; }
}

internal static class PsJson
{
    public static PsTableJson Table(List<PsRow> rows, Snapshot snap, bool pssRead, int smapsDenied) => new()
    {
        Time = snap.Time,
        MemTotalBytes = snap.System.Meminfo.MemTotal,
        PssRead = pssRead,
        ProcessesShown = rows.Count,
        ProcessesSmapsDenied = smapsDenied,
        ProcessesDenied = snap.ProcessesDenied,
        ProcessesGone = snap.ProcessesGone,
        Processes = rows.Select(r => new PsProcessJson
        {
            Pid = r.P.Pid, Ppid = r.P.PPid, Uid = r.P.Uid, User = r.User, Comm = r.P.Comm, Command = r.P.CommandLine,
            State = r.P.State, Threads = r.P.Threads, KernelThread = r.P.IsKernelThread, StartTimeTicks = r.P.StartTimeTicks,
            VirtBytes = r.P.VirtBytes, RssBytes = r.P.RssBytes, SharedBytes = r.P.SharedBytes, RssAnonBytes = r.P.RssAnonBytes,
            RssFileBytes = r.P.RssFileBytes, RssShmemBytes = r.P.RssShmemBytes, SwapBytes = r.P.SwapBytes, PssBytes = r.P.PssBytes,
            UssBytes = r.P.UssBytes, SwapPssBytes = r.P.SwapPssBytes, PageTableBytes = r.P.PageTableBytes, DataBytes = r.P.DataBytes,
            StackBytes = r.P.StackBytes, LockedBytes = r.P.LockedBytes, MemPercent = r.MemPercent, MinorFaults = r.P.MinorFaults, MemoryCgroup = r.Cgroup,
            MajorFaults = r.P.MajorFaults, OomScore = r.P.OomScore, OomScoreAdj = r.P.OomScoreAdj, SmapsDenied = r.P.SmapsDenied,
            SmapsUnavailable = r.P.SmapsUnavailable,
        }).ToList(),
    };

    public static PsGroupsJson Groups(List<PsGroup> groups, string by, Snapshot snap, bool pssRead, int smapsDenied) => new()
    {
        Time = snap.Time,
        By = by,
        MemTotalBytes = snap.System.Meminfo.MemTotal,
        PssRead = pssRead,
        ProcessesSmapsDenied = smapsDenied,
        ProcessesDenied = snap.ProcessesDenied,
        Groups = groups.Select(g => new PsGroupJson
        {
            Key = g.Key, Count = g.Count, VirtBytes = g.Virt, RssBytes = g.Rss, SwapBytes = g.Swap, PssBytes = g.Pss,
            UssBytes = g.Uss, PssUnknownCount = g.UnknownPss, MemPercent = g.MemPercent,
        }).ToList(),
    };
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(PsTableJson))]
[JsonSerializable(typeof(PsGroupsJson))]
internal partial class PsJsonContext : JsonSerializerContext
{
    /// <summary>Command lines keep '+', '&lt;', quotes... readable (the output is not embedded in HTML).</summary>
    public static PsJsonContext Relaxed { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
