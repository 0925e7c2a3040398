using System.Text.Json;
using System.Text.RegularExpressions;

namespace MemScope.Tests.Cli;

/// <summary>memscope maps on the prometheus/procfs fixture root (process 26231, an alertmanager).</summary>
public class MapsCommandFixtureTests
{
    private static readonly string Proc = Path.Combine(Paths.SharedFixtures, "procfs", "proc");

    [Fact]
    public void Pmap_x_total_line_is_the_sum_of_the_fixture()
    {
        var r = CliRun.Run("maps", "-x", "26231", "--proc-root", Proc);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var m = Regex.Match(r.Stdout, @"(?m)^total kB\s+(\d+)\s+(\d+)\s+(\d+)$");
        Assert.True(m.Success, r.Stdout);
        Assert.Equal("29948", m.Groups[2].Value);                     // Rss sum asserted by procfs (kB)
        Assert.Equal((14396 + 0).ToString(), m.Groups[3].Value);      // Private_Dirty + Shared_Dirty
        Assert.StartsWith("26231:", r.Stdout);
        Assert.Contains("r-x-- alertmanager", r.Stdout);
    }

    [Fact]
    public void Segment_view_json_and_csv_on_the_fixture()
    {
        var r = CliRun.Run("maps", "26231", "--proc-root", Proc, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var j = JsonDocument.Parse(r.Stdout).RootElement;
        Assert.Equal(29948UL * 1024, j.GetProperty("totals").GetProperty("rss").GetUInt64());
        Assert.Equal(1940UL * 1024, j.GetProperty("totals").GetProperty("swap_pss").GetUInt64());
        var first = j.GetProperty("mappings")[0];
        Assert.Equal("code", first.GetProperty("kind").GetString()); // the binary is inferred without /proc/PID/exe
        Assert.Equal("/bin/alertmanager", first.GetProperty("path").GetString());
        Assert.Contains(j.GetProperty("groups").EnumerateArray(), g => g.GetProperty("kind").GetString() == "heap" || g.GetProperty("kind").GetString() == "stack");
        ulong groupRss = j.GetProperty("groups").EnumerateArray().Aggregate(0UL, (a, g) => a + g.GetProperty("rss_bytes").GetUInt64());
        Assert.Equal(29948UL * 1024, groupRss);

        var text = CliRun.Run("maps", "26231", "--proc-root", Proc);
        Assert.Matches(@"(?m)^code\s+code\s+/bin/alertmanager", text.Stdout);
        Assert.Contains("address space, low to high", text.Stdout);

        var csv = CliRun.Run("maps", "26231", "--proc-root", Proc, "--csv", "--sort", "rss").Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("start,end,perms,offset,dev,inode,segment,kind,heuristic,path,size_bytes", csv[0]);
        Assert.Equal(j.GetProperty("mappings").GetArrayLength() + 1, csv.Length);
    }

    [Fact]
    public void A_pid_missing_from_the_root_gives_one_line_and_exit_3()
    {
        var r = CliRun.Run("maps", "1", "--proc-root", Proc);
        Assert.Equal(3, r.ExitCode);
        Assert.Equal("memscope: no process with PID 1 (it does not exist or has exited)", r.Stderr.TrimEnd());
    }
}
