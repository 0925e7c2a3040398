using System.Runtime.InteropServices;
using MemScope.Tracing;

namespace MemScope.IntegrationTests.Cache;

/// <summary>
/// Test files under /work/scratch/cache on the team's machine (kept between runs: writing them is slow), else in a
/// fresh /var/tmp directory removed when the test run ends. Not /tmp: it may be tmpfs, whose pages cannot be dropped
/// from the cache, and the cache tests evict and re-read their files.
/// </summary>
internal static class CacheTestFiles
{
    private static readonly Lazy<string> LazyDir = new(CreateDir);

    public static string Dir => LazyDir.Value;

    private static string CreateDir()
    {
        if (Directory.Exists("/work/scratch"))
            return RequireDiskBacked(Directory.CreateDirectory("/work/scratch/cache").FullName);
        string d = Directory.CreateDirectory(Path.Combine("/var/tmp", $"memscope_cache_tests_{Environment.ProcessId}")).FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(d, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        return RequireDiskBacked(d);
    }

    /// <summary>A tmpfs or ramfs directory would fail the eviction tests with baffling numbers: say what is wrong instead.</summary>
    private static string RequireDiskBacked(string dir)
    {
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-f", "-c", "%T", dir])
            { RedirectStandardOutput = true })!;
        string type = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        if (type is "tmpfs" or "ramfs")
            throw new InvalidOperationException($"cache tests need a disk-backed directory (their pages must be evictable); {dir} is on {type}");
        return dir;
    }

    /// <summary>Creates (or reuses) a file of exactly <paramref name="bytes"/> random-ish bytes, fsynced.</summary>
    public static string Create(string name, long bytes)
    {
        string path = Path.Combine(Dir, $"{name}.{bytes}.dat");
        if (File.Exists(path) && new FileInfo(path).Length == bytes) return path;
        byte[] block = new byte[1 << 20];
        new Random(42).NextBytes(block);
        using (var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 20))
        {
            for (long done = 0; done < bytes; done += block.Length)
                fs.Write(block, 0, (int)Math.Min(block.Length, bytes - done));
            fs.Flush(flushToDisk: true);
        }
        return path;
    }

    /// <summary>posix_fadvise(DONTNEED) after fsync: evicts only this file's clean pages.</summary>
    public static void DropFromCache(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        fs.Flush(flushToDisk: true);
        int fd = (int)fs.SafeFileHandle.DangerousGetHandle();
        int rc = PerfEventNative.PosixFadvise(fd, 0, 0, PerfEventNative.PosixFadvDontneed);
        if (rc != 0) throw new IOException($"posix_fadvise: {rc}");
    }

    /// <summary>Reads the whole file with 1 MiB reads; returns bytes read.</summary>
    public static long ReadAll(string path)
    {
        byte[] buf = new byte[1 << 20];
        long total = 0;
        using var h = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, FileOptions.None);
        int n;
        while ((n = RandomAccess.Read(h, buf, total)) > 0) total += n;
        return total;
    }

    /// <summary>perf event fds open in this process right now.</summary>
    public static int OpenPerfFds(int pid = 0)
    {
        string dir = pid == 0 ? "/proc/self/fd" : $"/proc/{pid}/fd";
        int n = 0;
        foreach (string fd in Directory.EnumerateFileSystemEntries(dir))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is string t && t.Contains("perf_event", StringComparison.Ordinal)) n++;
            }
            catch (IOException) { }
        }
        return n;
    }

    /// <summary>
    /// Waits until the memscope that CliRun is running (this process in-process, or a child of it with MEMSCOPE_BIN)
    /// has opened its perf events, plus a moment to open and enable the rest (a tight loop). A fixed delay from the
    /// start instead would have to cover the CLI's start-up, which on a loaded machine or as the run's first JIT of
    /// the command can take longer than the guess, and the read would then start before the interval does.
    /// </summary>
    public static void WaitForCliPerfEvents(Task run)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!run.IsCompleted)
        {
            if (CliProcesses().Any(pid => { try { return OpenPerfFds(pid) > 0; } catch (IOException) { return false; } }))
            {
                Thread.Sleep(300);
                return;
            }
            if (clock.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException("memscope opened no perf event within 30 s");
            Thread.Sleep(10);
        }
        run.GetAwaiter().GetResult(); // ended before tracing: let its failure (or result) speak
    }

    /// <summary>0 (this process, for in-process runs) and this process's children (memscope as a program).</summary>
    private static IEnumerable<int> CliProcesses()
    {
        yield return 0;
        if (!CliRun.UsingBinary) yield break;
        string self = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            string stat;
            try { stat = File.ReadAllText(Path.Combine(dir, "stat")); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            string[] f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (f.Length > 1 && f[1] == self) yield return pid;
        }
    }

    /// <summary>A pid that no process has right now.</summary>
    public static int DeadPid()
    {
        for (int pid = 32000; pid > 1000; pid--)
            if (!Directory.Exists($"/proc/{pid}")) return pid;
        throw new InvalidOperationException("no free pid");
    }

    /// <summary>memscope_* entries defined in tracefs now (mounting it briefly when needed).</summary>
    public static List<string> MemscopeTracefsEntries()
    {
        using Tracefs t = Tracefs.Open();
        return BorrowedState.ListDefined(t);
    }
}
