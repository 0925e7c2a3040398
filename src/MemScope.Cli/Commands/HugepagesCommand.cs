using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using MemScope.Analysis;
using MemScope.Cli.Rendering;
using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.Cli.Commands;

/// <summary>
/// `memscope hugepages`: hugetlbfs pools (system and per node) and what they pin, the THP mode and khugepaged
/// settings, the system's AnonHugePages/ShmemHugePages/FileHugePages, the processes using most huge pages, and a
/// flag for pools reserved but unused.
/// </summary>
public static class HugepagesCommand
{
    public static Command Create()
    {
        var top = new Option<int>("--top", "-n") { Description = "Show this many processes", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "JSON output (bytes)" };
        var cmd = new Command("hugepages", "Huge page pools (total, free, reserved, surplus, pinned bytes; per node), THP mode, and who uses huge pages");
        cmd.Options.Add(top);
        cmd.Options.Add(json);
        cmd.SetAction(parse =>
        {
            ProcFs proc = GlobalOptions.OpenProc(parse);
            SysFs sys = GlobalOptions.OpenSys(parse);
            int n = parse.GetValue(top);
            if (n < 0) throw new CliException(ExitCodes.Usage, "--top must be 0 or more");
            var report = HugepagesReport.Read(proc, sys, n);
            TextWriter o = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json)) o.WriteLine(JsonSerializer.Serialize(report, HugepagesJsonContext.Default.HugepagesReport));
            else Render(o, report);
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static string Pages(ulong? v) => v?.ToString(CultureInfo.InvariantCulture) ?? "-";

    private static void Render(TextWriter o, HugepagesReport r)
    {
        o.WriteLine("hugetlbfs pools (pinned: RAM held by the pool, usable by nothing else)");
        if (r.Pools.Count == 0) o.WriteLine("  none: this kernel has no hugetlbfs pools (/sys/kernel/mm/hugepages absent)");
        else
        {
            var t = new TextTable("POOL", "NODE", ">TOTAL", ">FREE", ">RESERVED", ">SURPLUS", ">OVERCOMMIT", ">IN_USE", ">PINNED");
            foreach (var p in r.Pools)
                t.Add(HumanSize.Format(p.PageSizeBytes), p.Node is int nd ? $"node{nd}" : "all", Pages(p.Total), Pages(p.Free), Pages(p.Reserved),
                    Pages(p.Surplus), Pages(p.Overcommit), Pages(p.InUse), HumanSize.Format(p.PinnedBytes));
            t.Write(o, "  ");
        }
        o.WriteLine();
        if (r.Thp is null) o.WriteLine("transparent huge pages: not available on this kernel");
        else
        {
            var thp = r.Thp;
            o.WriteLine($"transparent huge pages: enabled {thp.Enabled ?? "?"} ({thp.EnabledChoices}), defrag {thp.Defrag ?? "?"}, " +
                        $"shmem_enabled {thp.ShmemEnabled ?? "?"}, PMD size {HumanSize.Format(thp.PmdSizeBytes)}, use_zero_page {Pages(thp.UseZeroPage)}");
            if (thp.Khugepaged.Count > 0)
                o.WriteLine("  khugepaged: " + string.Join(", ", thp.Khugepaged.Select(kv => $"{kv.Key} {kv.Value}")));
            var on = thp.Sizes.Where(s => s.Enabled != "never").ToList();
            if (thp.Sizes.Count > 0)
                o.WriteLine("  mTHP sizes: " + (on.Count == 0 ? "all never" : string.Join(", ", on.Select(s => $"{HumanSize.Format(s.SizeBytes)} {s.Enabled}"))) +
                            (on.Count > 0 && on.Count < thp.Sizes.Count ? $" (the other {thp.Sizes.Count - on.Count} sizes never)" : ""));
        }
        o.WriteLine($"system (meminfo): AnonHugePages {HumanSize.Format(r.AnonHugePagesBytes)}, ShmemHugePages {HumanSize.Format(r.ShmemHugePagesBytes)}, " +
                    $"FileHugePages {HumanSize.Format(r.FileHugePagesBytes)}, Hugetlb {HumanSize.Format(r.HugetlbBytes)}");
        o.WriteLine();
        var users = r.TopProcesses;
        if (users.Count == 0) o.WriteLine("no process uses huge pages" + (r.ProcessesUnreadable > 0 ? $" that could be read ({r.ProcessesUnreadable} could not)" : ""));
        else
        {
            o.WriteLine("processes using most huge pages:");
            var t = new TextTable(">PID", "COMMAND", ">ANON_HUGE(THP)", ">HUGETLB", ">RSS");
            foreach (var u in users)
                t.Add(u.Pid.ToString(CultureInfo.InvariantCulture), u.Comm, HumanSize.Format(u.AnonHugePagesBytes), HumanSize.Format(u.HugetlbBytes), HumanSize.Format(u.RssBytes));
            t.Write(o, "  ");
            if (r.ProcessesUnreadable > 0) o.WriteLine($"  ({r.ProcessesUnreadable} process{(r.ProcessesUnreadable == 1 ? "'s" : "es'")} smaps_rollup could not be read: THP use unknown there)");
        }
        foreach (string f in r.Findings)
        {
            o.WriteLine();
            o.WriteLine("! " + f);
        }
    }
}

public sealed record HugepagesReport
{
    public List<HugePagePool> Pools { get; init; } = [];
    public ThpJson? Thp { get; init; }
    public ulong? AnonHugePagesBytes { get; init; }
    public ulong? ShmemHugePagesBytes { get; init; }
    public ulong? FileHugePagesBytes { get; init; }
    public ulong? HugetlbBytes { get; init; }
    public ulong? DefaultHugePageSizeBytes { get; init; }
    public List<HugePageUser> TopProcesses { get; init; } = [];
    public int ProcessesUnreadable { get; init; }
    public List<string> Findings { get; init; } = [];

    public static HugepagesReport Read(ProcFs proc, SysFs sys, int top)
    {
        var system = HugePages.ReadSystem(sys);
        var nodes = HugePages.ReadNodes(sys);
        Meminfo m = proc.ReadMeminfo();
        var thp = TransparentHugepages.Read(sys);
        int skipped = 0;
        var users = top > 0 ? HugePageUsage.Users(proc, out skipped) : [];
        return new HugepagesReport
        {
            Pools = system.Concat(nodes).ToList(),
            Thp = thp is null ? null : new ThpJson
            {
                Enabled = thp.Enabled?.Active, EnabledChoices = thp.Enabled?.ToString() ?? "", Defrag = thp.Defrag?.Active,
                ShmemEnabled = thp.ShmemEnabled?.Active, PmdSizeBytes = thp.PmdSizeBytes, UseZeroPage = thp.UseZeroPage,
                Khugepaged = new SortedDictionary<string, ulong>(thp.Khugepaged.ToDictionary(), StringComparer.Ordinal),
                Sizes = thp.Sizes.Select(s => new ThpSizeJson { SizeBytes = s.SizeBytes, Enabled = s.Enabled.Active }).ToList(),
            },
            AnonHugePagesBytes = m.AnonHugePages,
            ShmemHugePagesBytes = m.ShmemHugePages,
            FileHugePagesBytes = m.FileHugePages,
            HugetlbBytes = m.Hugetlb,
            DefaultHugePageSizeBytes = m.HugepagesizeBytes,
            TopProcesses = users.Where(u => u.AnonHugePagesBytes > 0 || u.HugetlbBytes > 0).Take(top).ToList(),
            ProcessesUnreadable = skipped,
            Findings = HugePageUsage.Findings(system, b => HumanSize.Format(b)),
        };
    }
}

public sealed record ThpJson
{
    public string? Enabled { get; init; }
    public string EnabledChoices { get; init; } = "";
    public string? Defrag { get; init; }
    public string? ShmemEnabled { get; init; }
    public ulong? PmdSizeBytes { get; init; }
    public ulong? UseZeroPage { get; init; }
    public SortedDictionary<string, ulong> Khugepaged { get; init; } = new();
    public List<ThpSizeJson> Sizes { get; init; } = [];
}

public sealed record ThpSizeJson
{
    public ulong SizeBytes { get; init; }
    public string? Enabled { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(HugepagesReport))]
internal partial class HugepagesJsonContext : JsonSerializerContext;
