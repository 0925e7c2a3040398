namespace MemScope.Procfs;

/// <summary>
/// /proc/buddyinfo: per node and zone, the number of free blocks of each order (a block of order k is 2^k pages).
/// "Node 0, zone   Normal   4381   1093 ..." — the number of orders is MAX_ORDER (11 on x86 before 6.4, NR_PAGE_ORDERS
/// 11 since; other architectures differ), so the array length comes from the file.
/// </summary>
public sealed class Buddyinfo
{
    public Buddyinfo(IReadOnlyList<BuddyinfoZone> zones) => Zones = zones;

    public IReadOnlyList<BuddyinfoZone> Zones { get; }

    public BuddyinfoZone? Zone(int node, string name)
    {
        foreach (BuddyinfoZone z in Zones)
            if (z.Node == node && z.Name == name) return z;
        return null;
    }

    public static Buddyinfo Read(string path) => KernelFile.Parse(path, Parse);

    public static Buddyinfo Parse(ReadOnlySpan<char> content, string path)
    {
        var zones = new List<BuddyinfoZone>(4);
        int lineNumber = 0;
        foreach (ReadOnlySpan<char> raw in content.EnumerateLines())
        {
            lineNumber++;
            ReadOnlySpan<char> line = raw.Trim();
            if (line.IsEmpty) continue;
            if (!line.StartsWith("Node ", StringComparison.Ordinal))
                throw KernelFileException.Malformed(path, lineNumber, raw, "expected 'Node N, zone NAME counts...'");
            ReadOnlySpan<char> rest = line[5..];
            int comma = rest.IndexOf(',');
            if (comma <= 0 || !int.TryParse(rest[..comma], out int node))
                throw KernelFileException.Malformed(path, lineNumber, raw, "bad node number");
            rest = rest[(comma + 1)..];
            if (!SpanParsing.NextToken(ref rest).SequenceEqual("zone"))
                throw KernelFileException.Malformed(path, lineNumber, raw, "expected 'zone'");
            ReadOnlySpan<char> name = SpanParsing.NextToken(ref rest);
            if (name.IsEmpty) throw KernelFileException.Malformed(path, lineNumber, raw, "zone has no name");
            var counts = new List<ulong>(11);
            while (true)
            {
                ReadOnlySpan<char> t = SpanParsing.NextToken(ref rest);
                if (t.IsEmpty) break;
                if (!SpanParsing.TryParseULong(t, out ulong c))
                    throw KernelFileException.Malformed(path, lineNumber, t, "free block count is not a number");
                counts.Add(c);
            }
            zones.Add(new BuddyinfoZone(node, name.ToString(), counts.ToArray()));
        }
        return new Buddyinfo(zones);
    }
}

/// <summary>Free blocks per order for one zone; <see cref="FreeBlocks"/>[k] counts blocks of 2^k pages.</summary>
public sealed record BuddyinfoZone(int Node, string Name, ulong[] FreeBlocks)
{
    /// <summary>Total free pages: Σ count[k] · 2^k.</summary>
    public ulong FreePages
    {
        get
        {
            ulong sum = 0;
            for (int k = 0; k < FreeBlocks.Length; k++) sum += FreeBlocks[k] << k;
            return sum;
        }
    }

    /// <summary>Free pages available in blocks of at least 2^order pages (what a high-order allocation can use).</summary>
    public ulong FreePagesAtOrder(int order)
    {
        ulong sum = 0;
        for (int k = Math.Max(order, 0); k < FreeBlocks.Length; k++) sum += FreeBlocks[k] << k;
        return sum;
    }
}
