using System.Text.Json.Serialization;
using MemScope.Model;

namespace MemScope.Cli.Commands;

/// <summary>`memscope free --json`: the same figures as the table, in bytes; null = the kernel does not say.</summary>
internal sealed record FreeJsonDto
{
    public required DateTimeOffset Time { get; init; }
    public required FreeMemJson Mem { get; init; }
    public required FreeRowJson Low { get; init; }
    public required FreeRowJson High { get; init; }
    public required FreeRowJson Swap { get; init; }
    public required FreeRowJson Total { get; init; }
    public required FreeCommitJson Commit { get; init; }

    public static FreeJsonDto From(FreeFigures f, DateTimeOffset time) => new()
    {
        Time = time,
        Mem = new FreeMemJson
        {
            TotalBytes = f.TotalBytes,
            UsedBytes = f.UsedBytes,
            FreeBytes = f.FreeBytes,
            SharedBytes = f.SharedBytes,
            BuffersBytes = f.BuffersBytes,
            CacheBytes = f.CacheBytes,
            BuffCacheBytes = f.BuffCacheBytes,
            AvailableBytes = f.AvailableBytes,
            AvailableFromMemFree = f.AvailableFromMemFree,
        },
        Low = new FreeRowJson { TotalBytes = f.LowTotalBytes, UsedBytes = f.LowUsedBytes, FreeBytes = f.LowFreeBytes },
        High = new FreeRowJson { TotalBytes = f.HighTotalBytes, UsedBytes = f.HighUsedBytes, FreeBytes = f.HighFreeBytes },
        Swap = new FreeRowJson { TotalBytes = f.SwapTotalBytes, UsedBytes = f.SwapUsedBytes, FreeBytes = f.SwapFreeBytes },
        Total = new FreeRowJson
        {
            TotalBytes = f.SwapTotalBytes is ulong st ? f.TotalBytes + st : null,
            UsedBytes = f.UsedBytes is ulong u && f.SwapUsedBytes is ulong su ? u + su : null,
            FreeBytes = f.FreeBytes is ulong fr && f.SwapFreeBytes is ulong sf ? fr + sf : null,
        },
        Commit = new FreeCommitJson { LimitBytes = f.CommitLimitBytes, CommittedBytes = f.CommittedBytes, FreeBytes = f.CommitFreeBytes },
    };
}

internal sealed record FreeMemJson
{
    public ulong TotalBytes { get; init; }
    public ulong? UsedBytes { get; init; }
    public ulong? FreeBytes { get; init; }
    public ulong? SharedBytes { get; init; }
    public ulong? BuffersBytes { get; init; }
    public ulong? CacheBytes { get; init; }
    public ulong? BuffCacheBytes { get; init; }
    public ulong? AvailableBytes { get; init; }
    /// <summary>The kernel has no MemAvailable (before 3.14): available is MemFree, as procps shows it.</summary>
    public bool AvailableFromMemFree { get; init; }
}

internal sealed record FreeRowJson
{
    public ulong? TotalBytes { get; init; }
    public ulong? UsedBytes { get; init; }
    public ulong? FreeBytes { get; init; }
}

internal sealed record FreeCommitJson
{
    public ulong? LimitBytes { get; init; }
    public ulong? CommittedBytes { get; init; }
    /// <summary>limit − committed; negative when overcommitted.</summary>
    public long? FreeBytes { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(FreeJsonDto))]
internal partial class FreeJsonContext : JsonSerializerContext;

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = false)]
[JsonSerializable(typeof(FreeJsonDto))]
internal partial class FreeJsonLinesContext : JsonSerializerContext;
