using MemScope.Procfs;

namespace MemScope.Sysfs;

/// <summary>
/// /sys/devices/system/node/nodeN/numastat: NUMA allocation event counters for one node, in pages
/// (Documentation/admin-guide/numastat.rst). numa_hit/miss/foreign, interleave_hit, local_node and other_node are in
/// every kernel with NUMA; unknown lines are kept by name. A missing counter is null, never 0.
/// </summary>
public sealed class NodeNumastat
{
    public static readonly KeySet Keys = new("numa_hit", "numa_miss", "numa_foreign", "interleave_hit", "local_node", "other_node");

    private readonly CounterTable _table;
    private NodeNumastat(CounterTable table) => _table = table;

    public ulong? this[string key] => _table[key];
    public IEnumerable<KeyValuePair<string, ulong>> Entries => _table.Entries;

    public ulong? NumaHit => _table[0];
    public ulong? NumaMiss => _table[1];
    public ulong? NumaForeign => _table[2];
    public ulong? InterleaveHit => _table[3];
    public ulong? LocalNode => _table[4];
    public ulong? OtherNode => _table[5];

    public static NodeNumastat Read(string path) => KernelFile.Parse(path, Parse);

    public static NodeNumastat Parse(ReadOnlySpan<char> content, string path)
    {
        var table = new CounterTable(Keys);
        int lineNumber = 0;
        foreach (ReadOnlySpan<char> raw in content.EnumerateLines())
        {
            lineNumber++;
            ReadOnlySpan<char> rest = raw;
            ReadOnlySpan<char> key = SpanParsing.NextToken(ref rest);
            if (key.IsEmpty) continue;
            ReadOnlySpan<char> value = SpanParsing.NextToken(ref rest);
            if (!SpanParsing.TryParseULong(value, out ulong v))
                throw KernelFileException.Malformed(path, lineNumber, raw, $"'{key}' has no number");
            table.Set(key, v);
        }
        return new NodeNumastat(table);
    }
}
