using System.Text.Json;

namespace MemScope.IntegrationTests.Procps;

/// <summary>`ps --cgroup` live: the worker of a `memscope lab swap` shows its memscope_lab memory cgroup. Root only.</summary>
public class PsCgroupLiveTests
{
    [SkippableFact]
    public void Lab_worker_shows_its_memscope_lab_cgroup()
    {
        TestEnv.RequireRoot("the swap lab creates a memory cgroup (and a small swap file when none is active)");
        TestEnv.RequireTool("mkswap");
        int workerPid, labPid;
        string cgroupPath;
        using (var lab = new LabProcess("lab", "swap", "--size", "48M", "--limit", "32M", "--swap-size", "64M", "--churn", "0", "--hold", "120"))
        {
            (labPid, workerPid, _, cgroupPath) = LabFirstLine.Swap(lab.FirstLine);
            Assert.Equal($"/memscope_lab_swap_{labPid}", cgroupPath);

            CliResult j = CliRun.Run("ps", "--pid", $"{workerPid},{labPid}", "--cgroup", "--json", "--no-pss");
            Assert.True(j.ExitCode == 0, j.Stderr);
            using JsonDocument doc = JsonDocument.Parse(j.Stdout);
            var byPid = doc.RootElement.GetProperty("processes").EnumerateArray().ToDictionary(p => p.GetProperty("pid").GetInt32(), p => p.GetProperty("memory_cgroup").GetString());
            Assert.Equal(cgroupPath, byPid[workerPid]);
            Assert.NotEqual(cgroupPath, byPid[labPid]);            // the lab itself stays outside
            // The same path as the kernel prints it for the worker (v1 memory line, or the v2 line).
            string own = File.ReadAllLines($"/proc/{workerPid}/cgroup").First(l => l.Split(':')[1].Split(',').Contains("memory") || l.StartsWith("0::"));
            Assert.EndsWith(":" + cgroupPath, own);

            CliResult t = CliRun.Run("ps", "--pid", workerPid.ToString(), "--cgroup", "--no-pss", "-w");
            Assert.Equal(0, t.ExitCode);
            string[] lines = t.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Contains("CGROUP", lines[0]);
            Assert.Contains(" " + cgroupPath + " ", lines[1]);

            Assert.Equal(0, lab.Stop());
        }
        Assert.False(Directory.Exists(Path.Combine("/sys/fs/cgroup/memory", cgroupPath.TrimStart('/'))));
    }
}
