using System.Text.Json;
using MemScope.Procfs;

namespace MemScope.Tests;

public class ZoneinfoTests
{
    // Keys procfs.Zoneinfo models that the kernel prints in the per-node block on 4.8+ (README caveat 3: procfs puts
    // them on the first zone; we keep them as node stats and map them back here).
    private static readonly HashSet<string> NodeLevel =
    [
        "nr_active_anon", "nr_inactive_anon", "nr_isolated_anon", "nr_anon_pages", "nr_anon_transparent_hugepages",
        "nr_active_file", "nr_inactive_file", "nr_isolated_file", "nr_file_pages", "nr_slab_reclaimable",
        "nr_slab_unreclaimable", "nr_mapped", "nr_dirty", "nr_writeback", "nr_unevictable", "nr_shmem", "nr_dirtied",
        "nr_written",
    ];

    [Theory]
    [InlineData("procfs")]
    [InlineData("node_exporter")]
    public void Matches_shared_fixture_expectations(string source)
    {
        string root = Path.Combine(Paths.SharedFixtures, source);
        Zoneinfo z = Zoneinfo.Read(Path.Combine(root, "proc/zoneinfo"));
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "expected.json")));
        JsonElement entry = doc.RootElement.GetProperty("proc/zoneinfo");
        string[] order = entry.GetProperty("record_order").EnumerateArray().Select(e => e.GetString()!).ToArray();
        Assert.Equal(order, z.Zones.Select(x => $"{x.Node}/{x.Name}").ToArray());

        int checkedValues = 0;
        foreach (JsonProperty record in entry.GetProperty("values").EnumerateObject())
        {
            string[] parts = record.Name.Split('/');
            ZoneinfoZone zone = z.Zone(int.Parse(parts[0]), parts[1]) ?? throw new Xunit.Sdk.XunitException($"zone {record.Name} missing");
            foreach (JsonProperty f in record.Value.EnumerateObject())
            {
                if (f.Name == "protection")
                {
                    Assert.Equal(f.Value.EnumerateArray().Select(e => e.GetInt64()).ToArray(), zone.Protection);
                    checkedValues++;
                    continue;
                }
                ulong expected = f.Value.GetUInt64();
                ulong? actual = f.Name switch
                {
                    "min" => zone.Min,
                    "low" => zone.Low,
                    "high" => zone.High,
                    "spanned" => zone.Spanned,
                    "present" => zone.Present,
                    "managed" => zone.Managed,
                    _ when NodeLevel.Contains(f.Name) => z.Node(zone.Node)?.Counters[f.Name],
                    _ => zone.Counters[f.Name],
                };
                Assert.True(actual == expected, $"{source} {record.Name} {f.Name}: expected {expected}, got {actual?.ToString() ?? "null"}");
                // Node-level values live in the first zone of the node in the expectations: that is where the kernel printed them.
                if (NodeLevel.Contains(f.Name)) Assert.Equal(z.Zones.First(q => q.Node == zone.Node).Name, zone.Name);
                checkedValues++;
            }
        }
        Assert.True(checkedValues > 60, $"only {checkedValues} values checked");

        // Unpopulated zones: watermarks and "pages free 0" only, no counters (absent, not 0).
        ZoneinfoZone movable = z.Zone(0, "Movable")!;
        Assert.False(movable.IsPopulated);
        Assert.Null(movable.Counters["nr_free_pages"]);
        Assert.Equal(0UL, movable.PagesFree);
        Assert.Empty(movable.Counters.Entries);
        // The per-node block is not mixed into DMA's zone counters.
        Assert.Null(z.Zone(0, "DMA")!.Counters["nr_dirtied"]);
        Assert.Single(z.Nodes);
    }

    [Fact]
    public void Procfs_fixture_free_matches_watermarks_and_node_counters()
    {
        Zoneinfo z = Zoneinfo.Read(Path.Combine(Paths.SharedFixtures, "procfs/proc/zoneinfo"));
        ZoneinfoZone normal = z.Zone(0, "Normal")!;
        Assert.Equal(18553UL, normal.Free);
        Assert.Equal((11176UL, 13842UL, 16508UL), (normal.Min!.Value, normal.Low!.Value, normal.High!.Value));
        Assert.Equal(0UL, z.Node(0)!.Counters["nr_isolated_anon"]);
        Assert.Equal(466886UL, z.Node(0)!.Counters["workingset_refault"]); // unknown keys are kept too
        Assert.Equal(547580UL, z.NodeCounter(0, "nr_active_anon"));
        Assert.Null(normal.Promo);
    }

    [Fact]
    public void Two_node_sample_keeps_node_blocks_apart_and_finds_first_populated_zone()
    {
        Zoneinfo z = Zoneinfo.Read(Path.Combine(Paths.Captures, "zoneinfo/two-node-5.15.zoneinfo"));
        Assert.Equal(8, z.Zones.Count);
        Assert.Equal([0, 1], z.NodeIds);
        Assert.Equal(2, z.Nodes.Count);
        // Node 1's DMA and DMA32 are unpopulated, so the kernel printed node 1's stats inside its Normal zone.
        Assert.False(z.Zone(1, "DMA")!.IsPopulated);
        Assert.Equal(900000UL, z.Node(1)!.Counters["nr_inactive_anon"]);
        Assert.Equal(120000UL, z.Node(0)!.Counters["nr_inactive_anon"]);
        Assert.Equal(32UL, z.NodeCounter(1, "nr_isolated_anon"));

        ZoneinfoZone n1 = z.Zone(1, "Normal")!;
        Assert.Equal(6500UL, n1.Free);
        Assert.Equal((9000UL, 11250UL, 13500UL), (n1.Min!.Value, n1.Low!.Value, n1.High!.Value));
        Assert.Equal(2064000UL, n1.Managed);
        Assert.Equal(3000UL, n1.Counters["numa_hit"]);
        Assert.Equal(4096UL, n1.StartPfn);
        Assert.False(n1.NodeUnreclaimable);
        ZoneinfoZone n0 = z.Zone(0, "Normal")!;
        Assert.Equal(9000UL, n0.Free);
        Assert.Equal(new long[] { 0, 1894, 7865, 7865, 7865 }, z.Zone(0, "DMA")!.Protection);
        // pageset "high:  378" must not overwrite the watermark "high"
        Assert.Equal(12000UL, n0.High);
    }

    [Fact]
    public void Pre_4_8_sample_has_per_zone_lru_counters_and_scanned()
    {
        Zoneinfo z = Zoneinfo.Read(Path.Combine(Paths.Captures, "zoneinfo/single-node-3.10.zoneinfo"));
        Assert.Empty(z.Nodes);
        Assert.Equal(3, z.Zones.Count);
        ZoneinfoZone normal = z.Zone(0, "Normal")!;
        Assert.Equal(1100UL, normal.Free);
        Assert.Equal((1966UL, 2457UL, 2949UL), (normal.Min!.Value, normal.Low!.Value, normal.High!.Value));
        Assert.Equal(128UL, normal.Scanned);
        Assert.Null(normal.Boost);
        Assert.Equal(new long[] { 0, 0, 0, 0 }, normal.Protection);
        Assert.True(z.Zone(0, "DMA")!.NodeUnreclaimable);
        Assert.Equal(1UL, normal.InactiveRatio);
        // Node-level LRU sizes are the sum over zones on old kernels.
        Assert.Equal(0UL + 20000 + 50000, z.NodeCounter(0, "nr_inactive_anon"));
        Assert.Equal(0UL + 200000 + 2000, z.NodeCounter(0, "nr_active_file"));
    }

    [Fact]
    public void Live_6_18_capture_has_promo_boost_cma_and_unpopulated_zones()
    {
        Zoneinfo z = Zoneinfo.Read(Path.Combine(Paths.Captures, "zoneinfo/live-6.18-single-node.zoneinfo"));
        Assert.Equal(["DMA", "DMA32", "Normal", "Movable", "Device"], z.Zones.Select(q => q.Name).ToArray());
        ZoneinfoZone normal = z.Zone(0, "Normal")!;
        Assert.Equal(7056UL, normal.Min);
        Assert.Equal(8820UL, normal.Low);
        Assert.Equal(10584UL, normal.High);
        Assert.Equal(12348UL, normal.Promo);
        Assert.Equal(0UL, normal.Boost);
        Assert.Equal(0UL, normal.Cma);
        Assert.Equal(557056UL, normal.Managed);
        Assert.Equal(normal.PagesFree, normal.Counters["nr_free_pages"]);
        Assert.NotNull(z.Node(0)!.Counters["nr_kernel_stack"]);
        Assert.False(z.Zone(0, "Device")!.IsPopulated);
    }

    [Theory]
    [InlineData("Node 0, zone DMA\n  pages free abc\n", 2)]
    [InlineData("  pages free 1\n", 1)]
    [InlineData("Node x, zone DMA\n", 1)]
    [InlineData("Node 0, zone DMA\n  pages free 1\n        protection: 0, 1\n", 3)]
    [InlineData("Node 0, zone DMA\n  pages free 1\n        min\n", 3)]
    public void Malformed_input_names_the_line(string text, int line)
    {
        var e = Assert.Throws<KernelFileException>(() => Zoneinfo.Parse(text, "zoneinfo"));
        Assert.Equal(KernelFileError.Malformed, e.Error);
        Assert.Equal(line, e.Line);
    }

    [Fact]
    public void Empty_file_gives_no_zones()
    {
        Assert.Empty(Zoneinfo.Parse("", "zoneinfo").Zones);
    }
}
