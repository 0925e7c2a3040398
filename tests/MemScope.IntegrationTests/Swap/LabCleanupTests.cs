using System.Diagnostics;
using System.Text.RegularExpressions;
using MemScope.Cli.Commands;
using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.IntegrationTests;

/// <summary>
/// The OOM/swap labs' memory cgroups do not outlive the run: not when a SIGTERM lands while the lab is still cleaning
/// up (it used to end the process before rmdir), not when a task is still in the cgroup at rmdir, and not when the lab
/// itself is SIGKILLed (its worker follows it, so the next start's stale cleanup can rmdir). Root only.
/// </summary>
public class LabCleanupTests
{
    private static CgroupHierarchy Hierarchy()
    {
        TestEnv.RequireRoot("creates memory cgroups");
        MemoryCgroups cg = MemoryCgroups.Discover(new ProcFs("/proc"), new SysFs("/sys"));
        CgroupHierarchy? h = cg.V1 ?? cg.V2;
        TestEnv.Require(h is not null, "a memory cgroup hierarchy");
        return h!;
    }

    private static string MemoryCgroupOf(int pid) =>
        ProcessCgroups.TryRead(new ProcFs("/proc"), pid) is { } pc ? (pc.MemoryV1Path ?? pc.UnifiedPath ?? "?") : "gone";

    [SkippableFact]
    public void A_SIGTERM_during_cleanup_does_not_end_the_lab_before_its_cgroup_is_removed()
    {
        CgroupHierarchy h = Hierarchy();
        using var lab = new LabProcess("lab", "oom", "--size", "200M", "--limit", "64M", "--hold", "2");
        Match m = Regex.Match(lab.FirstLine, @"^pid (\d+): worker (\d+) .* was OOM-killed");
        Assert.True(m.Success, lab.FirstLine);
        string dir = Path.Combine(h.Directory, LabSwapOomState.OomCgroupPrefix + m.Groups[1].Value);
        // A child cgroup keeps the lab's rmdir failing with EBUSY (as a task that is still exiting does), so after the
        // 2 s hold the lab sits in its cleanup, retrying. A SIGTERM then used to end it there and leave the cgroup.
        string child = Path.Combine(dir, "memscope_test_child");
        Directory.CreateDirectory(child);
        try
        {
            Thread.Sleep(3500);
            Assert.True(Directory.Exists(dir));
            Assert.False(lab.HasExited, "the lab should be retrying rmdir");
            Assert.Equal(0, Kill(lab.Pid, 15));
            Thread.Sleep(1500);
            Assert.False(lab.HasExited, "SIGTERM ended the lab in the middle of its cleanup");
        }
        finally
        {
            Directory.Delete(child);
        }
        Assert.Equal(0, lab.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.False(Directory.Exists(dir), $"{dir} outlived the lab");
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    [SkippableFact]
    public void RemoveCgroup_moves_a_live_task_out_and_removes_the_cgroup()
    {
        CgroupHierarchy h = Hierarchy();
        // Named after this (live) test process, so a concurrent lab's stale cleanup leaves it alone.
        string dir = Path.Combine(h.Directory, LabSwapOomState.OomCgroupPrefix + Environment.ProcessId);
        using Process sleeper = Process.Start(new ProcessStartInfo("sleep", "60"))!;
        try
        {
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "cgroup.procs"), sleeper.Id.ToString());
            Assert.Equal("/" + Path.GetFileName(dir), MemoryCgroupOf(sleeper.Id));

            LabSwapOomState.RemoveCgroup(h, dir);

            Assert.False(Directory.Exists(dir));
            Assert.False(sleeper.HasExited);
            Assert.Equal("/", MemoryCgroupOf(sleeper.Id));   // moved to the parent, not killed
        }
        finally
        {
            try { sleeper.Kill(); } catch (InvalidOperationException) { }
            sleeper.WaitForExit();
            if (Directory.Exists(dir)) LabSwapOomState.RemoveCgroup(h, dir);
        }
    }

    [SkippableFact]
    public void A_worker_whose_lab_was_SIGKILLed_exits_and_the_cgroup_can_go()
    {
        CgroupHierarchy h = Hierarchy();
        string dll = typeof(MemScope.Cli.CliHost).Assembly.Location;
        string dir = Path.Combine(h.Directory, LabSwapOomState.OomCgroupPrefix + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        // A stand-in lab: a shell that starts the worker in the cgroup and then becomes `sleep` (the worker's parent).
        var psi = new ProcessStartInfo("sh") { RedirectStandardOutput = true };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add($"dotnet '{dll}' lab worker --parent $$ --touch 4M --cgroup '{dir}' >/dev/null 2>&1 & echo $!; exec sleep 120");
        using Process fakeLab = Process.Start(psi)!;
        int worker = int.Parse(fakeLab.StandardOutput.ReadLine()!.Trim());
        try
        {
            var joined = Stopwatch.StartNew();
            while (MemoryCgroupOf(worker) != "/" + Path.GetFileName(dir) && joined.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(100);
            Assert.Equal("/" + Path.GetFileName(dir), MemoryCgroupOf(worker));

            fakeLab.Kill(); // SIGKILL: no cleanup can run in the lab
            fakeLab.WaitForExit();

            var gone = Stopwatch.StartNew();
            while (Directory.Exists($"/proc/{worker}") && gone.Elapsed < TimeSpan.FromSeconds(15)) Thread.Sleep(100);
            Assert.False(Directory.Exists($"/proc/{worker}"), "the worker outlived its lab");
            Assert.Empty(File.ReadAllText(Path.Combine(dir, "cgroup.procs")).Trim());
            Directory.Delete(dir); // empty now: rmdir succeeds without moving anything
        }
        finally
        {
            if (Directory.Exists($"/proc/{worker}")) try { Process.GetProcessById(worker).Kill(); } catch (ArgumentException) { }
            if (Directory.Exists(dir)) LabSwapOomState.RemoveCgroup(h, dir);
        }
    }
}
