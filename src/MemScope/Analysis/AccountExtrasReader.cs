using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.Analysis;

/// <summary>Gathers the optional sources the balance sheet names: tmpfs usage, SysV segments, NUMA nodes.</summary>
public static class AccountExtrasReader
{
    public static AccountExtras Read(ProcFs proc, SysFs sys)
    {
        var tmpfs = new List<TmpfsUsage>();
        try
        {
            foreach (Mount mount in Mounts.Read(proc.PathOf("mounts")))
            {
                if (mount.FsType != "tmpfs") continue;
                try
                {
                    var drive = new DriveInfo(mount.MountPoint);
                    long used = drive.TotalSize - drive.TotalFreeSpace;
                    if (tmpfs.All(t => t.MountPoint != mount.MountPoint)) tmpfs.Add(new TmpfsUsage(mount.MountPoint, used));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException) { }
            }
        }
        catch (KernelFileException) { }

        IReadOnlyList<SysvShmSegment> sysv = [];
        try { sysv = SysvShm.Read(proc.PathOf("sysvipc/shm")); }
        catch (KernelFileException) { }

        return new AccountExtras(tmpfs, sysv, NumaNodes.Read(sys));
    }
}
