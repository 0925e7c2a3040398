using MemScope.Analysis;
using MemScope.Model;
using MemScope.Procfs;

namespace MemScope.Tests.Analysis;

public class MemoryAccountTests
{
    private static Snapshot SnapshotOf(string meminfoPath) => new()
    {
        Time = DateTimeOffset.UnixEpoch,
        System = new SystemSnapshot { Meminfo = Meminfo.Read(meminfoPath) },
    };

    public static TheoryData<string> MeminfoFixtures => new()
    {
        "node_exporter/proc/meminfo",
        "procfs/proc/meminfo",
        "goprocinfo/linux/proc/meminfo_1",
        "goprocinfo/linux/proc/meminfo_2",
        "gopsutil/mem/testdata/linux/virtualmemory/intelcorei5/proc/meminfo",
        "go-sysinfo/providers/linux/testdata/ubuntu1710/proc/meminfo",
    };

    [Theory]
    [MemberData(nameof(MeminfoFixtures))]
    public void Lines_sum_to_MemTotal_exactly(string fixture)
    {
        var snapshot = SnapshotOf(Path.Combine(Paths.SharedFixtures, fixture));
        MemoryAccount account = MemoryAccountBuilder.Build(snapshot);
        Assert.Equal((long)snapshot.System.Meminfo.MemTotal!.Value, account.Lines.Sum(l => l.Bytes ?? 0));
        Assert.Equal(account.MemTotalBytes, (long)snapshot.System.Meminfo.MemTotal!.Value);
    }

    [Fact]
    public void Itemised_lines_come_from_the_documented_fields()
    {
        // node_exporter's meminfo: Cached 1010468 kB? read from the file so the test names the real figures.
        var m = Meminfo.Read(Path.Combine(Paths.SharedFixtures, "node_exporter/proc/meminfo"));
        MemoryAccount a = MemoryAccountBuilder.Build(new Snapshot { Time = default, System = new SystemSnapshot { Meminfo = m } });
        Assert.Equal(593840L * 1024, a.Line("shmem").Bytes);
        Assert.Equal((long)(m.Cached!.Value - 593840UL * 1024), a.Line("pagecache").Bytes);
        Assert.Equal(2244172L * 1024, a.Line("anon").Bytes);
        Assert.Equal(44772L * 1024, a.Line("slab.reclaimable").Bytes);
        Assert.Equal(54160L * 1024, a.Line("slab.unreclaimable").Bytes);
        Assert.Equal(75212L * 1024, a.Line("pagetables").Bytes);
        Assert.Equal(352840L * 1024, a.Line("vmalloc").Bytes);
        Assert.Equal(0, a.Line("hugetlb").Bytes);
        // This older kernel has no Percpu line: unknown, not zero, and said so.
        Assert.Null(a.Line("percpu").Bytes);
        Assert.Contains(a.Notes, n => n.Contains("Percpu"));
    }

    [Fact]
    public void Hugetlb_pool_splits_into_used_reserved_and_idle()
    {
        string text = "MemTotal: 8388608 kB\nMemFree: 1048576 kB\nMemAvailable: 2097152 kB\nCached: 0 kB\nShmem: 0 kB\n" +
                      "HugePages_Total: 512\nHugePages_Free: 500\nHugePages_Rsvd: 100\nHugePages_Surp: 0\nHugepagesize: 2048 kB\nHugetlb: 1048576 kB\n";
        var m = Meminfo.Parse(text, "meminfo");
        MemoryAccount a = MemoryAccountBuilder.Build(new Snapshot { Time = default, System = new SystemSnapshot { Meminfo = m } });
        AccountLine pool = a.Line("hugetlb");
        Assert.Equal(1L << 30, pool.Bytes);
        Assert.Equal(12L * 2 << 20, pool.Details.Single(d => d.Id == "hugetlb.used").Bytes);
        Assert.Equal(100L * 2 << 20, pool.Details.Single(d => d.Id == "hugetlb.reserved").Bytes);
        Assert.Equal(400L * 2 << 20, pool.Details.Single(d => d.Id == "hugetlb.idle").Bytes);
        Assert.Equal(8L << 30, a.Lines.Sum(l => l.Bytes ?? 0));
    }

    [Fact]
    public void Uninitialised_VM_memory_is_split_out_of_free_when_nodes_list_less()
    {
        string text = "MemTotal: 25000000 kB\nMemFree: 24000000 kB\nCached: 0 kB\nShmem: 0 kB\n";
        var m = Meminfo.Parse(text, "meminfo");
        var node = new MemScope.Sysfs.NumaNode(0, Meminfo.Parse("Node 0 MemTotal: 5000000 kB\nNode 0 MemFree: 4000000 kB\n", "node0/meminfo"));
        MemoryAccount a = MemoryAccountBuilder.Build(new Snapshot { Time = default, System = new SystemSnapshot { Meminfo = m } },
            new AccountExtras([], [], [node]));
        Assert.Equal(20000000L * 1024, a.Line("free").Details.Single().Bytes);
        Assert.Equal(25000000L * 1024, a.Lines.Sum(l => l.Bytes ?? 0));
    }
}
