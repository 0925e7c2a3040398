using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using MemScope.Analysis;
using MemScope.Cli.Rendering;
using MemScope.Model;
using MemScope.Procfs;

namespace MemScope.Cli.Commands;

/// <summary>
/// `memscope pages PID [--mapping NAME|ADDR-ADDR]`: which virtual pages of a process are in RAM, in swap or never
/// touched, file or anonymous, part of a THP, from /proc/PID/pagemap and (as root) /proc/kpageflags.
/// </summary>
public static class PagesCommand
{
    public static Command Create()
    {
        var pidArg = new Argument<int>("pid") { Description = "Process ID" };
        var mapping = new Option<string?>("--mapping", "-m")
        {
            Description = "A mapping by path, file name or [name] (e.g. [heap], libc.so.6), or an address range START-END in hex",
        };
        var width = new Option<int>("--width") { Description = "Width of the residency bar", DefaultValueFactory = _ => 64 };
        var all = new Option<bool>("--all") { Description = "Also scan PROT_NONE reservations (skipped by default: they are never backed)" };
        var json = new Option<bool>("--json") { Description = "JSON output (bytes and page counts)" };
        var cmd = new Command("pages", "Page residency of a process or one mapping: present, swapped, never touched, file/anon, THP (pagemap, kpageflags)");
        cmd.Arguments.Add(pidArg);
        foreach (Option o in new Option[] { mapping, width, all, json }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            ProcFs proc = GlobalOptions.OpenProc(parse);
            int pid = parse.GetValue(pidArg);
            int barWidth = parse.GetValue(width);
            if (barWidth is < 8 or > 1000) throw new CliException(ExitCodes.Usage, "--width must be between 8 and 1000");
            AddressSpaceSnapshot space = MapsCommand.ReadProcess(proc, pid);
            string? selector = parse.GetValue(mapping);
            List<PageScanRange> ranges = SelectRanges(space, selector, parse.GetValue(all), out ulong unmapped, out int skipped);
            PageScan scan;
            try { scan = PageResidency.Scan(proc, pid, ranges, barWidth); }
            catch (KernelFileException e) when (e.Error == KernelFileError.Gone)
            {
                throw new CliException(ExitCodes.NotFound, $"no process with PID {pid} (it exited)");
            }
            catch (KernelFileException e) when (e.Error == KernelFileError.Denied)
            {
                throw new CliException(ExitCodes.NoPermission, $"PID {pid}: cannot read {e.Path}: permission denied (run as root or as the process owner)");
            }
            static bool IsFile(PageScanRange r) => r.Label.StartsWith('/') && !r.Label.StartsWith("/SYSV") && !r.Label.StartsWith("/dev/zero");
            bool? fileBacked = ranges.All(IsFile) ? true : ranges.Any(IsFile) ? null : false;
            string sentence = PageResidency.Explain(scan, b => HumanSize.Format(b), fileBacked);
            TextWriter o = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
                o.WriteLine(JsonSerializer.Serialize(PagesJson.From(space, selector, scan, sentence, unmapped, skipped), PagesJsonContext.Default.PagesJson));
            else
                Render(o, space, selector, scan, sentence, unmapped, skipped);
            return ExitCodes.Ok;
        });
        return cmd;
    }

    /// <summary>Turns --mapping into ranges clipped to mappings; bytes of an address range that nothing maps are returned apart.</summary>
    internal static List<PageScanRange> SelectRanges(AddressSpaceSnapshot space, string? selector, bool includeNoAccess, out ulong unmapped, out int skipped)
    {
        unmapped = 0;
        skipped = 0;
        var ranges = new List<PageScanRange>();
        static PageScanRange Whole(ClassifiedMapping c) =>
            new(c.Mapping.Start, c.Mapping.End, c.Mapping.Path.Length == 0 ? "[anon]" : c.Mapping.Path, c.Kind);

        if (selector is not null && TryParseRange(selector, out ulong lo, out ulong hi))
        {
            if (hi <= lo) throw new CliException(ExitCodes.Usage, $"--mapping {selector}: the end must be above the start");
            ulong covered = 0;
            foreach (var c in space.Mappings)
            {
                ulong s = Math.Max(lo, c.Mapping.Start), e = Math.Min(hi, c.Mapping.End);
                if (s >= e) continue;
                ranges.Add(new PageScanRange(s, e, c.Mapping.Path.Length == 0 ? "[anon]" : c.Mapping.Path, c.Kind));
                covered += e - s;
            }
            unmapped = (hi - lo) - covered;
            if (ranges.Count == 0) throw new CliException(ExitCodes.NotFound, $"PID {space.Pid}: nothing is mapped in {lo:x}-{hi:x}");
            return ranges;
        }
        foreach (var c in space.Mappings)
        {
            if (selector is not null && !Matches(c, selector)) continue;
            if (c.Mapping.Path == "[vsyscall]") continue; // not in the page tables: pagemap reports nothing useful
            if (c.Mapping.IsNoAccess && !includeNoAccess && selector is null) { skipped++; continue; }
            ranges.Add(Whole(c));
        }
        if (ranges.Count == 0)
            throw new CliException(ExitCodes.NotFound, selector is null
                ? $"PID {space.Pid}: no mappings to scan"
                : $"PID {space.Pid}: no mapping matches '{selector}' (give a path, a file name, [heap], or START-END in hex)");
        return ranges;
    }

    private static bool Matches(ClassifiedMapping c, string selector)
    {
        string p = c.Mapping.Path;
        if (p == selector || c.Mapping.FilePath == selector || c.Group == selector) return true;
        if (p.Length > 0 && p[0] == '/' && Path.GetFileName(c.Mapping.FilePath) == selector) return true;
        return false;
    }

    internal static bool TryParseRange(string s, out ulong lo, out ulong hi)
    {
        lo = hi = 0;
        int dash = s.IndexOf('-');
        if (dash <= 0) return false;
        ReadOnlySpan<char> a = s.AsSpan(0, dash).Trim(), b = s.AsSpan(dash + 1).Trim();
        if (a.StartsWith("0x")) a = a[2..];
        if (b.StartsWith("0x")) b = b[2..];
        return SpanParsing.TryParseHex(a, out lo) && SpanParsing.TryParseHex(b, out hi) && a.Length > 0 && b.Length > 0;
    }

    /// <summary>vmtouch's picture: 'O' all resident, 'o' partly, ' ' none; 'S' mostly swapped.</summary>
    internal static string BarText(PageScan scan)
    {
        var sb = new StringBuilder(scan.Bar.Length + 2).Append('[');
        foreach (var (pages, present, swapped) in scan.Bar)
            sb.Append(pages == 0 ? ' ' : present == pages ? 'O' : swapped * 2 > pages ? 'S' : present > 0 ? 'o' : ' ');
        return sb.Append(']').ToString();
    }

    private static void Render(TextWriter o, AddressSpaceSnapshot space, string? selector, PageScan scan, string sentence, ulong unmapped, int skipped)
    {
        ulong page = (ulong)scan.PageSizeBytes;
        PageCounts t = scan.Total;
        string what = selector ?? "all mappings";
        o.WriteLine($"PID {space.Pid} ({space.Comm}): {what}, {scan.Ranges.Count} range{(scan.Ranges.Count == 1 ? "" : "s")}, page size {HumanSize.Format(page)}");
        o.WriteLine(sentence);
        o.WriteLine();
        o.WriteLine($"{BarText(scan)} {Pct(t.Present, t.Pages)} resident");
        o.WriteLine();
        string P(ulong n) => $"{n,10:N0} pages {HumanSize.Format(n * page),9} {Pct(n, t.Pages),6}";
        string Q(ulong? n) => n is ulong v ? P(v) : $"{"?",10}";
        o.WriteLine($"  mapped         {P(t.Pages)}");
        o.WriteLine($"  present (RAM)  {P(t.Present)}");
        o.WriteLine($"    anonymous    {P(t.Anon)}");
        o.WriteLine($"    file/shmem   {P(t.File)}");
        o.WriteLine($"    exclusive    {P(t.Exclusive)}   (mapped by this process only)");
        o.WriteLine($"    in THP       {Q(t.Thp)}");
        o.WriteLine($"    zero page    {Q(t.ZeroPage)}");
        if (t.Ksm is > 0) o.WriteLine($"    KSM-merged   {Q(t.Ksm)}");
        if (t.Hugetlb is > 0) o.WriteLine($"    hugetlb      {Q(t.Hugetlb)}");
        o.WriteLine($"  swapped        {P(t.Swapped)}");
        o.WriteLine($"  not present    {P(t.NotPresent)}   (never touched, or file pages not faulted in)");
        o.WriteLine($"  soft-dirty     {P(t.SoftDirty)}   (written since the last clear_refs)");
        if (unmapped > 0) o.WriteLine($"  (and {HumanSize.Format(unmapped)} of the range is not mapped at all)");
        if (skipped > 0) o.WriteLine($"  ({skipped} PROT_NONE reservations not scanned; --all scans them)");
        if (scan.FlagsMissing is not null || !scan.PfnsVisible)
        {
            o.WriteLine();
            o.WriteLine("missing: " + (scan.PfnsVisible ? "" : "page frame numbers are hidden (PFN 0) without CAP_SYS_ADMIN; ") +
                        (scan.FlagsMissing ?? "") + " — so THP, zero-page and KSM counts are unknown (?), not 0. Run as root for them.");
        }
        if (scan.Ranges.Count > 1)
        {
            o.WriteLine();
            var table = new TextTable(">START", ">END", "KIND", ">PAGES", ">PRESENT", ">SWAPPED", ">NOT_PRESENT", ">THP", "MAPPING");
            foreach (var (r, c) in scan.Ranges.OrderByDescending(x => x.Counts.Present).Take(40))
                table.Add(r.Start.ToString("x", CultureInfo.InvariantCulture), r.End.ToString("x", CultureInfo.InvariantCulture),
                    AddressSpace.KindName(r.Kind), c.Pages.ToString(CultureInfo.InvariantCulture), c.Present.ToString(CultureInfo.InvariantCulture),
                    c.Swapped.ToString(CultureInfo.InvariantCulture), c.NotPresent.ToString(CultureInfo.InvariantCulture),
                    c.Thp?.ToString(CultureInfo.InvariantCulture) ?? "?", r.Label);
            table.Write(o);
            if (scan.Ranges.Count > 40) o.WriteLine($"({scan.Ranges.Count - 40} more ranges with fewer present pages not shown)");
        }
    }

    private static string Pct(ulong n, ulong of) => of == 0 ? "-" : (100.0 * n / of).ToString("0.0", CultureInfo.InvariantCulture) + "%";
}

public sealed record PagesJson
{
    public int Pid { get; init; }
    public string Comm { get; init; } = "";
    public string? Mapping { get; init; }
    public long PageSizeBytes { get; init; }
    public string Explanation { get; init; } = "";
    public bool PfnsVisible { get; init; }
    public string? Missing { get; init; }
    public ulong UnmappedBytes { get; init; }
    public int SkippedNoAccessMappings { get; init; }
    public PageCountsJson Total { get; init; } = new();
    public string Bar { get; init; } = "";
    public List<PagesRangeJson> Ranges { get; init; } = [];

    public static PagesJson From(AddressSpaceSnapshot s, string? selector, PageScan scan, string sentence, ulong unmapped, int skipped) => new()
    {
        Pid = s.Pid,
        Comm = s.Comm,
        Mapping = selector,
        PageSizeBytes = scan.PageSizeBytes,
        Explanation = sentence,
        PfnsVisible = scan.PfnsVisible,
        Missing = scan.FlagsMissing,
        UnmappedBytes = unmapped,
        SkippedNoAccessMappings = skipped,
        Total = PageCountsJson.From(scan.Total, scan.PageSizeBytes),
        Bar = PagesCommand.BarText(scan),
        Ranges = scan.Ranges.Select(r => new PagesRangeJson
        {
            Start = r.Range.Start, End = r.Range.End, Path = r.Range.Label, Kind = AddressSpace.KindName(r.Range.Kind),
            Counts = PageCountsJson.From(r.Counts, scan.PageSizeBytes),
        }).ToList(),
    };
}

public sealed record PagesRangeJson
{
    public ulong Start { get; init; }
    public ulong End { get; init; }
    public string Path { get; init; } = "";
    public string Kind { get; init; } = "";
    public PageCountsJson Counts { get; init; } = new();
}

public sealed record PageCountsJson
{
    public ulong Pages { get; init; }
    public ulong Present { get; init; }
    public ulong Swapped { get; init; }
    public ulong NotPresent { get; init; }
    public ulong Anon { get; init; }
    public ulong File { get; init; }
    public ulong Exclusive { get; init; }
    public ulong SoftDirty { get; init; }
    public ulong? Thp { get; init; }
    public ulong? ZeroPage { get; init; }
    public ulong? Ksm { get; init; }
    public ulong? Hugetlb { get; init; }
    public ulong PresentBytes { get; init; }
    public ulong SwappedBytes { get; init; }
    public ulong NotPresentBytes { get; init; }

    public static PageCountsJson From(PageCounts c, long pageSize) => new()
    {
        Pages = c.Pages, Present = c.Present, Swapped = c.Swapped, NotPresent = c.NotPresent, Anon = c.Anon, File = c.File,
        Exclusive = c.Exclusive, SoftDirty = c.SoftDirty, Thp = c.Thp, ZeroPage = c.ZeroPage, Ksm = c.Ksm, Hugetlb = c.Hugetlb,
        PresentBytes = c.Present * (ulong)pageSize, SwappedBytes = c.Swapped * (ulong)pageSize, NotPresentBytes = c.NotPresent * (ulong)pageSize,
    };
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(PagesJson))]
internal partial class PagesJsonContext : JsonSerializerContext;
