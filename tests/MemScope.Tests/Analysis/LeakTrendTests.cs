using MemScope.Analysis;

namespace MemScope.Tests.Analysis;

public class LeakTrendTests
{
    private static TrendPoint[] Series(int n, double dt, Func<double, double> f, double noise = 0, int seed = 1)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, n).Select(i => new TrendPoint(i * dt, f(i * dt) + (noise > 0 ? (rng.NextDouble() * 2 - 1) * noise : 0)))];
    }

    [Fact]
    public void Fit_of_exact_line_recovers_slope_intercept_and_r2_of_one()
    {
        LinearFit f = LeakTrend.Fit(Series(10, 1, t => 1000 + 250 * t));
        Assert.Equal(250, f.SlopePerSec, 6);
        Assert.Equal(1000, f.Intercept, 6);
        Assert.Equal(1, f.RSquared, 9);
        Assert.True(f.SlopeStdErr < 1e-6);
        Assert.Equal(9, f.SpanSeconds);
    }

    [Fact]
    public void Fit_matches_hand_computed_values()
    {
        // t = 0,1,2,3; y = 1,3,2,5: slope = 1.1, intercept = 1.1, SSE = 2.7 → stderr = sqrt(2.7/2/5) = 0.5196
        TrendPoint[] p = [new(0, 1), new(1, 3), new(2, 2), new(3, 5)];
        LinearFit f = LeakTrend.Fit(p);
        Assert.Equal(1.1, f.SlopePerSec, 9);
        Assert.Equal(1.1, f.Intercept, 9);
        Assert.Equal(Math.Sqrt(2.7 / 2 / 5), f.SlopeStdErr, 9);
        Assert.Equal(1 - 2.7 / 8.75, f.RSquared, 9);
    }

    [Fact]
    public void Steady_growth_is_a_leak_at_the_right_rate()
    {
        TrendAssessment a = LeakTrend.Assess(Series(30, 1, t => 50e6 + 1048576 * t, noise: 200_000));
        Assert.Equal(LeakVerdict.Leak, a.Verdict);
        Assert.InRange(a.GrowthBytesPerSec, 1048576 * 0.95, 1048576 * 1.05);
        Assert.True(a.Fit.RSquared > 0.95);
        Assert.True(a.Fit.SlopeStdErr < 50_000);
    }

    [Fact]
    public void Growth_that_stops_is_a_plateau_not_a_leak()
    {
        // Warms up for 15 s at 2 MiB/s, then flat for 15 s.
        TrendAssessment a = LeakTrend.Assess(Series(31, 1, t => 10e6 + 2097152 * Math.Min(t, 15), noise: 50_000));
        Assert.Equal(LeakVerdict.Plateau, a.Verdict);
        Assert.NotNull(a.LateFit);
        Assert.True(Math.Abs(a.LateFit!.Value.SlopePerSec) < 50_000);
    }

    [Fact]
    public void Growth_that_stops_early_is_a_plateau_even_when_the_whole_line_is_noisy()
    {
        TrendAssessment a = LeakTrend.Assess(Series(30, 1, t => 10e6 + (t < 8 ? 1048576 * t : 8 * 1048576), noise: 20_000));
        Assert.Equal(LeakVerdict.Plateau, a.Verdict);
    }

    [Fact]
    public void Flat_noisy_series_is_stable()
    {
        TrendAssessment a = LeakTrend.Assess(Series(30, 1, _ => 80e6, noise: 300_000, seed: 7));
        Assert.Equal(LeakVerdict.Stable, a.Verdict);
    }

    [Fact]
    public void Page_granular_jitter_is_stable()
    {
        // RSS moving by one page now and then must not read as a leak.
        TrendAssessment a = LeakTrend.Assess(Series(30, 1, t => 80e6 + 4096 * ((int)t % 3)));
        Assert.Equal(LeakVerdict.Stable, a.Verdict);
    }

    [Fact]
    public void Slow_but_steady_growth_below_the_rate_floor_is_stable()
    {
        TrendAssessment a = LeakTrend.Assess(Series(30, 1, t => 80e6 + 1000 * t));
        Assert.Equal(LeakVerdict.Stable, a.Verdict);
    }

    [Fact]
    public void Steady_decrease_is_shrinking()
    {
        TrendAssessment a = LeakTrend.Assess(Series(20, 0.5, t => 200e6 - 3e6 * t, noise: 100_000));
        Assert.Equal(LeakVerdict.Shrinking, a.Verdict);
        Assert.True(a.GrowthBytesPerSec < -2.5e6);
    }

    [Fact]
    public void Too_few_samples_is_unknown()
    {
        Assert.Equal(LeakVerdict.Unknown, LeakTrend.Assess(Series(3, 1, t => t * 1e6)).Verdict);
        Assert.Equal(LeakVerdict.Unknown, LeakTrend.Assess([]).Verdict);
        LinearFit single = LeakTrend.Fit([new TrendPoint(1, 5)]);
        Assert.Equal(0, single.SlopePerSec);
    }

    [Fact]
    public void Same_timestamps_do_not_divide_by_zero()
    {
        TrendAssessment a = LeakTrend.Assess([new(1, 1), new(1, 2), new(1, 3), new(1, 4)]);
        Assert.Equal(LeakVerdict.Unknown, a.Verdict);
    }

    [Fact]
    public void Uneven_sampling_still_fits_the_true_rate()
    {
        double[] times = [0, 0.3, 1.9, 2.0, 4.7, 5.1, 8.8, 9.0, 12.5, 15.0];
        TrendPoint[] p = [.. times.Select(t => new TrendPoint(t, 1e6 + 500_000 * t))];
        TrendAssessment a = LeakTrend.Assess(p);
        Assert.Equal(LeakVerdict.Leak, a.Verdict);
        Assert.Equal(500_000, a.GrowthBytesPerSec, 3);
    }

    [Fact]
    public void Exhaustion_projection()
    {
        Assert.Equal(100, LeakTrend.SecondsUntilExhausted(100e6, 1e6));
        Assert.Null(LeakTrend.SecondsUntilExhausted(100e6, 0));
        Assert.Null(LeakTrend.SecondsUntilExhausted(100e6, -5));
    }

    private static LeakSample Sample(double t, ulong heap, ulong anon, ulong file, IReadOnlyList<MappingSize> maps, ulong avail = 10UL << 30, ulong? cgroup = null) => new()
    {
        Seconds = t,
        RssBytes = heap + anon + file,
        AnonBytes = heap + anon,
        FileBytes = file,
        SwapBytes = 0,
        Segments = new Dictionary<MemorySegment, ulong>
        {
            [MemorySegment.Heap] = heap, [MemorySegment.Anon] = anon, [MemorySegment.File] = file,
            [MemorySegment.Shmem] = 0, [MemorySegment.Stack] = 132 << 10, [MemorySegment.Other] = 8 << 10,
        },
        Mappings = maps,
        MemAvailableBytes = avail,
        CgroupHeadroomBytes = cgroup,
    };

    [Fact]
    public void Report_names_the_growing_segment_new_mappings_and_the_nearest_limit()
    {
        var samples = new List<LeakSample>();
        for (int i = 0; i <= 20; i++)
        {
            ulong heap = (ulong)(4 << 20) + (ulong)i * (1 << 20);
            var maps = new List<MappingSize>
            {
                new(0x1000, 0x1000 + heap, "rw-p", "[heap]", MemorySegment.Heap, heap, 0),
                new(0x7f0000000000, 0x7f0000800000, "r-xp", "/usr/lib/libc.so.6", MemorySegment.File, 2 << 20, 0),
            };
            if (i >= 10) maps.Add(new(0x7f1000000000, 0x7f1000400000, "rw-p", "", MemorySegment.Anon, 4 << 20, 0));
            samples.Add(Sample(i, heap, i >= 10 ? 4UL << 20 : 0, 2 << 20, maps, cgroup: 200UL << 20));
        }
        LeakReport r = LeakTrendReport.Analyze(samples);
        Assert.Equal(LeakVerdict.Leak, r.Footprint.Verdict);
        Assert.Equal(MemorySegment.Heap, r.GrowingSegments[0]);
        Assert.Equal(MemorySegment.Heap, r.Segments[0].Segment);
        Assert.InRange(r.Segments[0].Fit.SlopePerSec, 1048575, 1048577);
        MappingChange added = Assert.Single(r.NewMappings);
        Assert.Equal(0x7f1000000000UL, added.Start);
        MappingChange grown = Assert.Single(r.GrownMappings);
        Assert.Equal("[heap]", grown.Path);
        Assert.Equal(20 << 20, grown.GrowthBytes);
        // 200 MiB of cgroup headroom at ~1.2 MiB/s is nearer than 10 GiB of MemAvailable.
        Assert.Equal("memory cgroup limit", r.ExhaustionOf);
        Assert.InRange(r.SecondsToExhaustion!.Value, 150, 200);
    }

    [Fact]
    public void Report_of_a_flat_process_has_no_growing_segment_and_no_projection()
    {
        var maps = new List<MappingSize> { new(0x1000, 0x2000, "rw-p", "[heap]", MemorySegment.Heap, 4096, 0) };
        var samples = Enumerable.Range(0, 10).Select(i => Sample(i, 4 << 20, 1 << 20, 2 << 20, maps)).ToList();
        LeakReport r = LeakTrendReport.Analyze(samples);
        Assert.Equal(LeakVerdict.Stable, r.Footprint.Verdict);
        Assert.Empty(r.GrowingSegments);
        Assert.Null(r.SecondsToExhaustion);
        Assert.Empty(r.NewMappings);
    }

    [Theory]
    [InlineData("[heap]", "rw-p", MemorySegment.Heap)]
    [InlineData("[stack]", "rw-p", MemorySegment.Stack)]
    [InlineData("", "rw-p", MemorySegment.Anon)]
    [InlineData("[anon:glibc malloc]", "rw-p", MemorySegment.Anon)]
    [InlineData("[anon_shmem:x]", "rw-s", MemorySegment.Shmem)]
    [InlineData("/dev/shm/foo", "rw-s", MemorySegment.Shmem)]
    [InlineData("/memfd:bar (deleted)", "rw-s", MemorySegment.Shmem)]
    [InlineData("/SYSV00000000 (deleted)", "rw-s", MemorySegment.Shmem)]
    [InlineData("/usr/lib/libc.so.6", "r-xp", MemorySegment.File)]
    [InlineData("[vdso]", "r-xp", MemorySegment.Other)]
    public void Classifies_mappings(string path, string perms, MemorySegment expected) =>
        Assert.Equal(expected, LeakSampler.Classify(path, perms));

    [Fact]
    public void Smaps_reader_keeps_rss_swap_and_sums_pss()
    {
        const string smaps = """
            55630de98000-55630de9a000 r--p 00000000 fe:00 247629                     /usr/bin/head
            Size:                  8 kB
            Rss:                   8 kB
            Pss:                   4 kB
            Swap:                  0 kB
            VmFlags: rd mr mw me
            5563100a0000-5563100c1000 rw-p 00000000 00:00 0                          [heap]
            Size:                132 kB
            Rss:                 100 kB
            Pss:                 100 kB
            Swap:                 12 kB
            7ffd1d2f0000-7ffd1d311000 rw-p 00000000 00:00 0 
            Rss:                  16 kB
            Pss:                  16 kB
            """;
        List<MappingSize> maps = SmapsMappingReader.Parse(smaps, "smaps", out ulong pss);
        Assert.Equal(3, maps.Count);
        Assert.Equal(120UL * 1024, pss);
        Assert.Equal("/usr/bin/head", maps[0].Path);
        Assert.Equal(MemorySegment.Heap, maps[1].Segment);
        Assert.Equal(100UL * 1024, maps[1].RssBytes);
        Assert.Equal(12UL * 1024, maps[1].SwapBytes);
        Assert.Equal(MemorySegment.Anon, maps[2].Segment);
        Assert.Equal(0x7ffd1d311000UL - 0x7ffd1d2f0000UL, maps[2].SizeBytes);
    }

    [Fact]
    public void Smaps_reader_rejects_garbage_with_file_and_line()
    {
        var e = Assert.Throws<MemScope.Procfs.KernelFileException>(() =>
            SmapsMappingReader.Parse("00400000-00401000 r-xp 0 0:0 0 /x\nRss: lots kB\n", "smaps", out _));
        Assert.Equal(2, e.Line);
    }
}
