using System.Globalization;
using System.Text.Json;

namespace MemScope.Tests.Fixtures;

/// <summary>
/// One entry of a shared fixture's expected.json (see ../shared/fixtures/README.md): the fixture file, the values the
/// source project's tests assert, their units, the keys asserted absent, and derived values. Handlers compare our
/// parsers against it; mismatches are collected and reported together by <see cref="ThrowIfFailed"/>.
/// </summary>
public sealed class FixtureEntry
{
    private readonly List<string> _failures = [];

    public FixtureEntry(string source, string key, JsonElement json)
    {
        Source = source;
        Key = key;
        Json = json;
        SourceDir = Path.Combine(Paths.SharedFixtures, source);
    }

    /// <summary>The source folder name: procfs, node_exporter, gopsutil, goprocinfo, go-sysinfo, psutil.</summary>
    public string Source { get; }
    /// <summary>The fixture path relative to the source folder; directory entries end with '/'.</summary>
    public string Key { get; }
    public JsonElement Json { get; }
    public string SourceDir { get; }
    public string Id => $"{Source}:{Key}";
    public override string ToString() => Id;

    /// <summary>Absolute path of the fixture file (or directory).</summary>
    public string FullPath => Path.Combine(SourceDir, Key.TrimEnd('/'));
    /// <summary>The file name (last path segment), e.g. "meminfo", "stat", "ksm" for directory keys.</summary>
    public string FileName => Path.GetFileName(Key.TrimEnd('/'));
    public bool IsDirectory => Key.EndsWith('/');
    public string[] Segments => Key.TrimEnd('/').Split('/');

    public string Unit => Json.TryGetProperty("unit", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString()! : "";
    public bool ParseOnly => Flag("parse_only");
    public bool Unasserted => Flag("unasserted");
    public bool Synthetic => Flag("synthetic");
    /// <summary>True when only "parses without error" is expected.</summary>
    public bool ParseOnlyOrUnasserted => ParseOnly || Unasserted;

    public JsonElement? Values => Prop("values");
    public JsonElement? ValuesBytes => Prop("values_bytes");
    public JsonElement? Derived => Prop("derived");
    public JsonElement? SameAs => Prop("same_as");

    public IReadOnlyList<string> Absent =>
        Prop("absent") is { ValueKind: JsonValueKind.Array } a ? a.EnumerateArray().Select(x => x.GetString()!).ToList() : [];

    /// <summary>The unit of one field: field_units override, else the entry's unit.</summary>
    public string FieldUnit(string field) =>
        Prop("field_units") is { ValueKind: JsonValueKind.Object } fu && fu.TryGetProperty(field, out var u) ? u.GetString()! : Unit;

    /// <summary>
    /// The procfs root for this fixture: the path up to the LAST "proc" segment of the key
    /// (e.g. procfs/proc, goprocinfo/linux/proc, psutil/inline/X/proc). Null when the key is not under a proc folder.
    /// </summary>
    public string? ProcRoot => RootAt("proc");
    /// <summary>The sysfs root, like <see cref="ProcRoot"/> for "sys".</summary>
    public string? SysRoot => RootAt("sys");

    /// <summary>The segment after the proc root ("26231", "self", "meminfo"...).</summary>
    public string? AfterProc
    {
        get
        {
            string[] s = Segments;
            int i = Array.LastIndexOf(s, "proc");
            return i >= 0 && i + 1 < s.Length ? s[i + 1] : null;
        }
    }

    /// <summary>The directory the file sits in ("26231", "self", "task"...).</summary>
    public string? ParentName => Segments.Length >= 2 ? Segments[^2] : null;

    /// <summary>True for a per-process file: its folder is a pid or "self" (gopsutil keeps them without a proc folder).</summary>
    public bool InProcessDirectory => ParentName is "self" or "*" || int.TryParse(ParentName, NumberStyles.None, CultureInfo.InvariantCulture, out _);

    /// <summary>The pid directory this file sits in (proc/PID/file), null for self or non-process files.</summary>
    public int? Pid => int.TryParse(AfterProc, NumberStyles.None, CultureInfo.InvariantCulture, out int p) ? p : null;

    private string? RootAt(string name)
    {
        string[] s = Segments;
        int i = Array.LastIndexOf(s, name);
        if (i < 0) return null;
        return Path.Combine(SourceDir, string.Join('/', s[..(i + 1)]));
    }

    private bool Flag(string name) => Json.TryGetProperty(name, out var f) && f.ValueKind == JsonValueKind.True;
    private JsonElement? Prop(string name) => Json.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    // ---- iteration -------------------------------------------------------------------------------------------

    /// <summary>Each (field, expected) of an object-valued "values" (or another object property).</summary>
    public IEnumerable<(string Field, JsonElement Expected)> Fields(JsonElement? obj)
    {
        if (obj is not { ValueKind: JsonValueKind.Object } o) yield break;
        foreach (JsonProperty p in o.EnumerateObject()) yield return (p.Name, p.Value);
    }

    // ---- assertions (collected) ---------------------------------------------------------------------------------

    public int Checks { get; private set; }
    public IReadOnlyList<string> Failures => _failures;

    public void Fail(string field, string message) => _failures.Add($"{field}: {message}");

    /// <summary>Asserts an integer field: <paramref name="actual"/> × nothing equals <paramref name="expected"/> × <paramref name="expectedScale"/>.</summary>
    public void Number(string field, ulong? actual, JsonElement expected, ulong expectedScale = 1)
    {
        Checks++;
        if (actual is null)
        {
            Fail(field, $"missing (null), expected {expected.GetRawText()}{Scale(expectedScale)}");
            return;
        }
        if (expected.ValueKind != JsonValueKind.Number)
        {
            Fail(field, $"expected value {expected.GetRawText()} is not a number");
            return;
        }
        if (expected.TryGetUInt64(out ulong u))
        {
            UInt128 want = (UInt128)u * expectedScale;
            if (want != actual.Value) Fail(field, $"got {actual}, expected {want} ({u}{Scale(expectedScale)})");
            return;
        }
        if (expected.TryGetInt64(out long s))
        {
            // A negative expectation compared with an unsigned value: the two's-complement reading.
            if (expectedScale != 1 || unchecked((long)actual.Value) != s) Fail(field, $"got {unchecked((long)actual.Value)}, expected {s}");
            return;
        }
        double d = expected.GetDouble();
        if (Math.Abs(d * expectedScale - actual.Value) > 1e-9 * Math.Max(1, Math.Abs(d * expectedScale)))
            Fail(field, $"got {actual}, expected {d * expectedScale}");
    }

    /// <summary>Asserts a signed integer field.</summary>
    public void Signed(string field, long? actual, JsonElement expected)
    {
        Checks++;
        if (actual is null) { Fail(field, $"missing (null), expected {expected.GetRawText()}"); return; }
        if (!expected.TryGetInt64(out long want)) { Fail(field, $"expected {expected.GetRawText()} is not a 64-bit signed integer"); return; }
        if (actual != want) Fail(field, $"got {actual}, expected {want}");
    }

    /// <summary>Asserts a floating-point value with a relative tolerance (the sources' float64 artefacts differ in the last digit).</summary>
    public void Real(string field, double? actual, JsonElement expected, double relTol = 1e-9)
    {
        Checks++;
        if (actual is null) { Fail(field, $"missing (null), expected {expected.GetRawText()}"); return; }
        double want = expected.GetDouble();
        if (Math.Abs(actual.Value - want) > relTol * Math.Max(1e-12, Math.Abs(want)) && Math.Abs(actual.Value - want) > 1e-12)
            Fail(field, $"got {actual.Value.ToString("R", CultureInfo.InvariantCulture)}, expected {want.ToString("R", CultureInfo.InvariantCulture)}");
    }

    public void Text(string field, string? actual, JsonElement expected)
    {
        Checks++;
        string? want = expected.ValueKind == JsonValueKind.String ? expected.GetString() : expected.GetRawText();
        if (actual != want) Fail(field, $"got {Quote(actual)}, expected {Quote(want)}");
    }

    public void Text(string field, string? actual, string? expected)
    {
        Checks++;
        if (actual != expected) Fail(field, $"got {Quote(actual)}, expected {Quote(expected)}");
    }

    /// <summary>Asserts a list of integers (lowmem_reserve_ratio, NSpid, Cpus_allowed_list, ...).</summary>
    public void NumberList(string field, IReadOnlyList<long>? actual, JsonElement expected, int? comparePrefix = null)
    {
        Checks++;
        if (actual is null) { Fail(field, $"missing (null), expected {expected.GetRawText()}"); return; }
        long[] want = expected.EnumerateArray().Select(e => e.TryGetInt64(out long v) ? v : unchecked((long)e.GetUInt64())).ToArray();
        IEnumerable<long> got = comparePrefix is int n ? actual.Take(n) : actual;
        if (!got.SequenceEqual(want)) Fail(field, $"got [{string.Join(',', actual)}], expected [{string.Join(',', want)}]");
    }

    /// <summary>A key the source asserts missing (Go zero value): our parser must report null, never 0.</summary>
    public void Missing(string field, object? actual)
    {
        Checks++;
        if (actual is not null) Fail(field, $"asserted absent, but our parser reports {actual}");
    }

    public void True(string field, bool condition, string message)
    {
        Checks++;
        if (!condition) Fail(field, message);
    }

    public void NoMapping(string field) => Fail(field, "the handler does not know this field (extend the parser or the handler)");

    public void ThrowIfFailed()
    {
        if (_failures.Count > 0)
            Assert.Fail($"{Id}: {_failures.Count} of {Checks} checks failed:\n  " + string.Join("\n  ", _failures));
    }

    private static string Scale(ulong s) => s == 1 ? "" : $" × {s}";
    private static string Quote(string? s) => s is null ? "null" : $"'{s}'";

    // ---- unit helpers ---------------------------------------------------------------------------------------------

    /// <summary>
    /// The factor from the expected value's unit to bytes for a field our model holds in bytes: 1 for "bytes", 1024 for
    /// "kB"/"KiB", and 1 for counts (HugePages_*, "pages (count...)"), which our model keeps as counts.
    /// </summary>
    public ulong BytesFactor(string field)
    {
        string unit = FieldUnit(field).TrimStart();
        if (unit.StartsWith("pages", StringComparison.OrdinalIgnoreCase) || unit.StartsWith("count", StringComparison.OrdinalIgnoreCase)) return 1;
        if (field.StartsWith("HugePages_", StringComparison.Ordinal)) return 1; // counts in every source's unit text
        if (unit.StartsWith("bytes", StringComparison.OrdinalIgnoreCase)) return 1;
        if (unit.StartsWith("kB", StringComparison.OrdinalIgnoreCase) || unit.StartsWith("KiB", StringComparison.Ordinal)) return 1024;
        throw new InvalidOperationException($"{Id}: unknown unit '{unit}' for {field}");
    }

    /// <summary>Reads an expected integer that may be written as a JSON number or a decimal string.</summary>
    public static string AsDecimalText(JsonElement e) => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText();
}
