using System.Text.Json;
using MemScope.Procfs;

namespace MemScope.Tests;

public class BuddyinfoTests
{
    [Fact]
    public void Node_exporter_fixture_matches_every_count()
    {
        string root = Path.Combine(Paths.SharedFixtures, "node_exporter");
        Buddyinfo b = Buddyinfo.Read(Path.Combine(root, "proc/buddyinfo"));
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "expected.json")));
        var values = doc.RootElement.GetProperty("proc/buddyinfo").GetProperty("values");
        Assert.Equal(values.EnumerateObject().Count(), b.Zones.Count);
        foreach (JsonProperty rec in values.EnumerateObject())
        {
            string[] parts = rec.Name.Split('/');
            BuddyinfoZone z = b.Zone(int.Parse(parts[0]), parts[1])!;
            Assert.Equal(rec.Value.EnumerateArray().Select(e => e.GetUInt64()).ToArray(), z.FreeBlocks);
        }
        // 4381 + 1093*2 + 185*4 + 1530*8 + 567*16 + 102*32 + 4*64
        Assert.Equal(4381UL + 2186 + 740 + 12240 + 9072 + 3264 + 256, b.Zone(0, "Normal")!.FreePages);
    }

    [Fact]
    public void Procfs_fixture_asserted_elements()
    {
        Buddyinfo b = Buddyinfo.Read(Path.Combine(Paths.SharedFixtures, "procfs/proc/buddyinfo"));
        Assert.Equal("DMA", b.Zones[0].Name);
        Assert.Equal("Normal", b.Zones[2].Name);
        Assert.Equal(4381UL, b.Zone(0, "Normal")!.FreeBlocks[0]);
        Assert.Equal(572UL, b.Zone(0, "DMA32")!.FreeBlocks[1]);
    }

    [Fact]
    public void Live_capture_parses_and_high_order_free_is_bounded()
    {
        Buddyinfo b = Buddyinfo.Read(Path.Combine(Paths.Captures, "zoneinfo/live-6.18.buddyinfo"));
        Assert.Equal(3, b.Zones.Count);
        Assert.All(b.Zones, z => Assert.Equal(11, z.FreeBlocks.Length));
        BuddyinfoZone n = b.Zone(0, "Normal")!;
        Assert.True(n.FreePagesAtOrder(9) <= n.FreePages);
        Assert.True(n.FreePagesAtOrder(9) > 0);
    }

    [Theory]
    [InlineData("Node 0, zone Normal 1 2 x\n")]
    [InlineData("garbage\n")]
    [InlineData("Node 0, Normal 1 2\n")]
    public void Malformed(string text)
    {
        Assert.Equal(KernelFileError.Malformed, Assert.Throws<KernelFileException>(() => Buddyinfo.Parse(text, "buddyinfo")).Error);
    }
}

public class SwapsTests
{
    [Theory]
    [InlineData("procfs")]
    [InlineData("node_exporter")]
    public void Shared_fixtures_match(string source)
    {
        string root = Path.Combine(Paths.SharedFixtures, source);
        Swaps s = Swaps.Read(Path.Combine(root, "proc/swaps"));
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "expected.json")));
        var values = doc.RootElement.GetProperty("proc/swaps").GetProperty("values");
        Assert.Equal(values.EnumerateObject().Count(), s.Areas.Count);
        foreach (JsonProperty rec in values.EnumerateObject())
        {
            SwapArea a = s.Areas.Single(x => x.Filename == rec.Name);
            Assert.Equal(rec.Value.GetProperty("Type").GetString(), a.Type);
            Assert.Equal(rec.Value.GetProperty("Size").GetUInt64() * 1024, a.SizeBytes);
            Assert.Equal(rec.Value.GetProperty("Used").GetUInt64() * 1024, a.UsedBytes);
            Assert.Equal(rec.Value.GetProperty("Priority").GetInt64(), a.Priority);
        }
    }

    [Fact]
    public void Escaped_filenames_and_several_areas()
    {
        const string text = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n" +
            "/var/tmp/my\\040swap\\040file                 file\t\t1048572\t\t204800\t\t-2\n" +
            "/dev/zram0                              partition\t8388604\t\t0\t\t100\n" +
            "/back\\134slash\\011tab file 4 0 5\n";
        Swaps s = Swaps.Parse(text, "swaps");
        Assert.Equal(3, s.Areas.Count);
        Assert.Equal("/var/tmp/my swap file", s.Areas[0].Filename);
        Assert.Equal("file", s.Areas[0].Type);
        Assert.Equal(1048572UL * 1024, s.Areas[0].SizeBytes);
        Assert.Equal(204800UL * 1024, s.Areas[0].UsedBytes);
        Assert.Equal(-2, s.Areas[0].Priority);
        Assert.Equal("/back\\slash\ttab", s.Areas[2].Filename);
        Assert.Equal((1048572UL + 8388604 + 4) * 1024, s.TotalBytes);
        Assert.Equal(204800UL * 1024, s.UsedBytes);
    }

    [Fact]
    public void Header_only_means_no_swap()
    {
        Swaps s = Swaps.Parse("Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n", "swaps");
        Assert.Empty(s.Areas);
        Assert.Equal(0UL, s.TotalBytes);
    }

    [Theory]
    [InlineData("Filename Type Size Used Priority\n/dev/sda2 partition 12 3\n")]
    [InlineData("Filename Type Size Used Priority\n/dev/sda2 partition x 3 -1\n")]
    [InlineData("Filename Type Size Used Priority\n/dev/sda2 partition 12 3 high\n")]
    public void Malformed(string text)
    {
        Assert.Equal(KernelFileError.Malformed, Assert.Throws<KernelFileException>(() => Swaps.Parse(text, "swaps")).Error);
    }
}
