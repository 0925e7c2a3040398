namespace MemScope.Procfs;

/// <summary>
/// The sysctls under /proc/sys/vm: each file holds one or more integers (lowmem_reserve_ratio holds several). Kept
/// by name; the ones the views use have typed accessors. A sysctl missing on this kernel is null.
/// </summary>
public sealed class SysVm
{
    private readonly Dictionary<string, long[]> _values;
    private readonly Dictionary<string, string> _texts;
    private SysVm(Dictionary<string, long[]> values, Dictionary<string, string> texts)
    {
        _values = values;
        _texts = texts;
    }

    /// <summary>Rebuilds a reading from stored values (a recording's replay); the dictionaries are copied.</summary>
    public static SysVm FromValues(IEnumerable<KeyValuePair<string, long[]>> values, IEnumerable<KeyValuePair<string, string>> texts) =>
        new(new Dictionary<string, long[]>(values, StringComparer.Ordinal), new Dictionary<string, string>(texts, StringComparer.Ordinal));

    /// <summary>Every numeric sysctl (one or more integers each).</summary>
    public IReadOnlyDictionary<string, long[]> All => _values;
    /// <summary>Sysctls whose value is not numeric (numa_zonelist_order "Node"), trimmed.</summary>
    public IReadOnlyDictionary<string, string> Texts => _texts;
    public string? Text(string name) => _texts.TryGetValue(name, out string? t) ? t : null;

    public long? this[string name] => _values.TryGetValue(name, out long[]? v) && v.Length > 0 ? v[0] : null;

    public long? Swappiness => this["swappiness"];
    public long? MinFreeKbytes => this["min_free_kbytes"];
    public long? WatermarkScaleFactor => this["watermark_scale_factor"];
    public long? WatermarkBoostFactor => this["watermark_boost_factor"];
    public long? ZoneReclaimMode => this["zone_reclaim_mode"];
    public long? VfsCachePressure => this["vfs_cache_pressure"];
    /// <summary>0 heuristic, 1 always, 2 strict (never).</summary>
    public long? OvercommitMemory => this["overcommit_memory"];
    public long? OvercommitRatio => this["overcommit_ratio"];
    public long? OvercommitKbytes => this["overcommit_kbytes"];
    public long? DirtyRatio => this["dirty_ratio"];
    public long? DirtyBackgroundRatio => this["dirty_background_ratio"];
    public long? PanicOnOom => this["panic_on_oom"];
    public long? NrHugepages => this["nr_hugepages"];

    /// <summary>Reads every readable file of <paramref name="directory"/> (…/proc/sys/vm); unreadable or non-numeric ones are skipped.</summary>
    public static SysVm Read(string directory)
    {
        var values = new Dictionary<string, long[]>(StringComparer.Ordinal);
        var texts = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!Directory.Exists(directory)) return new SysVm(values, texts);
        foreach (string file in Directory.EnumerateFiles(directory))
        {
            string? text;
            try { text = KernelFile.ReadAllText(file); }
            catch (KernelFileException) { continue; } // write-only (drop_caches, compact_memory) or denied
            if (TryParseNumbers(text, out long[] numbers)) values[Path.GetFileName(file)] = numbers;
            else if (text.Trim() is { Length: > 0 } t) texts[Path.GetFileName(file)] = t;
        }
        return new SysVm(values, texts);
    }

    internal static bool TryParseNumbers(ReadOnlySpan<char> text, out long[] numbers)
    {
        var list = new List<long>(1);
        ReadOnlySpan<char> rest = text;
        while (true)
        {
            ReadOnlySpan<char> t = SpanParsing.NextToken(ref rest);
            if (t.IsEmpty) break;
            if (!SpanParsing.TryParseLong(t, out long v)) { numbers = []; return false; }
            list.Add(v);
        }
        numbers = list.ToArray();
        return numbers.Length > 0;
    }
}
