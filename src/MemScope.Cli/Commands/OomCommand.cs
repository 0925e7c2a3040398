using System.CommandLine;
using System.Globalization;
using System.Text.Json.Serialization;
using MemScope.Analysis;
using MemScope.Cli.Rendering;
using MemScope.Model;
using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.Cli.Commands;

/// <summary>
/// `memscope oom`: who the OOM killer would pick (oom_score ranking, per memory cgroup too), `oom adj` to change a
/// process's oom_score_adj safely, and `oom history` for past kills from the kernel log and the kill counters.
/// </summary>
public static class OomCommand
{
    public static Command Create()
    {
        var top = new Option<int>("--top", "-n") { Description = "Show this many processes", DefaultValueFactory = _ => 15 };
        var json = new Option<bool>("--json") { Description = "JSON output" };
        var cmd = new Command("oom", "Processes ranked by oom_score (who the OOM killer picks first), per memory cgroup too; see also 'oom adj' and 'oom history'");
        cmd.Options.Add(top);
        cmd.Options.Add(json);
        cmd.SetAction(parse => Ranking(parse, Math.Max(1, parse.GetValue(top)), parse.GetValue(json)));
        cmd.Subcommands.Add(CreateAdj());
        cmd.Subcommands.Add(CreateHistory());
        return cmd;
    }

    // ---------------------------------------------------------------- ranking

    private static int Ranking(ParseResult parse, int top, bool asJson)
    {
        ProcFs proc = GlobalOptions.OpenProc(parse);
        SysFs sys = GlobalOptions.OpenSys(parse);
        TextWriter output = parse.InvocationConfiguration.Output;
        Snapshot snap = new SnapshotCollector(proc, sys).Collect(new CollectOptions { Processes = true });
        MemoryCgroups cgroups = MemoryCgroups.Discover(proc, sys);
        var ranked = snap.Processes.Where(p => !p.IsKernelThread && p.OomScore is not null)
            .OrderByDescending(p => p.OomScore).ThenByDescending(p => p.RssBytes).ToList();
        var cgCache = new Dictionary<int, string?>();
        string? CgroupOf(int pid)
        {
            if (!cgCache.TryGetValue(pid, out string? path)) cgCache[pid] = path = cgroups.ForProcess(proc, pid)?.Path;
            return path;
        }

        ProcessSnapshot? first = ranked.FirstOrDefault(p => p.OomScoreAdj != -1000);
        // Limited memory cgroups: the OOM killer chooses inside the cgroup whose limit is hit.
        var limited = new List<(MemoryCgroup Cg, ProcessSnapshot? Victim, int Members)>();
        var byCgroup = ranked.GroupBy(p => CgroupOf(p.Pid) ?? "").Where(g => g.Key.Length > 0).ToList();
        var allCgroups = cgroups.Hierarchies.Count > 0 ? cgroups.All().ToList() : [];
        foreach (MemoryCgroup cg in allCgroups.Where(c => c.LimitBytes is not null))
        {
            // members: processes in the cgroup or below it
            var members = byCgroup.Where(g => g.Key == cg.Path || g.Key.StartsWith(cg.Path.TrimEnd('/') + "/", StringComparison.Ordinal))
                .SelectMany(g => g).OrderByDescending(p => p.OomScore).ToList();
            if (members.Count == 0) continue;
            limited.Add((cg, members.FirstOrDefault(p => p.OomScoreAdj != -1000), members.Count));
        }

        if (asJson)
        {
            var dto = new OomRankingJson(
                ranked.Take(top).Select(p => new OomProcessJson(p.Pid, p.Comm, p.OomScore, p.OomScoreAdj, p.RssBytes, p.SwapBytes, CgroupOf(p.Pid))).ToList(),
                first?.Pid,
                limited.Select(l => new OomCgroupJson(l.Cg.Path, l.Cg.UsageBytes, l.Cg.LimitBytes, l.Members, l.Victim?.Pid, l.Victim?.Comm)).ToList(),
                snap.System.Vmstat?["oom_kill"], snap.System.SysVm?.PanicOnOom ?? ReadSysctl(proc, "panic_on_oom"),
                ReadSysctl(proc, "oom_kill_allocating_task"));
            output.WriteLine(System.Text.Json.JsonSerializer.Serialize(dto, OomJsonContext.Default.OomRankingJson));
            return ExitCodes.Ok;
        }

        var table = new TextTable(">PID", "COMMAND", ">OOM_SCORE", ">ADJ", ">RSS", ">SWAP", "CGROUP");
        foreach (ProcessSnapshot p in ranked.Take(top))
            table.Add(p.Pid.ToString(CultureInfo.InvariantCulture), p.Comm, p.OomScore?.ToString(CultureInfo.InvariantCulture) ?? "?",
                p.OomScoreAdj is long a ? (a == -1000 ? "-1000 (never)" : a.ToString(CultureInfo.InvariantCulture)) : "?",
                HumanSize.Format(p.RssBytes), HumanSize.Format(p.SwapBytes), CgroupOf(p.Pid) ?? "-");
        table.Write(output);
        output.WriteLine();
        if (first is not null)
            output.WriteLine($"A system-wide OOM would kill first: {first.Pid} ({first.Comm}), oom_score {first.OomScore}, " +
                $"RSS {HumanSize.Format(first.RssBytes)} + swap {HumanSize.Format(first.SwapBytes)}.");
        foreach (var (cg, victim, members) in limited)
            output.WriteLine($"In memory cgroup {cg.Path} (limit {HumanSize.Format(cg.LimitBytes)}, at {HumanSize.Percent(cg.UsageOfLimit)}, " +
                $"{members} process(es)) the first victim would be: {(victim is null ? "none (all protected with -1000)" : $"{victim.Pid} ({victim.Comm})")}.");
        long? panic = ReadSysctl(proc, "panic_on_oom");
        if (panic is > 0) output.WriteLine($"vm.panic_on_oom = {panic}: an OOM panics the machine instead of killing a process.");
        if (ReadSysctl(proc, "oom_kill_allocating_task") is > 0)
            output.WriteLine("vm.oom_kill_allocating_task = 1: the task that triggers the OOM is killed, not the top of this list.");
        output.WriteLine("oom_score: higher is killed first. It grows with RSS + swap + page tables as a share of RAM + swap, shifted by " +
            "oom_score_adj thousandths of that total; adj -1000 exempts a process. Change it with 'memscope oom adj PID VALUE'.");
        if (snap.System.Vmstat?["oom_kill"] is ulong kills)
            output.WriteLine($"OOM kills since boot: {kills} (/proc/vmstat oom_kill; see 'memscope oom history').");
        return ExitCodes.Ok;
    }

    private static long? ReadSysctl(ProcFs proc, string name)
    {
        try { return SingleNumberFile.Read(proc.PathOf("sys/vm/" + name)); }
        catch (KernelFileException) { return null; }
    }

    // ---------------------------------------------------------------- adj

    private static Command CreateAdj()
    {
        var pidArg = new Argument<string>("PID") { Description = "Process id" };
        var valueArg = new Argument<string>("VALUE") { Description = "New oom_score_adj in [-1000, 1000] (-1000: never kill; 1000: kill first). Negative values: put '--' before PID" };
        var legacy = new Option<bool>("--legacy") { Description = "VALUE is on the old oom_adj scale [-17, 15]; converted as the kernel does (adj*1000/17, 15 → 1000, -17 → -1000)" };
        var cmd = new Command("adj", "Set a process's oom_score_adj, with validation; prints the old and new values and the new oom_score");
        cmd.Arguments.Add(pidArg);
        cmd.Arguments.Add(valueArg);
        cmd.Options.Add(legacy);
        cmd.SetAction(parse =>
        {
            ProcFs proc = GlobalOptions.OpenProc(parse);
            TextWriter output = parse.InvocationConfiguration.Output;
            string pidText = parse.GetValue(pidArg) ?? "";
            string valueText = parse.GetValue(valueArg) ?? "";
            bool isLegacy = parse.GetValue(legacy);
            if (!int.TryParse(pidText, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) || pid <= 0)
                throw new CliException(ExitCodes.Usage, $"PID '{pidText}' is not a process id (a positive whole number)");
            long adj = ParseAdj(valueText, isLegacy, out string? conversion);
            string adjPath = proc.PidPath(pid, "oom_score_adj");
            if (!proc.ProcessExists(pid) || !File.Exists(adjPath))
                throw new CliException(ExitCodes.NotFound, $"no process {pid}");
            long old;
            try { old = SingleNumberFile.Read(adjPath); }
            catch (KernelFileException e) when (e.Error == KernelFileError.Gone) { throw new CliException(ExitCodes.NotFound, $"no process {pid}"); }
            string comm = ReadComm(proc, pid);
            try
            {
                File.WriteAllText(adjPath, adj.ToString(CultureInfo.InvariantCulture) + "\n");
            }
            catch (UnauthorizedAccessException)
            {
                throw new CliException(ExitCodes.NoPermission, $"cannot set oom_score_adj of {pid} ({comm}) to {adj}: permission denied " +
                    (adj < old
                        ? HasCapability(24) ? "(refused by the kernel)" : Environment.UserName == "root"
                            ? "(lowering it below its current value needs CAP_SYS_RESOURCE, which this root process lacks, e.g. in a container)"
                            : "(lowering it below its current value needs CAP_SYS_RESOURCE: run as root)"
                        : "(not your process: run as root or as its owner)"));
            }
            catch (IOException e) when (!proc.ProcessExists(pid))
            {
                throw new CliException(ExitCodes.NotFound, $"process {pid} exited ({e.Message})");
            }
            long now = SingleNumberFile.Read(adjPath);
            long? score = null;
            try { score = SingleNumberFile.Read(proc.PidPath(pid, "oom_score")); } catch (KernelFileException) { }
            if (conversion is not null) output.WriteLine(conversion);
            output.WriteLine($"{pid} ({comm}): oom_score_adj {old} → {now}; oom_score is now {score?.ToString(CultureInfo.InvariantCulture) ?? "unknown"}" +
                (now == -1000 ? " (the OOM killer will never pick it)" : now == 1000 ? " (it will be killed first)" : ""));
            if (now != adj)
                throw new CliException(ExitCodes.Failure, $"the kernel kept {now}, not {adj}");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    /// <summary>Validates VALUE; with legacy, converts oom_adj [-17, 15] the way the kernel's oom_adj_write does.</summary>
    public static long ParseAdj(string text, bool legacy, out string? conversion)
    {
        conversion = null;
        if (!long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
            throw new CliException(ExitCodes.Usage, $"VALUE '{text}' is not a whole number ({(legacy ? "-17 to 15 with --legacy" : "-1000 to 1000")})");
        if (legacy)
        {
            if (value is < -17 or > 15)
                throw new CliException(ExitCodes.Usage, $"VALUE {value} is out of range: the legacy oom_adj scale is -17 to 15");
            long converted = LegacyToScoreAdj(value);
            conversion = $"legacy oom_adj {value} → oom_score_adj {converted} (kernel formula: {(value == 15 ? "15 maps to 1000" : $"{value}*1000/17, truncated")})";
            return converted;
        }
        if (value is < -1000 or > 1000)
            throw new CliException(ExitCodes.Usage, $"VALUE {value} is out of range: oom_score_adj must be between -1000 and 1000 (use --legacy for the old -17..15 scale)");
        return value;
    }

    /// <summary>fs/proc/base.c oom_adj_write: OOM_ADJUST_MAX (15) → 1000, else adj * 1000 / 17 (C division truncates toward zero).</summary>
    public static long LegacyToScoreAdj(long oomAdj) => oomAdj == 15 ? 1000 : oomAdj * 1000 / 17;

    /// <summary>Whether this process has capability bit <paramref name="cap"/> (24 = CAP_SYS_RESOURCE) in CapEff.</summary>
    private static bool HasCapability(int cap)
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("CapEff:", StringComparison.Ordinal)
                    && ulong.TryParse(line.AsSpan(7).Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong eff))
                    return (eff >> cap & 1) != 0;
        }
        catch (IOException) { }
        return false;
    }

    private static string ReadComm(ProcFs proc, int pid)
    {
        try { return KernelFile.ReadAllText(proc.PidPath(pid, "comm")).TrimEnd('\n'); }
        catch (KernelFileException) { return "?"; }
    }

    // ---------------------------------------------------------------- history

    private static Command CreateHistory()
    {
        var log = new Option<string?>("--log") { Description = "Read this kernel log file (dmesg, dmesg -T, journalctl -k, syslog) instead of /dev/kmsg" };
        var json = new Option<bool>("--json") { Description = "JSON output" };
        var cmd = new Command("history", "Past OOM kills from the kernel log (/dev/kmsg or --log FILE) with victim, RSS, trigger and cgroup, plus kill counters");
        cmd.Options.Add(log);
        cmd.Options.Add(json);
        cmd.SetAction(parse =>
        {
            ProcFs proc = GlobalOptions.OpenProc(parse);
            SysFs sys = GlobalOptions.OpenSys(parse);
            TextWriter output = parse.InvocationConfiguration.Output;
            string? file = parse.GetValue(log);
            IReadOnlyList<string> lines;
            string source;
            DateTimeOffset? boot = null;
            if (file is not null)
            {
                if (!File.Exists(file)) throw new CliException(ExitCodes.NotFound, $"--log {file}: no such file");
                lines = File.ReadAllLines(file);
                source = file;
            }
            else
            {
                try { lines = Kmsg.ReadAll(); }
                catch (KernelFileException e) when (e.Error == KernelFileError.Denied)
                {
                    throw new CliException(ExitCodes.NoPermission, "/dev/kmsg: permission denied (run as root, or pass a saved log with --log FILE, e.g. from 'journalctl -k')");
                }
                catch (KernelFileException e) when (e.Error == KernelFileError.Gone)
                {
                    throw new CliException(ExitCodes.Unsupported, "/dev/kmsg does not exist here; pass a saved log with --log FILE");
                }
                source = "/dev/kmsg";
            }
            if (proc.TryReadUptimeSeconds() is double up && file is null) boot = DateTimeOffset.UtcNow.AddSeconds(-up);
            IReadOnlyList<OomKill> kills = OomLog.Parse(lines, boot);
            ulong? vmstatKills = null;
            try { vmstatKills = proc.ReadVmstat()["oom_kill"]; } catch (KernelFileException) { }
            var cgroupKills = new List<(MemoryCgroup Cg, ulong Kills)>();
            MemoryCgroups cgroups = MemoryCgroups.Discover(proc, sys);
            foreach (MemoryCgroup cg in cgroups.All())
                if (cg.OomKills is ulong k && k > 0 && cg.Path != "/") cgroupKills.Add((cg, k));

            if (parse.GetValue(json))
            {
                var dto = new OomHistoryJson(source, kills.Select(OomKillJson.From).ToList(), vmstatKills,
                    cgroupKills.Select(c => new OomCgroupKillsJson(c.Cg.Path, (int)c.Cg.Version, c.Kills)).ToList());
                output.WriteLine(System.Text.Json.JsonSerializer.Serialize(dto, OomJsonContext.Default.OomHistoryJson));
                return ExitCodes.Ok;
            }
            output.WriteLine($"OOM kills in {source}: {kills.Count}");
            if (kills.Count > 0)
            {
                var table = new TextTable("TIME", ">PID", "COMMAND", ">ANON", ">FILE", ">SHMEM", ">ADJ", "TRIGGER", "CGROUP");
                foreach (OomKill k in kills)
                    table.Add(TimeOf(k), k.Pid.ToString(CultureInfo.InvariantCulture), k.Command, HumanSize.Format(k.AnonRssBytes),
                        HumanSize.Format(k.FileRssBytes), HumanSize.Format(k.ShmemRssBytes), k.OomScoreAdj?.ToString(CultureInfo.InvariantCulture) ?? "?",
                        TriggerText(k), k.OomCgroup ?? k.TaskCgroup ?? "-");
                table.Write(output);
            }
            output.WriteLine();
            if (vmstatKills is ulong total)
            {
                output.Write($"/proc/vmstat oom_kill: {total} since boot");
                if (file is null && total > (ulong)kills.Count)
                    output.Write($"; {total - (ulong)kills.Count} of them are no longer in the kernel log (it is a ring buffer)");
                output.WriteLine(".");
            }
            foreach (var (cg, n) in cgroupKills)
                output.WriteLine($"memory cgroup {cg.Path} (v{(int)cg.Version}): {n} OOM kill(s) counted (" +
                    (cg.Version == CgroupVersion.V1 ? "memory.oom_control oom_kill" : "memory.events oom_kill") + ").");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static string TimeOf(OomKill k) =>
        k.Time is DateTimeOffset t ? t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + "Z"
        : k.TimeText ?? (k.SecondsSinceBoot is double s ? $"+{s.ToString("0.000", CultureInfo.InvariantCulture)}s" : "?");

    public static string TriggerText(OomKill k) => k.Trigger switch
    {
        OomTrigger.Global => "global (system out of memory)",
        OomTrigger.MemoryCgroup => "memory cgroup limit",
        OomTrigger.Cpuset => "cpuset",
        OomTrigger.MemoryPolicy => "mempolicy",
        _ => "?",
    };
}

public sealed record OomProcessJson(int Pid, string Command, long? OomScore, long? OomScoreAdj, ulong RssBytes, ulong? SwapBytes, string? Cgroup);
public sealed record OomCgroupJson(string Cgroup, ulong? UsageBytes, ulong? LimitBytes, int Processes, int? FirstVictimPid, string? FirstVictimCommand);
public sealed record OomRankingJson(IReadOnlyList<OomProcessJson> Processes, int? FirstVictimPid, IReadOnlyList<OomCgroupJson> LimitedCgroups,
    ulong? OomKillsSinceBoot, long? PanicOnOom, long? OomKillAllocatingTask);
public sealed record OomKillJson(string? Time, double? SecondsSinceBoot, string? TimeText, int Pid, string Command, ulong? TotalVmBytes,
    ulong? AnonRssBytes, ulong? FileRssBytes, ulong? ShmemRssBytes, uint? Uid, ulong? PageTablesBytes, long? OomScoreAdj, string Trigger,
    string? OomCgroup, string? TaskCgroup, string? Invoker, string? GfpMask, int? Order)
{
    public static OomKillJson From(OomKill k) => new(k.Time?.ToString("o", CultureInfo.InvariantCulture), k.SecondsSinceBoot, k.TimeText, k.Pid,
        k.Command, k.TotalVmBytes, k.AnonRssBytes, k.FileRssBytes, k.ShmemRssBytes, k.Uid, k.PageTablesBytes, k.OomScoreAdj,
        k.Trigger switch { OomTrigger.Global => "global", OomTrigger.MemoryCgroup => "memcg", OomTrigger.Cpuset => "cpuset", OomTrigger.MemoryPolicy => "mempolicy", _ => "unknown" },
        k.OomCgroup, k.TaskCgroup, k.Invoker, k.GfpMask, k.Order);
}
public sealed record OomCgroupKillsJson(string Cgroup, int Version, ulong OomKills);
public sealed record OomHistoryJson(string Source, IReadOnlyList<OomKillJson> Kills, ulong? OomKillsSinceBoot, IReadOnlyList<OomCgroupKillsJson> CgroupOomKills);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(OomRankingJson))]
[JsonSerializable(typeof(OomHistoryJson))]
internal sealed partial class OomJsonContext : JsonSerializerContext;
