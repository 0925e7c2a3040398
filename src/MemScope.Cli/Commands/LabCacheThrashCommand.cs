using System.CommandLine;
using System.Runtime.InteropServices;
using MemScope.Units;

namespace MemScope.Cli.Commands;

/// <summary>
/// `memscope lab cache-thrash [--size 256M]`: reads a file over and over and drops its pages from the page cache
/// after every pass (posix_fadvise DONTNEED), so every read goes to disk while the cache never grows: the churn of a
/// working set larger than the cache, without starving the rest of the machine. The file is deleted on exit, Ctrl-C
/// and SIGTERM; files of crashed runs are deleted at the next start.
/// </summary>
internal static partial class LabCacheThrashCommand
{
    public const string Prefix = "memscope_lab_cache_";
    private const int PosixFadvDontneed = 4;

    public static Command Create()
    {
        var size = new Option<string>("--size") { Description = "Size of the file read again and again", DefaultValueFactory = _ => "256M" };
        var dir = new Option<string>("--dir") { Description = "Directory for the file (on a disk, not tmpfs)", DefaultValueFactory = _ => "/var/tmp" };
        var hold = new Option<double?>("--hold") { Description = "Exit after this many seconds (default: until killed)" };
        var cmd = new Command("cache-thrash", "Re-read a file whose pages are evicted after every pass (the doctor's cache-thrash finding)");
        foreach (Option o in new Option[] { size, dir, hold }) cmd.Options.Add(o);
        cmd.SetAction(async (parse, ct) =>
        {
            if (!SizeText.TryParse(parse.GetValue(size)!, out ulong bytes) || bytes < 1 << 20)
                throw new CliException(ExitCodes.Usage, "--size must be at least 1M");
            string directory = parse.GetValue(dir)!;
            if (!Directory.Exists(directory)) throw new CliException(ExitCodes.NotFound, $"{directory}: no such directory");
            foreach (string stale in Directory.EnumerateFiles(directory, Prefix + "*"))
                if (LabLifetime.PidOf(Path.GetFileName(stale)) is int pid && !LabLifetime.Alive(pid)) File.Delete(stale);
            string path = Path.Combine(directory, Prefix + Environment.ProcessId);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            Task? reader = null;
            try
            {
                var chunk = new byte[1 << 20];
                Random.Shared.NextBytes(chunk);
                await using (var f = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
                    for (ulong w = 0; w < bytes; w += (ulong)chunk.Length) await f.WriteAsync(chunk, ct);
                TextWriter o = parse.InvocationConfiguration.Output;
                o.WriteLine($"pid {Environment.ProcessId}: re-reading {path} ({bytes} bytes), evicting it from the page cache after every pass");
                o.Flush();
                reader = Task.Run(() => Thrash(path, stop.Token));
                await LabLifetime.HoldAsync(parse.GetValue(hold), ct);
            }
            finally
            {
                stop.Cancel();
                if (reader is not null) try { await reader; } catch (OperationCanceledException) { }
                File.Delete(path);
            }
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static void Thrash(string path, CancellationToken ct)
    {
        var buffer = new byte[1 << 20];
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
        int fd = (int)f.SafeFileHandle.DangerousGetHandle();
        // Written pages are dirty: flush them once so DONTNEED can drop them.
        FSync(fd);
        while (!ct.IsCancellationRequested)
        {
            FAdvise(fd, 0, 0, PosixFadvDontneed);
            f.Position = 0;
            while (!ct.IsCancellationRequested && f.Read(buffer, 0, buffer.Length) > 0) { }
        }
        FAdvise(fd, 0, 0, PosixFadvDontneed);
    }

    [LibraryImport("libc", EntryPoint = "posix_fadvise")]
    private static partial int FAdvise(int fd, long offset, long length, int advice);

    [LibraryImport("libc", EntryPoint = "fsync")]
    private static partial int FSync(int fd);
}
