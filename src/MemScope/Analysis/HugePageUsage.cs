using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.Analysis;

/// <summary>A process's transparent huge pages (smaps_rollup AnonHugePages) and hugetlb pages (status HugetlbPages).</summary>
public sealed record HugePageUser(int Pid, string Comm, ulong? AnonHugePagesBytes, ulong? HugetlbBytes, ulong? RssBytes);

/// <summary>Who uses huge pages, and pools that pin memory for nothing.</summary>
public static class HugePageUsage
{
    /// <summary>Share of a pool that must be idle (free and not reserved) to flag it.</summary>
    public const double IdleFlagFraction = 0.9;

    /// <summary>
    /// A finding per system pool that holds pages while ≥ 90% of them are neither in use nor reserved: that RAM is
    /// pinned for hugetlbfs and unusable by anything else.
    /// </summary>
    public static List<string> Findings(IReadOnlyList<HugePagePool> systemPools, Func<ulong, string> size)
    {
        var findings = new List<string>();
        foreach (var p in systemPools)
        {
            if (p.Total is not ulong total || total == 0 || p.Idle is not ulong idle) continue;
            if (idle < IdleFlagFraction * total) continue;
            findings.Add($"{size(p.PageSizeBytes)} pool: {total} pages ({size(total * p.PageSizeBytes)}) pinned, {idle} of them " +
                         $"({100.0 * idle / total:0}%) neither in use nor reserved: {size(idle * p.PageSizeBytes)} of RAM set aside for " +
                         $"hugetlbfs that nobody uses (lower nr_hugepages, or start the workload that should use it)");
        }
        return findings;
    }

    /// <summary>
    /// Every readable process's AnonHugePages (smaps_rollup, 4.14+) and HugetlbPages (status, 4.4+), largest first.
    /// Processes that exit or deny the read are skipped; <paramref name="skipped"/> says how many were unreadable.
    /// </summary>
    public static List<HugePageUser> Users(ProcFs proc, out int skipped)
    {
        skipped = 0;
        var users = new List<HugePageUser>();
        foreach (int pid in proc.ListPids())
        {
            ProcPidStatus status;
            try { status = ProcPidStatus.Read(proc.PidPath(pid, "status")); }
            catch (KernelFileException) { continue; }
            if (status.VmRSS is null) continue; // kernel thread
            ulong? anonHuge = null;
            try { anonHuge = ProcPidSmapsRollup.Read(proc.PidPath(pid, "smaps_rollup")).AnonHugePages; }
            catch (KernelFileException e) when (e.Error == KernelFileError.Gone) { if (!proc.ProcessExists(pid)) continue; }
            catch (KernelFileException) { skipped++; }
            users.Add(new HugePageUser(pid, status.Name ?? "?", anonHuge, status.HugetlbPages, status.VmRSS));
        }
        users.Sort((a, b) => ((b.AnonHugePagesBytes ?? 0) + (b.HugetlbBytes ?? 0)).CompareTo((a.AnonHugePagesBytes ?? 0) + (a.HugetlbBytes ?? 0)));
        return users;
    }
}
