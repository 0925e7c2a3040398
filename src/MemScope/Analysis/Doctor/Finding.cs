namespace MemScope.Analysis.Doctor;

/// <summary>How bad a finding is. The doctor's exit code is 0 (nothing above info), 1 (warning) or 2 (critical).</summary>
public enum Severity { Info = 0, Warning = 1, Critical = 2 }

/// <summary>Text in English and Simplified Chinese; the doctor prints the one the user asked for.</summary>
public sealed record Text(string En, string Zh)
{
    public string In(string lang) => lang == "zh" && Zh.Length > 0 ? Zh : En;
    public static implicit operator Text((string En, string Zh) pair) => new(pair.En, pair.Zh);
}

/// <summary>One figure behind a finding, with where it came from (file and field, or the formula).</summary>
public sealed record Evidence(string Label, string Value, string Source);

/// <summary>
/// What the doctor found: a stable id (the rule's), how bad, the evidence, the explanation in plain words, the likely
/// cause, the commands to confirm, and the fixes people use.
/// </summary>
public sealed record Finding
{
    public required string Id { get; init; }
    public required Severity Severity { get; init; }
    public required Text Title { get; init; }
    public IReadOnlyList<Evidence> Evidence { get; init; } = [];
    public required Text Explanation { get; init; }
    public Text? Cause { get; init; }
    public IReadOnlyList<string> Next { get; init; } = [];
    public IReadOnlyList<Text> Fixes { get; init; } = [];
}

/// <summary>A rule that could not run, and why (missing source, no privilege...). The report lists these.</summary>
public sealed record SkippedRule(string Id, string Reason);

/// <summary>Everything one doctor run concluded.</summary>
public sealed record DoctorReport(
    DateTimeOffset Time,
    double WindowSeconds,
    int Samples,
    IReadOnlyList<Finding> Findings,
    IReadOnlyList<SkippedRule> Skipped,
    IReadOnlyList<Evidence> HealthFigures)
{
    /// <summary>Set when the report was built from a recording: which one and which window ("replay of PATH, T1 to T2").</summary>
    public string? Replay { get; init; }
    public Severity Worst => Findings.Count == 0 ? Severity.Info : Findings.Max(f => f.Severity);
    public bool Healthy => Worst == Severity.Info;
    public int ExitCode => (int)Worst;
}
