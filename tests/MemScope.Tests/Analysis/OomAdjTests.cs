using MemScope.Cli;
using MemScope.Cli.Commands;

namespace MemScope.Tests;

public class OomAdjTests
{
    [Theory]
    [InlineData(-17, -1000)]
    [InlineData(15, 1000)]
    [InlineData(0, 0)]
    [InlineData(1, 58)]     // 1000/17 = 58.8, truncated
    [InlineData(-1, -58)]   // C division truncates toward zero
    [InlineData(14, 823)]
    [InlineData(-16, -941)]
    public void Legacy_conversion_is_the_kernels(long oomAdj, long expected)
    {
        Assert.Equal(expected, OomCommand.LegacyToScoreAdj(oomAdj));
    }

    [Theory]
    [InlineData("1001", false)]
    [InlineData("-1001", false)]
    [InlineData("abc", false)]
    [InlineData("1.5", false)]
    [InlineData("", false)]
    [InlineData("16", true)]
    [InlineData("-18", true)]
    [InlineData("-1000", true)]
    public void Bad_values_are_usage_errors(string value, bool legacy)
    {
        var e = Assert.Throws<CliException>(() => OomCommand.ParseAdj(value, legacy, out _));
        Assert.Equal(ExitCodes.Usage, e.ExitCode);
    }

    private static string OwnAdj() => File.ReadAllText($"/proc/{Environment.ProcessId}/oom_score_adj").Trim();

    [Theory]
    [InlineData("2000", 2, "out of range")]
    [InlineData("-1001", 2, "out of range")]
    [InlineData("lots", 2, "not a whole number")]
    public void Cli_rejects_bad_values_and_leaves_the_old_value(string value, int code, string message)
    {
        string before = OwnAdj();
        CliResult r = CliRun.Run("oom", "adj", Environment.ProcessId.ToString(), value);
        Assert.Equal(code, r.ExitCode);
        Assert.Contains(message, r.Stderr);
        Assert.StartsWith("memscope: ", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr); // no stack trace
        Assert.Equal(before, OwnAdj());
    }

    [Fact]
    public void Cli_legacy_out_of_range_and_missing_pid()
    {
        string before = OwnAdj();
        CliResult legacy = CliRun.Run("oom", "adj", "--legacy", Environment.ProcessId.ToString(), "16");
        Assert.Equal(2, legacy.ExitCode);
        Assert.Contains("-17 to 15", legacy.Stderr);
        Assert.Equal(before, OwnAdj());

        CliResult missing = CliRun.Run("oom", "adj", "2147483000", "5");
        Assert.Equal(3, missing.ExitCode);
        Assert.Contains("no process 2147483000", missing.Stderr);

        CliResult badPid = CliRun.Run("oom", "adj", "self", "5");
        Assert.Equal(2, badPid.ExitCode);
        Assert.Contains("not a process id", badPid.Stderr);

        CliResult noValue = CliRun.Run("oom", "adj", Environment.ProcessId.ToString());
        Assert.NotEqual(0, noValue.ExitCode);
        Assert.Equal(before, OwnAdj());
    }
}
