using System.CommandLine;
using MemScope.Units;

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
        var thp = new Option<bool>("--thp") { Description = "Ask for transparent huge pages (MADV_HUGEPAGE) instead of forbidding them; the mapping is 2 MiB aligned" };
        var hold = new Option<double?>("--hold") { Description = "Exit after this many seconds (default: hold until killed)" };
        var cmd = new Command("mmap", "mmap anonymous memory, touch a known fraction of its pages, and hold it (for memscope pages/maps)");
        foreach (Option o in new Option[] { size, touch, thp, hold }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            if (!SizeText.TryParse(parse.GetValue(size) ?? "", out ulong bytes) || bytes == 0 || bytes > 1UL << 40)
                throw new CliException(ExitCodes.Usage, "--size must be a size such as 100M (more than 0)");
            if (!LabMemory.TryParseFraction(parse.GetValue(touch) ?? "", out double fraction))
                throw new CliException(ExitCodes.Usage, "--touch must be a fraction such as 25% (0% to 100%)");
            ulong page = (ulong)Environment.SystemPageSize;
            ulong pages = (bytes + page - 1) / page;
            ulong length = pages * page;
            bool wantThp = parse.GetValue(thp);
            const ulong huge = 2UL << 20;
            // For THP, over-allocate and use a 2 MiB aligned window so whole huge pages fit.
            ulong reserve = wantThp ? length + huge : length;
            nint raw = LabMemory.Mmap(0, (nuint)reserve, LabMemory.ProtRead | LabMemory.ProtWrite, LabMemory.MapPrivate | LabMemory.MapAnonymous, -1, 0);
            if (raw == -1) throw new CliException(ExitCodes.Failure, $"mmap of {reserve} bytes failed (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()})");
            nint addr = wantThp ? (nint)(((ulong)raw + huge - 1) & ~(huge - 1)) : raw;
            bool adviced = LabMemory.Madvise(addr, (nuint)length, wantThp ? LabMemory.MadvHugepage : LabMemory.MadvNoHugepage) == 0;
            string thpNote = adviced ? (wantThp ? ", THP asked" : ", no THP") : "";
            ulong touched = (ulong)Math.Round(pages * fraction);
            unsafe
            {
                byte* p = (byte*)addr;
                for (ulong i = 0; i < touched; i++) p[i * page] = 1;
            }
            TextWriter o = parse.InvocationConfiguration.Output;
            ulong start = (ulong)addr;
            o.WriteLine($"pid {Environment.ProcessId}: mmap {length} bytes at {start:x}-{start + length:x} (anonymous private{thpNote}), " +
                        $"touched {touched} of {pages} pages ({fraction * 100:0.##}%); {(parse.GetValue(hold) is double h ? $"holding {h}s" : "holding until killed")}");
            o.Flush();
            LabMemory.Hold(parse.GetValue(hold));
            return ExitCodes.Ok;
        });
        return cmd;
    }
}
