using System.CommandLine;

namespace MemScope.Cli.Commands;

/// <summary>
/// `memscope lab mmap --size 100M --touch 25%`: one private anonymous mmap, of which the first fraction of pages is
/// written (one byte per page), the rest never touched; THP is switched off for it (MADV_NOHUGEPAGE) so the count of
/// resident pages is exact. Prints the PID, the range and the touched page count on one line, then holds.
/// </summary>
internal static class LabMmapCommand
{
    public static Command Create()
    {
        var size = new Option<string>("--size") { Description = "Bytes to map (e.g. 100M)", DefaultValueFactory = _ => "100M" };
        var touch = new Option<string>("--touch") { Description = "Fraction of the pages to write, from the start (e.g. 25%)", DefaultValueFactory = _ => "25%" };
        var hold = new Option<double?>("--hold") { Description = "Exit after this many seconds (default: hold until killed)" };
        var cmd = new Command("mmap", "mmap anonymous memory, touch a known fraction of its pages, and hold it (for memscope pages/maps)");
        foreach (Option o in new Option[] { size, touch, hold }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            if (!LabMemory.TryParseSize(parse.GetValue(size) ?? "", out ulong bytes) || bytes == 0 || bytes > 1UL << 40)
                throw new CliException(ExitCodes.Usage, "--size must be a size such as 100M (more than 0)");
            if (!LabMemory.TryParseFraction(parse.GetValue(touch) ?? "", out double fraction))
                throw new CliException(ExitCodes.Usage, "--touch must be a fraction such as 25% (0% to 100%)");
            ulong page = (ulong)Environment.SystemPageSize;
            ulong pages = (bytes + page - 1) / page;
            ulong length = pages * page;
            nint addr = LabMemory.Mmap(0, (nuint)length, LabMemory.ProtRead | LabMemory.ProtWrite, LabMemory.MapPrivate | LabMemory.MapAnonymous, -1, 0);
            if (addr == -1) throw new CliException(ExitCodes.Failure, $"mmap of {length} bytes failed (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()})");
            bool noThp = LabMemory.Madvise(addr, (nuint)length, LabMemory.MadvNoHugepage) == 0;
            ulong touched = (ulong)Math.Round(pages * fraction);
            unsafe
            {
                byte* p = (byte*)addr;
                for (ulong i = 0; i < touched; i++) p[i * page] = 1;
            }
            TextWriter o = parse.InvocationConfiguration.Output;
            ulong start = (ulong)addr;
            o.WriteLine($"pid {Environment.ProcessId}: mmap {length} bytes at {start:x}-{start + length:x} (anonymous private{(noThp ? ", no THP" : "")}), " +
                        $"touched {touched} of {pages} pages ({fraction * 100:0.##}%); {(parse.GetValue(hold) is double h ? $"holding {h}s" : "holding until killed")}");
            o.Flush();
            LabMemory.Hold(parse.GetValue(hold));
            return ExitCodes.Ok;
        });
        return cmd;
    }
}
