namespace MemScope.Tests.Analysis;

public class LeakArgsTests
{
    // The duration and rate spellings are in Units/SizeAndDurationTextTests.

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
