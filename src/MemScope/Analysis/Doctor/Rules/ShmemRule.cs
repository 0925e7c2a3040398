using static MemScope.Analysis.Doctor.DoctorThresholds;

namespace MemScope.Analysis.Doctor.Rules;

/// <summary>shmem: large shared memory or tmpfs that no process's RSS explains.</summary>
public sealed class ShmemRule : IDoctorRule
{
    public string Id => "shmem";

    public IEnumerable<Finding> Evaluate(DoctorContext c)
    {
        if (c.Meminfo.Shmem is not ulong shmem) throw new RuleSkipped("no Shmem in /proc/meminfo");
        double total = c.MemTotal;
        if (shmem < ShmemMinBytes || shmem < ShmemWarningFraction * total) yield break;
        ulong mapped = c.Last.Processes.Aggregate(0UL, (s, p) => s + (p.RssShmemBytes ?? 0));
        // RssShmem counts a shared page in every process mapping it: this over-counts, so "unexplained" is conservative.
        if (mapped >= ShmemExplainedShare * shmem) yield break;
        var evidence = new List<Evidence>
        {
            new("Shmem", $"{Format.Bytes(shmem)} ({Format.Pct(shmem / total)} of RAM)", "/proc/meminfo Shmem"),
            new("mapped by processes", Format.Bytes(mapped), "Σ /proc/PID/status RssShmem"),
        };
        if (c.AccountExtras is { } extras)
        {
            foreach (var t in extras.Tmpfs.Where(t => t.UsedBytes > 0).OrderByDescending(t => t.UsedBytes).Take(3))
                evidence.Add(new($"tmpfs {t.MountPoint}", Format.Bytes((double)t.UsedBytes), "statfs of the mount"));
            if (extras.SysvSegments.Count > 0)
                evidence.Add(new("SysV segments", $"{extras.SysvSegments.Count}, {Format.Bytes((double)extras.SysvSegments.Sum(s => (long)s.SizeBytes))}, {extras.SysvSegments.Count(s => s.Attached == 0)} unattached",
                    "/proc/sysvipc/shm"));
        }
        yield return new Finding
        {
            Id = Id,
            Severity = Severity.Warning,
            Title = ("Shared memory / tmpfs holds memory that no process explains", "共享内存/tmpfs 占用了无法由进程解释的内存"),
            Evidence = evidence,
            Explanation = ("Files in tmpfs (/dev/shm, /run, /tmp on some systems) and SysV/POSIX shared memory live in RAM (or swap) until deleted, even when no process has them open. They show in free's 'shared' and 'buff/cache' but cannot be dropped like cache.",
                           "tmpfs（/dev/shm、/run，部分系统的 /tmp）中的文件和 SysV/POSIX 共享内存在删除前一直占用内存（或 swap），即使没有进程打开它们。它们计入 free 的 shared 和 buff/cache，但不能像缓存那样被丢弃。"),
            Cause = ("Files left in a tmpfs, or shared memory segments whose owner exited without removing them.", "tmpfs 中残留的文件，或所有者退出时未删除的共享内存段。"),
            Next = ["memscope account", "df -h -t tmpfs", "ipcs -m"],
            Fixes =
            [
                ("Delete stale files from /dev/shm and other tmpfs mounts; remove orphaned SysV segments with ipcrm.", "删除 /dev/shm 等 tmpfs 中的陈旧文件；用 ipcrm 删除无主的 SysV 段。"),
                ("Cap tmpfs mounts with size= so they cannot grow without bound.", "用 size= 限制 tmpfs 挂载的大小，避免无限增长。"),
            ],
        };
    }
}
