using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.Analysis.Doctor;

/// <summary>Reads every memory cgroup at the start and end of the doctor's window and pairs them into observations.</summary>
public static class CgroupObserver
{
    public static (IReadOnlyList<MemoryCgroup>? Groups, string? Why) Read(ProcFs proc, SysFs sys)
    {
        try
        {
            MemoryCgroups cgroups = MemoryCgroups.Discover(proc, sys);
            if (cgroups.Hierarchies.Count == 0) return (null, "no memory cgroup hierarchy mounted");
            return (cgroups.All().ToList(), null);
        }
        catch (Exception e) when (e is KernelFileException or IOException or UnauthorizedAccessException)
        {
            return (null, e.Message);
        }
    }

    public static IReadOnlyList<CgroupObservation> Pair(IReadOnlyList<MemoryCgroup> first, IReadOnlyList<MemoryCgroup> last)
    {
        var before = first.GroupBy(g => (g.Version, g.Path)).ToDictionary(g => g.Key, g => g.First());
        var observations = new List<CgroupObservation>();
        foreach (MemoryCgroup g in last)
        {
            if (g.UsageBytes is not ulong usage) continue;
            before.TryGetValue((g.Version, g.Path), out MemoryCgroup? b);
            observations.Add(new CgroupObservation(
                g.Path, usage, g.LimitIsMax ? null : g.LimitBytes,
                Delta(b?.Failcnt, g.Failcnt),
                Delta(b?.Events?.Oom ?? b?.OomKills, g.Events?.Oom ?? g.OomKills),
                Delta(b?.Events?.Max, g.Events?.Max),
                g.OomKills ?? g.Events?.OomKill));
        }
        return observations;
    }

    private static ulong? Delta(ulong? before, ulong? after) => before is ulong b && after is ulong a && a >= b ? a - b : null;
}
