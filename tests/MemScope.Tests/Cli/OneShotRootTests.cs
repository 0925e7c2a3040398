namespace MemScope.Tests.Cli;

/// <summary>
/// free, vmstat, ps and maps parse under a plain root (no RootCommand, whose help and version options cost start-up)
/// unless the arguments hold a help token. Help, errors and global options must behave exactly as under the full tree.
/// </summary>
public sealed class OneShotRootTests
{
    private static readonly string FixtureProc = Path.Combine(Paths.SharedFixtures, "procfs", "proc");

    [Theory]
    [InlineData("free", "--help")]
    [InlineData("free", "-?")]
    [InlineData("free", "-b?")]
    [InlineData("vmstat", "--help")]
    [InlineData("ps", "-?")]
    public void Help_tokens_still_show_the_commands_help(string command, string token)
    {
        CliResult r = CliRun.Run(command, token);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("Usage:", r.Stdout);
        // In-process the root is named after the test host, as RootCommand names itself after the executable.
        string usage = r.Stdout.Split('\n').SkipWhile(l => !l.StartsWith("Usage:", StringComparison.Ordinal)).ElementAt(1);
        Assert.Contains($" {command} ", usage + " ");
        Assert.Contains("--proc-root", r.Stdout);
        Assert.Equal("", r.Stderr);
    }

    [Fact]
    public void Unknown_flag_is_one_english_line_naming_the_command()
    {
        CliResult r = CliRun.Run("free", "--nope", "--proc-root", FixtureProc);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("memscope: Unrecognized command or argument '--nope'. (see 'memscope free --help')", r.Stderr.TrimEnd());
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public void Help_after_double_dash_is_an_argument_not_help()
    {
        CliResult r = CliRun.Run("free", "--", "--help");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("Unrecognized command or argument '--help'", r.Stderr);
        Assert.DoesNotContain("Usage:", r.Stdout);
    }

    [Fact]
    public void Global_options_after_the_command_are_honoured()
    {
        CliResult r = CliRun.Run("free", "-b", "--proc-root", FixtureProc);
        Assert.True(r.ExitCode == 0, r.Stderr);
        string mem = r.Stdout.Split('\n').Single(l => l.StartsWith("Mem:", StringComparison.Ordinal));
        long total = long.Parse(mem.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        long memTotalKb = long.Parse(File.ReadLines(Path.Combine(FixtureProc, "meminfo")).First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        Assert.Equal(memTotalKb * 1024, total);
    }
}
