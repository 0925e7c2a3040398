using System.Text.Json.Serialization;

namespace MemScope.Cli.Serve;

/// <summary>/api/snapshot: the system view (bytes), a composition that sums to MemTotal, swap, pressure and rates.</summary>
internal sealed record SnapshotDto
{
    public required DateTimeOffset Time { get; init; }
    public string? Hostname { get; init; }
    public double? UptimeSeconds { get; init; }
    public required double IntervalSeconds { get; init; }
    public required MemoryDto Memory { get; init; }
    public required List<CompositionPart> Composition { get; init; }
    public required SwapDto Swap { get; init; }
    public PressureDto? Pressure { get; init; }
    public RatesDto? Rates { get; init; }
    /// <summary>Every /proc/meminfo field by its kernel name: bytes for kB lines, pages for HugePages_*.</summary>
    public required Dictionary<string, ulong> Meminfo { get; init; }
    public required int ProcessCount { get; init; }
    public int? FindingCount { get; init; }
}

internal sealed record MemoryDto
{
    public ulong? TotalBytes { get; init; }
    public ulong? FreeBytes { get; init; }
    /// <summary>Null on kernels before 3.14 (no MemAvailable): unknown, not 0.</summary>
    public ulong? AvailableBytes { get; init; }
    public ulong? BuffersBytes { get; init; }
    public ulong? CachedBytes { get; init; }
    public ulong? ShmemBytes { get; init; }
    public ulong? AnonBytes { get; init; }
    public ulong? SlabReclaimableBytes { get; init; }
    public ulong? SlabUnreclaimableBytes { get; init; }
    public ulong? DirtyBytes { get; init; }
    public ulong? WritebackBytes { get; init; }
    public ulong? CommittedBytes { get; init; }
    public ulong? CommitLimitBytes { get; init; }
}

/// <summary>One slice of MemTotal for the composition chart.</summary>
internal sealed record CompositionPart(string Id, string Label, ulong Bytes);

internal sealed record SwapDto
{
    public ulong? TotalBytes { get; init; }
    public ulong? FreeBytes { get; init; }
    public ulong? UsedBytes { get; init; }
    public ulong? CachedBytes { get; init; }
}

internal sealed record PressureDto(double? SomeAvg10, double? SomeAvg60, double? FullAvg10, double? FullAvg60, ulong? SomeTotalMicroseconds, ulong? FullTotalMicroseconds);

internal sealed record RatesDto
{
    public double ElapsedSeconds { get; init; }
    public double? SwapInBytesPerSec { get; init; }
    public double? SwapOutBytesPerSec { get; init; }
    public double? MajorFaultsPerSec { get; init; }
    public double? FaultsPerSec { get; init; }
    public double? ScanDirectPagesPerSec { get; init; }
    public double? ScanKswapdPagesPerSec { get; init; }
    public double? AllocStallsPerSec { get; init; }
}

/// <summary>/api/processes: the top N processes by the chosen key.</summary>
internal sealed record ProcessesDto
{
    public required DateTimeOffset Time { get; init; }
    public required string TopBy { get; init; }
    public required int Top { get; init; }
    public required int ProcessCount { get; init; }
    public required bool CmdlineHidden { get; init; }
    public required List<ProcessDto> Processes { get; init; }
}

internal sealed record ProcessDto
{
    public required int Pid { get; init; }
    public required string Comm { get; init; }
    /// <summary>Null with --hide-cmdline.</summary>
    public string? Cmdline { get; init; }
    public uint? Uid { get; init; }
    public string State { get; init; } = "";
    public int Threads { get; init; }
    public ulong RssBytes { get; init; }
    public ulong? PssBytes { get; init; }
    public ulong? UssBytes { get; init; }
    public ulong? SwapBytes { get; init; }
    public long? OomScore { get; init; }
    public long? OomScoreAdj { get; init; }
    /// <summary>smaps_rollup could not be read: PSS/USS are unknown.</summary>
    public bool SmapsDenied { get; init; }
}

/// <summary>/api/findings: what the doctor found, with evidence. <c>Available</c> is false when no doctor is wired in.</summary>
internal sealed record FindingsDto
{
    public required DateTimeOffset Time { get; init; }
    public required bool Available { get; init; }
    public required List<FindingDto> Findings { get; init; }
}

internal sealed record FindingDto
{
    public required string Id { get; init; }
    /// <summary>info, warning or critical.</summary>
    public required string Severity { get; init; }
    public required string Title { get; init; }
    public List<string> Evidence { get; init; } = [];
    public string? Explanation { get; init; }
    public string? Cause { get; init; }
    public string? NextStep { get; init; }
}

internal sealed record ErrorDto(string Error);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(SnapshotDto))]
[JsonSerializable(typeof(ProcessesDto))]
[JsonSerializable(typeof(FindingsDto))]
[JsonSerializable(typeof(ErrorDto))]
internal partial class ServeJsonContext : JsonSerializerContext;
