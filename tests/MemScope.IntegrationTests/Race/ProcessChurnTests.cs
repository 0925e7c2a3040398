using System.Diagnostics;
using MemScope.Model;
using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.IntegrationTests.Race;

/// <summary>
/// Processes that exit between listing and reading must be skipped quietly (counted as gone), never an error. The
/// churn test starts and kills many short-lived processes while snapshots with smaps_rollup are taken in a loop.
/// </summary>
public class ProcessChurnTests
{
    private static Process StartSleeper(string seconds = "30")
    {
        var psi = new ProcessStartInfo("/bin/sleep") { UseShellExecute = false };
        psi.ArgumentList.Add(seconds);
        return Process.Start(psi)!;
    }

    [Fact]
    public void Snapshots_survive_heavy_process_churn()
    {
        var collector = new SnapshotCollector(new ProcFs(), new SysFs());
        var options = new CollectOptions { Processes = true, Detail = ProcessDetail.WithSmapsRollup };
        using var stop = new CancellationTokenSource();
        int started = 0;
        var churners = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            var alive = new Queue<Process>();
            while (!stop.IsCancellationRequested)
            {
                alive.Enqueue(StartSleeper());
                Interlocked.Increment(ref started);
                // Kill the oldest soon after: each pid lives a few milliseconds, exiting mid-scan.
                if (alive.Count > 8)
                {
                    using Process p = alive.Dequeue();
                    p.Kill();
                    p.WaitForExit();
                }
            }
            while (alive.Count > 0)
            {
                using Process p = alive.Dequeue();
                p.Kill();
                p.WaitForExit();
            }
        })).ToArray();

        int snapshots = 0, gone = 0;
        var watch = Stopwatch.StartNew();
        try
        {
            while (watch.Elapsed < TimeSpan.FromSeconds(8) || snapshots < 5)
            {
                Snapshot s = collector.Collect(options); // must never throw
                snapshots++;
                gone += s.ProcessesGone;
                Assert.NotEmpty(s.Processes);
                Assert.All(s.Processes, p => Assert.True(p.Pid > 0 && p.Comm is not null));
                // Our own process is always there, with its PSS read.
                ProcessSnapshot self = Assert.Single(s.Processes, p => p.Pid == Environment.ProcessId);
                Assert.True(self.PssBytes > 0, "own PSS unknown");
            }
        }
        finally
        {
            stop.Cancel();
            Task.WaitAll(churners);
        }
        Console.WriteLine($"{snapshots} snapshots while {started} processes started and were killed; {gone} seen gone mid-scan");
        Assert.True(started > 50, $"only {started} processes churned");
    }

    [Fact]
    public void Exited_processes_are_counted_as_gone_not_errors()
    {
        var proc = new ProcFs();
        var children = Enumerable.Range(0, 20).Select(_ => StartSleeper()).ToList();
        var pids = children.Select(c => c.Id).ToHashSet();
        // Alive: every child is read.
        var collector = new SnapshotCollector(proc, new SysFs());
        Snapshot before = collector.Collect(new CollectOptions { Processes = true, Detail = ProcessDetail.WithSmapsRollup, Pids = pids });
        Assert.Equal(pids.Count, before.Processes.Count);
        Assert.All(before.Processes, p => Assert.Equal("sleep", p.Comm));

        // Killed and reaped between "listing" (the pid set) and reading: every one is gone, nothing throws.
        foreach (Process c in children)
        {
            c.Kill();
            c.WaitForExit();
            c.Dispose();
        }
        Snapshot after = collector.Collect(new CollectOptions { Processes = true, Detail = ProcessDetail.WithSmapsRollup, Pids = pids });
        Assert.Empty(after.Processes);
        Assert.Equal(pids.Count, after.ProcessesGone);
        Assert.Equal(0, after.ProcessesDenied);
        var reader = new ProcessReader(proc);
        Assert.All(pids, pid => Assert.Null(reader.TryRead(pid, ProcessDetail.WithSmapsRollup)));
    }

    [Fact]
    public void A_zombie_is_read_not_an_error()
    {
        // Killed but not yet reaped: the pid is a zombie (state Z); its stat is readable, its smaps_rollup is empty.
        var psi = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add("sleep 30 & echo $!; exec sleep 30");
        psi.RedirectStandardOutput = true;
        using Process parent = Process.Start(psi)!;
        int child = int.Parse(parent.StandardOutput.ReadLine()!);
        try
        {
            Process.Start("/bin/kill", ["-9", child.ToString()])!.WaitForExit();
            // The shell exec'd into sleep and never reaps: the child stays a zombie.
            ProcessSnapshot? z = null;
            for (int i = 0; i < 50 && z?.State != 'Z'; i++)
            {
                Thread.Sleep(20);
                z = new ProcessReader(new ProcFs()).TryRead(child, ProcessDetail.WithSmapsRollup);
            }
            Assert.NotNull(z);
            Assert.Equal('Z', z.State);
            Assert.Null(z.PssBytes); // no address space: unknown, not 0
        }
        finally
        {
            parent.Kill(entireProcessTree: true);
            parent.WaitForExit();
        }
    }
}
