using System.Globalization;
using MemScope.Procfs;

namespace MemScope.Sysfs;

/// <summary>
/// One hugetlbfs pool: /sys/kernel/mm/hugepages/hugepages-SIZEkB/ (system; 2.6.24+) or
/// /sys/devices/system/node/nodeN/hugepages/hugepages-SIZEkB/ (per node: no resv or overcommit files there).
/// Counts are pages of <see cref="PageSizeBytes"/>; a file the kernel lacks is null.
/// </summary>
public sealed record HugePagePool
{
    public required ulong PageSizeBytes { get; init; }
    /// <summary>NUMA node, or null for the system-wide pool.</summary>
    public int? Node { get; init; }
    /// <summary>nr_hugepages: pages in the pool (persistent plus surplus).</summary>
    public ulong? Total { get; init; }
    /// <summary>free_hugepages: not allocated to any mapping (reserved ones included).</summary>
    public ulong? Free { get; init; }
    /// <summary>resv_hugepages: promised to mappings but not faulted in yet (system pool only).</summary>
    public ulong? Reserved { get; init; }
    /// <summary>surplus_hugepages: above nr_hugepages, from overcommit.</summary>
    public ulong? Surplus { get; init; }
    /// <summary>nr_overcommit_hugepages (system pool only).</summary>
    public ulong? Overcommit { get; init; }

    /// <summary>Pages faulted into some mapping: Total − Free.</summary>
    public ulong? InUse => Total is ulong t && Free is ulong f && t >= f ? t - f : null;
    /// <summary>Free pages nobody has even reserved: Free − Reserved (Free alone when Reserved is unknown).</summary>
    public ulong? Idle => Free is ulong f ? (Reserved is ulong r && f >= r ? f - r : f) : null;
    /// <summary>RAM the pool holds whatever it is used for: Total × page size.
    /// (Declared last: `hugepages --json` serialises this record and prints pinned_bytes after in_use and idle.)</summary>
    public ulong? PinnedBytes => Total * PageSizeBytes;
}

/// <summary>Reads the hugetlbfs pools, system-wide and per NUMA node.</summary>
public static class HugePages
{
    /// <summary>The system pools, smallest page size first; empty when the kernel has no hugetlbfs.</summary>
    public static List<HugePagePool> ReadSystem(SysFs sys) => ReadDir(sys.PathOf("kernel/mm/hugepages"), null);

    /// <summary>The per-node pools of every node (empty without NUMA sysfs).</summary>
    public static List<HugePagePool> ReadNodes(SysFs sys)
    {
        var all = new List<HugePagePool>();
        foreach (int node in NumaNodes.List(sys))
            all.AddRange(ReadDir(NumaNodes.NodePath(sys, node, "hugepages"), node));
        return all;
    }

    private static List<HugePagePool> ReadDir(string dir, int? node)
    {
        var pools = new List<HugePagePool>();
        if (!Directory.Exists(dir)) return pools;
        foreach (string d in Directory.EnumerateDirectories(dir, "hugepages-*"))
        {
            if (!TryParseSizeDir(Path.GetFileName(d), out ulong size)) continue;
            pools.Add(new HugePagePool
            {
                PageSizeBytes = size,
                Node = node,
                Total = Number(Path.Combine(d, "nr_hugepages")),
                Free = Number(Path.Combine(d, "free_hugepages")),
                Reserved = Number(Path.Combine(d, "resv_hugepages")),
                Surplus = Number(Path.Combine(d, "surplus_hugepages")),
                Overcommit = Number(Path.Combine(d, "nr_overcommit_hugepages")),
            });
        }
        pools.Sort((a, b) => a.PageSizeBytes.CompareTo(b.PageSizeBytes));
        return pools;
    }

    /// <summary>"hugepages-2048kB" → 2 MiB.</summary>
    public static bool TryParseSizeDir(string name, out ulong bytes)
    {
        bytes = 0;
        ReadOnlySpan<char> s = name.AsSpan();
        if (!s.StartsWith("hugepages-") || !s.EndsWith("kB")) return false;
        if (!SpanParsing.TryParseULong(s["hugepages-".Length..^2], out ulong kb)) return false;
        bytes = kb * 1024;
        return true;
    }

    internal static ulong? Number(string path)
    {
        try
        {
            string? text = KernelFile.TryReadAllText(path);
            return text is not null && SpanParsing.TryParseULong(text.AsSpan().Trim(), out ulong v) ? v : null;
        }
        catch (KernelFileException) { return null; }
    }
}

/// <summary>A sysfs "choice" file such as "always [madvise] never": the choices and the bracketed active one.</summary>
public sealed record SysfsChoice(string? Active, IReadOnlyList<string> Choices)
{
    public static SysfsChoice Parse(string text)
    {
        var choices = new List<string>();
        string? active = null;
        foreach (string raw in text.Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries))
        {
            bool on = raw.Length > 2 && raw[0] == '[' && raw[^1] == ']';
            string c = on ? raw[1..^1] : raw;
            if (on) active = c;
            choices.Add(c);
        }
        // A file with a single bare word (e.g. shmem_enabled on some kernels) has that word active.
        if (active is null && choices.Count == 1) active = choices[0];
        return new SysfsChoice(active, choices);
    }

    public override string ToString() => string.Join(' ', Choices.Select(c => c == Active ? $"[{c}]" : c));
}

/// <summary>
/// Transparent huge page settings from /sys/kernel/mm/transparent_hugepage (2.6.38+): enabled, defrag,
/// shmem_enabled (4.8+), hpage_pmd_size (4.x), use_zero_page, khugepaged/* and the per-size mTHP controls
/// hugepages-SIZEkB/enabled (6.8+). Absent files are null.
/// </summary>
public sealed record TransparentHugepages
{
    public SysfsChoice? Enabled { get; init; }
    public SysfsChoice? Defrag { get; init; }
    public SysfsChoice? ShmemEnabled { get; init; }
    public ulong? PmdSizeBytes { get; init; }
    public ulong? UseZeroPage { get; init; }
    /// <summary>khugepaged/* numeric settings and counters (defrag, pages_to_scan, scan_sleep_millisecs, pages_collapsed, full_scans...).</summary>
    public IReadOnlyDictionary<string, ulong> Khugepaged { get; init; } = new Dictionary<string, ulong>();
    /// <summary>mTHP sizes and their "enabled" choice (never/always/madvise/inherit).</summary>
    public IReadOnlyList<(ulong SizeBytes, SysfsChoice Enabled)> Sizes { get; init; } = [];

    /// <summary>Null when the kernel has no THP (no directory).</summary>
    public static TransparentHugepages? Read(SysFs sys)
    {
        string dir = sys.PathOf("kernel/mm/transparent_hugepage");
        if (!Directory.Exists(dir)) return null;
        SysfsChoice? Choice(string f)
        {
            try { return KernelFile.TryReadAllText(Path.Combine(dir, f)) is string t ? SysfsChoice.Parse(t) : null; }
            catch (KernelFileException) { return null; }
        }
        var k = new SortedDictionary<string, ulong>(StringComparer.Ordinal);
        string kdir = Path.Combine(dir, "khugepaged");
        if (Directory.Exists(kdir))
            foreach (string f in Directory.EnumerateFiles(kdir))
                if (HugePages.Number(f) is ulong v) k[Path.GetFileName(f)] = v;
        var sizes = new List<(ulong, SysfsChoice)>();
        foreach (string d in Directory.EnumerateDirectories(dir, "hugepages-*"))
            if (HugePages.TryParseSizeDir(Path.GetFileName(d), out ulong size) && Choice(Path.Combine(Path.GetFileName(d), "enabled")) is { } c)
                sizes.Add((size, c));
        sizes.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return new TransparentHugepages
        {
            Enabled = Choice("enabled"),
            Defrag = Choice("defrag"),
            ShmemEnabled = Choice("shmem_enabled"),
            PmdSizeBytes = HugePages.Number(Path.Combine(dir, "hpage_pmd_size")),
            UseZeroPage = HugePages.Number(Path.Combine(dir, "use_zero_page")),
            Khugepaged = new Dictionary<string, ulong>(k),
            Sizes = sizes,
        };
    }
}
