namespace MemScope.Sysfs;

/// <summary>
/// SLUB exposes per-cache attributes in /sys/kernel/slab/NAME/. reclaim_account = 1 marks a cache whose objects
/// the kernel can free under pressure (dentry, inode caches...): it counts as SReclaimable. Absent on SLAB kernels.
/// </summary>
public static class SlabAttributes
{
    /// <summary>True/false when the kernel says, null when it does not (no SLUB sysfs, or an aliased name).</summary>
    public static bool? IsReclaimable(SysFs sys, string cache)
    {
        string path = sys.PathOf($"kernel/slab/{cache}/reclaim_account");
        try
        {
            string text = File.ReadAllText(path).Trim();
            return text switch { "1" => true, "0" => false, _ => null };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }
}
