namespace MemScope.Procfs;

/// <summary>
/// Single-value sysctls under /proc/sys/kernel that bound process counts: pid_max (the highest pid + 1) and
/// threads-max (the system-wide task limit). Read with <see cref="SingleNumberFile"/>; null when absent or denied.
/// </summary>
public static class SysKernel
{
    public static long? TryRead(ProcFs proc, string name)
    {
        try { return SingleNumberFile.Read(proc.PathOf($"sys/kernel/{name}")); }
        catch (KernelFileException e) when (e.Error is KernelFileError.Gone or KernelFileError.Denied) { return null; }
    }

    public static long? PidMax(ProcFs proc) => TryRead(proc, "pid_max");
    public static long? ThreadsMax(ProcFs proc) => TryRead(proc, "threads-max");
}
