namespace MemScope.Procfs;

/// <summary>One cache line of /proc/slabinfo (version 2.x). Tunables are 0 under SLUB.</summary>
public sealed record SlabCache(
    string Name, ulong ActiveObjects, ulong TotalObjects, ulong ObjectSizeBytes, ulong ObjectsPerSlab,
    ulong PagesPerSlab, ulong Limit, ulong BatchCount, ulong SharedFactor, ulong ActiveSlabs, ulong TotalSlabs,
    ulong SharedAvail)
{
    /// <summary>Memory the cache holds: slabs × pages per slab × page size (what slabtop calls CACHE SIZE).</summary>
    public ulong MemoryBytes(int pageSize) => TotalSlabs * PagesPerSlab * (ulong)pageSize;
    /// <summary>Bytes in objects that are in use.</summary>
    public ulong ActiveBytes => ActiveObjects * ObjectSizeBytes;
}

/// <summary>
/// /proc/slabinfo (slabinfo(5)), root-only (0400) since 2.6.x. Names may contain ':' (e.g. "iwl_cmd_pool:0000:04:00.0"),
/// so a line is split from the right: the name is everything before the 15 numeric columns.
/// </summary>
public sealed record Slabinfo(string Version, IReadOnlyList<SlabCache> Caches)
{
    public static Slabinfo Read(string path) => KernelFile.Parse(path, Parse);

    public static Slabinfo Parse(ReadOnlySpan<char> content, string path)
    {
        string version = "";
        var caches = new List<SlabCache>(256);
        int lineNumber = 0;
        Span<ulong> n = stackalloc ulong[11];
        foreach (ReadOnlySpan<char> raw in content.EnumerateLines())
        {
            lineNumber++;
            ReadOnlySpan<char> line = raw.Trim();
            if (line.IsEmpty) continue;
            if (line.StartsWith("slabinfo - version:"))
            {
                version = line["slabinfo - version:".Length..].Trim().ToString();
                continue;
            }
            if (line[0] == '#') continue;
            // "name active num objsize objperslab pagesperslab : tunables l b s : slabdata as ns sa"
            int tunables = line.IndexOf(" : tunables", StringComparison.Ordinal);
            int slabdata = line.IndexOf(" : slabdata", StringComparison.Ordinal);
            if (tunables < 0 || slabdata < tunables)
                throw KernelFileException.Malformed(path, lineNumber, raw, "expected ': tunables' and ': slabdata' columns");
            ReadOnlySpan<char> head = line[..tunables].TrimEnd();
            // The name is before the last five numbers of the head.
            int end = head.Length;
            for (int field = 4; field >= 0; field--)
            {
                int space = head[..end].TrimEnd().LastIndexOf(' ');
                ReadOnlySpan<char> token = head[(space + 1)..end].Trim();
                if (space < 0 || !SpanParsing.TryParseULong(token, out n[field]))
                    throw KernelFileException.Malformed(path, lineNumber, token, "cache counters must be numbers");
                end = space;
            }
            string name = head[..end].Trim().ToString();
            ReadOnlySpan<char> rest = line[(tunables + " : tunables".Length)..slabdata];
            for (int i = 5; i < 8; i++) ParseNext(ref rest, ref n[i], path, lineNumber, raw);
            rest = line[(slabdata + " : slabdata".Length)..];
            for (int i = 8; i < 11; i++) ParseNext(ref rest, ref n[i], path, lineNumber, raw);
            caches.Add(new SlabCache(name, n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7], n[8], n[9], n[10]));
        }
        if (version.Length == 0)
            throw new KernelFileException(KernelFileError.Malformed, path, "no 'slabinfo - version:' header");
        return new Slabinfo(version, caches);
    }

    private static void ParseNext(ref ReadOnlySpan<char> rest, ref ulong value, string path, int line, ReadOnlySpan<char> raw)
    {
        ReadOnlySpan<char> t = SpanParsing.NextToken(ref rest);
        if (!SpanParsing.TryParseULong(t, out value))
            throw KernelFileException.Malformed(path, line, raw, "tunables/slabdata must be numbers");
    }
}
