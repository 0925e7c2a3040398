namespace MemScope.Analysis;

/// <summary>What a memory series over a window looks like.</summary>
public enum LeakVerdict
{
    /// <summary>Too few samples (or too short a window) to say anything.</summary>
    Unknown,
    /// <summary>Sustained growth: significant over the window and still growing at its end.</summary>
    Leak,
    /// <summary>Grew early in the window, then stopped: a cache or pool warming up, not a leak.</summary>
    Plateau,
    /// <summary>No significant growth or shrinkage.</summary>
    Stable,
    /// <summary>Significant sustained decrease.</summary>
    Shrinking,
}

/// <summary>One point of a memory series: seconds since the start of the window, and bytes.</summary>
public readonly record struct TrendPoint(double Seconds, double Bytes);

/// <summary>
/// An ordinary least-squares line through a series. <see cref="SlopeStdErr"/> is the standard error of the slope
/// (σ̂ / √Σ(t−t̄)²), <see cref="RSquared"/> the share of the variance the line explains (1 for a perfect line; 0 when the
/// series is flat, by convention, since there is nothing to explain).
/// </summary>
public readonly record struct LinearFit(double SlopePerSec, double Intercept, double RSquared, double SlopeStdErr, int Count, double SpanSeconds)
{
    /// <summary>Slope divided by its standard error; +∞ for a perfect non-flat line.</summary>
    public double TStatistic => SlopeStdErr > 0 ? SlopePerSec / SlopeStdErr : SlopePerSec == 0 ? 0 : double.PositiveInfinity * Math.Sign(SlopePerSec);
}

/// <summary>Thresholds of the verdict; the defaults suit sampling a process every second for half a minute.</summary>
public sealed record LeakThresholds
{
    /// <summary>Growth below this is noise (allocator slack, page-granular RSS): 4 KiB/s ≈ 14 MiB an hour.</summary>
    public double MinRateBytesPerSec { get; init; } = 4096;
    /// <summary>And the line must account for at least this much change over the window (a few pages).</summary>
    public double MinTotalBytes { get; init; } = 256 * 1024;
    /// <summary>Slope / stderr above this is significant (≈ 99% one-sided for n ≥ 10).</summary>
    public double MinTStatistic { get; init; } = 3;
    /// <summary>A leak's line explains at least this share of the variance.</summary>
    public double MinRSquared { get; init; } = 0.5;
    /// <summary>Growth in the last third below this fraction of the growth before it means the growth stopped.</summary>
    public double PlateauRatio { get; init; } = 0.25;
    public int MinSamples { get; init; } = 4;
}

/// <summary>The verdict on one series, with the numbers behind it.</summary>
public sealed record TrendAssessment
{
    public required LeakVerdict Verdict { get; init; }
    /// <summary>Fit over the whole window.</summary>
    public required LinearFit Fit { get; init; }
    /// <summary>Fit over the first two thirds and the last third (null with fewer than 6 samples).</summary>
    public LinearFit? EarlyFit { get; init; }
    public LinearFit? LateFit { get; init; }
    public double FirstBytes { get; init; }
    public double LastBytes { get; init; }
    /// <summary>One sentence on why: which threshold decided.</summary>
    public required string Reason { get; init; }

    /// <summary>The growth rate to report: the least-squares slope over the whole window.</summary>
    public double GrowthBytesPerSec => Fit.SlopePerSec;
}

/// <summary>
/// Pure functions that turn memory samples into a growth rate, a confidence, a verdict, the growing segments and a
/// projected time to exhaustion. No I/O: the leak command and the doctor both feed it samples.
/// </summary>
public static class LeakTrend
{
    /// <summary>Least-squares line through the points; Count 0 when fewer than two distinct times.</summary>
    public static LinearFit Fit(ReadOnlySpan<TrendPoint> points)
    {
        int n = points.Length;
        if (n < 2) return new LinearFit(0, n == 1 ? points[0].Bytes : 0, 0, double.PositiveInfinity, n, 0);
        double mt = 0, my = 0;
        foreach (TrendPoint p in points) { mt += p.Seconds; my += p.Bytes; }
        mt /= n; my /= n;
        double stt = 0, sty = 0, syy = 0;
        foreach (TrendPoint p in points)
        {
            double dt = p.Seconds - mt, dy = p.Bytes - my;
            stt += dt * dt; sty += dt * dy; syy += dy * dy;
        }
        double span = points[n - 1].Seconds - points[0].Seconds;
        if (stt <= 0) return new LinearFit(0, my, 0, double.PositiveInfinity, n, span);
        double slope = sty / stt;
        double intercept = my - slope * mt;
        double sse = Math.Max(0, syy - slope * sty);
        double r2 = syy > 0 ? Math.Clamp(1 - sse / syy, 0, 1) : 0;
        double stderr = n > 2 ? Math.Sqrt(sse / (n - 2) / stt) : double.PositiveInfinity;
        return new LinearFit(slope, intercept, r2, stderr, n, span);
    }

    /// <summary>Judges one series (e.g. RSS + swap of a process) over its window.</summary>
    public static TrendAssessment Assess(ReadOnlySpan<TrendPoint> points, LeakThresholds? thresholds = null)
    {
        LeakThresholds th = thresholds ?? new LeakThresholds();
        LinearFit fit = Fit(points);
        double first = points.Length > 0 ? points[0].Bytes : 0, last = points.Length > 0 ? points[^1].Bytes : 0;
        if (points.Length < th.MinSamples || fit.SpanSeconds <= 0)
            return new TrendAssessment
            {
                Verdict = LeakVerdict.Unknown, Fit = fit, FirstBytes = first, LastBytes = last,
                Reason = $"{points.Length} samples: at least {th.MinSamples} over a non-zero window are needed",
            };

        LinearFit? early = null, late = null;
        if (points.Length >= 6)
        {
            // Split at two thirds of the elapsed time (not of the sample count: samples may be uneven).
            double cut = points[0].Seconds + fit.SpanSeconds * 2 / 3;
            int split = 0;
            while (split < points.Length && points[split].Seconds < cut) split++;
            split = Math.Clamp(split, 3, points.Length - 3);
            early = Fit(points[..split]);
            // The late fit starts at the split point's predecessor so both halves share the joint.
            late = Fit(points[(split - 1)..]);
        }

        double total = fit.SlopePerSec * fit.SpanSeconds;
        bool significant = Math.Abs(fit.TStatistic) >= th.MinTStatistic && fit.RSquared >= th.MinRSquared
            && Math.Abs(fit.SlopePerSec) >= th.MinRateBytesPerSec && Math.Abs(total) >= th.MinTotalBytes;

        LeakVerdict verdict;
        string reason;
        if (!significant)
        {
            // The whole line may be flat while the first two thirds grew steeply and then stopped.
            if (early is { } e0 && IsSignificantGrowth(e0, th) && late is { } l0 && l0.SlopePerSec < th.PlateauRatio * e0.SlopePerSec)
            {
                verdict = LeakVerdict.Plateau;
                reason = $"grew {Rate(e0.SlopePerSec)} early, then {Rate(l0.SlopePerSec)} in the last third";
            }
            else
            {
                verdict = LeakVerdict.Stable;
                reason = $"slope {Rate(fit.SlopePerSec)} (±{Rate(fit.SlopeStdErr)}, R² {fit.RSquared:0.00}) is below the significance thresholds";
            }
        }
        else if (fit.SlopePerSec < 0)
        {
            verdict = LeakVerdict.Shrinking;
            reason = $"fell {Rate(-fit.SlopePerSec)} (R² {fit.RSquared:0.00})";
        }
        else if (early is { } e && late is { } l && l.SlopePerSec < th.PlateauRatio * Math.Max(e.SlopePerSec, 0))
        {
            verdict = LeakVerdict.Plateau;
            reason = $"grew {Rate(e.SlopePerSec)} in the first two thirds but only {Rate(l.SlopePerSec)} in the last third";
        }
        else
        {
            verdict = LeakVerdict.Leak;
            reason = $"grew {Rate(fit.SlopePerSec)} ±{Rate(fit.SlopeStdErr)} (R² {fit.RSquared:0.00}) and was still growing at the end";
        }
        return new TrendAssessment
        {
            Verdict = verdict, Fit = fit, EarlyFit = early, LateFit = late, FirstBytes = first, LastBytes = last, Reason = reason,
        };
    }

    private static bool IsSignificantGrowth(LinearFit f, LeakThresholds th) =>
        f.SlopePerSec >= th.MinRateBytesPerSec && f.TStatistic >= th.MinTStatistic && f.RSquared >= th.MinRSquared
        && f.SlopePerSec * f.SpanSeconds >= th.MinTotalBytes;

    /// <summary>Seconds until <paramref name="headroomBytes"/> is used up at <paramref name="rateBytesPerSec"/>; null when not growing.</summary>
    public static double? SecondsUntilExhausted(double headroomBytes, double rateBytesPerSec) =>
        rateBytesPerSec > 0 && headroomBytes >= 0 ? headroomBytes / rateBytesPerSec : null;

    /// <summary>
    /// Fits every named series (segments such as heap, anon, file, shmem, stack) and returns those with significant
    /// growth, steepest first.
    /// </summary>
    public static IReadOnlyList<(string Name, LinearFit Fit)> GrowingSeries(IEnumerable<(string Name, TrendPoint[] Points)> series, LeakThresholds? thresholds = null)
    {
        LeakThresholds th = thresholds ?? new LeakThresholds();
        var growing = new List<(string, LinearFit)>();
        foreach ((string name, TrendPoint[] pts) in series)
        {
            LinearFit f = Fit(pts);
            if (f.Count >= th.MinSamples && IsSignificantGrowth(f, th)) growing.Add((name, f));
        }
        growing.Sort((a, b) => b.Item2.SlopePerSec.CompareTo(a.Item2.SlopePerSec));
        return growing;
    }

    /// <summary>Human rate for reasons: "1.0 MiB/s".</summary>
    public static string Rate(double bytesPerSec) => $"{Size(bytesPerSec)}/s";

    public static string Size(double bytes)
    {
        double a = Math.Abs(bytes);
        string s = a switch
        {
            >= 1L << 30 => $"{a / (1L << 30):0.0} GiB",
            >= 1L << 20 => $"{a / (1L << 20):0.0} MiB",
            >= 1L << 10 => $"{a / (1L << 10):0.0} KiB",
            _ => $"{a:0} B",
        };
        return bytes < 0 ? "-" + s : s;
    }

    /// <summary>"3h 12m", "45s", "2d 4h".</summary>
    public static string Duration(double seconds)
    {
        if (double.IsInfinity(seconds) || double.IsNaN(seconds)) return "never";
        var t = TimeSpan.FromSeconds(Math.Min(seconds, TimeSpan.MaxValue.TotalSeconds - 1));
        if (t.TotalDays >= 1) return $"{(int)t.TotalDays}d {t.Hours}h";
        if (t.TotalHours >= 1) return $"{(int)t.TotalHours}h {t.Minutes}m";
        if (t.TotalMinutes >= 1) return $"{(int)t.TotalMinutes}m {t.Seconds}s";
        return $"{t.TotalSeconds:0}s";
    }
}

/// <summary>A mapping that appeared, or grew, during the window.</summary>
public sealed record MappingChange(ulong Start, ulong End, string Perms, string Path, MemorySegment Segment, bool IsNew, double FirstBytes, double LastBytes)
{
    public double GrowthBytes => LastBytes - FirstBytes;
}

/// <summary>The trend analysis of one process: verdict, rate, confidence, where it grows, and when memory runs out.</summary>
public sealed record LeakReport
{
    public required TrendAssessment Footprint { get; init; }
    public LinearFit? Rss { get; init; }
    public LinearFit? Pss { get; init; }
    public LinearFit? Anon { get; init; }
    public LinearFit? Swap { get; init; }
    /// <summary>Slope of every segment (heap, anon, file, shmem, stack) with per-mapping data, steepest first.</summary>
    public IReadOnlyList<(MemorySegment Segment, LinearFit Fit)> Segments { get; init; } = [];
    /// <summary>Segments whose growth is significant on its own.</summary>
    public IReadOnlyList<MemorySegment> GrowingSegments { get; init; } = [];
    public IReadOnlyList<MappingChange> NewMappings { get; init; } = [];
    public IReadOnlyList<MappingChange> GrownMappings { get; init; } = [];
    public double? MemAvailableBytes { get; init; }
    public double? CgroupHeadroomBytes { get; init; }
    /// <summary>Time until MemAvailable (or the cgroup limit, whichever is nearer) runs out at the fitted rate.</summary>
    public double? SecondsToExhaustion { get; init; }
    public string? ExhaustionOf { get; init; }
    public int SampleCount { get; init; }
    public double WindowSeconds { get; init; }
}

public static partial class LeakTrendReport
{
    /// <summary>Builds the report from samples taken in time order. Pure: the samples carry everything.</summary>
    public static LeakReport Analyze(IReadOnlyList<LeakSample> samples, LeakThresholds? thresholds = null)
    {
        LeakThresholds th = thresholds ?? new LeakThresholds();
        TrendPoint[] Series(Func<LeakSample, double?> f)
        {
            var pts = new List<TrendPoint>(samples.Count);
            foreach (LeakSample s in samples)
                if (f(s) is double v) pts.Add(new TrendPoint(s.Seconds, v));
            return [.. pts];
        }
        LinearFit? FitOf(Func<LeakSample, double?> f)
        {
            TrendPoint[] pts = Series(f);
            return pts.Length >= 2 && pts.Length == samples.Count ? LeakTrend.Fit(pts) : null;
        }

        TrendAssessment footprint = LeakTrend.Assess(Series(s => s.FootprintBytes), th);

        var segFits = new List<(MemorySegment, LinearFit)>();
        var growing = new List<MemorySegment>();
        if (samples.Count > 0 && samples.All(s => s.Segments is not null))
        {
            foreach (MemorySegment seg in Enum.GetValues<MemorySegment>())
            {
                if (seg == MemorySegment.Other) continue;
                TrendPoint[] pts = Series(s => s.Segments![seg]);
                LinearFit f = LeakTrend.Fit(pts);
                segFits.Add((seg, f));
            }
            segFits.Sort((a, b) => b.Item2.SlopePerSec.CompareTo(a.Item2.SlopePerSec));
            foreach ((string name, LinearFit _) in LeakTrend.GrowingSeries(segFits.Select(x => (x.Item1.ToString(), Series(s => s.Segments![x.Item1]))), th))
                growing.Add(Enum.Parse<MemorySegment>(name));
            // A segment that carries most of a significant leak counts as growing even when its own line is noisier.
            if (growing.Count == 0 && footprint.Verdict == LeakVerdict.Leak && segFits.Count > 0 && segFits[0].Item2.SlopePerSec > 0.5 * footprint.Fit.SlopePerSec)
                growing.Add(segFits[0].Item1);
        }

        var newMappings = new List<MappingChange>();
        var grown = new List<MappingChange>();
        if (samples.Count >= 2 && samples[0].Mappings is { } firstMaps && samples[^1].Mappings is { } lastMaps)
        {
            var before = new Dictionary<(ulong, string), MappingSize>();
            foreach (MappingSize m in firstMaps) before.TryAdd(m.Key, m);
            foreach (MappingSize m in lastMaps)
            {
                double last = m.RssBytes + m.SwapBytes;
                if (before.TryGetValue(m.Key, out MappingSize b))
                {
                    double first = b.RssBytes + b.SwapBytes;
                    if (last - first >= th.MinTotalBytes)
                        grown.Add(new MappingChange(m.Start, m.End, m.Perms, m.Path, m.Segment, false, first, last));
                }
                else if (m.Segment != MemorySegment.Other && m.RssBytes + m.SwapBytes > 0)
                {
                    newMappings.Add(new MappingChange(m.Start, m.End, m.Perms, m.Path, m.Segment, true, 0, last));
                }
            }
            newMappings.Sort((a, b) => b.LastBytes.CompareTo(a.LastBytes));
            grown.Sort((a, b) => b.GrowthBytes.CompareTo(a.GrowthBytes));
        }

        LeakSample? lastSample = samples.Count > 0 ? samples[^1] : null;
        double rate = footprint.Fit.SlopePerSec;
        double? toAvail = lastSample?.MemAvailableBytes is ulong av ? LeakTrend.SecondsUntilExhausted(av, rate) : null;
        double? toCgroup = lastSample?.CgroupHeadroomBytes is ulong hr ? LeakTrend.SecondsUntilExhausted(hr, rate) : null;
        double? eta = null;
        string? of = null;
        if (footprint.Verdict == LeakVerdict.Leak)
        {
            if (toCgroup is double c && (toAvail is null || c < toAvail)) { eta = c; of = "memory cgroup limit"; }
            else if (toAvail is double a) { eta = a; of = "MemAvailable"; }
        }

        return new LeakReport
        {
            Footprint = footprint,
            Rss = FitOf(s => s.RssBytes),
            Pss = FitOf(s => s.PssBytes),
            Anon = FitOf(s => s.AnonBytes),
            Swap = FitOf(s => s.SwapBytes),
            Segments = segFits,
            GrowingSegments = growing,
            NewMappings = newMappings,
            GrownMappings = grown,
            MemAvailableBytes = lastSample?.MemAvailableBytes,
            CgroupHeadroomBytes = lastSample?.CgroupHeadroomBytes,
            SecondsToExhaustion = eta,
            ExhaustionOf = of,
            SampleCount = samples.Count,
            WindowSeconds = samples.Count >= 2 ? samples[^1].Seconds - samples[0].Seconds : 0,
        };
    }
}
