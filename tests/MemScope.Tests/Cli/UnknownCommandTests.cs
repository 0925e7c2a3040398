namespace MemScope.Tests.Cli;

/// <summary>A typo at the top level names the word that was not understood, in one line, exit 2.</summary>
public sealed class UnknownCommandTests
{
    [Theory]
    [InlineData(new[] { "frees" }, "memscope: unknown command 'frees' (see 'memscope --help')")]
    [InlineData(new[] { "--lang", "zh", "vmstats" }, "memscope: unknown command 'vmstats' (see 'memscope --help')")]
    [InlineData(new[] { "--bogus" }, "memscope: unknown option '--bogus' (see 'memscope --help')")]
    public void Unknown_word_at_the_root_is_named(string[] args, string expected)
    {
        CliResult r = CliRun.Run(args);
        Assert.Equal(2, r.ExitCode);
        Assert.Equal(expected, r.Stderr.TrimEnd());
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public void No_command_at_all_says_one_is_needed()
    {
        CliResult r = CliRun.Run();
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("memscope: Required command was not provided. (see 'memscope --help')", r.Stderr.TrimEnd());
    }

    [Fact]
    public void Unknown_option_of_a_known_command_keeps_the_command_in_the_hint()
    {
        CliResult r = CliRun.Run("slab", "--nope");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("memscope: Unrecognized command or argument '--nope'. (see 'memscope slab --help')", r.Stderr.TrimEnd());
    }
}
