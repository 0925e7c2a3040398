using MemScope.Model;
using MemScope.Procfs;

namespace MemScope.Analysis.Doctor;

/// <summary>A memory cgroup at the start and end of the window (v1 or v2), as the doctor needs it.</summary>
public sealed record CgroupObservation(string Path, ulong UsageBytes, ulong? LimitBytes, ulong? FailCountDelta,
    ulong? OomEventsDelta, ulong? MaxEventsDelta, ulong? OomKillsTotal);

/// <summary>An OOM kill the kernel log still holds.</summary>
public sealed record OomKillNote(DateTimeOffset? Time, int Pid, string Command, ulong? AnonRssBytes, long? OomScoreAdj, string? Cgroup, bool CgroupConstraint);

/// <summary>A process reading a file with O_DIRECT (bypassing the page cache).</summary>
public sealed record DirectIoReader(int Pid, string Command, string File);

/// <summary>
/// What the rules look at: snapshots over the window (oldest first) plus optional sources that need privilege or a
/// feature. An optional source left null makes the rules that need it report themselves as skipped, with the reason.
/// </summary>
public sealed record DoctorContext
{
    public required IReadOnlyList<Snapshot> Samples { get; init; }
    public Snapshot First => Samples[0];
    public Snapshot Last => Samples[^1];
    public double WindowSeconds => Samples.Count > 1 ? Snapshot.Elapsed(First, Last) : 0;
    public Rates? Rates => Samples.Count > 1 ? Rates.Between(First, Last) : null;
    public Meminfo Meminfo => Last.System.Meminfo;
    public ulong MemTotal => Meminfo.MemTotal ?? 0;

    public Slabinfo? SlabFirst { get; init; }
    public Slabinfo? SlabLast { get; init; }
    public string? SlabUnavailableReason { get; init; }
    /// <summary>Seconds between the <see cref="SlabFirst"/> and <see cref="SlabLast"/> readings when not the window's (a replay reads slabinfo every few samples).</summary>
    public double? SlabSeconds { get; init; }
    public IReadOnlyList<OomKillNote>? OomKills { get; init; }
    public string? OomLogUnavailableReason { get; init; }
    public IReadOnlyList<CgroupObservation>? Cgroups { get; init; }
    public string? CgroupsUnavailableReason { get; init; }
    public IReadOnlyList<DirectIoReader>? DirectIoReaders { get; init; }
    public AccountExtras? AccountExtras { get; init; }
    public string Lang { get; init; } = "en";

    /// <summary>Replay of a recording: what was replayed ("PATH, T1 to T2"); null for a live run.</summary>
    public string? ReplayOf { get; init; }
    /// <summary>Rules whose source the recording lacks (rule id → reason): they are skipped without running.</summary>
    public IReadOnlyDictionary<string, string>? NotRecorded { get; init; }
    /// <summary>
    /// Rules the recording covers only in part (rule id → what is missing): they run on what was recorded; a finding
    /// gets the missing part as evidence, and no finding is reported as skipped with the reason (never a silent pass).
    /// </summary>
    public IReadOnlyDictionary<string, string>? PartlyRecorded { get; init; }

    /// <summary>Processes present in the first and last sample (same pid and start time), as (first, last) pairs.</summary>
    public IEnumerable<(ProcessSnapshot First, ProcessSnapshot Last)> SurvivingProcesses()
    {
        var first = First.Processes.ToDictionary(p => p.Key);
        foreach (ProcessSnapshot p in Last.Processes)
            if (first.TryGetValue(p.Key, out ProcessSnapshot? before)) yield return (before, p);
    }

    /// <summary>RSS samples of one process over the window (time in seconds from the first sample, bytes).</summary>
    public List<(double T, double Bytes)> RssSeries((int, ulong) key, Func<ProcessSnapshot, ulong?> field)
    {
        var series = new List<(double, double)>();
        foreach (Snapshot s in Samples)
        {
            foreach (ProcessSnapshot p in s.Processes)
            {
                if (p.Key != key) continue;
                if (field(p) is ulong v) series.Add((Snapshot.Elapsed(First, s), v));
                break;
            }
        }
        return series;
    }
}

/// <summary>One doctor rule: evaluates the context, returns findings, or throws <see cref="RuleSkipped"/>.</summary>
public interface IDoctorRule
{
    string Id { get; }
    IEnumerable<Finding> Evaluate(DoctorContext context);
}

/// <summary>Thrown by a rule whose source is missing; the doctor reports it and carries on.</summary>
public sealed class RuleSkipped(string reason) : Exception(reason);
