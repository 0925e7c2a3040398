using MemScope.Procfs;

namespace MemScope.Tests.Fixtures.Handlers;

/// <summary>/proc/PID/smaps_rollup: our record holds bytes; values are kB (× 1024), values_bytes are bytes.</summary>
public sealed class SmapsRollupHandler : IFixtureHandler
{
    public bool Handles(FixtureEntry e) => !e.IsDirectory && e.FileName == "smaps_rollup";

    public void Check(FixtureEntry e)
    {
        SmapsFields r = ProcPidSmapsRollup.Read(e.FullPath);
        foreach (var (field, expected) in e.Fields(e.Values))
            e.Number(field, Get(r, field, e), expected, e.BytesFactor(field));
        foreach (var (field, expected) in e.Fields(e.ValuesBytes))
            e.Number(field + " (bytes)", Get(r, field, e), expected);
        foreach (string field in e.Absent)
            e.Missing(field, Get(r, field, e));
    }

    /// <summary>A smaps counter by its name in the file.</summary>
    public static ulong? Get(SmapsFields r, string field, FixtureEntry e)
    {
        ulong? v = field switch
        {
            "Size" => r.Size, "KernelPageSize" => r.KernelPageSize, "MMUPageSize" => r.MMUPageSize, "Rss" => r.Rss,
            "Pss" => r.Pss, "Pss_Dirty" => r.PssDirty, "Pss_Anon" => r.PssAnon, "Pss_File" => r.PssFile,
            "Pss_Shmem" => r.PssShmem, "Shared_Clean" => r.SharedClean, "Shared_Dirty" => r.SharedDirty,
            "Private_Clean" => r.PrivateClean, "Private_Dirty" => r.PrivateDirty, "Referenced" => r.Referenced,
            "Anonymous" => r.Anonymous, "KSM" => r.Ksm, "LazyFree" => r.LazyFree, "AnonHugePages" => r.AnonHugePages,
            "ShmemPmdMapped" => r.ShmemPmdMapped, "FilePmdMapped" => r.FilePmdMapped, "Shared_Hugetlb" => r.SharedHugetlb,
            "Private_Hugetlb" => r.PrivateHugetlb, "Swap" => r.Swap, "SwapPss" => r.SwapPss, "Locked" => r.Locked,
            _ => null,
        };
        if (v is null && !SmapsFields.Keys.TryGetIndex(field, out _)) e.NoMapping(field);
        return v;
    }
}
