using MemScope.Model;
using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.Analysis.Doctor;

/// <summary>
/// Takes the snapshots the doctor needs over its window: cheap process stats at every sample, PSS (smaps_rollup) and
/// slab at the ends. The sources that need privilege are gathered best-effort; a missing one is recorded with why.
/// </summary>
public sealed class DoctorSampler(ProcFs proc, SysFs sys)
{
    public async Task<DoctorContext> SampleAsync(TimeSpan duration, TimeSpan interval, string lang, CancellationToken ct,
        Func<DoctorContext, DoctorContext>? enrich = null)
    {
        var collector = new SnapshotCollector(proc, sys);
        var samples = new List<Snapshot>();
        (Slabinfo? slabFirst, string? slabWhy) = TryReadSlab();
        var (cgroupsFirst, cgroupsWhy) = CgroupObserver.Read(proc, sys);
        var cheap = new CollectOptions { Processes = true, Detail = ProcessDetail.Cheap };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        samples.Add(collector.Collect(cheap));
        // Samples on a fixed schedule (start + k·interval) so slow collections do not stretch the window.
        for (int k = 1; k * interval <= duration; k++)
        {
            TimeSpan wait = k * interval - clock.Elapsed;
            try { if (wait > TimeSpan.Zero) await Task.Delay(wait, ct); }
            catch (OperationCanceledException) { break; }
            samples.Add(collector.Collect(cheap));
        }
        // The last sample carries PSS for the balance-sheet rules.
        Snapshot last = collector.Collect(new CollectOptions { Processes = true, Detail = ProcessDetail.WithSmapsRollup });
        // Sysctls change rarely: read once, for the rules that need them (overcommit, zone_reclaim_mode).
        samples[^1] = last with { System = last.System with { SysVm = proc.ReadSysVm() } };
        (Slabinfo? slabLast, _) = TryReadSlab();
        var (cgroupsLast, _) = CgroupObserver.Read(proc, sys);
        bool live = proc.Root == "/proc";
        AccountExtras? extras = live ? AccountExtrasReader.Read(proc, sys) : null;
        (IReadOnlyList<OomKillNote>? kills, string? killsWhy) = live ? ReadOomKills(last.System.UptimeSeconds) : (null, "not the live /proc");
        var context = new DoctorContext
        {
            Samples = samples,
            SlabFirst = slabFirst,
            SlabLast = slabLast,
            SlabUnavailableReason = slabWhy,
            AccountExtras = extras,
            OomKills = kills,
            OomLogUnavailableReason = killsWhy,
            Cgroups = cgroupsFirst is not null && cgroupsLast is not null ? CgroupObserver.Pair(cgroupsFirst, cgroupsLast) : null,
            CgroupsUnavailableReason = cgroupsWhy,
            Lang = lang,
        };
        return enrich is null ? context : enrich(context);
    }

    /// <summary>OOM victims the kernel log (/dev/kmsg) still holds; needs root when dmesg_restrict=1.</summary>
    private static (IReadOnlyList<OomKillNote>?, string?) ReadOomKills(double? uptime)
    {
        List<string> lines;
        try { lines = Kmsg.ReadAll(); }
        catch (KernelFileException e) when (e.Error == KernelFileError.Denied) { return (null, "/dev/kmsg needs root (dmesg_restrict)"); }
        catch (KernelFileException e) { return (null, e.Message); }
        DateTimeOffset? boot = uptime is double up ? DateTimeOffset.UtcNow.AddSeconds(-up) : null;
        return (OomLog.Parse(lines, boot).Select(k => new OomKillNote(k.Time, k.Pid, k.Command, k.AnonRssBytes, k.OomScoreAdj,
            k.TaskCgroup ?? k.OomCgroup, k.Trigger == OomTrigger.MemoryCgroup)).ToList(), null);
    }

    private (Slabinfo?, string?) TryReadSlab()
    {
        try { return (Slabinfo.Read(proc.PathOf("slabinfo")), null); }
        catch (KernelFileException e) when (e.Error == KernelFileError.Denied) { return (null, "needs root (/proc/slabinfo is 0400)"); }
        catch (KernelFileException e) { return (null, e.Message); }
    }
}
