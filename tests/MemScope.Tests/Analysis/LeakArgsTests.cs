using MemScope.Cli.Commands;

namespace MemScope.Tests.Analysis;

public class LeakArgsTests
{
    [Theory]
    [InlineData("30s", 30)]
    [InlineData("500ms", 0.5)]
    [InlineData("2m", 120)]
    [InlineData("1h", 3600)]
    [InlineData("1.5", 1.5)]
    public void Durations(string text, double seconds)
    {
        Assert.True(LeakArgs.TryParseDuration(text, out TimeSpan t));
        Assert.Equal(seconds, t.TotalSeconds, 6);
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("-3s")]
    [InlineData("5x")]
    public void Bad_durations(string text) => Assert.False(LeakArgs.TryParseDuration(text, out _));

    [Theory]
    [InlineData("1M/s", 1048576)]
    [InlineData("1MiB/s", 1048576)]
    [InlineData("512K/s", 524288)]
    [InlineData("512k", 524288)]
    [InlineData("1000", 1000)]
    [InlineData("2G/s", 2147483648)]
    public void Rates(string text, double expected)
    {
        Assert.True(LeakArgs.TryParseRate(text, out double r));
        Assert.Equal(expected, r);
    }

    [Fact]
    public void Leak_command_refuses_bad_input_with_one_line()
    {
        CliResult r = CliRun.Run("leak");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("give a PID", r.Stderr);
        r = CliRun.Run("leak", "1", "--all");
        Assert.Equal(2, r.ExitCode);
        r = CliRun.Run("leak", "999999999");
        Assert.Equal(3, r.ExitCode);
        Assert.Contains("no process 999999999", r.Stderr);
        r = CliRun.Run("leak", "1", "--interval", "soon");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--interval", r.Stderr);
    }
}
