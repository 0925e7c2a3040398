using MemScope.Procfs;

namespace MemScope.Sysfs;

/// <summary>
/// Kernel samepage merging state from /sys/kernel/mm/ksm (Documentation/admin-guide/mm/ksm.rst), one integer per
/// file. general_profit (bytes) is 6.1+, ksm_zero_pages 6.5+, max_page_sharing/stable_node_* 4.13+; anything a kernel
/// lacks is null. Absent directory (no CONFIG_KSM): <see cref="TryRead"/> returns null.
/// </summary>
public sealed class Ksm
{
    private readonly Dictionary<string, long> _values;
    private Ksm(Dictionary<string, long> values) => _values = values;

    public IReadOnlyDictionary<string, long> All => _values;
    public long? this[string name] => _values.TryGetValue(name, out long v) ? v : null;

    /// <summary>0 stopped, 1 running, 2 unmerge all.</summary>
    public long? Run => this["run"];
    public long? PagesShared => this["pages_shared"];
    public long? PagesSharing => this["pages_sharing"];
    public long? PagesUnshared => this["pages_unshared"];
    public long? PagesVolatile => this["pages_volatile"];
    public long? PagesToScan => this["pages_to_scan"];
    public long? FullScans => this["full_scans"];
    public long? SleepMilliseconds => this["sleep_millisecs"];
    public long? MergeAcrossNodes => this["merge_across_nodes"];
    /// <summary>Bytes saved minus metadata cost (6.1+); may be negative.</summary>
    public long? GeneralProfitBytes => this["general_profit"];

    public static string DirectoryOf(SysFs sys) => sys.PathOf("kernel/mm/ksm");

    public static Ksm? TryRead(SysFs sys) => TryRead(DirectoryOf(sys));

    /// <summary>Reads every one-integer file of the directory; write-only, denied or non-numeric files are skipped.</summary>
    public static Ksm? TryRead(string directory)
    {
        if (!Directory.Exists(directory)) return null;
        var values = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (string file in Directory.EnumerateFiles(directory))
        {
            try { values[Path.GetFileName(file)] = SingleNumberFile.Read(file); }
            catch (KernelFileException) { }
        }
        return new Ksm(values);
    }
}
