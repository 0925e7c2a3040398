using MemScope.Analysis;
using MemScope.Analysis.Doctor;
using MemScope.Model;

namespace MemScope.Store;

/// <summary>
/// Builds the doctor's <see cref="DoctorContext"/> from a recording instead of sampling the machine: the samples in
/// [at − duration, at] with their processes, the sysctls in effect, and the OOM kills stored in that window. Nothing
/// live is read. Sources a recording does not hold make their rules skip with the reason.
/// </summary>
public static class DoctorReplay
{
    public const string NotInRecording = "not in the recording";

    public static DoctorContext Build(SnapshotReplay replay, DateTimeOffset at, TimeSpan duration, string lang)
    {
        HistoryStore store = replay.Store;
        SampleInfo end = replay.Find(at);
        DateTimeOffset from = at - duration;
        List<SampleInfo> infos = store.ListSamples(from, at);
        if (infos.Count == 0 || infos[^1].Id != end.Id)
            throw new StoreException(StoreError.NotFound,
                $"no sample between {SnapshotReplay.Format(from)} and {SnapshotReplay.Format(at)} in {store.Path} " +
                $"(the last one before is at {SnapshotReplay.Format(end.Time)}; {replay.Describe()})");
        var samples = infos.Select(i => store.Read(i.Id, processes: true)).ToList();

        var notRecorded = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["account-gap"] = $"{NotInRecording}: PSS only for the top processes by RSS (smaps_rollup), no tmpfs/SysV/kernel extras",
        };
        var partly = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["slab"] = "per-cache figures (/proc/slabinfo) are " + NotInRecording,
            ["shmem"] = "tmpfs mounts and SysV segments are " + NotInRecording,
            ["cache-thrash"] = "O_DIRECT readers (/proc/PID/fdinfo) are " + NotInRecording,
        };
        Snapshot last = samples[^1];
        string schemaNote = store.SchemaVersion < 2 ? $" (schema {store.SchemaVersion} recording)" : "";
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

        IReadOnlyList<OomKillNote>? kills = null;
        string? killsWhy;
        string? followed = store.SchemaVersion >= 2 ? store.GetMeta("oom_events") : null;
        if (followed is not null && followed.StartsWith("followed", StringComparison.Ordinal))
        {
            kills = store.ReadOomKills(from, at)
                .Select(k => new OomKillNote(k.Time, k.Pid, k.Command, k.AnonRssBytes, k.OomScoreAdj, k.TaskCgroup ?? k.OomCgroup,
                    k.Trigger == OomTrigger.MemoryCgroup))
                .ToList();
            killsWhy = null;
        }
        else
        {
            killsWhy = followed is not null && followed.StartsWith("unavailable: ", StringComparison.Ordinal)
                ? followed["unavailable: ".Length..]
                : $"OOM kill events are {NotInRecording}{schemaNote}";
        }

        return new DoctorContext
        {
            Samples = samples,
            SlabUnavailableReason = "per-cache figures are " + NotInRecording,
            OomKills = kills,
            OomLogUnavailableReason = killsWhy,
            Cgroups = cgroups,
            CgroupsUnavailableReason = cgroups is null ? $"memory cgroups are {NotInRecording}{cgroupsNote}" : null,
            Lang = lang,
            ReplayOf = $"replay of {store.Path}: {samples.Count} sample(s) from {SnapshotReplay.Format(samples[0].Time)} to {SnapshotReplay.Format(last.Time)}" +
                       $" (window {SnapshotReplay.Format(from)} to {SnapshotReplay.Format(at)})",
            NotRecorded = notRecorded,
            PartlyRecorded = partly,
        };
    }
}
