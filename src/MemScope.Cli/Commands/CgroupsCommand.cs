using System.CommandLine;
using System.Globalization;
using System.Text.Json.Serialization;
using MemScope.Cli.Rendering;
using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.Cli.Commands;

/// <summary>`memscope cgroups`: every memory cgroup (v1 and v2) with usage against its limit, swap, limit hits, OOM kills and PSI.</summary>
public static class CgroupsCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "JSON output" };
        var csv = new Option<bool>("--csv") { Description = "CSV output" };
        var pid = new Option<int?>("--pid", "-p") { Description = "Only the memory cgroup of this process" };
        var limited = new Option<bool>("--limited") { Description = "Only cgroups with a memory limit" };
        var cmd = new Command("cgroups", "Memory cgroups (v1 and v2): usage vs limit, swap, failcnt / memory.events, OOM kills, PSI");
        foreach (Option o in new Option[] { json, csv, pid, limited }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            ProcFs proc = GlobalOptions.OpenProc(parse);
            SysFs sys = GlobalOptions.OpenSys(parse);
            TextWriter output = parse.InvocationConfiguration.Output;
            MemoryCgroups cgroups = MemoryCgroups.Discover(proc, sys);
            if (cgroups.Hierarchies.Count == 0)
                throw new CliException(ExitCodes.Unsupported,
                    "no memory cgroup hierarchy is mounted (no 'cgroup ... memory' or 'cgroup2' with the memory controller in /proc/mounts)"
                    + (cgroups.Notes.Count > 0 ? "; " + string.Join("; ", cgroups.Notes) : ""));
            List<MemoryCgroup> list;
            if (parse.GetValue(pid) is int p)
            {
                if (!proc.ProcessExists(p)) throw new CliException(ExitCodes.NotFound, $"no process {p}");
                var where = cgroups.ForProcess(proc, p)
                    ?? throw new CliException(ExitCodes.NotFound, $"process {p}: no memory cgroup found in {proc.PidPath(p, "cgroup")}");
                MemoryCgroup cg = cgroups.Read(where.Version, where.Path)
                    ?? throw new CliException(ExitCodes.NotFound, $"process {p}: memory cgroup {where.Path} is not readable");
                list = [cg];
            }
            else list = cgroups.All().ToList();
            if (parse.GetValue(limited)) list = list.Where(c => c.LimitBytes is not null).ToList();

            if (parse.GetValue(json))
            {
                var dto = new CgroupsJson(cgroups.Hierarchies.Select(h => new CgroupHierarchyJson(h.Version == CgroupVersion.V1 ? 1 : 2, h.MountPoint)).ToList(),
                    cgroups.Notes, list.Select(CgroupJson.From).ToList());
                output.WriteLine(System.Text.Json.JsonSerializer.Serialize(dto, CgroupsJsonContext.Default.CgroupsJson));
                return ExitCodes.Ok;
            }
            if (parse.GetValue(csv))
            {
                output.WriteLine("version,path,processes,usage_bytes,limit_bytes,swap_bytes,swap_limit_bytes,failcnt,events_high,events_max,oom_kills,psi_some_avg10,psi_full_avg10");
                foreach (MemoryCgroup c in list)
                    output.WriteLine(string.Join(',', (int)c.Version, Csv(c.Path), N(c.Processes), N(c.UsageBytes), N(c.LimitBytes), N(c.SwapUsageBytes),
                        N(c.SwapLimitBytes), N(c.Failcnt), N(c.Events?.High), N(c.Events?.Max), N(c.OomKills),
                        F(c.Pressure?.Some?.Avg10), F(c.Pressure?.Full?.Avg10)));
                return ExitCodes.Ok;
            }
            Render(output, cgroups, list);
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static string N<T>(T? v) where T : struct => v?.ToString() ?? "";
    private static string F(double? v) => v?.ToString("0.00", CultureInfo.InvariantCulture) ?? "";
    private static string Csv(string s) => s.Contains(',') || s.Contains('"') ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;

    public static string Limit(ulong? bytes, bool isMax) => bytes is ulong b ? HumanSize.Format(b) : isMax ? "max" : "-";

    private static void Render(TextWriter output, MemoryCgroups cgroups, List<MemoryCgroup> list)
    {
        foreach (CgroupHierarchy h in cgroups.Hierarchies)
            output.WriteLine($"cgroup {(h.Version == CgroupVersion.V1 ? "v1" : "v2")} memory hierarchy at {h.MountPoint}");
        foreach (string note in cgroups.Notes) output.WriteLine($"note: {note}");
        output.WriteLine();
        var table = new TextTable("CGROUP", "V", ">PROCS", ">USAGE", ">LIMIT", ">USE%", ">SWAP", ">SWAP LIM", ">LIMIT HITS", ">OOM KILLS", ">PSI SOME", ">PSI FULL");
        foreach (MemoryCgroup c in list)
        {
            string hits = c.Version == CgroupVersion.V1 ? (c.Failcnt?.ToString() ?? "-")
                : c.Events is { } e ? $"max {e.Max?.ToString() ?? "-"} high {e.High?.ToString() ?? "-"}" : "-";
            table.Add(c.Path, c.Version == CgroupVersion.V1 ? "1" : "2", c.Processes?.ToString() ?? "-", HumanSize.Format(c.UsageBytes),
                Limit(c.LimitBytes, c.LimitIsMax), HumanSize.Percent(c.UsageOfLimit), HumanSize.Format(c.SwapUsageBytes),
                Limit(c.SwapLimitBytes, c.SwapLimitIsMax), hits, c.OomKills?.ToString() ?? "-",
                c.Pressure?.Some is { } s ? s.Avg10.ToString("0.00", CultureInfo.InvariantCulture) + "%" : "-",
                c.Pressure?.Full is { } f ? f.Avg10.ToString("0.00", CultureInfo.InvariantCulture) + "%" : "-");
        }
        table.Write(output);
        output.WriteLine();
        output.WriteLine("USAGE counts page cache too (reclaimable); LIMIT HITS is memory.failcnt (v1) or memory.events max/high (v2);");
        output.WriteLine("PSI is the share of time tasks in the cgroup stalled on memory over the last 10 s (where the kernel provides it).");
        var tight = list.Where(c => c.UsageOfLimit is > 0.9).ToList();
        foreach (MemoryCgroup c in tight)
            output.WriteLine($"{c.Path}: at {HumanSize.Percent(c.UsageOfLimit)} of its limit: inside it, the limit, not the machine's free memory, is what runs out.");
        foreach (MemoryCgroup c in list.Where(c => c.OomKills is > 0))
            output.WriteLine($"{c.Path}: {c.OomKills} OOM kill(s) so far (memscope oom history shows them when the kernel log still has them).");
    }
}

public sealed record CgroupHierarchyJson(int Version, string MountPoint);
public sealed record CgroupEventsJson(ulong? Low, ulong? High, ulong? Max, ulong? Oom, ulong? OomKill, ulong? OomGroupKill);
public sealed record PressureJson(double? SomeAvg10, double? SomeAvg60, double? SomeAvg300, ulong? SomeTotalUs, double? FullAvg10, double? FullAvg60,
    double? FullAvg300, ulong? FullTotalUs)
{
    public static PressureJson? From(Pressure? p) => p is null ? null : new(p.Some?.Avg10, p.Some?.Avg60, p.Some?.Avg300, p.Some?.TotalMicroseconds,
        p.Full?.Avg10, p.Full?.Avg60, p.Full?.Avg300, p.Full?.TotalMicroseconds);
}
public sealed record CgroupJson(int Version, string Path, int? Processes, ulong? UsageBytes, ulong? MaxUsageBytes, ulong? LimitBytes, bool Unlimited,
    ulong? HighBytes, ulong? LowBytes, ulong? MinBytes, ulong? SoftLimitBytes, ulong? SwapBytes, ulong? SwapLimitBytes, bool SwapUnlimited,
    ulong? Failcnt, ulong? MemswFailcnt, CgroupEventsJson? Events, ulong? OomKills, bool? UnderOom, PressureJson? Pressure,
    IReadOnlyDictionary<string, ulong> Stat)
{
    public static CgroupJson From(MemoryCgroup c) => new((int)c.Version, c.Path, c.Processes, c.UsageBytes, c.MaxUsageBytes, c.LimitBytes, c.LimitIsMax,
        c.HighBytes, c.LowBytes, c.MinBytes, c.SoftLimitBytes, c.SwapUsageBytes, c.SwapLimitBytes, c.SwapLimitIsMax, c.Failcnt, c.MemswFailcnt,
        c.Events is { } e ? new CgroupEventsJson(e.Low, e.High, e.Max, e.Oom, e.OomKill, e.OomGroupKill) : null, c.OomKills, c.UnderOom,
        PressureJson.From(c.Pressure), c.Stat);
}
public sealed record CgroupsJson(IReadOnlyList<CgroupHierarchyJson> Hierarchies, IReadOnlyList<string> Notes, IReadOnlyList<CgroupJson> Cgroups);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(CgroupsJson))]
internal sealed partial class CgroupsJsonContext : JsonSerializerContext;
