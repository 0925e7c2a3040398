namespace MemScope.IntegrationTests.Procps;

/// <summary>`memscope free -b` against this machine's procps `free -b`, read a moment apart.</summary>
public class FreeLiveTests
{
    private static long[] Numbers(string output, string label) =>
        output.Split('\n').Single(l => l.StartsWith(label, StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();

    [SkippableFact]
    public void Free_b_matches_procps_free_b()
    {
        string free = TestEnv.RequireTool("free");
        string theirs = TestEnv.Run(free, "-b", "-w");
        CliResult ours = CliRun.Run("free", "-b", "-w");
        Assert.Equal(0, ours.ExitCode);
        Assert.Equal("", ours.Stderr);
        // same header words and row labels
        Assert.Equal(theirs.Split('\n')[0], ours.Stdout.Split('\n')[0]);

        long[] t = Numbers(theirs, "Mem:"), o = Numbers(ours.Stdout, "Mem:");
        Assert.Equal(7, o.Length);
        Assert.Equal(t[0], o[0]);                        // MemTotal: exact
        const long drift = 256L << 20;                   // a noisy machine: 256 MiB between two reads
        for (int i = 1; i < 7; i++)
            Assert.True(Math.Abs(t[i] - o[i]) < drift, $"Mem column {i}: procps {t[i]} vs memscope {o[i]}");
        Assert.Equal(o[0] - o[6], o[1]);                 // used = total - available, in our own row
        long[] ts = Numbers(theirs, "Swap:"), os = Numbers(ours.Stdout, "Swap:");
        Assert.Equal(ts[0], os[0]);                      // SwapTotal: exact
        Assert.True(Math.Abs(ts[1] - os[1]) < drift);
    }

    [SkippableFact]
    public void Human_output_uses_the_same_units_as_procps()
    {
        string free = TestEnv.RequireTool("free");
        string theirs = TestEnv.Run(free, "-h");
        CliResult ours = CliRun.Run("free", "-h");
        // The total column cannot drift: identical text.
        string Total(string s) => s.Split('\n')[1].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        Assert.Equal(Total(theirs), Total(ours.Stdout));
    }

    [Fact]
    public void Repeats_with_count_and_a_blank_line_between()
    {
        CliResult r = CliRun.Run("free", "-s", "0.1", "-c", "3");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal(3, r.Stdout.Split('\n').Count(l => l.StartsWith("Mem:")));
        Assert.Equal(2, r.Stdout.Split('\n').Count(l => l.Length == 0) - 1); // two separators + final newline
    }
}
