using System.CommandLine;
using System.Runtime.InteropServices;
using MemScope.Units;

namespace MemScope.Cli.Commands;

/// <summary>
/// `memscope lab heap --small N --large SIZE`: N small mallocs (NativeMemory.Alloc → glibc malloc on the main thread,
/// i.e. the main arena, which grows the brk heap) then one large malloc (above the mmap threshold: a new anonymous
/// mmap). With --step it waits for a line on stdin before each phase, so a test can look at the process in between.
/// </summary>
internal static class LabHeapCommand
{
    public static Command Create()
    {
        var small = new Option<int>("--small") { Description = "Number of small mallocs", DefaultValueFactory = _ => 100_000 };
        var smallSize = new Option<string>("--small-size") { Description = "Size of each small malloc", DefaultValueFactory = _ => "64" };
        var large = new Option<string>("--large") { Description = "Size of the one large malloc (0: none)", DefaultValueFactory = _ => "64M" };
        var step = new Option<bool>("--step") { Description = "Wait for a line on stdin before the small and before the large phase" };
        var hold = new Option<double?>("--hold") { Description = "Exit after this many seconds (default: hold until killed)" };
        var cmd = new Command("heap", "Many small mallocs (brk heap) then one large malloc (anonymous mmap), and hold (for memscope maps)");
        foreach (Option o in new Option[] { small, smallSize, large, step, hold }) cmd.Options.Add(o);
        // Synchronous action: the mallocs must run on the main thread, whose arena is the brk heap.
        cmd.SetAction(parse =>
        {
            int n = parse.GetValue(small);
            if (n < 0 || n > 100_000_000) throw new CliException(ExitCodes.Usage, "--small must be between 0 and 100000000");
            if (!SizeText.TryParse(parse.GetValue(smallSize) ?? "", out ulong each) || each == 0 || each > 64 * 1024)
                throw new CliException(ExitCodes.Usage, "--small-size must be between 1 byte and 64K (below malloc's mmap threshold)");
            if (!SizeText.TryParse(parse.GetValue(large) ?? "", out ulong big) || big > 1UL << 40)
                throw new CliException(ExitCodes.Usage, "--large must be a size such as 64M");
            bool stepping = parse.GetValue(step);
            TextWriter o = parse.InvocationConfiguration.Output;
            void Say(string s) { o.WriteLine(s); o.Flush(); }
            int pid = Environment.ProcessId;

            if (stepping) { Say($"pid {pid}: ready"); Console.In.ReadLine(); }
            ulong first = 0, last = 0;
            unsafe
            {
                var keep = new nint[n];
                for (int i = 0; i < n; i++)
                {
                    byte* p = (byte*)NativeMemory.Alloc((nuint)each);
                    p[0] = 1;
                    keep[i] = (nint)p;
                }
                if (n > 0) { first = (ulong)keep[0]; last = (ulong)keep[n - 1]; }
                GC.KeepAlive(keep);
            }
            Say($"pid {pid}: {n} small mallocs of {each} bytes at {first:x}..{last:x}");
            if (stepping) Console.In.ReadLine();
            ulong bigAt = 0;
            if (big > 0)
            {
                unsafe
                {
                    byte* p = (byte*)NativeMemory.Alloc((nuint)big);
                    for (ulong i = 0; i < big; i += 4096) p[i] = 1;
                    bigAt = (ulong)p;
                }
            }
            Say($"pid {pid}: large malloc of {big} bytes at {bigAt:x}; {(parse.GetValue(hold) is double h ? $"holding {h}s" : "holding until killed")}");
            LabMemory.Hold(parse.GetValue(hold));
            return ExitCodes.Ok;
        });
        return cmd;
    }
}
