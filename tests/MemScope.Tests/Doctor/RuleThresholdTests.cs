using MemScope.Analysis.Doctor;
using MemScope.Analysis.Doctor.Rules;
using MemScope.Model;
using MemScope.Procfs;
using static MemScope.Tests.Doctor.DoctorBuilder;

namespace MemScope.Tests.Doctor;

/// <summary>Each rule on synthetic snapshots at, just above and just below its thresholds (DoctorThresholds).</summary>
public class RuleThresholdTests
{
    private static Severity? Worst(IReadOnlyList<Finding> f) => f.Count == 0 ? null : f.Max(x => x.Severity);

    [Theory]
    [InlineData(100, null)]                  // exactly 10%: not below
    [InlineData(99, Severity.Warning)]        // 9.9%
    [InlineData(50, Severity.Warning)]        // 5.0%: warning, not critical
    [InlineData(49, Severity.Critical)]       // 4.9%
    public void LowAvailable_levels(ulong availableMiB, Severity? expected)
    {
        var c = Context(Snap(0, Mem(1000, availableMiB)));
        var findings = Run(new LowAvailableRule(), c);
        Assert.Equal(expected, Worst(findings));
        if (expected is not null) Assert.All(findings, f => Assert.Equal("low-available", f.Id));
    }

    [Fact]
    public void LowAvailable_falling_fast_warns_before_the_level_is_low()
    {
        // 200 MiB (20%) available, falling 1 MiB/s: runs out in about 200 s < 600 s.
        var samples = Enumerable.Range(0, 5).Select(i => Snap(i, Mem(1000, (ulong)(200 - i)))).ToArray();
        Assert.Equal(Severity.Warning, Worst(Run(new LowAvailableRule(), Context(samples))));
        // Falling 0.25 MiB/s: 800 s left, nothing.
        var slow = Enumerable.Range(0, 5).Select(i => Snap(i * 4, Mem(1000, (ulong)(200 - i)))).ToArray();
        Assert.Null(Worst(Run(new LowAvailableRule(), Context(slow))));
        // The same fast fall from 60% available is a busy machine, not a shortage.
        var plenty = Enumerable.Range(0, 5).Select(i => Snap(i, Mem(1000, (ulong)(600 - 2 * i)))).ToArray();
        Assert.Null(Worst(Run(new LowAvailableRule(), Context(plenty))));
    }

    [Fact]
    public void LowAvailable_skips_without_MemAvailable()
    {
        var mem = Mem();
        mem.Remove("MemAvailable");
        Assert.Throws<RuleSkipped>(() => Run(new LowAvailableRule(), Context(Snap(0, mem))));
    }

    private static Snapshot[] Growing(double mibPerSec, int samples = 5, ulong startTicks = 100, double noise = 0)
        => Enumerable.Range(0, samples).Select(i => Snap(i, Mem(), processes:
            [Process(42, (ulong)(100 + mibPerSec * i + (i % 2 == 0 ? noise : -noise)), startTicks), Process(43, 50)])).ToArray();

    [Fact]
    public void LeakSuspect_at_threshold_fires_and_names_the_process_and_segment()
    {
        // 1 MiB/s over 4 s = 4 MiB = LeakMinGrowthBytes; rate ≥ 256 KiB/s; a straight line.
        var findings = Run(new LeakSuspectRule(), Context(Growing(1.0)));
        Finding f = Assert.Single(findings);
        Assert.Equal(Severity.Warning, f.Severity); // a 4 s window is too short to call critical
        Assert.Contains("app (pid 42)", f.Title.En);
        Assert.Contains(f.Evidence, e => e.Label == "growing" && e.Value == "heap/anonymous mappings");
    }

    [Fact]
    public void LeakSuspect_below_growth_floor_noisy_or_young_is_not_a_suspect()
    {
        Assert.Empty(Run(new LeakSuspectRule(), Context(Growing(0.97))));                    // 3.9 MiB in the window
        Assert.Empty(Run(new LeakSuspectRule(), Context(Growing(2.0, noise: 6))));           // R² well below 0.9
        Assert.Empty(Run(new LeakSuspectRule(), Context(Growing(2.0, startTicks: 1000 * 100 - 500)))); // 5 s old
        Assert.Throws<RuleSkipped>(() => Run(new LeakSuspectRule(), Context(Growing(2.0, samples: 3))));
    }

    [Fact]
    public void LeakSuspect_is_critical_over_a_long_window_when_memory_runs_out_within_an_hour()
    {
        // 5 MiB/s for 30 s with 500 MiB available: 100 s left.
        var samples = Enumerable.Range(0, 7).Select(i => Snap(i * 5, Mem(), processes: [Process(7, (ulong)(100 + 25 * i))])).ToArray();
        Assert.Equal(Severity.Critical, Worst(Run(new LeakSuspectRule(), Context(samples))));
    }

    private static DoctorContext Swapping(ulong pagesPerSecIn, ulong pagesPerSecOut, ulong swapUsedMiB = 100)
    {
        var mem = Mem();
        mem["SwapTotal"] = 1000;
        mem["SwapFree"] = 1000 - swapUsedMiB;
        return Context(
            Snap(0, mem, new() { ["pswpin"] = 1000, ["pswpout"] = 1000 }),
            Snap(10, mem, new() { ["pswpin"] = 1000 + 10 * pagesPerSecIn, ["pswpout"] = 1000 + 10 * pagesPerSecOut },
                processes: [Process(9, 10, swapMiB: 80)]));
    }

    [Theory]
    [InlineData(0, 255, Severity.Info)]      // just below 1 MiB/s: only the idle-swap note
    [InlineData(0, 256, Severity.Warning)]   // 1 MiB/s out
    [InlineData(256, 0, Severity.Warning)]   // 1 MiB/s in
    [InlineData(5119, 0, Severity.Warning)]
    [InlineData(0, 5120, Severity.Critical)] // 20 MiB/s
    public void SwapActivity_levels(ulong inPages, ulong outPages, Severity expected)
    {
        var findings = Run(new SwapActivityRule(), Swapping(inPages, outPages));
        Assert.Equal(expected, Worst(findings));
        if (expected > Severity.Info) Assert.Contains(findings[0].Evidence, e => e.Label == "held by" && e.Value.Contains("app (9)"));
    }

    private static Pressure Psi(double some, double full) => new(new PressureLine(some, 0, 0, 0), new PressureLine(full, 0, 0, 0));

    [Theory]
    [InlineData(9.99, 0.99, 0, null)]
    [InlineData(10.0, 0.0, 0, Severity.Warning)]
    [InlineData(0, 1.0, 0, Severity.Warning)]
    [InlineData(0, 9.99, 0, Severity.Warning)]
    [InlineData(0, 10.0, 0, Severity.Critical)]
    [InlineData(0, 0, 1, Severity.Warning)]   // one allocation stall in the window
    public void ReclaimStall_levels(double some, double full, ulong stalls, Severity? expected)
    {
        var c = Context(
            Snap(0, Mem(), new() { ["allocstall_normal"] = 5, ["pgscan_direct"] = 0 }, Psi(0, 0)),
            Snap(5, Mem(), new() { ["allocstall_normal"] = 5 + stalls, ["pgscan_direct"] = 0 }, Psi(some, full)));
        Assert.Equal(expected, Worst(Run(new ReclaimStallRule(), c)));
    }

    [Theory]
    [InlineData(1000UL, null)]
    [InlineData(999UL, Severity.Warning)]
    [InlineData(500UL, Severity.Warning)]
    [InlineData(499UL, Severity.Critical)]
    public void Watermark_levels(ulong free, Severity? expected)
    {
        string zones = Zone(0, "DMA32", 100000, 10, 12, 14, 400000) + Zone(0, "Normal", free, 500, 1000, 1500, 1000000);
        var findings = Run(new WatermarkRule(), Context(Snap(0, Mem(), zoneinfo: zones)));
        Assert.Equal(expected, Worst(findings));
        if (expected is not null) Assert.Contains("Normal", Assert.Single(findings).Title.En);
    }

    [Theory]
    [InlineData(0UL, 0UL, null)]
    [InlineData(2UL, 2UL, Severity.Warning)]   // kills since boot, none now
    [InlineData(2UL, 3UL, Severity.Critical)]  // a kill during the window
    public void OomKill_levels(ulong before, ulong after, Severity? expected)
    {
        var c = Context(Snap(0, Mem(), new() { ["oom_kill"] = before }), Snap(5, Mem(), new() { ["oom_kill"] = after }));
        Assert.Equal(expected, Worst(Run(new OomKillRule(), c)));
    }

    [Fact]
    public void OomKill_names_the_victims_from_the_log()
    {
        var c = Context(Snap(0, Mem(), new() { ["oom_kill"] = 1 }), Snap(5, Mem(), new() { ["oom_kill"] = 1 })) with
        {
            OomKills = [new OomKillNote(null, 10275, "hog", 65152 * 1024, 0, "/memscope_lab", true)],
        };
        Finding f = Assert.Single(Run(new OomKillRule(), c));
        Assert.Contains(f.Evidence, e => e.Label == "victim" && e.Value.Contains("hog (pid 10275)") && e.Value.Contains("/memscope_lab"));
    }

    [Theory]
    [InlineData(255UL, null)]
    [InlineData(256UL, Severity.Warning)]
    public void CacheThrash_refault_threshold(ulong refaultsPerSec, Severity? expected)
    {
        var c = Context(Snap(0, Mem(), new() { ["workingset_refault_file"] = 0, ["pgpgin"] = 0 }),
                        Snap(10, Mem(), new() { ["workingset_refault_file"] = 10 * refaultsPerSec, ["pgpgin"] = 0 }));
        Assert.Equal(expected, Worst(Run(new CacheThrashRule(), c)));
    }

    [Fact]
    public void CacheThrash_disk_reads_while_the_cache_stays_flat()
    {
        // 30 MiB/s read for 10 s and Cached flat: churn. The same reads with the cache growing by them: fine.
        var flat = Context(Snap(0, Mem(), new() { ["pgpgin"] = 0 }), Snap(10, Mem(), new() { ["pgpgin"] = 30 * 1024 * 10 }));
        Assert.Equal(Severity.Warning, Worst(Run(new CacheThrashRule(), flat)));
        var grown = Mem();
        grown["Cached"] = 100 + 300;
        var filling = Context(Snap(0, Mem(), new() { ["pgpgin"] = 0 }), Snap(10, grown, new() { ["pgpgin"] = 30 * 1024 * 10 }));
        Assert.Null(Worst(Run(new CacheThrashRule(), filling)));
    }

    [Theory]
    [InlineData(99UL, 0UL, null)]                 // 9.9%
    [InlineData(100UL, 0UL, Severity.Warning)]    // 10%, nothing maps it
    [InlineData(100UL, 50UL, null)]               // half of it mapped by processes: explained
    public void Shmem_levels(ulong shmemMiB, ulong mappedMiB, Severity? expected)
    {
        var mem = Mem(3000);
        mem["Shmem"] = shmemMiB * 3; // 10% of 3000 MiB = 300 MiB ≥ the 256 MiB floor
        var c = Context(Snap(0, mem, processes: [Process(5, 10, shmemMiB: mappedMiB * 3)]));
        Assert.Equal(expected, Worst(Run(new ShmemRule(), c)));
    }

    [Theory]
    [InlineData(99UL, null)]
    [InlineData(100UL, Severity.Warning)]
    [InlineData(249UL, Severity.Warning)]
    [InlineData(250UL, Severity.Critical)]
    public void Slab_levels(ulong unreclaimableMiB, Severity? expected)
    {
        var mem = Mem();
        mem["SUnreclaim"] = unreclaimableMiB;
        Assert.Equal(expected, Worst(Run(new SlabRule(), Context(Snap(0, mem)))));
    }

    [Fact]
    public void Slab_growing_steadily_warns()
    {
        var samples = Enumerable.Range(0, 5).Select(i => { var m = Mem(); m["SUnreclaim"] = (ulong)(10 + 2 * i); return Snap(i, m); }).ToArray();
        Assert.Equal(Severity.Warning, Worst(Run(new SlabRule(), Context(samples))));
    }

    [Theory]
    [InlineData(512UL, 256UL, 0UL, Severity.Warning)]  // 256 pages × 2 MiB = 512 MiB idle, 50%
    [InlineData(512UL, 255UL, 0UL, null)]              // 49.8% idle
    [InlineData(512UL, 512UL, 300UL, null)]            // free but reserved: promised to a mapping, 41% idle
    [InlineData(0UL, 0UL, 0UL, null)]
    public void HugepagesUnused_levels(ulong total, ulong free, ulong reserved, Severity? expected)
    {
        var mem = Mem(10000);
        mem["HugePages_Total"] = total;
        mem["HugePages_Free"] = free;
        mem["HugePages_Rsvd"] = reserved;
        mem["Hugepagesize"] = 2; // MiB
        Assert.Equal(expected, Worst(Run(new HugepagesUnusedRule(), Context(Snap(0, mem)))));
    }

    private static SysVm Sysctls(int overcommit)
    {
        string dir = Directory.CreateTempSubdirectory("memscope_sysvm_").FullName;
        File.WriteAllText(Path.Combine(dir, "overcommit_memory"), $"{overcommit}\n");
        File.WriteAllText(Path.Combine(dir, "zone_reclaim_mode"), "0\n");
        SysVm vm = SysVm.Read(dir);
        Directory.Delete(dir, true);
        return vm;
    }

    [Theory]
    [InlineData(2, 899UL, null)]
    [InlineData(2, 900UL, Severity.Warning)]
    [InlineData(2, 979UL, Severity.Warning)]
    [InlineData(2, 980UL, Severity.Critical)]
    [InlineData(0, 990UL, null)]   // heuristic mode: CommitLimit is not enforced
    public void Overcommit_levels(int mode, ulong committedMiB, Severity? expected)
    {
        var mem = Mem();
        mem["Committed_AS"] = committedMiB;
        Assert.Equal(expected, Worst(Run(new OvercommitRule(), Context(Snap(0, mem, sysVm: Sysctls(mode))))));
    }

    [Theory]
    [InlineData(89UL, 0UL, 0UL, null)]
    [InlineData(90UL, 0UL, 0UL, Severity.Warning)]
    [InlineData(50UL, 3UL, 0UL, Severity.Warning)]  // hitting the limit (failcnt grew)
    [InlineData(99UL, 3UL, 1UL, Severity.Critical)] // OOM inside the cgroup
    public void CgroupLimit_levels(ulong usageMiB, ulong failDelta, ulong oomDelta, Severity? expected)
    {
        var c = Context(Snap(0, Mem())) with
        {
            Cgroups = [new CgroupObservation("/memscope_test", usageMiB * MiB, 100 * MiB, failDelta, oomDelta, null, null)],
        };
        Assert.Equal(expected, Worst(Run(new CgroupLimitRule(), c)));
    }

    [Theory]
    [InlineData(49UL, 310UL, Severity.Warning)] // node 0 at 4.9% free, node 1 at 31%
    [InlineData(50UL, 310UL, null)]             // 5.0%
    [InlineData(49UL, 300UL, null)]             // the other node not plentiful (30%)
    public void NumaImbalance_levels(ulong freeNode0, ulong freeNode1, Severity? expected)
    {
        string zones = Zone(0, "Normal", freeNode0, 1, 2, 3, 1000) + Zone(1, "Normal", freeNode1, 1, 2, 3, 1000);
        Assert.Equal(expected, Worst(Run(new NumaImbalanceRule(), Context(Snap(0, Mem(), zoneinfo: zones)))));
    }

    [Fact]
    public void The_doctor_survives_missing_sources_and_says_which_rules_it_skipped()
    {
        var mem = new Dictionary<string, ulong> { ["MemTotal"] = 1000, ["MemFree"] = 900 };
        DoctorReport report = MemScope.Analysis.Doctor.Doctor.Examine(Context(Snap(0, mem)));
        Assert.True(report.Healthy);
        Assert.Contains(report.Skipped, s => s.Id == "low-available" && s.Reason.Contains("MemAvailable"));
        Assert.Contains(report.Skipped, s => s.Id == "watermark");
        Assert.Contains(report.Skipped, s => s.Id == "cgroup-limit");
        Assert.Equal(0, report.ExitCode);
    }

    [Fact]
    public void Exit_code_is_the_worst_severity()
    {
        var c = Context(Snap(0, Mem(1000, 40)));
        DoctorReport report = MemScope.Analysis.Doctor.Doctor.Examine(c);
        Assert.Equal(2, report.ExitCode);
        Assert.Equal("low-available", report.Findings[0].Id);
    }

    [Fact]
    public void Every_finding_has_both_languages()
    {
        var c = Context(Snap(0, Mem(1000, 40)));
        foreach (Finding f in MemScope.Analysis.Doctor.Doctor.Examine(c).Findings)
        {
            Assert.False(string.IsNullOrWhiteSpace(f.Title.Zh));
            Assert.False(string.IsNullOrWhiteSpace(f.Explanation.Zh));
            Assert.All(f.Fixes, x => Assert.False(string.IsNullOrWhiteSpace(x.Zh)));
        }
    }
}
