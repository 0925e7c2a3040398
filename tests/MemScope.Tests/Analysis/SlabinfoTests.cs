using MemScope.Analysis;
using MemScope.Procfs;

namespace MemScope.Tests.Analysis;

public class SlabinfoTests
{
    [Fact]
    public void Procfs_fixture_first_record_and_count()
    {
        Slabinfo s = Slabinfo.Read(Path.Combine(Paths.SharedFixtures, "procfs/proc/slabinfo"));
        Assert.Equal("2.1", s.Version);
        Assert.Equal(300, s.Caches.Count);
        SlabCache pid3 = s.Caches[0];
        Assert.Equal(("pid_3", 375UL, 532UL, 576UL, 28UL, 4UL), (pid3.Name, pid3.ActiveObjects, pid3.TotalObjects, pid3.ObjectSizeBytes, pid3.ObjectsPerSlab, pid3.PagesPerSlab));
        Assert.Equal((0UL, 0UL, 0UL, 19UL, 19UL, 0UL), (pid3.Limit, pid3.BatchCount, pid3.SharedFactor, pid3.ActiveSlabs, pid3.TotalSlabs, pid3.SharedAvail));
        Assert.Equal(19UL * 4 * 4096, pid3.MemoryBytes(4096));
        // Names may contain ':'.
        Assert.Contains(s.Caches, c => c.Name == "iwl_cmd_pool:0000:04:00.0");
    }

    [Fact]
    public void Node_exporter_fixture_values()
    {
        Slabinfo s = Slabinfo.Read(Path.Combine(Paths.SharedFixtures, "node_exporter/proc/slabinfo"));
        SlabCache k = s.Caches.Single(c => c.Name == "kmalloc-8192");
        Assert.Equal((132UL, 148UL, 8192UL, 4UL, 8UL), (k.ActiveObjects, k.TotalObjects, k.ObjectSizeBytes, k.ObjectsPerSlab, k.PagesPerSlab));
        SlabCache tw = s.Caches.Single(c => c.Name == "tw_sock_TCP");
        Assert.Equal((704UL, 864UL, 256UL), (tw.ActiveObjects, tw.TotalObjects, tw.ObjectSizeBytes));
    }

    [Theory]
    [InlineData("")]
    [InlineData("# name <active_objs>\nfoo 1 2 3 4 5 : tunables 0 0 0 : slabdata 1 1 0\n")]
    [InlineData("slabinfo - version: 2.1\nfoo 1 2 x 4 5 : tunables 0 0 0 : slabdata 1 1 0\n")]
    [InlineData("slabinfo - version: 2.1\nfoo 1 2 3 4 5\n")]
    [InlineData("slabinfo - version: 2.1\nfoo 1 2 3 4 5 : tunables 0 0 : slabdata 1 1 0\n")]
    public void Malformed_slabinfo_is_a_typed_error_naming_the_file(string text)
    {
        var e = Assert.Throws<KernelFileException>(() => Slabinfo.Parse(text, "/proc/slabinfo"));
        Assert.Equal(KernelFileError.Malformed, e.Error);
        Assert.StartsWith("/proc/slabinfo", e.Message);
    }

    [Fact]
    public void Growth_is_memory_change_per_second_between_readings()
    {
        string Line(string name, int slabs) => $"{name} 10 10 192 21 1 : tunables 0 0 0 : slabdata {slabs} {slabs} 0\n";
        const string header = "slabinfo - version: 2.1\n";
        var before = Slabinfo.Parse(header + Line("dentry", 100) + Line("kmalloc-64", 10), "a");
        var after = Slabinfo.Parse(header + Line("dentry", 300) + Line("kmalloc-64", 10) + Line("new_cache", 5), "b");
        IReadOnlyList<SlabRow> rows = SlabUsage.Rows(after, before, 2.0, 4096, _ => null);
        Assert.Equal("dentry", rows[0].Name);
        Assert.Equal(200 * 4096 / 2.0, rows[0].GrowthBytesPerSec);
        Assert.Equal(0.0, rows.Single(r => r.Name == "kmalloc-64").GrowthBytesPerSec);
        Assert.Null(rows.Single(r => r.Name == "new_cache").GrowthBytesPerSec);
    }
}
