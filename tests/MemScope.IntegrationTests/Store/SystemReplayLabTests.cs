using System.Globalization;
using System.Text.Json;
using MemScope.Store;
using Microsoft.Data.Sqlite;

namespace MemScope.IntegrationTests.Store;

/// <summary>
/// `swap` and `doctor` replayed from a real recording: `memscope record` runs while the swap lab pushes its worker into
/// swap, or while the OOM lab gets its worker killed; the replays (with --proc-root pointed at an empty directory, so
/// nothing live can be read) must name the worker and the finding. Root only; the labs return every swap file and cgroup.
/// </summary>
public sealed class SystemReplayLabTests : IDisposable
{
    private const string V1Root = "/sys/fs/cgroup/memory";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "memscope-sysreplay-" + Guid.NewGuid().ToString("N"));

    public SystemReplayLabTests() => Directory.CreateDirectory(Path.Combine(_dir, "empty"));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private string Db => Path.Combine(_dir, "rec.db");
    private string Empty => Path.Combine(_dir, "empty");

    private static void RequireLabPrereqs()
    {
        TestEnv.RequireRoot("creates a swap file and memory cgroups, and reads /dev/kmsg");
        TestEnv.Require(Directory.Exists(V1Root) || File.ReadAllText("/proc/mounts").Contains("cgroup2"), "a memory cgroup hierarchy");
        TestEnv.RequireTool("mkswap");
        TestEnv.RequireTool("swapon");
    }

    private static string Iso(long unixMs) => DateTimeOffset.FromUnixTimeMilliseconds(unixMs).ToString("O", CultureInfo.InvariantCulture);

    private static void Terminate(RecorderProcess rec)
    {
        TestEnv.Run("kill", "-TERM", rec.Process.Id.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(0, rec.WaitForExit(TimeSpan.FromSeconds(30)));
    }

    /// <summary>The lab's own swap file and cgroup are gone (other engineers' labs may run at the same time: only ours are checked).</summary>
    private static void AssertNoLabStateLeft(int labPid, string cgroupPath)
    {
        Assert.DoesNotContain($"memscope_swap_{labPid}", File.ReadAllText("/proc/swaps"));
        Assert.False(File.Exists($"/var/tmp/memscope_swap_{labPid}"));
        Assert.False(Directory.Exists(Path.Combine(V1Root, cgroupPath.TrimStart('/'))));
        Assert.False(Directory.Exists(Path.Combine("/sys/fs/cgroup", cgroupPath.TrimStart('/'))));
    }

    [SkippableFact]
    public void Swap_lab_recorded_then_swap_and_doctor_replay_name_the_worker_and_the_swap_finding()
    {
        RequireLabPrereqs();
        const ulong overflow = (400UL - 200UL) << 20;
        int workerPid, labPid;
        string cgroupPath;
        List<(long Id, long UnixMs, long Size)> samples;
        using (var lab = new LabProcess("lab", "swap", "--size", "400M", "--limit", "200M", "--churn", "16", "--hold", "300"))
        {
            (labPid, workerPid, _, cgroupPath) = LabFirstLine.Swap(lab.FirstLine);
            using (var rec = new RecorderProcess("--db", Db, "--interval", "1s", "--top", "5", "-v"))
            {
                rec.WaitForSamples(6, TimeSpan.FromSeconds(60));
                Terminate(rec);
                samples = rec.Samples;
            }
            Assert.Equal(0, lab.Stop());
        }
        AssertNoLabStateLeft(labPid, cgroupPath);

        string at = Iso(samples[^1].UnixMs);
        CliResult swap = CliRun.Run("--proc-root", Empty, "--sys-root", Empty, "swap", "--db", Db, "--at", at, "--json");
        Assert.True(swap.ExitCode == 0, $"swap exit {swap.ExitCode}: {swap.Stderr}");
        using (JsonDocument doc = JsonDocument.Parse(swap.Stdout))
        {
            JsonElement root = doc.RootElement;
            JsonElement first = root.GetProperty("processes")[0];
            Assert.Equal(workerPid, first.GetProperty("pid").GetInt32());
            Assert.True(first.GetProperty("swap_bytes").GetUInt64() >= overflow / 2, $"worker swap {first.GetProperty("swap_bytes").GetUInt64()}");
            // The lab's swap file was recorded as the active device, with the zones' watermarks and the sysctls of the time.
            Assert.Contains(root.GetProperty("devices").EnumerateArray(), d => d.GetProperty("filename").GetString()!.Contains("memscope_swap_"));
            Assert.NotEmpty(root.GetProperty("zones").EnumerateArray());
            Assert.Equal(long.Parse(File.ReadAllText("/proc/sys/vm/swappiness").Trim(), CultureInfo.InvariantCulture), root.GetProperty("swappiness").GetInt64());
            Assert.StartsWith("replay of ", root.GetProperty("replay").GetString());
            // The lab's memory cgroup was recorded: its swap shows in the cgroup table as it does live.
            JsonElement cg = root.GetProperty("cgroups").EnumerateArray().Single(c => c.GetProperty("path").GetString() == cgroupPath);
            Assert.True(cg.GetProperty("swap_bytes").GetUInt64() >= overflow / 2, $"cgroup swap {cg.GetProperty("swap_bytes").GetUInt64()}");
        }
        CliResult human = CliRun.Run("--proc-root", Empty, "swap", "--db", Db, "--at", at);
        Assert.Equal(0, human.ExitCode);
        Assert.StartsWith("Replay: ", human.Stdout);
        Assert.Contains($"  {workerPid} ", human.Stdout);

        // The doctor over the whole recorded window names the swapping. The window is the recording's own span (six
        // samples take more than 10 s when a loaded machine delays them), so that every sample is in it.
        string window = $"{(samples[^1].UnixMs - samples[0].UnixMs) / 1000 + 1}s";
        CliResult d = CliRun.Run("--proc-root", Empty, "--sys-root", Empty, "doctor", "--db", Db, "--at", at, "--duration", window, "--json");
        Assert.True(d.ExitCode is 1 or 2, $"doctor exit {d.ExitCode}: {d.Stdout} {d.Stderr}");
        using (JsonDocument doc = JsonDocument.Parse(d.Stdout))
        {
            JsonElement root = doc.RootElement;
            Assert.Equal(samples.Count, root.GetProperty("samples").GetInt32());
            Assert.StartsWith($"replay of {Db}", root.GetProperty("replay").GetString());
            string all = string.Join("; ", root.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("id").GetString() + "/" + f.GetProperty("severity").GetString()));
            Assert.True(root.GetProperty("findings").EnumerateArray().Any(f => f.GetProperty("id").GetString() == "swap-activity"
                && f.GetProperty("severity").GetString() is "warning" or "critical"), all);
        }
    }

    [SkippableFact]
    public void Oom_lab_during_recording_leaves_an_event_the_doctor_replay_reports_with_the_victim_pid()
    {
        RequireLabPrereqs();
        int workerPid, labPid;
        string cgroupPath;
        List<(long Id, long UnixMs, long Size)> samples;
        using (var rec = new RecorderProcess("--db", Db, "--interval", "1s", "--top", "5", "-v"))
        {
            rec.WaitForSamples(2, TimeSpan.FromSeconds(60));
            using (var lab = new LabProcess("lab", "oom", "--size", "300M", "--limit", "100M"))
            {
                (labPid, workerPid, _, cgroupPath) = LabFirstLine.Oom(lab.FirstLine);
                Assert.Equal(0, lab.WaitForExit());
            }
            // Two more samples: the kernel log is polled after each one.
            int seen = rec.Samples.Count;
            rec.WaitForSamples(seen + 2, TimeSpan.FromSeconds(60));
            Terminate(rec);
            samples = rec.Samples;
        }
        AssertNoLabStateLeft(labPid, cgroupPath);

        using (var store = HistoryStore.OpenForReading(Db))
        {
            var kill = Assert.Single(store.ReadOomKills(), k => k.Pid == workerPid);
            Assert.Equal(cgroupPath, kill.OomCgroup);
            Assert.True(kill.AnonRssBytes > 50UL << 20, $"anon-rss {kill.AnonRssBytes}");
            Assert.InRange(kill.Time!.Value.ToUnixTimeMilliseconds(), samples[0].UnixMs - 2000, samples[^1].UnixMs + 2000);
        }
        // Recording once more does not store the same kill again.
        using (var again = new RecorderProcess("--db", Db, "--count", "1"))
            Assert.Equal(0, again.WaitForExit(TimeSpan.FromSeconds(60)));
        using (var store = HistoryStore.OpenForReading(Db))
            Assert.Single(store.ReadOomKills(), k => k.Pid == workerPid);

        string at = Iso(samples[^1].UnixMs);
        string window = $"{(samples[^1].UnixMs - samples[0].UnixMs) / 1000 + 1}s";
        CliResult d = CliRun.Run("--proc-root", Empty, "--sys-root", Empty, "doctor", "--db", Db, "--at", at, "--duration", window, "--json");
        Assert.True(d.ExitCode == 2, $"doctor exit {d.ExitCode}: {d.Stdout} {d.Stderr}");
        using JsonDocument doc = JsonDocument.Parse(d.Stdout);
        JsonElement oom = doc.RootElement.GetProperty("findings").EnumerateArray().Single(f => f.GetProperty("id").GetString() == "oom-kill");
        Assert.Equal("critical", oom.GetProperty("severity").GetString());
        Assert.Contains(oom.GetProperty("evidence").EnumerateArray(), e => e.GetProperty("label").GetString() == "victim"
            && e.GetProperty("value").GetString()!.Contains($"(pid {workerPid})") && e.GetProperty("value").GetString()!.Contains(cgroupPath));
    }
}
