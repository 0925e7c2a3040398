using System.Diagnostics;
using System.Globalization;

namespace MemScope.IntegrationTests.Top;

public class TopTests
{
    /// <summary>The command that starts memscope in the tmux pane: MEMSCOPE_BIN when set, else dotnet memscope.dll.</summary>
    private static readonly string Memscope = string.Join(' ', CliRun.Command());

    private static double ParseHuman(string s)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        for (int i = units.Length - 1; i >= 0; i--)
            if (s.EndsWith(units[i], StringComparison.Ordinal) && double.TryParse(s[..^units[i].Length], NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                return v * Math.Pow(1024, i);
        throw new FormatException(s);
    }

    [Fact]
    public void Batch_frames_are_text_tables_with_the_test_process_and_its_RSS_close_to_ps()
    {
        using var lab = new LabProcess("lab", "mmap", "--size", "96M", "--touch", "100%");
        CliResult r = CliRun.Run("top", "-b", "-n", "2", "-d", "0.5", "--filter", lab.Pid.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(0, r.ExitCode);
        string[] frames = r.Stdout.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, frames.Length);
        foreach (string frame in frames)
        {
            string[] lines = frame.Split('\n');
            Assert.StartsWith("memscope top", lines[0]);
            Assert.StartsWith("Mem  [", lines[1]);
            int header = Array.FindIndex(lines, l => l.TrimStart().StartsWith("PID ", StringComparison.Ordinal));
            Assert.True(header > 0, frame);
            string[] columns = lines[header].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(["PID", "USER", "RES", "PSS", "USS", "SWAP", "GROWTH/s", "OOM", "COMMAND"], columns);
            string row = lines.Skip(header + 1).Single(l => l.TrimStart().StartsWith(lab.Pid + " ", StringComparison.Ordinal));
            string[] cells = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            double res = ParseHuman(cells[2]);
            double psRss = double.Parse(TestEnv.Run("ps", "-o", "rss=", "-p", lab.Pid.ToString(CultureInfo.InvariantCulture)).Trim(), CultureInfo.InvariantCulture) * 1024;
            Assert.InRange(res, psRss * 0.9, psRss * 1.1);
            Assert.True(res > 96 << 20, $"the lab touched 96 MiB, RES is {res}");
            Assert.Contains("lab mmap", row);
        }
    }

    [Fact]
    public void Bad_delay_is_a_usage_error()
    {
        CliResult r = CliRun.Run("top", "-b", "-d", "0");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--delay", r.Stderr);
    }

    [SkippableFact]
    public void Interactive_view_under_tmux_sorts_filters_opens_segments_and_restores_the_terminal()
    {
        string tmux = TestEnv.RequireTool("tmux");
        using var lab = new LabProcess("lab", "mmap", "--size", "64M", "--touch", "50%");
        string session = $"memscope_top_{Environment.ProcessId}";
        string Tmux(params string[] args) => TestEnv.Run(tmux, args);
        string Screen() => Tmux("capture-pane", "-p", "-t", session);
        string WaitFor(Func<string, bool> condition, string what)
        {
            var clock = Stopwatch.StartNew();
            string screen = "";
            while (clock.Elapsed < TimeSpan.FromSeconds(40))
            {
                screen = Screen();
                if (condition(screen)) return screen;
                Thread.Sleep(250);
            }
            throw new Xunit.Sdk.XunitException($"timed out waiting for {what}; screen:\n{screen}");
        }

        Tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "30",
            $"env NO_COLOR=1 {Memscope} top -d 1; echo MEMSCOPE_TOP_EXITED; sleep 60");
        try
        {
            string pid = lab.Pid.ToString(CultureInfo.InvariantCulture);
            WaitFor(s => s.Contains("Mem  [") && s.Contains("Swap [") && s.Contains("PSI"), "the meters");
            Tmux("send-keys", "-t", session, "M");
            WaitFor(s => s.Contains("sort RES"), "sort RES");
            Tmux("send-keys", "-t", session, "S");
            WaitFor(s => s.Contains("sort SWAP"), "sort SWAP");
            Tmux("send-keys", "-t", session, "/");
            Tmux("send-keys", "-t", session, "-l", pid);
            Tmux("send-keys", "-t", session, "Enter");
            string filtered = WaitFor(s => s.Contains($"filter '{pid}'") && s.Split('\n').Any(l => l.TrimStart('>', ' ').StartsWith(pid + " ")), "the filtered row");
            int rows = filtered.Split('\n').SkipWhile(l => !l.TrimStart().StartsWith("PID ")).Skip(1).Count(l => l.Trim().Length > 0);
            Assert.Equal(1, rows);
            Tmux("send-keys", "-t", session, "Enter");
            WaitFor(s => s.Contains($"Segment view of") && s.Contains($"pid {pid}") && s.Contains("SEGMENT"), "the segment view");
            Tmux("send-keys", "-t", session, "x");
            WaitFor(s => s.Contains("sort SWAP"), "back to the table");
            Tmux("send-keys", "-t", session, "q");
            string after = WaitFor(s => s.Contains("MEMSCOPE_TOP_EXITED"), "top to exit");
            // The alternate screen is gone: the table and meters are no longer on the restored terminal.
            Assert.DoesNotContain("Mem  [", after);
            Assert.DoesNotContain("sort SWAP", after);
        }
        finally
        {
            try { Tmux("kill-session", "-t", session); } catch (InvalidOperationException) { }
        }
    }
}
