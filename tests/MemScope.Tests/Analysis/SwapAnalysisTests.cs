using MemScope.Analysis;
using MemScope.Procfs;

namespace MemScope.Tests;

public class SwapAnalysisTests
{
    [Theory]
    [InlineData(100UL, 10UL, 20UL, 30UL, WatermarkState.AboveHigh)]
    [InlineData(30UL, 10UL, 20UL, 30UL, WatermarkState.AboveHigh)]
    [InlineData(29UL, 10UL, 20UL, 30UL, WatermarkState.BetweenLowAndHigh)]
    [InlineData(20UL, 10UL, 20UL, 30UL, WatermarkState.BetweenLowAndHigh)]
    [InlineData(19UL, 10UL, 20UL, 30UL, WatermarkState.BelowLow)]
    [InlineData(9UL, 10UL, 20UL, 30UL, WatermarkState.BelowMin)]
    public void Classify_against_watermarks(ulong free, ulong min, ulong low, ulong high, WatermarkState expected)
    {
        Assert.Equal(expected, SwapAnalysis.Classify(free, min, low, high));
    }

    [Fact]
    public void Two_node_sample_zone_states_and_lru()
    {
        Zoneinfo z = Zoneinfo.Read(Path.Combine(Paths.Captures, "zoneinfo/two-node-5.15.zoneinfo"));
        var zones = SwapAnalysis.Zones(z, 4096);
        // unpopulated zones are left out: node 0 DMA, DMA32, Normal and node 1 Normal
        Assert.Equal(["0/DMA", "0/DMA32", "0/Normal", "1/Normal"], zones.Select(q => $"{q.Node}/{q.Zone}").ToArray());
        var n0 = zones.Single(q => q.Node == 0 && q.Zone == "Normal");
        Assert.Equal(WatermarkState.BelowLow, n0.State);              // 9000 < low 10000, ≥ min 8000
        Assert.Equal(9000UL * 4096, n0.FreeBytes);
        Assert.Equal(10000UL * 4096, n0.LowBytes);
        var n1 = zones.Single(q => q.Node == 1);
        Assert.Equal(WatermarkState.BelowMin, n1.State);              // 6500 < min 9000
        Assert.Equal(WatermarkState.AboveHigh, zones.Single(q => q.Zone == "DMA32").State);
        Assert.Equal((1UL + 2) * 4096, n1.AnonLruBytes);              // nr_zone_inactive_anon + nr_zone_active_anon
        var nodes = SwapAnalysis.Nodes(z, 4096);
        Assert.Equal(900000UL * 4096, nodes.Single(n => n.Node == 1).InactiveAnonBytes);
        Assert.Equal(250000UL * 4096, nodes.Single(n => n.Node == 0).ActiveFileBytes);
    }

    [Fact]
    public void Single_node_old_kernel_and_shared_fixture_states()
    {
        var old = SwapAnalysis.Zones(Zoneinfo.Read(Path.Combine(Paths.Captures, "zoneinfo/single-node-3.10.zoneinfo")), 4096);
        Assert.Equal(WatermarkState.BelowMin, old.Single(q => q.Zone == "Normal").State); // 1100 < min 1966
        Assert.Equal((50000UL + 40000) * 4096, old.Single(q => q.Zone == "Normal").AnonLruBytes); // per-zone nr_*_anon on pre-4.8
        var procfs = SwapAnalysis.Zones(Zoneinfo.Read(Path.Combine(Paths.SharedFixtures, "procfs/proc/zoneinfo")), 4096);
        // procfs fixture: Normal free 18553 ≥ high 16508
        Assert.Equal(WatermarkState.AboveHigh, procfs.Single(q => q.Zone == "Normal").State);
    }

    private static ReclaimActivity Activity(double so, double si, double kswapd = 0, double direct = 0) =>
        new(0, 0, 0, 0, 0, kswapd, direct, kswapd / 2, direct / 2, direct > 0 ? 3 : 0, 0, 0, si, so);

    [Fact]
    public void Explains_cgroup_limit_swapping_with_its_figures()
    {
        var r = new SwapReport
        {
            IntervalSeconds = 1,
            Devices = [new SwapArea("/var/tmp/memscope_swap_1", "file", 1UL << 30, 200UL << 20, -2)],
            SwapTotalBytes = 1UL << 30,
            SwapFreeBytes = (1UL << 30) - (200UL << 20),
            Swappiness = 60,
            Reclaim = Activity(so: 50 * 1024 * 1024, si: 0),
            Zones = [new ZoneWatermarks(0, "Normal", 2UL << 30, 40UL << 20, 50UL << 20, 60UL << 20, null, null, WatermarkState.AboveHigh, null, null)],
            Cgroups = [new SwapCgroup("/memscope_lab_9", 1, 200UL << 20, 200UL << 20, 200UL << 20, null, 50.0 * 1024 * 1024, 1234, 5000)],
            Processes = [new SwapProcess(4242, "hog", 200UL << 20, null, 200UL << 20, "/memscope_lab_9", 50.0 * 1024 * 1024)],
        };
        var why = SwapAnalysis.Explain(r);
        Assert.Contains(why, s => s.StartsWith("Swapping out now: 50.0 MiB/s"));
        Assert.Contains(why, s => s.Contains("/memscope_lab_9") && s.Contains("limit hit 1234 times"));
        Assert.Contains(why, s => s.Contains("4242 (hog)"));
        Assert.Contains(why, s => s.Contains("vm.swappiness=60"));
    }

    [Fact]
    public void Explains_direct_reclaim_below_min_and_thrashing()
    {
        var r = new SwapReport
        {
            IntervalSeconds = 2,
            Devices = [new SwapArea("/dev/sda2", "partition", 4UL << 30, 3UL << 30, -2)],
            SwapTotalBytes = 4UL << 30,
            SwapFreeBytes = 1UL << 30,
            Reclaim = Activity(so: 10 * 1024 * 1024, si: 8 * 1024 * 1024, kswapd: 5000, direct: 2000),
            Zones = [new ZoneWatermarks(0, "Normal", 30UL << 20, 40UL << 20, 50UL << 20, 60UL << 20, null, null, WatermarkState.BelowMin, null, null)],
        };
        var why = SwapAnalysis.Explain(r);
        Assert.Contains(why, s => s.Contains("below min") && s.Contains("stall"));
        Assert.Contains(why, s => s.StartsWith("Direct reclaim: 2000 pages/s"));
        Assert.Contains(why, s => s.Contains("thrashing"));
    }

    [Fact]
    public void Explains_quiet_swap_and_no_swap()
    {
        var quiet = new SwapReport
        {
            IntervalSeconds = 1,
            Devices = [new SwapArea("/dev/zram0", "partition", 1UL << 30, 100UL << 20, 100)],
            SwapTotalBytes = 1UL << 30,
            SwapFreeBytes = (1UL << 30) - (100UL << 20),
            Reclaim = Activity(0, 0),
        };
        Assert.Contains(SwapAnalysis.Explain(quiet), s => s.Contains("No swap activity") && s.Contains("100.0 MiB sits in swap"));
        var none = quiet with { Devices = [], SwapTotalBytes = 0, SwapFreeBytes = 0 };
        Assert.Contains(SwapAnalysis.Explain(none), s => s.StartsWith("No swap is active"));
    }
}
