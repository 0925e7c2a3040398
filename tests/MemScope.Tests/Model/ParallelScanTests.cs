using System.Globalization;
using MemScope.Model;
using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.Tests.Model;

/// <summary>
/// `ps` scans /proc on several threads (CollectOptions.MaxParallelism) once there are enough processes: the result
/// must be the serial one, and an error must end the scan the way it does on one thread (thrown to the caller, where
/// the CLI prints one line), never escape a worker thread (that aborts the process with a stack trace).
/// </summary>
public sealed class ParallelScanTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "memscope-pscan-" + Guid.NewGuid().ToString("N"));
    private const int Processes = 3 * SnapshotCollector.ParallelThreshold; // three workers' worth

    public ParallelScanTests()
    {
        Directory.CreateDirectory(_root);
        File.WriteAllText(Path.Combine(_root, "meminfo"), "MemTotal:       16000000 kB\nMemFree:         8000000 kB\nMemAvailable:   12000000 kB\n");
        for (int pid = 100; pid < 100 + Processes; pid++)
        {
            string dir = Path.Combine(_root, pid.ToString(CultureInfo.InvariantCulture));
            Directory.CreateDirectory(dir);
            File.WriteAllText(Path.Combine(dir, "stat"),
                $"{pid} (w{pid}) S 1 {pid} {pid} 0 -1 4194560 {pid * 3} 0 1 0 {pid % 7} 2 0 0 20 0 1 0 {pid * 11} {pid * 4096L * 100} {pid} "
                + string.Join(' ', Enumerable.Repeat("0", 28)) + "\n");
            File.WriteAllText(Path.Combine(dir, "statm"), $"{pid * 100} {pid} {pid / 2} 10 0 200 0\n");
            File.WriteAllText(Path.Combine(dir, "cmdline"), $"/bin/w\0--n\0{pid}\0");
        }
    }

    public void Dispose()
    {
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }

    private Snapshot Scan(int threads) =>
        new SnapshotCollector(new ProcFs(_root), new SysFs(Path.Combine(_root, "nosys"))).Collect(new CollectOptions
        {
            Processes = true,
            Files = ProcessFiles.Statm | ProcessFiles.Cmdline,
            MaxParallelism = threads,
        });

    [Fact]
    public void Parallel_scan_gives_the_serial_result_in_pid_order()
    {
        Directory.Delete(Path.Combine(_root, "150"), true); // a process that exited before the scan listed it
        Snapshot serial = Scan(1), parallel = Scan(4);
        Assert.Equal(Processes - 1, serial.Processes.Count);
        Assert.Equal(serial.Processes.Select(p => p.Pid), parallel.Processes.Select(p => p.Pid));
        Assert.Equal(serial.Processes, parallel.Processes); // records: every field equal
        ProcessSnapshot p300 = Assert.Single(parallel.Processes, p => p.Pid == 300);
        Assert.Equal(300UL * (ulong)Environment.SystemPageSize, p300.RssBytes);
        Assert.Equal("/bin/w --n 300", p300.CommandLine);
        Assert.Equal(0, parallel.ProcessesGone + parallel.ProcessesDenied);
    }

    [Fact]
    public void An_unreadable_stat_ends_a_parallel_scan_on_the_calling_thread_as_a_serial_one()
    {
        // read(2) of a directory fails with EISDIR: an I/O error, neither gone nor denied
        string stat = Path.Combine(_root, "200", "stat");
        File.Delete(stat);
        Directory.CreateDirectory(stat);
        var serial = Assert.Throws<KernelFileException>(() => Scan(1));
        Assert.Equal(KernelFileError.Io, serial.Error);
        var parallel = Assert.Throws<KernelFileException>(() => Scan(4));
        Assert.Equal(KernelFileError.Io, parallel.Error);
        Assert.Equal(serial.Path, parallel.Path);
    }
}
