using System.Text.Json;

namespace MemScope.IntegrationTests;

/// <summary>
/// Swap and OOM, for real: `memscope lab swap` (temporary swap file + a memory cgroup below the worker's touched memory)
/// and `memscope lab oom` (a small cgroup, swap barred). Root only; everything the labs create must be gone afterwards.
/// </summary>
public class SwapOomLabTests
{
    private const string V1Root = "/sys/fs/cgroup/memory";

    private static ulong Vmstat(string key)
    {
        foreach (string line in File.ReadLines("/proc/vmstat"))
            if (line.StartsWith(key + " ", StringComparison.Ordinal)) return ulong.Parse(line[(key.Length + 1)..]);
        throw new InvalidOperationException($"no {key} in /proc/vmstat");
    }

    private static void RequireLabPrereqs()
    {
        TestEnv.RequireRoot("creates a swap file and memory cgroups");
        TestEnv.Require(Directory.Exists(V1Root) || File.ReadAllText("/proc/mounts").Contains("cgroup2"), "a memory cgroup hierarchy");
        TestEnv.RequireTool("mkswap");
        TestEnv.RequireTool("swapon");
    }

    [SkippableFact]
    public void Swap_ranks_the_overflowing_process_first_and_reports_swap_out()
    {
        RequireLabPrereqs();
        const ulong touched = 400UL << 20, limit = 200UL << 20, overflow = touched - limit;
        ulong pswpoutBefore = Vmstat("pswpout");
        int labPid, workerPid;
        string cgroupPath;
        using (var lab = new LabProcess("lab", "swap", "--size", "400M", "--limit", "200M", "--churn", "16", "--hold", "300"))
        {
            (labPid, workerPid, _, cgroupPath) = LabFirstLine.Swap(lab.FirstLine);
            Assert.Equal($"/memscope_lab_swap_{labPid}", cgroupPath);

            CliResult r = CliRun.Run("swap", "--json", "--interval", "2");
            Assert.Equal(0, r.ExitCode);
            using JsonDocument doc = JsonDocument.Parse(r.Stdout);
            JsonElement root = doc.RootElement;
            JsonElement first = root.GetProperty("processes")[0];
            Assert.Equal(workerPid, first.GetProperty("pid").GetInt32());
            Assert.True(first.GetProperty("swap_bytes").GetUInt64() >= overflow,
                $"worker swap {first.GetProperty("swap_bytes").GetUInt64()} < overflow {overflow}");
            Assert.Equal(cgroupPath, first.GetProperty("cgroup").GetString());
            // Swap-out activity: the kernel's counter moved by at least the overflow, and the 2 s window saw swap-out (--churn).
            ulong pswpout = root.GetProperty("reclaim").GetProperty("pswp_out").GetUInt64();
            Assert.True((pswpout - pswpoutBefore) * 4096 >= overflow, $"pswpout grew by {(pswpout - pswpoutBefore) * 4096} bytes < {overflow}");
            Assert.True(root.GetProperty("reclaim").GetProperty("swap_out_bytes_per_sec").GetDouble() > 0, "no swap-out in the 2 s window");
            JsonElement cg = root.GetProperty("cgroups").EnumerateArray().Single(c => c.GetProperty("path").GetString() == cgroupPath);
            Assert.True(cg.GetProperty("swap_bytes").GetUInt64() >= overflow / 2);
            Assert.Contains(root.GetProperty("explanation").EnumerateArray(), e => e.GetString()!.Contains(cgroupPath));

            CliResult human = CliRun.Run("swap", "--interval", "1");
            Assert.Equal(0, human.ExitCode);
            Assert.Contains(workerPid.ToString(), human.Stdout);
            Assert.Contains("Why", human.Stdout);

            Assert.Equal(0, lab.Stop());
        }
        // Everything borrowed is returned: no swap file, not in /proc/swaps, no cgroup, no worker.
        Assert.False(File.Exists($"/var/tmp/memscope_swap_{labPid}"));
        Assert.DoesNotContain($"memscope_swap_{labPid}", File.ReadAllText("/proc/swaps"));
        Assert.False(Directory.Exists(Path.Combine(V1Root, cgroupPath.TrimStart('/'))));
        Assert.False(Directory.Exists($"/proc/{workerPid}"));
    }

    [SkippableFact]
    public void Oom_kill_in_a_small_cgroup_appears_in_oom_history()
    {
        RequireLabPrereqs();
        ulong killsBefore = Vmstat("oom_kill");
        int labPid, workerPid;
        string comm, cgroupPath;
        using (var lab = new LabProcess("lab", "oom", "--size", "300M", "--limit", "100M"))
        {
            (labPid, workerPid, comm, cgroupPath) = LabFirstLine.Oom(lab.FirstLine);
            // Without --hold the lab cleans up and exits by itself; a SIGTERM now would race that cleanup.
            Assert.Equal(0, lab.WaitForExit());
        }
        Assert.True(Vmstat("oom_kill") > killsBefore);

        CliResult r = CliRun.Run("oom", "history", "--json");
        Assert.Equal(0, r.ExitCode);
        using JsonDocument doc = JsonDocument.Parse(r.Stdout);
        JsonElement kill = doc.RootElement.GetProperty("kills").EnumerateArray().Last(k => k.GetProperty("pid").GetInt32() == workerPid);
        Assert.Equal(comm, kill.GetProperty("command").GetString());
        Assert.Equal("memcg", kill.GetProperty("trigger").GetString());
        Assert.Equal(cgroupPath, kill.GetProperty("oom_cgroup").GetString());
        Assert.True(kill.GetProperty("anon_rss_bytes").GetUInt64() > 50UL << 20);
        Assert.True(doc.RootElement.GetProperty("oom_kills_since_boot").GetUInt64() > killsBefore);

        CliResult human = CliRun.Run("oom", "history");
        Assert.Contains(human.Stdout.Split('\n'), l => l.Contains($" {workerPid} ") && l.Contains(cgroupPath) && l.Contains("memory cgroup limit"));

        Assert.False(Directory.Exists(Path.Combine(V1Root, cgroupPath.TrimStart('/'))));
        Assert.False(Directory.Exists($"/proc/{workerPid}"));
    }

    [SkippableFact]
    public void Stale_lab_state_from_a_crashed_run_is_removed_at_next_start()
    {
        RequireLabPrereqs();
        TestEnv.Require(Directory.Exists(V1Root), "cgroup v1 memory hierarchy");
        // A pid that cannot be alive: above pid_max.
        int dead = int.Parse(File.ReadAllText("/proc/sys/kernel/pid_max").Trim()) + 1;
        string staleCg = Path.Combine(V1Root, $"memscope_lab_oom_{dead}");
        string staleFile = $"/var/tmp/memscope_swap_{dead}";
        Directory.CreateDirectory(staleCg);
        File.WriteAllBytes(staleFile, new byte[4096]);
        try
        {
            using var lab = new LabProcess("lab", "oom", "--size", "200M", "--limit", "64M");
            Assert.False(Directory.Exists(staleCg));
            Assert.False(File.Exists(staleFile));
        }
        finally
        {
            if (Directory.Exists(staleCg)) Directory.Delete(staleCg);
            if (File.Exists(staleFile)) File.Delete(staleFile);
        }
    }
}
