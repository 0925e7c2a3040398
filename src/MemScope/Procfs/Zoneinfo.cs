namespace MemScope.Procfs;

/// <summary>
/// /proc/zoneinfo (mm/vmstat.c zoneinfo_show_print). One record per node and zone: free pages, the min/low/high
/// watermarks (promo 6.1+ with memory tiering, boost 5.0+), spanned/present/managed (managed 3.8+), cma (5.x+),
/// the lowmem protection array, the zone's nr_* / numa_* counters, node_unreclaimable (4.8+; all_unreclaimable
/// before) and start_pfn.
/// <para>
/// Since 4.8 the kernel prints a "per-node stats" block (node-wide LRU sizes, nr_file_pages, nr_dirty, ...)
/// inside the first <em>populated</em> zone of each node. We keep that block as node-level stats
/// (<see cref="Nodes"/>), not as counters of that zone; prometheus/procfs attributes it to the zone instead
/// (fixtures README caveat 3). Before 4.8 the LRU counters are per zone and there is no node block.
/// </para>
/// Values are pages (the page size is the reader's). Unpopulated zones (Movable, Device on most machines) print only
/// the free line, watermarks, sizes and protection: their counters are absent, never 0.
/// </summary>
public sealed class Zoneinfo
{
    public Zoneinfo(IReadOnlyList<ZoneinfoZone> zones, IReadOnlyList<ZoneinfoNode> nodes)
    {
        Zones = zones;
        Nodes = nodes;
    }

    /// <summary>Every zone in file order (node 0 DMA, DMA32, Normal, Movable, Device, node 1 ...).</summary>
    public IReadOnlyList<ZoneinfoZone> Zones { get; }

    /// <summary>The per-node stats blocks (kernel 4.8+); empty on older kernels.</summary>
    public IReadOnlyList<ZoneinfoNode> Nodes { get; }

    public ZoneinfoZone? Zone(int node, string name)
    {
        foreach (ZoneinfoZone z in Zones)
            if (z.Node == node && z.Name == name) return z;
        return null;
    }

    public ZoneinfoNode? Node(int node)
    {
        foreach (ZoneinfoNode n in Nodes)
            if (n.Node == node) return n;
        return null;
    }

    /// <summary>The distinct node ids, ascending.</summary>
    public IReadOnlyList<int> NodeIds => Zones.Select(z => z.Node).Distinct().Order().ToArray();

    /// <summary>
    /// A node-level counter (e.g. nr_inactive_anon): from the per-node block on 4.8+, else the sum over the node's
    /// zones (older kernels keep LRU counters per zone). Null when neither has it.
    /// </summary>
    public ulong? NodeCounter(int node, string name)
    {
        if (Node(node)?.Counters[name] is ulong v) return v;
        ulong sum = 0;
        bool any = false;
        foreach (ZoneinfoZone z in Zones)
        {
            if (z.Node != node || z.Counters[name] is not ulong c) continue;
            sum += c;
            any = true;
        }
        return any ? sum : null;
    }

    public static readonly KeySet ZoneKeys = new(
        "nr_free_pages", "nr_zone_inactive_anon", "nr_zone_active_anon", "nr_zone_inactive_file", "nr_zone_active_file",
        "nr_zone_unevictable", "nr_zone_write_pending", "nr_mlock", "nr_page_table_pages", "nr_kernel_stack",
        "nr_bounce", "nr_zspages", "nr_free_cma", "numa_hit", "numa_miss", "numa_foreign", "numa_interleave",
        "numa_local", "numa_other",
        // pre-4.8 kernels keep these per zone
        "nr_inactive_anon", "nr_active_anon", "nr_inactive_file", "nr_active_file", "nr_unevictable",
        "nr_anon_pages", "nr_mapped", "nr_file_pages", "nr_dirty", "nr_writeback", "nr_shmem",
        "nr_slab_reclaimable", "nr_slab_unreclaimable", "nr_isolated_anon", "nr_isolated_file");

    public static readonly KeySet NodeKeys = new(
        "nr_inactive_anon", "nr_active_anon", "nr_inactive_file", "nr_active_file", "nr_unevictable",
        "nr_slab_reclaimable", "nr_slab_unreclaimable", "nr_isolated_anon", "nr_isolated_file", "workingset_nodes",
        "nr_anon_pages", "nr_mapped", "nr_file_pages", "nr_dirty", "nr_writeback", "nr_shmem", "nr_dirtied",
        "nr_written", "nr_anon_transparent_hugepages", "nr_kernel_stack", "nr_page_table_pages", "nr_swapcached",
        "nr_vmscan_write", "nr_vmscan_immediate_reclaim");

    public static Zoneinfo Read(string path) => KernelFile.Parse(path, Parse);

    private enum Section { None, NodeStats, Zone, Pagesets }

    public static Zoneinfo Parse(ReadOnlySpan<char> content, string path)
    {
        var zones = new List<ZoneinfoZone>(8);
        var nodes = new List<ZoneinfoNode>(2);
        ZoneinfoZone? zone = null;
        ZoneinfoNode? node = null;
        Section section = Section.None;
        int lineNumber = 0;
        foreach (ReadOnlySpan<char> raw in content.EnumerateLines())
        {
            lineNumber++;
            ReadOnlySpan<char> line = raw.Trim();
            if (line.IsEmpty) continue;

            if (line.StartsWith("Node ", StringComparison.Ordinal))
            {
                // "Node 0, zone   Normal"
                ReadOnlySpan<char> rest = line[5..];
                int comma = rest.IndexOf(',');
                if (comma <= 0 || !int.TryParse(rest[..comma], out int nodeId))
                    throw KernelFileException.Malformed(path, lineNumber, raw, "expected 'Node N, zone NAME'");
                rest = rest[(comma + 1)..].Trim();
                if (!rest.StartsWith("zone", StringComparison.Ordinal))
                    throw KernelFileException.Malformed(path, lineNumber, raw, "expected 'Node N, zone NAME'");
                ReadOnlySpan<char> name = rest[4..].Trim();
                if (name.IsEmpty) throw KernelFileException.Malformed(path, lineNumber, raw, "zone has no name");
                zone = new ZoneinfoZone(nodeId, name.ToString());
                zones.Add(zone);
                node = null;
                section = Section.Zone;
                continue;
            }
            if (zone is null) throw KernelFileException.Malformed(path, lineNumber, raw, "line before the first 'Node N, zone' header");

            if (line.SequenceEqual("per-node stats"))
            {
                node = new ZoneinfoNode(zone.Node);
                nodes.Add(node);
                section = Section.NodeStats;
                continue;
            }
            if (line.StartsWith("pages free", StringComparison.Ordinal))
            {
                zone.PagesFree = Number(line["pages free".Length..].Trim(), path, lineNumber, raw);
                section = Section.Zone;
                continue;
            }
            if (line.SequenceEqual("pagesets"))
            {
                section = Section.Pagesets;
                continue;
            }
            if (line.StartsWith("protection:", StringComparison.Ordinal))
            {
                zone.Protection = ParseProtection(line["protection:".Length..], path, lineNumber, raw);
                continue;
            }

            int colon = line.IndexOf(':');
            if (colon > 0)
            {
                // "node_unreclaimable:  0", "start_pfn: 1", "all_unreclaimable: 0", "inactive_ratio: 1", and the
                // pageset lines ("cpu: 0", "count: 0", "high: 0", "batch: 1", "vm stats threshold: 8") we skip.
                ReadOnlySpan<char> key = line[..colon].Trim();
                ReadOnlySpan<char> value = line[(colon + 1)..].Trim();
                switch (key)
                {
                    case "node_unreclaimable":
                    case "all_unreclaimable":
                        zone.NodeUnreclaimable = Number(value, path, lineNumber, raw) != 0;
                        break;
                    case "start_pfn":
                        zone.StartPfn = Number(value, path, lineNumber, raw);
                        break;
                    case "inactive_ratio":
                        zone.InactiveRatio = Number(value, path, lineNumber, raw);
                        break;
                }
                continue;
            }
            if (section == Section.Pagesets) continue;

            ReadOnlySpan<char> r = line;
            ReadOnlySpan<char> k = SpanParsing.NextToken(ref r);
            ReadOnlySpan<char> v = SpanParsing.NextToken(ref r);
            if (v.IsEmpty || !r.Trim().IsEmpty)
                throw KernelFileException.Malformed(path, lineNumber, raw, "expected 'name value'");
            // Per-cpu drift can make a counter briefly negative: unknown, not a parse error.
            if (v[0] == '-' && SpanParsing.TryParseLong(v, out _)) continue;
            ulong n = Number(v, path, lineNumber, raw);
            if (section == Section.NodeStats)
            {
                node!.Counters.Set(k, n);
                continue;
            }
            switch (k)
            {
                case "min": zone.Min = n; break;
                case "low": zone.Low = n; break;
                case "high": zone.High = n; break;
                case "promo": zone.Promo = n; break;
                case "boost": zone.Boost = n; break;
                case "scanned": zone.Scanned = n; break;
                case "spanned": zone.Spanned = n; break;
                case "present": zone.Present = n; break;
                case "managed": zone.Managed = n; break;
                case "cma": zone.Cma = n; break;
                default: zone.Counters.Set(k, n); break;
            }
        }
        return new Zoneinfo(zones, nodes);
    }

    private static ulong Number(ReadOnlySpan<char> value, string path, int lineNumber, ReadOnlySpan<char> raw)
    {
        if (!SpanParsing.TryParseULong(value, out ulong n))
            throw KernelFileException.Malformed(path, lineNumber, raw, "expected a number");
        return n;
    }

    private static long[] ParseProtection(ReadOnlySpan<char> s, string path, int lineNumber, ReadOnlySpan<char> raw)
    {
        // "(0, 2877, 7826, 7826, 7826)"
        s = s.Trim();
        if (s.Length < 2 || s[0] != '(' || s[^1] != ')')
            throw KernelFileException.Malformed(path, lineNumber, raw, "expected 'protection: (a, b, ...)'");
        s = s[1..^1];
        var values = new List<long>(5);
        foreach (Range part in s.Split(','))
        {
            ReadOnlySpan<char> t = s[part].Trim();
            if (t.IsEmpty) continue;
            if (!SpanParsing.TryParseLong(t, out long v))
                throw KernelFileException.Malformed(path, lineNumber, raw, "protection value is not a number");
            values.Add(v);
        }
        return values.ToArray();
    }
}

/// <summary>One zone of one node in /proc/zoneinfo. Page counts; null = the kernel did not print it.</summary>
public sealed class ZoneinfoZone
{
    internal ZoneinfoZone(int node, string name)
    {
        Node = node;
        Name = name;
        Counters = new CounterTable(Zoneinfo.ZoneKeys);
    }

    public int Node { get; }
    /// <summary>DMA, DMA32, Normal, HighMem, Movable, Device.</summary>
    public string Name { get; }
    /// <summary>The "pages free" line (same as nr_free_pages for populated zones; unpopulated zones have only this).</summary>
    public ulong? PagesFree { get; internal set; }
    public ulong? Boost { get; internal set; }
    public ulong? Min { get; internal set; }
    public ulong? Low { get; internal set; }
    public ulong? High { get; internal set; }
    /// <summary>Promotion watermark for memory tiering (6.1+ with NUMA balancing); null elsewhere.</summary>
    public ulong? Promo { get; internal set; }
    /// <summary>Pages scanned since the last reclaim (pre-4.8 kernels only).</summary>
    public ulong? Scanned { get; internal set; }
    public ulong? Spanned { get; internal set; }
    public ulong? Present { get; internal set; }
    public ulong? Managed { get; internal set; }
    public ulong? Cma { get; internal set; }
    /// <summary>lowmem_reserve: pages this zone keeps back from allocations that could use higher zones, per target zone.</summary>
    public long[]? Protection { get; internal set; }
    public bool? NodeUnreclaimable { get; internal set; }
    public ulong? StartPfn { get; internal set; }
    public ulong? InactiveRatio { get; internal set; }
    /// <summary>The zone's "name value" counters (nr_free_pages, nr_zone_active_anon, numa_hit, ...).</summary>
    public CounterTable Counters { get; }

    /// <summary>Free pages: the "pages free" line, else nr_free_pages.</summary>
    public ulong? Free => PagesFree ?? Counters["nr_free_pages"];

    /// <summary>Zones with no managed pages print only sizes and watermarks; they play no part in reclaim.</summary>
    public bool IsPopulated => (Managed ?? Present ?? 0) > 0;

    public override string ToString() => $"node {Node} {Name}";
}

/// <summary>The "per-node stats" block (4.8+) of one NUMA node, printed inside its first populated zone.</summary>
public sealed class ZoneinfoNode
{
    internal ZoneinfoNode(int node)
    {
        Node = node;
        Counters = new CounterTable(Zoneinfo.NodeKeys);
    }

    public int Node { get; }
    public CounterTable Counters { get; }
}
