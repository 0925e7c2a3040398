namespace MemScope.IntegrationTests.Procps;

/// <summary>`memscope vmstat 1 2` on this machine: the interval line is sane and agrees with procps's columns.</summary>
public class VmstatLiveTests
{
    private static long[] Row(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(long.Parse).ToArray();

    [Fact]
    public void Second_line_is_a_sane_one_second_interval()
    {
        CliResult r = CliRun.Run("vmstat", "1", "2");
        Assert.Equal(0, r.ExitCode);
        string[] lines = r.Stdout.TrimEnd('\n').Split('\n');
        Assert.Equal(4, lines.Length);                   // two header lines, since boot, one interval
        Assert.StartsWith("procs ---", lines[0]);
        long[] v = Row(lines[3]);
        Assert.Equal(17, v.Length);
        long cpu = v[12] + v[13] + v[14] + v[15] + v[16];
        Assert.InRange(cpu, 97, 103);                    // us+sy+id+wa+st, each rounded
        Assert.InRange(v[10], 1, 1_000_000);             // interrupts happen every second
        Assert.InRange(v[11], 1, 10_000_000);            // and context switches
        var mem = File.ReadAllLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:"));
        long totalKb = long.Parse(mem.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        Assert.InRange(v[3], 1, totalKb);                // free KiB
    }

    [SkippableFact]
    public void Memory_columns_match_procps_vmstat_within_drift()
    {
        string vmstat = TestEnv.RequireTool("vmstat");
        long[] theirs = Row(TestEnv.Run(vmstat).TrimEnd('\n').Split('\n')[2]);
        CliResult ours = CliRun.Run("vmstat");
        long[] o = Row(ours.Stdout.TrimEnd('\n').Split('\n')[2]);
        Assert.Equal(theirs[2], o[2]);                               // swpd
        Assert.InRange(Math.Abs(theirs[3] - o[3]), 0, 262_144);      // free, 256 MiB drift
        Assert.InRange(Math.Abs(theirs[5] - o[5]), 0, 262_144);      // cache
        for (int i = 8; i < 12; i++)                                 // since-boot rates barely move
            Assert.InRange(Math.Abs(theirs[i] - o[i]), 0, Math.Max(5, theirs[i] / 10));
    }

    [Fact]
    public void Json_emits_one_object_per_sample()
    {
        CliResult r = CliRun.Run("vmstat", "--json", "1", "2");
        Assert.Equal(0, r.ExitCode);
        string[] lines = r.Stdout.TrimEnd('\n').Split('\n');
        Assert.Equal(2, lines.Length);
        using var second = System.Text.Json.JsonDocument.Parse(lines[1]);
        Assert.False(second.RootElement.GetProperty("since_boot").GetBoolean());
        Assert.InRange(second.RootElement.GetProperty("interval_seconds").GetDouble(), 0.9, 5);
        Assert.True(second.RootElement.GetProperty("free_bytes").GetInt64() > 0);
    }
}
