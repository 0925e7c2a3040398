using MemScope.Analysis.Doctor;
using MemScope.Model;
using MemScope.Procfs;

namespace MemScope.Tests.Doctor;

/// <summary>Builds synthetic snapshots for the rule tests: meminfo in MiB, vmstat counters, PSI, zones, processes.</summary>
internal sealed class DoctorBuilder
{
    public const ulong MiB = 1 << 20;
    private readonly List<Snapshot> _samples = [];

    public static Snapshot Snap(double t, Dictionary<string, ulong> meminfoMiB, Dictionary<string, ulong>? vmstat = null,
        Pressure? psi = null, string? zoneinfo = null, IReadOnlyList<ProcessSnapshot>? processes = null, double uptime = 1000, SysVm? sysVm = null)
    {
        var meminfo = string.Concat(meminfoMiB.Select(kv => kv.Key.StartsWith("HugePages_") ? $"{kv.Key}: {kv.Value}\n" : $"{kv.Key}: {kv.Value * 1024} kB\n"));
        var vm = vmstat is null ? null : Vmstat.Parse(string.Concat(vmstat.Select(kv => $"{kv.Key} {kv.Value}\n")), "vmstat");
        return new Snapshot
        {
            Time = DateTimeOffset.UnixEpoch.AddSeconds(t),
            MonotonicSeconds = t,
            System = new SystemSnapshot
            {
                Meminfo = Meminfo.Parse(meminfo, "meminfo"),
                Vmstat = vm,
                MemoryPressure = psi,
                Zoneinfo = zoneinfo is null ? null : Zoneinfo.Parse(zoneinfo, "zoneinfo"),
                UptimeSeconds = uptime + t,
                SysVm = sysVm,
            },
            Processes = processes ?? [],
            PageSize = 4096,
        };
    }

    public static Dictionary<string, ulong> Mem(ulong totalMiB = 1000, ulong availableMiB = 500, ulong freeMiB = 400) => new()
    {
        ["MemTotal"] = totalMiB, ["MemFree"] = freeMiB, ["MemAvailable"] = availableMiB, ["Cached"] = 100, ["Shmem"] = 0,
        ["SwapTotal"] = 0, ["SwapFree"] = 0, ["SReclaimable"] = 10, ["SUnreclaim"] = 10, ["CommitLimit"] = 1000, ["Committed_AS"] = 100,
    };

    public static DoctorContext Context(params Snapshot[] samples) => new() { Samples = samples };

    public static ProcessSnapshot Process(int pid, ulong anonMiB, ulong startTicks = 100, string comm = "app", ulong swapMiB = 0, ulong shmemMiB = 0) => new()
    {
        Pid = pid, Comm = comm, StartTimeTicks = startTicks, RssBytes = anonMiB * MiB, RssAnonBytes = anonMiB * MiB,
        RssFileBytes = 0, RssShmemBytes = shmemMiB * MiB, SwapBytes = swapMiB * MiB,
    };

    public static string Zone(int node, string name, ulong free, ulong min, ulong low, ulong high, ulong managed) =>
        $"Node {node}, zone {name}\n  pages free     {free}\n        min      {min}\n        low      {low}\n        high     {high}\n        spanned  {managed}\n        present  {managed}\n        managed  {managed}\n";

    public static IReadOnlyList<Finding> Run(IDoctorRule rule, DoctorContext c) => rule.Evaluate(c).ToList();
}
