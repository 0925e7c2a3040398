namespace MemScope.Procfs;

/// <summary>
/// Values of a "key value" kernel file (meminfo, vmstat, node meminfo) indexed by a fixed list of known keys, so a
/// parse allocates one array; keys this build does not know are kept in a small overflow list. A missing key is
/// null, never 0.
/// </summary>
public sealed class CounterTable
{
    private readonly KeySet _keys;
    private readonly ulong[] _values;
    private readonly bool[] _present;
    private List<KeyValuePair<string, ulong>>? _unknown;

    internal CounterTable(KeySet keys)
    {
        _keys = keys;
        _values = new ulong[keys.Count];
        _present = new bool[keys.Count];
    }

    /// <summary>The value of a known key by index, or null when the file did not have it.</summary>
    public ulong? this[int index] => _present[index] ? _values[index] : null;

    /// <summary>The value of any key, known or not.</summary>
    public ulong? this[string key]
    {
        get
        {
            if (_keys.TryGetIndex(key, out int i)) return this[i];
            if (_unknown is not null)
                foreach (var kv in _unknown)
                    if (kv.Key == key) return kv.Value;
            return null;
        }
    }

    public bool Contains(string key) => this[key] is not null;

    /// <summary>Every key present, in the known-key order followed by unknown keys in file order.</summary>
    public IEnumerable<KeyValuePair<string, ulong>> Entries
    {
        get
        {
            for (int i = 0; i < _values.Length; i++)
                if (_present[i]) yield return new(_keys.Names[i], _values[i]);
            if (_unknown is not null)
                foreach (var kv in _unknown) yield return kv;
        }
    }

    /// <summary>Sets a value; the first occurrence of a duplicated key wins (the kernel never repeats one).</summary>
    internal void Set(ReadOnlySpan<char> key, ulong value)
    {
        if (_keys.TryGetIndex(key, out int i))
        {
            if (_present[i]) return;
            _values[i] = value;
            _present[i] = true;
            return;
        }
        _unknown ??= new List<KeyValuePair<string, ulong>>();
        foreach (var kv in _unknown)
            if (key.SequenceEqual(kv.Key)) return;
        _unknown.Add(new(key.ToString(), value));
    }
}

/// <summary>A fixed list of key names with a span lookup that does not allocate.</summary>
public sealed class KeySet
{
    private readonly Dictionary<string, int> _index;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _spanLookup;

    public KeySet(params string[] names)
    {
        Names = names;
        _index = new Dictionary<string, int>(names.Length, StringComparer.Ordinal);
        for (int i = 0; i < names.Length; i++) _index[names[i]] = i;
        _spanLookup = _index.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public string[] Names { get; }
    public int Count => Names.Length;
    public bool TryGetIndex(ReadOnlySpan<char> key, out int index) => _spanLookup.TryGetValue(key, out index);
    public bool TryGetIndex(string key, out int index) => _index.TryGetValue(key, out index);
}
