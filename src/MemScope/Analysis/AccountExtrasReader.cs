using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.Analysis;

/// <summary>
/// Shared memory outside processes' RSS: usage of the shmem-backed mounts (tmpfs, devtmpfs) by statfs, and the SysV
/// segments (/proc/sysvipc/shm). Either list is null when it could not be read.
/// </summary>
public sealed record SharedMemoryUsage(IReadOnlyList<TmpfsUsage>? Tmpfs, IReadOnlyList<SysvShmSegment>? SysvSegments);

/// <summary>Gathers the optional sources the balance sheet names: tmpfs usage, SysV segments, NUMA nodes.</summary>
public static class AccountExtrasReader
{
    public static AccountExtras Read(ProcFs proc, SysFs sys)
    {
        SharedMemoryUsage shm = ReadSharedMemory(proc);
        return new AccountExtras(shm.Tmpfs ?? [], shm.SysvSegments ?? [], NumaNodes.Read(sys));
    }

    /// <summary>
    /// The shmem-backed mounts' usage and the SysV segments, as the live doctor and `account` see them and the recorder
    /// stores them. tmpfs and devtmpfs pages are shmem (counted in meminfo Shmem); ramfs is left out: statfs reports
    /// no usage for it and its pages are not Shmem. A mount point listed twice is measured once.
    /// The usage is statfs of the mount point in our own mount namespace, so it is read only for the live /proc: for
    /// another root (a container's /host/proc, a captured tree) the path would name one of OUR file systems, and the
    /// tmpfs list is unknown (null), never another machine's numbers under its mount points.
    /// </summary>
    public static SharedMemoryUsage ReadSharedMemory(ProcFs proc)
    {
        List<TmpfsUsage>? tmpfs = null;
        if (proc.Root == "/proc")
        {
            try
            {
                tmpfs = [];
                foreach (Mount mount in Mounts.Read(proc.PathOf("mounts")))
                {
                    if (mount.FsType is not ("tmpfs" or "devtmpfs")) continue;
                    if (tmpfs.Exists(t => t.MountPoint == mount.MountPoint)) continue;
                    try
                    {
                        var drive = new DriveInfo(mount.MountPoint);
                        tmpfs.Add(new TmpfsUsage(mount.MountPoint, drive.TotalSize - drive.TotalFreeSpace));
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException) { }
                }
            }
            catch (KernelFileException) { tmpfs = null; }
        }

        IReadOnlyList<SysvShmSegment>? sysv = null;
        try { sysv = SysvShm.Read(proc.PathOf("sysvipc/shm")); }
        catch (KernelFileException) { }
        return new SharedMemoryUsage(tmpfs, sysv);
    }
}
