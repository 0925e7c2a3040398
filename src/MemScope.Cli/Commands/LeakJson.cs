using System.Text.Json.Serialization;
using MemScope.Analysis;

namespace MemScope.Cli.Commands;

internal sealed record LeakFitDto(double SlopeBytesPerSec, double SlopeStderrBytesPerSec, double RSquared, int Samples, double WindowSeconds)
{
    public static LeakFitDto? From(LinearFit? f) => f is { } x
        ? new LeakFitDto(x.SlopePerSec, double.IsFinite(x.SlopeStdErr) ? x.SlopeStdErr : -1, x.RSquared, x.Count, x.SpanSeconds)
        : null;
}

internal sealed record LeakSegmentDto(string Segment, double GrowthBytesPerSec, double RSquared, bool Growing);

internal sealed record LeakMappingDto(string Start, string End, string Perms, string Path, string Segment, bool New, double FirstBytes, double LastBytes);

/// <summary>`memscope leak PID --json`.</summary>
internal sealed record LeakTrendDto
{
    public required int Pid { get; init; }
    public required string Comm { get; init; }
    public required string Verdict { get; init; }
    public required double GrowthBytesPerSec { get; init; }
    public required double GrowthStderrBytesPerSec { get; init; }
    public required double RSquared { get; init; }
    public required string Reason { get; init; }
    public required int Samples { get; init; }
    public required double WindowSeconds { get; init; }
    public double FirstFootprintBytes { get; init; }
    public double LastFootprintBytes { get; init; }
    public LeakFitDto? EarlyFit { get; init; }
    public LeakFitDto? LateFit { get; init; }
    public LeakFitDto? Rss { get; init; }
    public LeakFitDto? Pss { get; init; }
    public LeakFitDto? Anon { get; init; }
    public LeakFitDto? Swap { get; init; }
    public List<LeakSegmentDto> Segments { get; init; } = [];
    public List<string> GrowingSegments { get; init; } = [];
    public List<LeakMappingDto> NewMappings { get; init; } = [];
    public List<LeakMappingDto> GrownMappings { get; init; } = [];
    public double? MemAvailableBytes { get; init; }
    public double? CgroupHeadroomBytes { get; init; }
    public double? SecondsToExhaustion { get; init; }
    public string? ExhaustionOf { get; init; }
    public bool SmapsDenied { get; init; }
    public string? EndedEarly { get; init; }
}

internal sealed record LeakAllRowDto(int Pid, string Comm, string Verdict, double GrowthBytesPerSec, double GrowthStderrBytesPerSec, double RSquared, double FirstBytes, double LastBytes, int Samples);

internal sealed record LeakAllDto(double WindowSeconds, int Processes, List<LeakAllRowDto> Ranking);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(LeakTrendDto))]
[JsonSerializable(typeof(LeakAllDto))]
internal partial class LeakJsonContext : JsonSerializerContext
{
    /// <summary>The generated options, but writing ± and ² as they are instead of \u escapes.</summary>
    // Lazy: static initialisers across the partial class's files run in no fixed order relative to Default's.
    private static System.Text.Json.JsonSerializerOptions? s_relaxed;
    private static System.Text.Json.JsonSerializerOptions RelaxedOptions => s_relaxed ??= new(Default.Options)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string Serialize<T>(T value) =>
        System.Text.Json.JsonSerializer.Serialize(value, (System.Text.Json.Serialization.Metadata.JsonTypeInfo<T>)RelaxedOptions.GetTypeInfo(typeof(T)));
}

internal static class LeakJsonMapper
{
    private static LeakMappingDto Map(MappingChange m) => new($"{m.Start:x}", $"{m.End:x}", m.Perms, m.Path, LeakRender.Segment(m.Segment), m.IsNew, m.FirstBytes, m.LastBytes);

    public static LeakTrendDto ToDto(int pid, string comm, LeakReport r, bool smapsDenied, string? endedEarly) => new()
    {
        Pid = pid,
        Comm = comm,
        Verdict = LeakRender.Verdict(r.Footprint.Verdict),
        GrowthBytesPerSec = r.Footprint.GrowthBytesPerSec,
        GrowthStderrBytesPerSec = double.IsFinite(r.Footprint.Fit.SlopeStdErr) ? r.Footprint.Fit.SlopeStdErr : -1,
        RSquared = r.Footprint.Fit.RSquared,
        Reason = r.Footprint.Reason,
        Samples = r.SampleCount,
        WindowSeconds = r.WindowSeconds,
        FirstFootprintBytes = r.Footprint.FirstBytes,
        LastFootprintBytes = r.Footprint.LastBytes,
        EarlyFit = LeakFitDto.From(r.Footprint.EarlyFit),
        LateFit = LeakFitDto.From(r.Footprint.LateFit),
        Rss = LeakFitDto.From(r.Rss),
        Pss = LeakFitDto.From(r.Pss),
        Anon = LeakFitDto.From(r.Anon),
        Swap = LeakFitDto.From(r.Swap),
        Segments = [.. r.Segments.Select(s => new LeakSegmentDto(LeakRender.Segment(s.Segment), s.Fit.SlopePerSec, s.Fit.RSquared, r.GrowingSegments.Contains(s.Segment)))],
        GrowingSegments = [.. r.GrowingSegments.Select(LeakRender.Segment)],
        NewMappings = [.. r.NewMappings.Take(50).Select(Map)],
        GrownMappings = [.. r.GrownMappings.Take(50).Select(Map)],
        MemAvailableBytes = r.MemAvailableBytes,
        CgroupHeadroomBytes = r.CgroupHeadroomBytes,
        SecondsToExhaustion = r.SecondsToExhaustion,
        ExhaustionOf = r.ExhaustionOf,
        SmapsDenied = smapsDenied,
        EndedEarly = endedEarly,
    };
}
