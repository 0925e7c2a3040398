using System.CommandLine;
using System.Runtime.InteropServices;
using MemScope.Units;

namespace MemScope.Cli.Commands;

/// <summary>
/// `memscope lab slab [--rate 4M]`: grows unreclaimable kernel slab at a steady rate, the way a socket leak does: it
/// opens Unix stream socket pairs and fills each one's queue with small writes nobody reads, so the kernel holds
/// one sk_buff (skbuff_head_cache + kmalloc) per write. Everything is freed when the sockets close, on exit, Ctrl-C,
/// SIGTERM or SIGKILL (the kernel closes a dead process's sockets), so there is no stale state.
/// </summary>
internal static partial class LabSlabCommand
{
    private const int AfUnix = 1, SockStream = 1, MsgDontWait = 0x40, SolSocket = 1, SoSndbufForce = 32;

    public static Command Create()
    {
        var rate = new Option<string>("--rate") { Description = "Slab growth per second (e.g. 4M)", DefaultValueFactory = _ => "4M" };
        var hold = new Option<double?>("--hold") { Description = "Stop growing and exit after this many seconds (default: until killed)" };
        var cmd = new Command("slab", "Grow unreclaimable kernel slab steadily with queued socket buffers (the doctor's slab finding)");
        cmd.Options.Add(rate);
        cmd.Options.Add(hold);
        cmd.SetAction(async (parse, ct) =>
        {
            if (!SizeText.TryParse(parse.GetValue(rate)!, out ulong bytesPerSec) || bytesPerSec < 4096)
                throw new CliException(ExitCodes.Usage, "--rate must be a size per second such as 4M (at least 4K)");
            var fds = new List<int>();
            double? seconds = parse.GetValue(hold);
            TextWriter o = parse.InvocationConfiguration.Output;
            o.WriteLine($"pid {Environment.ProcessId}: growing socket buffers (unreclaimable slab) at about {bytesPerSec} bytes/s; {(seconds is double s ? $"for {s}s" : "until killed")}");
            o.Flush();
            var growing = Task.Run(() => Grow(fds, bytesPerSec, ct), ct);
            try
            {
                await LabLifetime.HoldAsync(seconds, ct);
            }
            finally
            {
                stopRequested = true;
                try { await growing; } catch (OperationCanceledException) { }
                foreach (int fd in fds) Close(fd);
            }
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static volatile bool stopRequested;

    private static unsafe void Grow(List<int> fds, ulong bytesPerSec, CancellationToken ct)
    {
        var chunk = new byte[512];
        int* pair = stackalloc int[2];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        ulong queued = 0;
        while (!stopRequested && !ct.IsCancellationRequested)
        {
            // Stay on schedule: queue only what the rate allows so far.
            if (queued > bytesPerSec * clock.Elapsed.TotalSeconds) { Thread.Sleep(20); continue; }
            if (SocketPair(AfUnix, SockStream, 0, pair) != 0) { Thread.Sleep(100); continue; }
            lock (fds) { fds.Add(pair[0]); fds.Add(pair[1]); }
            int big = 4 << 20;
            SetSockOpt(pair[0], SolSocket, SoSndbufForce, &big, sizeof(int));
            fixed (byte* p = chunk)
            {
                // Each small write becomes one queued sk_buff; stop at this pair's share of the rate.
                for (int i = 0; i < 1024; i++)
                {
                    if (Send(pair[0], p, (nuint)chunk.Length, MsgDontWait) < 0) break;
                    queued += 1280; // truesize of a 512-byte unix stream skb, roughly
                }
            }
        }
    }

    [LibraryImport("libc", EntryPoint = "socketpair", SetLastError = true)]
    private static unsafe partial int SocketPair(int domain, int type, int protocol, int* sv);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    private static unsafe partial nint Send(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    private static unsafe partial int SetSockOpt(int fd, int level, int name, void* value, int length);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
