using System.Text.Json;

namespace MemScope.IntegrationTests.Leak;

/// <summary>`memscope leak PID` (trend mode) against `memscope lab leak` running in its own process.</summary>
public class LeakTrendIntegrationTests
{
    private const double Rate = 1024 * 1024;

    [Fact]
    public void Leaking_lab_is_a_leak_at_its_real_rate_in_the_heap_or_anonymous_memory()
    {
        using var lab = new LabProcess("lab", "leak", "--rate", "1M/s", "--duration", "60s");
        Thread.Sleep(1500); // let the runtime's own start-up allocations settle
        CliResult r = CliRun.Run("leak", lab.Pid.ToString(), "--duration", "10s", "--interval", "0.5s", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using JsonDocument doc = JsonDocument.Parse(r.Stdout);
        JsonElement root = doc.RootElement;
        Assert.Equal("leak", root.GetProperty("verdict").GetString());
        double rate = root.GetProperty("growth_bytes_per_sec").GetDouble();
        Assert.InRange(rate, Rate * 0.75, Rate * 1.25);
        string[] growing = [.. root.GetProperty("growing_segments").EnumerateArray().Select(e => e.GetString()!)];
        Assert.True(growing.Contains("heap") || growing.Contains("anon"), $"growing: {string.Join(",", growing)}");
        Assert.True(root.GetProperty("r_squared").GetDouble() > 0.9);
        Assert.True(root.GetProperty("seconds_to_exhaustion").GetDouble() > 0);
    }

    [Fact]
    public void No_leak_twin_is_not_a_leak()
    {
        using var lab = new LabProcess("lab", "leak", "--no-leak", "--rate", "1M/s", "--duration", "60s");
        // The twin keeps one second of allocations alive: give it that second to reach its flat footprint.
        Thread.Sleep(2500);
        CliResult r = CliRun.Run("leak", lab.Pid.ToString(), "--duration", "10s", "--interval", "0.5s", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using JsonDocument doc = JsonDocument.Parse(r.Stdout);
        string verdict = doc.RootElement.GetProperty("verdict").GetString()!;
        Assert.NotEqual("leak", verdict);
        Assert.True(Math.Abs(doc.RootElement.GetProperty("growth_bytes_per_sec").GetDouble()) < Rate * 0.1);
    }

    [Fact]
    public void Human_output_names_the_verdict_and_the_heap()
    {
        using var lab = new LabProcess("lab", "leak", "--rate", "2M/s", "--duration", "60s");
        Thread.Sleep(1500);
        CliResult r = CliRun.Run("leak", lab.Pid.ToString(), "--duration", "5s", "--interval", "0.5s");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("verdict: LEAK", r.Stdout);
        Assert.Matches(@"growing: .*(heap|anon)", r.Stdout);
        Assert.Contains("runs out in", r.Stdout);
    }

    [Fact]
    public void Process_that_exits_mid_run_ends_with_the_data_so_far_and_a_clear_line()
    {
        using var lab = new LabProcess("lab", "leak", "--rate", "1M/s", "--duration", "4s");
        CliResult r = CliRun.Run("leak", lab.Pid.ToString(), "--duration", "20s", "--interval", "0.5s", "--json");
        Assert.True(r.ExitCode == 3, $"exit {r.ExitCode}: {r.Stderr}");
        Assert.Contains($"pid {lab.Pid} exited after", r.Stderr);
        using JsonDocument doc = JsonDocument.Parse(r.Stdout);
        Assert.True(doc.RootElement.GetProperty("samples").GetInt32() >= 4);
        Assert.Contains("exited", doc.RootElement.GetProperty("ended_early").GetString());
    }

    [SkippableFact]
    public void Kernel_thread_gets_an_explanation()
    {
        // Any kernel thread (PF_KTHREAD), not "pid 2": /proc in a PID namespace has none and pid 2 is a user process.
        int? kthread = TestEnv.KernelThreadPid();
        TestEnv.Require(kthread is not null, "a kernel thread visible in /proc (a PID namespace hides them)");
        CliResult r = CliRun.Run("leak", kthread!.Value.ToString(), "--duration", "2s");
        Assert.Equal(5, r.ExitCode);
        Assert.Contains($"pid {kthread} (", r.Stderr);
        Assert.Contains("kernel thread", r.Stderr);
        Assert.DoesNotContain("Exception", r.Stderr);
    }

    [Fact]
    public void All_ranks_the_leaking_lab_as_a_leak()
    {
        using var lab = new LabProcess("lab", "leak", "--rate", "4M/s", "--duration", "60s");
        Thread.Sleep(1500);
        CliResult r = CliRun.Run("leak", "--all", "--duration", "5s", "--interval", "0.5s", "--json", "--top", "1000");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using JsonDocument doc = JsonDocument.Parse(r.Stdout);
        JsonElement row = doc.RootElement.GetProperty("ranking").EnumerateArray().Single(e => e.GetProperty("pid").GetInt32() == lab.Pid);
        Assert.Equal("leak", row.GetProperty("verdict").GetString());
        Assert.InRange(row.GetProperty("growth_bytes_per_sec").GetDouble(), 4 * Rate * 0.75, 4 * Rate * 1.25);
    }
}
