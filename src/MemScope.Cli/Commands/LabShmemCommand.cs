using System.CommandLine;
using MemScope.Units;

namespace MemScope.Cli.Commands;

/// <summary>
/// `memscope lab shmem [--size N]`: writes a file into /dev/shm (tmpfs) that no process maps, the classic "free says
/// shared is huge but no process has it". Default size: 12% of MemTotal (the doctor's shmem rule starts at 10%).
/// The file is deleted on exit, Ctrl-C and SIGTERM; files of crashed runs are deleted at the next start.
/// </summary>
internal static class LabShmemCommand
{
    public const string Prefix = "memscope_lab_shmem_";

    public static Command Create()
    {
        var size = new Option<string?>("--size") { Description = "Bytes to put in /dev/shm (default: 12% of MemTotal)" };
        var hold = new Option<double?>("--hold") { Description = "Exit after this many seconds (default: hold until killed)" };
        var dir = new Option<string>("--dir") { Description = "tmpfs directory", DefaultValueFactory = _ => "/dev/shm" };
        var cmd = new Command("shmem", "Fill a tmpfs file that no process maps (the doctor's shmem finding)");
        foreach (Option o in new Option[] { size, hold, dir }) cmd.Options.Add(o);
        cmd.SetAction(async (parse, ct) =>
        {
            string directory = parse.GetValue(dir)!;
            RemoveStale(directory);
            ulong bytes;
            if (parse.GetValue(size) is string text)
            {
                if (!SizeText.TryParse(text, out bytes) || bytes == 0) throw new CliException(ExitCodes.Usage, $"--size {text}: not a size such as 1G");
            }
            else
            {
                ulong total = GlobalOptions.OpenProc(parse).ReadMeminfo().MemTotal ?? 0;
                bytes = Math.Max((ulong)(total * 0.12), 300UL << 20);
            }
            string path = Path.Combine(directory, Prefix + Environment.ProcessId);
            try
            {
                await using (var f = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1 << 20))
                {
                    var chunk = new byte[1 << 20];
                    Array.Fill(chunk, (byte)0x6d);
                    for (ulong written = 0; written < bytes && !ct.IsCancellationRequested; written += (ulong)chunk.Length)
                        await f.WriteAsync(chunk.AsMemory(0, (int)Math.Min((ulong)chunk.Length, bytes - written)), ct);
                }
                TextWriter o = parse.InvocationConfiguration.Output;
                o.WriteLine($"pid {Environment.ProcessId}: wrote {bytes} bytes to {path} (tmpfs, mapped by no process); holding");
                o.Flush();
                await LabLifetime.HoldAsync(parse.GetValue(hold), ct);
            }
            catch (OperationCanceledException) { }
            finally
            {
                File.Delete(path);
            }
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static void RemoveStale(string directory)
    {
        if (!Directory.Exists(directory)) throw new CliException(ExitCodes.NotFound, $"{directory}: no such directory");
        foreach (string file in Directory.EnumerateFiles(directory, Prefix + "*"))
            if (LabLifetime.PidOf(Path.GetFileName(file)) is int pid && !LabLifetime.Alive(pid)) File.Delete(file);
    }
}
