namespace MemScope.Analysis.Doctor;

/// <summary>
/// Every threshold the doctor uses, in one place, each with why it is set there. Rules read only these.
/// </summary>
public static class DoctorThresholds
{
    // low-available
    /// <summary>MemAvailable below this share of MemTotal is a warning: new work may start reclaim and swap.</summary>
    public const double AvailableWarningFraction = 0.10;
    /// <summary>Below this share the OOM killer is near: critical.</summary>
    public const double AvailableCriticalFraction = 0.05;
    /// <summary>A fall only matters once available memory is below this share (a fall from plenty is a busy machine, not a shortage).</summary>
    public const double AvailableFallingConcernFraction = 0.25;
    /// <summary>Below that share, falling so fast that it would run out within this many seconds: warning.</summary>
    public const double ExhaustionWarningSeconds = 600;
    /// <summary>Running out within a minute: critical.</summary>
    public const double ExhaustionCriticalSeconds = 60;

    // leak-suspect
    /// <summary>A process must grow at least this much over the window to be a suspect (noise floor of allocators).</summary>
    public const long LeakMinGrowthBytes = 4L << 20;
    /// <summary>...at no less than this rate (bytes/s).</summary>
    public const double LeakMinRateBytesPerSec = 256 * 1024;
    /// <summary>...and steadily: R² of the linear fit of RSS over time at least this (1 = a straight line).</summary>
    public const double LeakMinRSquared = 0.9;
    /// <summary>...over at least this many samples (fewer points fit any short ramp).</summary>
    public const int LeakMinSamples = 4;
    /// <summary>Processes younger than this are still starting up (loading, warming caches): not suspects yet.</summary>
    public const double LeakMinAgeSeconds = 10;
    /// <summary>A window shorter than this cannot tell a leak from a burst: the finding stays a warning.</summary>
    public const double LeakCriticalMinWindowSeconds = 20;
    /// <summary>Critical when the process would exhaust MemAvailable within this many seconds at its rate.</summary>
    public const double LeakCriticalExhaustionSeconds = 3600;

    // swap-activity
    /// <summary>Swap-in or swap-out above this (bytes/s) over the window is active swapping: warning.</summary>
    public const double SwapWarningBytesPerSec = 1 << 20;
    /// <summary>Above this, the machine is thrashing: critical.</summary>
    public const double SwapCriticalBytesPerSec = 20 << 20;

    // reclaim-stall
    /// <summary>PSI memory "some" avg10 (percent of time at least one task stalled) above this: warning.</summary>
    public const double PsiSomeWarningPercent = 10;
    /// <summary>PSI memory "full" avg10 (all tasks stalled) above this: warning; above the critical value: critical.</summary>
    public const double PsiFullWarningPercent = 1;
    public const double PsiFullCriticalPercent = 10;
    /// <summary>Any allocation stall or direct-reclaim scan in the window is a warning (allocations waited for reclaim).</summary>
    public const double DirectReclaimMinPagesPerSec = 1;

    // watermark: a zone below low wakes kswapd, below min makes allocations reclaim directly. No tunable needed.

    // cache-thrash
    /// <summary>workingset_refault_file above this (pages/s): pages evicted lately are being read back.</summary>
    public const double RefaultWarningPagesPerSec = 256;
    /// <summary>Disk reads above this rate (KiB/s, pgpgin) while the page cache does not grow: cache churn.</summary>
    public const double ChurnReadKibPerSec = 20 * 1024;
    /// <summary>"does not grow": the cache grew by less than this share of what was read.</summary>
    public const double ChurnCacheGrowthShare = 0.10;

    // shmem
    /// <summary>Shared memory above this share of MemTotal (and the absolute floor) is worth a look...</summary>
    public const double ShmemWarningFraction = 0.10;
    public const long ShmemMinBytes = 256L << 20;
    /// <summary>...when processes' mapped shmem (RssShmem) explains less than this share of it.</summary>
    public const double ShmemExplainedShare = 0.5;

    // slab
    /// <summary>Unreclaimable slab above this share of MemTotal: warning; above the critical share: critical.</summary>
    public const double SlabUnreclaimableWarningFraction = 0.10;
    public const double SlabUnreclaimableCriticalFraction = 0.25;
    /// <summary>Unreclaimable slab growing faster than this (bytes/s) over the window: warning.</summary>
    public const double SlabGrowthWarningBytesPerSec = 1 << 20;

    // hugepages-unused
    /// <summary>A pool whose free-and-unreserved share is at least this...</summary>
    public const double HugepagesIdleFraction = 0.5;
    /// <summary>...and pins at least this much (or this share of MemTotal) for nothing: warning.</summary>
    public const long HugepagesIdleMinBytes = 512L << 20;
    public const double HugepagesIdleMinFractionOfTotal = 0.05;

    // overcommit
    /// <summary>In strict mode (overcommit_memory=2), Committed_AS above this share of CommitLimit: warning (allocations start failing at 100%).</summary>
    public const double OvercommitWarningFraction = 0.90;
    public const double OvercommitCriticalFraction = 0.98;

    // cgroup-limit
    /// <summary>A memory cgroup using this share of its limit: warning (it will reclaim, swap or OOM inside the limit).</summary>
    public const double CgroupWarningFraction = 0.90;

    // numa-imbalance
    /// <summary>One node with less than this share free...</summary>
    public const double NumaExhaustedFreeFraction = 0.05;
    /// <summary>...while another has more than this share free.</summary>
    public const double NumaPlentyFreeFraction = 0.30;

    // account (info)
    /// <summary>Used memory that process PSS does not explain, above this share of MemTotal: point to `memscope account`.</summary>
    public const double UnexplainedUsedFraction = 0.15;
}
