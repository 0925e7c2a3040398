using MemScope.Analysis;
using MemScope.Analysis.Doctor;
using MemScope.Model;
using MemScope.Procfs;

namespace MemScope.Store;

/// <summary>
/// Builds the doctor's <see cref="DoctorContext"/> from a recording instead of sampling the machine: the samples in
/// [at − duration, at] with their processes, the sysctls in effect, and the OOM kills stored in that window. Nothing
/// live is read. Sources a recording does not hold make their rules skip with the reason. A long window (days at a
/// few seconds per sample) is not read whole: at most <see cref="DefaultMaxSamples"/> samples, spread evenly, always
/// keeping the first and the last.
/// </summary>
public static class DoctorReplay
{
    public const string NotInRecording = "not in the recording";

    /// <summary>The most samples (with their processes) the doctor reads from a recording window.</summary>
    public const int DefaultMaxSamples = 120;

    public static DoctorContext Build(SnapshotReplay replay, DateTimeOffset at, TimeSpan duration, string lang, int maxSamples = DefaultMaxSamples)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSamples, 2);
        HistoryStore store = replay.Store;
        SampleInfo end = replay.Find(at);
        DateTimeOffset from = at - duration;
        List<SampleInfo> infos = store.ListSamples(from, at);
        if (infos.Count == 0 || infos[^1].Id != end.Id)
            throw new StoreException(StoreError.NotFound,
                $"no sample between {SnapshotReplay.Format(from)} and {SnapshotReplay.Format(at)} in {store.Path} " +
                $"(the last one before is at {SnapshotReplay.Format(end.Time)}; {replay.Describe()})");
        var samples = Spread(infos, maxSamples).Select(i => store.Read(i.Id, processes: true)).ToList();

        var notRecorded = new Dictionary<string, string>(StringComparer.Ordinal);
        var partly = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            // Reading every process's fdinfo each sample costs too much for a recorder: never recorded.
            ["cache-thrash"] = "O_DIRECT readers (/proc/PID/fdinfo) are " + NotInRecording,
        };
        Snapshot last = samples[^1];
        string schemaNote = store.SchemaVersion < 2 ? $" (schema {store.SchemaVersion} recording)" : "";
        string v4Note = store.SchemaVersion < 4 ? $" (schema {store.SchemaVersion} recording)" : "";

        // Per-cache slab (schema 4, root recorders): read every few samples, so the last reading may be a little older
        // than the window's last sample; one more than a minute older than the window is not taken for it.
        (SampleInfo At, Slabinfo Slab)? slabLast = store.SlabinfoAt(end.Id) is { } sl && sl.At.Time >= from - TimeSpan.FromMinutes(1) ? sl : null;
        (SampleInfo At, Slabinfo Slab)? slabFirst = slabLast is null ? null : store.FirstSlabinfoIn(infos[0].Id, end.Id);
        if (slabFirst is { } sf && slabLast is { } sl2 && sf.At.Id == sl2.At.Id) slabFirst = null;
        string? slabWhy = slabLast is not null ? null : store.SlabinfoUnavailableReason();
        if (slabWhy is not null) partly["slab"] = slabWhy;

        // tmpfs/devtmpfs usage and SysV segments (schema 4): the reading in effect at the window's last sample.
        AccountExtras? extras = null;
        if (store.SharedMemoryAt(end.Id) is { } shm)
        {
            extras = new AccountExtras(shm.Usage.Tmpfs ?? [], shm.Usage.SysvSegments ?? [], []);
            var missing = new List<string>();
            if (shm.Usage.Tmpfs is null) missing.Add("tmpfs usage (/proc/mounts was unreadable, or the recorder read another root than the live /proc)");
            if (shm.Usage.SysvSegments is null) missing.Add("SysV segments (/proc/sysvipc/shm was unreadable)");
            if (missing.Count > 0) partly["shmem"] = string.Join(" and ", missing) + " while recording";
        }
        else partly["shmem"] = $"tmpfs mounts and SysV segments are {NotInRecording}{v4Note}";

        // account-gap compares used memory with Σ PSS: only meaningful when the recorder read smaps_rollup for every
        // user process (--top at least the process count); with PSS for the top N only, the gap would be overstated.
        var users = last.Processes.Where(p => !p.IsKernelThread && p.RssBytes > 0).ToList();
        if (users.Count == 0 || users.Exists(p => p.PssBytes is null && !p.SmapsDenied))
            notRecorded["account-gap"] = $"{NotInRecording}: PSS only for the top processes by RSS (smaps_rollup; record with --top above the process count for this rule)";
        if (last.System.Zoneinfo is null)
        {
            notRecorded["watermark"] = $"/proc/zoneinfo is {NotInRecording}{schemaNote}";
            notRecorded["numa-imbalance"] = $"/proc/zoneinfo is {NotInRecording}{schemaNote}";
        }
        IReadOnlyList<CgroupObservation>? cgroups = null;
        string cgroupsNote = store.SchemaVersion < 3 ? $" (schema {store.SchemaVersion} recording)" : "";
        if (samples[0].System.MemoryCgroups is { } cgFirst && last.System.MemoryCgroups is { } cgLast)
            cgroups = CgroupObserver.Pair(cgFirst, cgLast);
        else
            notRecorded["cgroup-limit"] = $"memory cgroups are {NotInRecording}{cgroupsNote}";
        if (last.System.SysVm is null) notRecorded["overcommit"] = $"vm sysctls (overcommit_memory) are {NotInRecording}{schemaNote}";

        (List<OomKill>? recordedKills, string? killsWhy) = OomKills(store, from, at);
        IReadOnlyList<OomKillNote>? kills = recordedKills?
            .Select(k => new OomKillNote(k.Time, k.Pid, k.Command, k.AnonRssBytes, k.OomScoreAdj, k.TaskCgroup ?? k.OomCgroup,
                k.Trigger == OomTrigger.MemoryCgroup))
            .ToList();

        return new DoctorContext
        {
            Samples = samples,
            SlabFirst = slabFirst?.Slab,
            SlabLast = slabLast?.Slab,
            SlabUnavailableReason = slabWhy,
            SlabSeconds = slabFirst is { } f1 && slabLast is { } l1 ? (l1.At.Time - f1.At.Time).TotalSeconds : null,
            AccountExtras = extras,
            OomKills = kills,
            OomLogUnavailableReason = killsWhy,
            Cgroups = cgroups,
            CgroupsUnavailableReason = cgroups is null ? $"memory cgroups are {NotInRecording}{cgroupsNote}" : null,
            Lang = lang,
            ReplayOf = $"replay of {store.Path}: {samples.Count} sample(s){(samples.Count < infos.Count ? $" (spread evenly over the {infos.Count} recorded)" : "")} from {SnapshotReplay.Format(samples[0].Time)} to {SnapshotReplay.Format(last.Time)}" +
                       $" (window {SnapshotReplay.Format(from)} to {SnapshotReplay.Format(at)})",
            NotRecorded = notRecorded,
            PartlyRecorded = partly,
        };
    }

    /// <summary>
    /// The OOM kills recorded in [from, to], or null with the reason when the recorder did not follow the kernel log
    /// (schema 1 recordings, or /dev/kmsg was unreadable while recording).
    /// </summary>
    public static (List<OomKill>? Kills, string? Unavailable) OomKills(HistoryStore store, DateTimeOffset from, DateTimeOffset to)
    {
        string? followed = store.SchemaVersion >= 2 ? store.GetMeta("oom_events") : null;
        if (followed is not null && followed.StartsWith("followed", StringComparison.Ordinal))
            return (store.ReadOomKills(from, to), null);
        string schemaNote = store.SchemaVersion < 2 ? $" (schema {store.SchemaVersion} recording)" : "";
        return (null, followed is not null && followed.StartsWith("unavailable: ", StringComparison.Ordinal)
            ? followed["unavailable: ".Length..]
            : $"OOM kill events are {NotInRecording}{schemaNote}");
    }

    /// <summary>At most <paramref name="max"/> of <paramref name="all"/>, evenly spread, the first and last always kept.</summary>
    public static List<T> Spread<T>(IReadOnlyList<T> all, int max)
    {
        if (all.Count <= max) return [.. all];
        var picked = new List<T>(max);
        int previous = -1;
        for (int i = 0; i < max; i++)
        {
            int index = (int)Math.Round(i * (all.Count - 1) / (double)(max - 1));
            if (index == previous) continue;
            picked.Add(all[index]);
            previous = index;
        }
        return picked;
    }
}
