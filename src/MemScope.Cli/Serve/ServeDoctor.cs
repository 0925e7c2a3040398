using MemScope.Analysis.Doctor;
using MemScope.Model;
using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.Cli.Serve;

/// <summary>
/// Runs the doctor inside `memscope serve`: every collection is one more sample in a rolling window (the last
/// <see cref="Window"/>, at most <see cref="MaxSamples"/> samples), and the doctor examines the window, so trend rules
/// (leak-suspect, swap-activity, reclaim-stall...) work as they do in `memscope doctor --duration`. Slab and memory
/// cgroups are read at each sample (best effort; the rule that needs a missing one skips itself). Called only from
/// the single-flight collection, so it needs no lock.
/// </summary>
internal sealed class ServeDoctor(ProcFs proc, SysFs sys, TimeSpan interval)
{
    public const int MaxSamples = 30;
    public TimeSpan Window { get; } = TimeSpan.FromSeconds(Math.Max(120, interval.TotalSeconds * 6));

    private readonly List<(Snapshot Snap, Slabinfo? Slab, IReadOnlyList<MemoryCgroup>? Cgroups)> _samples = [];
    private string? _slabWhy, _cgroupsWhy;

    public IReadOnlyList<FindingDto>? Evaluate(Snapshot current, Snapshot? previous)
    {
        Slabinfo? slab = null;
        try { slab = Slabinfo.Read(proc.PathOf("slabinfo")); _slabWhy = null; }
        catch (KernelFileException e) { _slabWhy = e.Error == KernelFileError.Denied ? "needs root (/proc/slabinfo is 0400)" : e.Message; }
        IReadOnlyList<MemoryCgroup>? cgroups = null;
        try { (cgroups, _cgroupsWhy) = CgroupObserver.Read(proc, sys); }
        catch (Exception e) when (e is KernelFileException or IOException or UnauthorizedAccessException) { _cgroupsWhy = e.Message; }

        SysVm? sysVm = null;
        try { sysVm = proc.ReadSysVm(); } catch (Exception e) when (e is KernelFileException or IOException or UnauthorizedAccessException) { }
        Snapshot last = sysVm is null ? current : current with { System = current.System with { SysVm = sysVm } };
        _samples.Add((last, slab, cgroups));
        while (_samples.Count > MaxSamples || (_samples.Count > 1 && Snapshot.Elapsed(_samples[0].Snap, last) > Window.TotalSeconds))
            _samples.RemoveAt(0);

        var first = _samples[0];
        var context = new DoctorContext
        {
            Samples = _samples.Select(s => s.Snap).ToList(),
            SlabFirst = first.Slab,
            SlabLast = slab,
            SlabUnavailableReason = slab is null ? _slabWhy : null,
            Cgroups = first.Cgroups is not null && cgroups is not null ? CgroupObserver.Pair(first.Cgroups, cgroups) : null,
            CgroupsUnavailableReason = cgroups is null ? _cgroupsWhy ?? "no memory cgroups found" : null,
            OomLogUnavailableReason = "memscope serve does not read the kernel log; see node_vmstat_oom_kill",
            Lang = "en",
        };
        DoctorReport report = Doctor.Examine(context);
        return report.Findings.Select(ToDto).ToList();
    }

    public static FindingDto ToDto(Finding f) => new()
    {
        Id = f.Id,
        Severity = f.Severity switch { Severity.Critical => "critical", Severity.Warning => "warning", _ => "info" },
        Title = f.Title.En,
        Evidence = f.Evidence.Select(e => $"{e.Label}: {e.Value} ({e.Source})").ToList(),
        Explanation = f.Explanation.En,
        Cause = f.Cause?.En,
        NextStep = f.Next.Count > 0 ? string.Join("; ", f.Next) : f.Fixes.FirstOrDefault()?.En,
    };
}
