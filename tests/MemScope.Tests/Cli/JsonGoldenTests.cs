namespace MemScope.Tests.Cli;

/// <summary>
/// `--json` output that must stay byte-identical: maps (groups are the model's MappingGroup, enums written by name)
/// and hugepages (pools and top processes are the model's HugePagePool / HugePageUser). The golden files were
/// captured from the DTO-based code before the change (Captures/json-golden/README.md).
/// </summary>
public sealed class JsonGoldenTests : IDisposable
{
    private static readonly string Golden = Path.Combine(Paths.Captures, "json-golden");
    private static readonly string FixtureProc = Path.Combine(Paths.SharedFixtures, "procfs", "proc");
    private readonly string _tmp = Path.Combine(Path.GetTempPath(), "memscope-golden-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        try { Directory.Delete(_tmp, true); } catch (IOException) { }
    }

    [Fact]
    public void Maps_json_is_unchanged()
    {
        CliResult r = CliRun.Run("maps", "26231", "--proc-root", FixtureProc, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        AssertSame(Path.Combine(Golden, "maps-26231.json"), r.Stdout);
    }

    [Fact]
    public void Hugepages_json_is_unchanged()
    {
        string proc = Path.Combine(_tmp, "proc");
        TempTrees.CopyWritable(FixtureProc, proc);
        string rollup = Path.Combine(proc, "26231", "smaps_rollup");
        File.WriteAllText(rollup, System.Text.RegularExpressions.Regex.Replace(File.ReadAllText(rollup), @"(?m)^AnonHugePages:.*$", "AnonHugePages:      4096 kB"));
        CliResult r = CliRun.Run("hugepages", "--sys-root", Path.Combine(Paths.Captures, "hugepages-idle", "sys"), "--proc-root", proc, "--json", "--top", "3");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("\"anon_huge_pages_bytes\": 4194304", r.Stdout);
        AssertSame(Path.Combine(Golden, "hugepages-top3.json"), r.Stdout);
    }

    private static void AssertSame(string goldenPath, string actual)
    {
        string expected = File.ReadAllText(goldenPath);
        if (expected == actual) return;
        int at = 0;
        while (at < expected.Length && at < actual.Length && expected[at] == actual[at]) at++;
        string Around(string s) => s.Substring(Math.Max(0, at - 80), Math.Min(160, s.Length - Math.Max(0, at - 80)));
        Assert.Fail($"{Path.GetFileName(goldenPath)} differs at char {at}:\nexpected …{Around(expected)}…\nactual   …{Around(actual)}…");
    }
}
