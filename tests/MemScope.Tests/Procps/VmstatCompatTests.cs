namespace MemScope.Tests.Procps;

/// <summary>
/// `memscope vmstat` (first line, since boot) and `vmstat -s` against the real procps-ng 4.0.2 on the same
/// bind-mounted /proc/stat, /proc/vmstat and /proc/meminfo (Captures/procps/capture.sh).
/// </summary>
public class VmstatCompatTests
{
    public static IEnumerable<object[]> Cases() =>
        from input in ProcpsCaptures.Inputs
        from flags in ProcpsCaptures.VmstatFlags
        select new object[] { input.Name, flags };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Vmstat_output_equals_procps(string input, string flags)
    {
        string root = ProcpsCaptures.FakeRoot(ProcpsCaptures.Get(input));
        string[] args = ["vmstat", "--proc-root", root, .. flags.Split(' ', StringSplitOptions.RemoveEmptyEntries)];
        CliResult r = CliRun.Run(args);
        Assert.Equal("", r.Stderr);
        Assert.Equal(0, r.ExitCode);
        ProcpsCaptures.AssertSameOutput(ProcpsCaptures.Expected("vmstat", input, flags), r.Stdout);
    }

    [Fact]
    public void Guest_time_is_taken_out_of_user_time_and_shown_as_gu_in_wide_mode()
    {
        // node_exporter's stat has guest 44 + guest_nice 36 ticks; procps 4.0.2 prints 'gu' only with -w.
        string expected = ProcpsCaptures.Expected("vmstat", "node_exporter", "-w");
        Assert.Contains(" gu", expected.Split('\n')[1]);
        Assert.DoesNotContain(" gu", ProcpsCaptures.Expected("vmstat", "node_exporter", "").Split('\n')[1]);
    }

    [Fact]
    public void Json_first_sample_is_since_boot_in_bytes()
    {
        string root = ProcpsCaptures.FakeRoot(ProcpsCaptures.Get("node_exporter"));
        CliResult r = CliRun.Run("vmstat", "--proc-root", root, "--json");
        Assert.Equal(0, r.ExitCode);
        string[] lines = r.Stdout.TrimEnd('\n').Split('\n');
        Assert.Single(lines);
        using var doc = System.Text.Json.JsonDocument.Parse(lines[0]);
        var e = doc.RootElement;
        Assert.True(e.GetProperty("since_boot").GetBoolean());
        Assert.Equal(225472L * 1024, e.GetProperty("free_bytes").GetInt64());
        Assert.Equal(1038940L * 1024, e.GetProperty("swap_used_bytes").GetInt64());
        Assert.Equal(2, e.GetProperty("procs_running").GetInt64());
        double pct = e.GetProperty("cpu_user_pct").GetDouble() + e.GetProperty("cpu_system_pct").GetDouble()
                     + e.GetProperty("cpu_idle_pct").GetDouble() + e.GetProperty("cpu_iowait_pct").GetDouble()
                     + e.GetProperty("cpu_steal_pct").GetDouble() + e.GetProperty("cpu_guest_pct").GetDouble();
        Assert.InRange(pct, 99.9, 100.1);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("abc")]
    [InlineData("1.5")]
    public void Bad_delay_is_one_line_and_exit_2(string delay)
    {
        CliResult r = CliRun.Run("vmstat", delay, "1");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Single(r.Stderr.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("memscope: vmstat:", r.Stderr);
    }

    [Fact]
    public void Bad_unit_is_refused() =>
        Assert.Contains("-S requires k, K, m or M", CliRun.Run("vmstat", "-S", "x").Stderr);
}
