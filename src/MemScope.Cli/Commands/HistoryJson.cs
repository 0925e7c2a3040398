using System.Text.Json.Serialization;
using MemScope.Store;

namespace MemScope.Cli.Commands;

/// <summary>JSON for report and diff: the library's records as they are (snake_case, bytes, ISO times).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never, NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(HistoryReport))]
[JsonSerializable(typeof(SnapshotDiff))]
[JsonSerializable(typeof(PlotResultJson))]
internal sealed partial class HistoryJsonContext : JsonSerializerContext;

/// <summary>What `memscope plot --json` prints: the files written.</summary>
internal sealed record PlotResultJson(IReadOnlyList<string> Files, int Samples, DateTimeOffset From, DateTimeOffset To);
