using MemScope.Analysis.Doctor.Rules;

namespace MemScope.Analysis.Doctor;

/// <summary>Runs every rule over a context. One rule failing or lacking its source never fails the whole report.</summary>
public static class Doctor
{
    /// <summary>All rules, in the order the expert's triage visits them: picture, trend, specialised sources.</summary>
    public static IReadOnlyList<IDoctorRule> Rules { get; } =
    [
        new LowAvailableRule(), new LeakSuspectRule(), new SwapActivityRule(), new ReclaimStallRule(), new WatermarkRule(),
        new OomKillRule(), new CacheThrashRule(), new ShmemRule(), new SlabRule(), new HugepagesUnusedRule(),
        new OvercommitRule(), new CgroupLimitRule(), new NumaImbalanceRule(), new AccountGapRule(),
    ];

    /// <summary>Every finding id the doctor can report (the explain registry must cover each).</summary>
    public static IEnumerable<string> RuleIds => Rules.Select(r => r.Id);

    public static DoctorReport Examine(DoctorContext context)
    {
        var findings = new List<Finding>();
        var skipped = new List<SkippedRule>();
        foreach (IDoctorRule rule in Rules)
        {
            if (context.NotRecorded?.TryGetValue(rule.Id, out string? missing) == true)
            {
                skipped.Add(new SkippedRule(rule.Id, missing));
                continue;
            }
            if (context.PartlyRecorded?.TryGetValue(rule.Id, out string? partly) == true)
            {
                try
                {
                    var found = rule.Evaluate(context).ToList();
                    if (found.Count == 0) skipped.Add(new SkippedRule(rule.Id, $"{partly}; the recorded part showed nothing"));
                    findings.AddRange(found.Select(f => f with { Evidence = [.. f.Evidence, new Evidence("not recorded", partly, "recording")] }));
                }
                catch (RuleSkipped s) { skipped.Add(new SkippedRule(rule.Id, s.Message)); }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    skipped.Add(new SkippedRule(rule.Id, $"failed: {e.GetType().Name}: {e.Message}"));
                }
                continue;
            }
            try { findings.AddRange(rule.Evaluate(context)); }
            catch (RuleSkipped s) { skipped.Add(new SkippedRule(rule.Id, s.Message)); }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                skipped.Add(new SkippedRule(rule.Id, $"failed: {e.GetType().Name}: {e.Message}"));
            }
        }
        findings.Sort((a, b) => b.Severity != a.Severity ? b.Severity.CompareTo(a.Severity) : string.CompareOrdinal(a.Id, b.Id));
        return new DoctorReport(context.Last.Time, context.WindowSeconds, context.Samples.Count, findings, skipped, HealthFigures(context))
        {
            Replay = context.ReplayOf,
        };
    }

    /// <summary>The three figures that show memory is healthy: available share, swap traffic, memory pressure.</summary>
    private static IReadOnlyList<Evidence> HealthFigures(DoctorContext c)
    {
        var figures = new List<Evidence>();
        if (c.Meminfo.MemAvailable is ulong a && c.MemTotal > 0)
            figures.Add(new("available", $"{Format.Bytes(a)} of {Format.Bytes(c.MemTotal)} ({Format.Pct((double)a / c.MemTotal)})", "/proc/meminfo MemAvailable"));
        if (c.Rates is { SwapInPagesPerSec: double si, SwapOutPagesPerSec: double so })
            figures.Add(new("swap in/out", $"{Format.Rate(si * c.Last.PageSize)} / {Format.Rate(so * c.Last.PageSize)}", "/proc/vmstat pswpin, pswpout"));
        if (c.Last.System.MemoryPressure?.Some is { } some)
            figures.Add(new("memory pressure", $"{some.Avg10:0.00}% of time stalled (avg10)", "/proc/pressure/memory some"));
        else if (c.Rates?.MajorFaultsPerSec is double majors)
            figures.Add(new("major faults", $"{Format.Num(majors)} /s", "/proc/vmstat pgmajfault"));
        return figures;
    }
}
