using System.Text.Json.Serialization;

namespace MemScope.Cli.Commands;

/// <summary>`memscope fincore --json`: one entry per file; page counts in base pages, null = not measured.</summary>
internal sealed record FincoreJsonDto
{
    public required int PageSize { get; init; }
    public required string Method { get; init; }
    public required List<FincoreFileJson> Files { get; init; }
    public required List<FincoreErrorJson> Errors { get; init; }
}

internal sealed record FincoreFileJson
{
    public required string Path { get; init; }
    public required long SizeBytes { get; init; }
    public required long Pages { get; init; }
    public required long CachedPages { get; init; }
    public required long CachedBytes { get; init; }
    public double? CachedPercent { get; init; }
    public long? DirtyPages { get; init; }
    public long? WritebackPages { get; init; }
    public long? EvictedPages { get; init; }
    public long? RecentlyEvictedPages { get; init; }
    public required string Method { get; init; }
    public required bool Reliable { get; init; }
}

internal sealed record FincoreErrorJson(string Path, string Error);

/// <summary>`memscope cachestat --json`: one object per interval per line. Page counts; bytes where named.</summary>
internal sealed record CachestatJsonDto
{
    public required DateTimeOffset Time { get; init; }
    public required double IntervalSeconds { get; init; }
    public required string Method { get; init; }
    public required long Hits { get; init; }
    public required long Misses { get; init; }
    public long? Dirties { get; init; }
    public double? HitRatio { get; init; }
    public required long Accesses { get; init; }
    public required long ReadAccesses { get; init; }
    public required long MmapAccesses { get; init; }
    public required long MissCalls { get; init; }
    public required long UnknownOrderCalls { get; init; }
    public required long LostSamples { get; init; }
    public ulong? BuffersBytes { get; init; }
    public ulong? CachedBytes { get; init; }
    public required int PageSize { get; init; }
}

/// <summary>`memscope cachetop --json`: one object per interval per line.</summary>
internal sealed record CachetopJsonDto
{
    public required DateTimeOffset Time { get; init; }
    public required double IntervalSeconds { get; init; }
    public required string Method { get; init; }
    public required List<CachetopProcessJson> Processes { get; init; }
    public required List<DirectIoJson> DirectIo { get; init; }
    public required long LostSamples { get; init; }
    public required int PageSize { get; init; }
}

internal sealed record CachetopProcessJson
{
    public required int Pid { get; init; }
    public uint? Uid { get; init; }
    public string? User { get; init; }
    public string? Comm { get; init; }
    public required long Hits { get; init; }
    public required long Misses { get; init; }
    public required long Dirties { get; init; }
    public required long DirtiedFolios { get; init; }
    public required long ReadAccesses { get; init; }
    public required long MmapAccesses { get; init; }
    public double? ReadHitPercent { get; init; }
    public double? WriteHitPercent { get; init; }
}

internal sealed record DirectIoJson(int Pid, string? Comm, int Fd, string? Path);

/// <summary>`memscope cache --json`.</summary>
internal sealed record CacheJsonDto
{
    public required DateTimeOffset Time { get; init; }
    public required Dictionary<string, ulong?> Meminfo { get; init; }
    public required CacheReclaimJson Reclaim { get; init; }
    public required List<FincoreFileJson> Files { get; init; }
    public required int CandidatesExamined { get; init; }
    public required int CandidatesFailed { get; init; }
    public required string FileMethod { get; init; }
    /// <summary>Replay only: why <see cref="Files"/> is empty (a recording keeps meminfo, not file residency).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? FilesNotListed { get; init; }
}

internal sealed record CacheReclaimJson
{
    public ulong? BuffCacheBytes { get; init; }
    public ulong? CleanUnmappedBytes { get; init; }
    public ulong? CleanMappedBytes { get; init; }
    public ulong? DirtyWritebackBytes { get; init; }
    public ulong? ShmemBytes { get; init; }
    public ulong? UnevictableBytes { get; init; }
    public ulong? SlabReclaimableBytes { get; init; }
    public ulong? ReclaimableEstimateBytes { get; init; }
    public ulong? NotReclaimableBytes { get; init; }
    public ulong? MemAvailableBytes { get; init; }
    public required List<string> Notes { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(FincoreJsonDto))]
[JsonSerializable(typeof(CacheJsonDto))]
internal sealed partial class CacheJsonContext : JsonSerializerContext;

/// <summary>Streaming outputs: one compact object per line (JSON Lines).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = false)]
[JsonSerializable(typeof(CachestatJsonDto))]
[JsonSerializable(typeof(CachetopJsonDto))]
internal sealed partial class CacheStreamJsonContext : JsonSerializerContext;
