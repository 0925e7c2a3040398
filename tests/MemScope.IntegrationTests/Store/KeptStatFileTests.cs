using System.Diagnostics;
using MemScope.Model;
using MemScope.Procfs;

namespace MemScope.IntegrationTests.Store;

/// <summary>
/// The recorder keeps /proc/PID/stat open between samples and preads it (PidStatReader with maxOpen): each read must
/// show what the kernel shows now, and a descriptor must never outlive its process (reaped: Gone, closed).
/// </summary>
public sealed class KeptStatFileTests
{
    private static Process Sleeper()
    {
        var p = Process.Start(new ProcessStartInfo("sleep", "300") { UseShellExecute = false })!;
        // wait until it is sleep (not the forked runtime) and asleep
        for (int i = 0; i < 200; i++)
        {
            try
            {
                ProcPidStat s = ProcPidStat.Read($"/proc/{p.Id}/stat");
                if (s.Comm == "sleep" && s.State == 'S') return p;
            }
            catch (KernelFileException) { }
            Thread.Sleep(10);
        }
        return p;
    }

    private static char StateOf(int pid) => ProcPidStat.Read($"/proc/{pid}/stat").State;

    [Fact]
    public void Kept_descriptor_shows_the_current_state_and_closes_when_the_process_is_reaped()
    {
        Assert.True(PidStatReader.IsProcfs("/proc"));
        using Process p = Sleeper();
        using var reader = new PidStatReader(new ProcFs(), maxOpen: 16);
        try
        {
            PidStatFields first = reader.Read(p.Id);
            Assert.Equal(1, reader.OpenCount);
            Assert.Equal('S', first.State);
            Assert.Equal(ProcPidStat.Read($"/proc/{p.Id}/stat").StartTimeTicks, first.StartTimeTicks);
            Assert.Equal("sleep", reader.CommString());

            // stopped: the same descriptor, read again, shows T (procfs generates the file afresh at offset 0)
            Assert.Equal(0, Kill(p.Id, 19 /* SIGSTOP */));
            for (int i = 0; i < 200 && StateOf(p.Id) != 'T'; i++) Thread.Sleep(10);
            PidStatFields stopped = reader.Read(p.Id);
            Assert.Equal('T', stopped.State);
            Assert.Equal(first.StartTimeTicks, stopped.StartTimeTicks);
            Assert.Equal(1, reader.OpenCount);

            // killed and reaped (the runtime reaps its children): Gone, and the descriptor is closed
            Assert.Equal(0, Kill(p.Id, 9 /* SIGKILL */));
            p.WaitForExit();
            var e = Assert.Throws<KernelFileException>(() => reader.Read(p.Id));
            Assert.Equal(KernelFileError.Gone, e.Error);
            Assert.Equal(0, reader.OpenCount);
        }
        finally
        {
            if (!p.HasExited) p.Kill();
        }
    }

    [Fact]
    public void Beyond_the_cap_files_are_opened_each_time_and_unread_ones_are_closed()
    {
        using Process a = Sleeper();
        using Process b = Sleeper();
        try
        {
            using var reader = new PidStatReader(new ProcFs(), maxOpen: 1);
            int self = Environment.ProcessId;
            foreach (int pid in new[] { a.Id, b.Id, self })
            {
                PidStatFields f = reader.Read(pid);
                ProcPidStat expected = ProcPidStat.Read($"/proc/{pid}/stat");
                Assert.Equal(pid, f.Pid);
                Assert.Equal(expected.StartTimeTicks, f.StartTimeTicks);
                Assert.True(reader.CommEquals(expected.Comm));
            }
            Assert.Equal(1, reader.OpenCount);
            // a's descriptor was read this round: kept; the next round reads only b (opened each time, the cap is
            // taken), and at its end a's descriptor, unread, is closed
            reader.CloseUnread();
            Assert.Equal(1, reader.OpenCount);
            Assert.Equal(b.Id, reader.Read(b.Id).Pid);
            Assert.Equal(1, reader.OpenCount);
            reader.CloseUnread();
            Assert.Equal(0, reader.OpenCount);
            Assert.Equal(a.Id, reader.Read(a.Id).Pid);
            Assert.Equal(1, reader.OpenCount);
        }
        finally
        {
            a.Kill();
            b.Kill();
        }
    }

    [Fact]
    public void Recorder_reader_keeps_stat_open_on_proc_and_matches_a_fresh_read()
    {
        var reader = new IncrementalProcessReader(new ProcFs());
        try
        {
            reader.Read(false, out _, out _);
            List<ProcessSnapshot> second = reader.Read(false, out _, out _);
            Assert.True(reader.StatFilesOpen > 0, "no stat file kept open on the live /proc");
            Assert.True(reader.StatFilesOpen <= reader.Options.KeepStatFilesOpen);
            // values of processes that do not move (pid 1 and other sleepers' start times and comm) are the kernel's
            ProcessSnapshot init = Assert.Single(second, p => p.Pid == 1);
            ProcPidStat now = ProcPidStat.Read("/proc/1/stat");
            Assert.Equal(now.StartTimeTicks, init.StartTimeTicks);
            Assert.Equal(now.Comm, init.Comm);
        }
        finally
        {
            reader.CloseFiles();
        }
        Assert.Equal(0, reader.StatFilesOpen);
        // a tree of regular files never keeps descriptors (a replaced file would be read from its old inode)
        Assert.False(PidStatReader.IsProcfs(Path.GetTempPath()));
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}
