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
/// `memscope maps PID`: a process's address space. Default: the segment view (code, data, heap, the mapping segment
/// split into libraries, files, anonymous mmaps, arenas, thread stacks and shared memory, the stack, the kernel's
/// pages) with a picture of the layout; -x: per mapping like `pmap -x` (same totals); -X: every smaps column.
/// </summary>
public static class MapsCommand
{
    public static Command Create()
    {
        var pidArg = new Argument<int>("pid") { Description = "Process ID" };
        var extended = new Option<bool>("-x") { Description = "Per-mapping table like pmap -x: Address Kbytes RSS Dirty Mode Mapping" };
        var all = new Option<bool>("-X") { Description = "Per-mapping table with every smaps column (like pmap -X), plus the classification" };
        var sort = new Option<string>("--sort", "-s")
        {
            Description = "Order of rows: address, size, rss, pss, dirty, swap",
            DefaultValueFactory = _ => "address",
        };
        sort.AcceptOnlyFromAmong("address", "size", "rss", "pss", "dirty", "swap");
        var json = new Option<bool>("--json") { Description = "JSON: facts, groups and every mapping with its classification (bytes)" };
        var csv = new Option<bool>("--csv") { Description = "CSV: one row per mapping with every smaps field (bytes) and its classification" };
        var noPicture = new Option<bool>("--no-picture") { Description = "Segment view without the address-space picture" };
        var cmd = new Command("maps", "A process's address space: segments (code, data, heap, mmap, stack), libraries, arenas, thread stacks; -x like pmap -x");
        cmd.Arguments.Add(pidArg);
        var explain = new Option<bool>("--explain") { Description = "explain each column under the table (--lang zh for Chinese)" };
        foreach (Option o in new Option[] { extended, all, sort, json, csv, noPicture, explain }) cmd.Options.Add(o);
        cmd.SetAction(parse =>
        {
            ProcFs proc = GlobalOptions.OpenProc(parse);
            int pid = parse.GetValue(pidArg);
            AddressSpaceSnapshot space = ReadProcess(proc, pid);
            TextWriter output = parse.InvocationConfiguration.Output;
            string by = parse.GetValue(sort) ?? "address";
            if (parse.GetValue(json))
                output.WriteLine(JsonSerializer.Serialize(MapsJson.From(space), MapsJsonContext.Default.MapsJson));
            else if (parse.GetValue(csv))
                RenderCsv(output, space, by);
            else if (parse.GetValue(all))
                RenderExtended(output, space, by);
            else if (parse.GetValue(extended))
                RenderPmapX(output, space, by);
            else
                RenderSegments(output, space, by, !parse.GetValue(noPicture));
            if (parse.GetValue(explain) && !parse.GetValue(json) && !parse.GetValue(csv))
                ExplainFooter.Write(output, GlobalOptions.LanguageOf(parse), "segments", "brk-mmap", "process.virt", "smaps.Rss", "smaps.Pss",
                    "smaps.Private_Dirty", "smaps.Swap", "page-table", "huge-pages");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    /// <summary>Reads PID's address space; an unknown, vanished or unreadable PID becomes one clear line.</summary>
    internal static AddressSpaceSnapshot ReadProcess(ProcFs proc, int pid)
    {
        if (pid <= 0) throw new CliException(ExitCodes.Usage, $"PID {pid}: not a process ID");
        AddressSpaceSnapshot space;
        try { space = AddressSpaceSnapshot.Read(proc, pid); }
        catch (KernelFileException e) when (e.Error == KernelFileError.Gone)
        {
            throw new CliException(ExitCodes.NotFound, $"no process with PID {pid} (it does not exist or has exited)");
        }
        catch (KernelFileException e) when (e.Error == KernelFileError.Denied)
        {
            throw new CliException(ExitCodes.NoPermission, $"PID {pid}: cannot read {e.Path}: permission denied (run as root or as the process owner)");
        }
        if (space.Mappings.Count == 0)
            throw new CliException(ExitCodes.NotFound, $"PID {pid} ({space.Comm}) has no user address space (a kernel thread or a zombie)");
        return space;
    }

    internal static ulong? SortValue(SmapsFields f, ulong size, string by) => by switch
    {
        "size" => size,
        "rss" => f.Rss,
        "pss" => f.Pss,
        "dirty" => (f.SharedDirty ?? 0) + (f.PrivateDirty ?? 0),
        "swap" => f.Swap,
        _ => null,
    };

    private static IEnumerable<ClassifiedMapping> Sorted(AddressSpaceSnapshot s, string by) => by == "address"
        ? s.Mappings
        : s.Mappings.OrderByDescending(c => SortValue(c.Fields, c.Mapping.SizeBytes, by) ?? 0).ThenBy(c => c.Mapping.Start);

    private static string Kb(ulong? bytes) => bytes is ulong b ? (b / 1024).ToString(CultureInfo.InvariantCulture) : "-";

    private static void WriteFacts(TextWriter o, AddressSpaceSnapshot s)
    {
        o.WriteLine($"PID {s.Pid} ({s.Comm}){(s.ExePath is null ? "" : "  " + s.ExePath)}  {s.Mappings.Count} mappings" +
                    (s.Threads is int t ? $", {t} threads" : ""));
        o.WriteLine($"page size {HumanSize.Format((ulong)s.PageSizeBytes)}   huge page size {HumanSize.Format(s.HugePageSizeBytes)}   " +
                    $"page tables: this process (VmPTE) {HumanSize.Format(s.PageTableBytes)}, whole system (PageTables) {HumanSize.Format(s.SystemPageTablesBytes)}");
    }

    // ---- pmap -x ----

    /// <summary>pmap's Mode column: rwx, then 's' for shared, then '-' (procps prints R for MAP_NORESERVE only on old kernels).</summary>
    internal static string PmapMode(MemoryMapping m) =>
        string.Concat(m.Perms.AsSpan(0, 3), m.IsShared ? "s-" : "--");

    /// <summary>pmap's Mapping column: the file's base name, [ stack ] for the stack, [ anon ] for the rest.</summary>
    internal static string PmapName(MemoryMapping m)
    {
        if (m.Path == "[stack]") return "  [ stack ]";
        if (m.Path.Length == 0 || m.Path[0] == '[') return "  [ anon ]";
        return Path.GetFileName(m.Path);
    }

    private static void RenderPmapX(TextWriter o, AddressSpaceSnapshot s, string by)
    {
        o.WriteLine($"{s.Pid}:   {s.Comm}");
        o.WriteLine("Address           Kbytes     RSS   Dirty Mode  Mapping");
        ulong size = 0, rss = 0, dirty = 0;
        foreach (var c in Sorted(s, by))
        {
            MemoryMapping m = c.Mapping;
            SmapsFields f = c.Fields;
            ulong d = (f.SharedDirty ?? 0) + (f.PrivateDirty ?? 0);
            ulong sz = f.Size ?? m.SizeBytes;
            size += sz / 1024;
            rss += (f.Rss ?? 0) / 1024;
            dirty += d / 1024;
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{m.Start:x16} {sz / 1024,7} {Kb(f.Rss),7} {d / 1024,7} {PmapMode(m)} {PmapName(m)}"));
        }
        o.WriteLine("---------------- ------- ------- ------- ");
        o.WriteLine(string.Create(CultureInfo.InvariantCulture, $"total kB         {size,7} {rss,7} {dirty,7}"));
    }

    // ---- --csv ----

    private static string CsvField(string s) => s.IndexOfAny([',', '"', '\n']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;

    private static void RenderCsv(TextWriter o, AddressSpaceSnapshot s, string by)
    {
        var keys = SmapsFields.Keys.Names;
        o.WriteLine("start,end,perms,offset,dev,inode,segment,kind,heuristic,path," + string.Join(',', keys.Select(k => k.ToLowerInvariant() + "_bytes")));
        foreach (var c in Sorted(s, by))
        {
            MemoryMapping m = c.Mapping;
            var row = c.Fields.ToArray();
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{m.Start:x},{m.End:x},{m.Perms},{m.Offset:x},{m.DevMajor:x2}:{m.DevMinor:x2},{m.Inode},{AddressSpace.SegmentName(c.Segment)},{CsvField(AddressSpace.KindName(c.Kind))},{(c.Heuristic ? "true" : "false")},{CsvField(m.Path)},")
                + string.Join(',', row.Select(v => v?.ToString(CultureInfo.InvariantCulture) ?? "")));
        }
    }

    // ---- -X: every smaps column ----

    private static void RenderExtended(TextWriter o, AddressSpaceSnapshot s, string by)
    {
        // Only the columns this kernel prints (a field absent from every mapping is not shown as 0).
        var keys = SmapsFields.Keys.Names;
        var present = new bool[keys.Length];
        foreach (var c in s.Mappings)
        {
            ulong?[] row = c.Fields.ToArray();
            for (int i = 0; i < row.Length; i++) present[i] |= row[i] is not null;
        }
        var cols = Enumerable.Range(0, keys.Length).Where(i => present[i] && keys[i] is not ("KernelPageSize" or "MMUPageSize")).ToList();
        var headers = new List<string> { ">Address", "Perm", ">Offset", "Device", ">Inode" };
        headers.AddRange(cols.Select(i => ">" + keys[i]));
        headers.AddRange(["VmFlags", "Kind", "Mapping"]);
        var table = new TextTable(headers.ToArray());
        foreach (var c in Sorted(s, by))
        {
            MemoryMapping m = c.Mapping;
            ulong?[] row = c.Fields.ToArray();
            var cells = new List<string>
            {
                m.Start.ToString("x", CultureInfo.InvariantCulture), m.Perms, m.Offset.ToString("x8", CultureInfo.InvariantCulture),
                $"{m.DevMajor:x2}:{m.DevMinor:x2}", m.Inode.ToString(CultureInfo.InvariantCulture),
            };
            cells.AddRange(cols.Select(i => Kb(row[i])));
            cells.Add(c.Smaps.VmFlags is null ? "-" : string.Join(' ', c.Smaps.VmFlags));
            cells.Add(AddressSpace.KindName(c.Kind) + (c.Heuristic ? "*" : ""));
            cells.Add(m.Path.Length == 0 ? "[anon]" : m.Path);
            table.Add(cells.ToArray());
        }
        ulong?[] totals = s.Totals.ToArray();
        var total = new List<string> { "total kB", "", "", "", "" };
        total.AddRange(cols.Select(i => Kb(totals[i])));
        total.AddRange(["", "", ""]);
        table.Add(total.ToArray());
        table.Write(o);
        o.WriteLine("* classified by a layout heuristic (see docs/segments.md)");
    }

    // ---- segment view ----

    internal static void RenderSegments(TextWriter o, AddressSpaceSnapshot s, string by, bool picture)
    {
        WriteFacts(o, s);
        o.WriteLine();
        IEnumerable<MappingGroup> groups = by == "address"
            ? s.Groups.OrderBy(g => g.Segment).ThenBy(g => g.Start)
            : s.Groups.OrderByDescending(g => GroupSort(g, by) ?? 0);
        var table = new TextTable("SEGMENT", "KIND", "NAME", ">MAPS", ">VIRT", ">RSS", ">PSS", ">PRIV_DIRTY", ">SWAP");
        foreach (var g in groups)
        {
            string name = g.Name + (g.Instances is int n ? $" ({n})" : "") + (g.Heuristic ? " *" : "");
            table.Add(AddressSpace.SegmentName(g.Segment), AddressSpace.KindName(g.Kind), Shorten(name, 48),
                g.Maps.ToString(CultureInfo.InvariantCulture), HumanSize.Format(g.VirtBytes), HumanSize.Format(g.RssBytes),
                HumanSize.Format(g.PssBytes), HumanSize.Format(g.PrivateDirtyBytes), HumanSize.Format(g.SwapBytes));
        }
        table.Add("total", "", "", s.Mappings.Count.ToString(CultureInfo.InvariantCulture),
            HumanSize.Format((ulong)s.Mappings.Sum(c => (decimal)c.Mapping.SizeBytes)), HumanSize.Format(s.Totals.Rss),
            HumanSize.Format(s.Totals.Pss), HumanSize.Format(s.Totals.PrivateDirty), HumanSize.Format(s.Totals.Swap));
        table.Write(o);
        o.WriteLine();
        o.WriteLine(SegmentSummary(s));
        if (s.Groups.Any(g => g.Heuristic))
            o.WriteLine("* recognised by layout (a heuristic: see docs/segments.md)" +
                        (s.StackPointersKnown == 0 ? "; thread stack pointers were not readable, so stacks rest on the guard-page heuristic" : ""));
        if (picture)
        {
            o.WriteLine();
            WritePicture(o, s);
        }
    }

    private static ulong? GroupSort(MappingGroup g, string by) => by switch
    {
        "size" => g.VirtBytes,
        "rss" => g.RssBytes,
        "pss" => g.PssBytes,
        "dirty" => g.PrivateDirtyBytes,
        "swap" => g.SwapBytes,
        _ => null,
    };

    private static string SegmentSummary(AddressSpaceSnapshot s)
    {
        var parts = new List<string>();
        foreach (Segment seg in Enum.GetValues<Segment>())
        {
            var gs = s.Groups.Where(g => g.Segment == seg).ToList();
            if (gs.Count == 0) continue;
            ulong rss = gs.Aggregate(0UL, (a, g) => a + (g.RssBytes ?? 0));
            parts.Add($"{AddressSpace.SegmentName(seg)} {HumanSize.Format(rss)}");
        }
        int libs = s.Groups.Count(g => g.Kind == MappingKind.SharedLibrary);
        return "resident by segment: " + string.Join(", ", parts) + $"; {libs} shared libraries";
    }

    private static string Shorten(string s, int max) => s.Length <= max ? s : "…" + s[^(max - 1)..];

    /// <summary>
    /// The address space low to high: runs of consecutive mappings in the same segment on one line each, with the
    /// unmapped gaps between them (gaps inside a run smaller than the run's own size are folded into it).
    /// </summary>
    private static void WritePicture(TextWriter o, AddressSpaceSnapshot s)
    {
        o.WriteLine("address space, low to high (█ resident share of each run):");
        var runs = new List<(Segment Seg, ulong Start, ulong End, ulong Virt, ulong Rss, int Maps, HashSet<MappingKind> Kinds)>();
        foreach (var c in s.Mappings)
        {
            MemoryMapping m = c.Mapping;
            if (runs.Count > 0 && runs[^1].Seg == c.Segment && m.Start - runs[^1].End <= Math.Max(runs[^1].End - runs[^1].Start, 1UL << 30))
            {
                var r = runs[^1];
                r.Kinds.Add(c.Kind);
                runs[^1] = (r.Seg, r.Start, m.End, r.Virt + m.SizeBytes, r.Rss + (c.Fields.Rss ?? 0), r.Maps + 1, r.Kinds);
            }
            else runs.Add((c.Segment, m.Start, m.End, m.SizeBytes, c.Fields.Rss ?? 0, 1, [c.Kind]));
        }
        ulong prevEnd = 0;
        foreach (var r in runs)
        {
            if (prevEnd != 0 && r.Start > prevEnd)
                o.WriteLine(prevEnd <= 0x0000_8000_0000_0000UL && r.Start >= 0xffff_8000_0000_0000UL
                    ? $"  {"",-33}   ┆ end of user space (the rest is the kernel's half and the non-canonical hole)"
                    : $"  {"",-33}   ┆ gap {HumanSize.Format(r.Start - prevEnd)}");
            int filled = r.Virt == 0 ? 0 : (int)Math.Round(10.0 * r.Rss / r.Virt);
            string bar = new string('█', filled) + new string('░', 10 - filled);
            string kinds = string.Join(", ", r.Kinds.Select(AddressSpace.KindName));
            o.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {r.Start:x16}-{r.End:x16} {bar} {AddressSpace.SegmentName(r.Seg),-6} {HumanSize.Format(r.Virt),8} virt {HumanSize.Format(r.Rss),8} rss  {r.Maps} map{(r.Maps == 1 ? "" : "s")}: {kinds}"));
            prevEnd = r.End;
        }
    }
}

/// <summary>JSON of `memscope maps --json` (stable snake_case names, bytes).</summary>
public sealed record MapsJson
{
    public int Pid { get; init; }
    public string Comm { get; init; } = "";
    public string? Exe { get; init; }
    public long PageSizeBytes { get; init; }
    public ulong? HugePageSizeBytes { get; init; }
    public ulong? VmPteBytes { get; init; }
    public ulong? SystemPageTablesBytes { get; init; }
    public int StackPointersKnown { get; init; }
    public ulong VirtBytes { get; init; }
    public SmapsFields Totals { get; init; } = new();
    /// <summary>The model's groups as they are; Segment and Kind are written by name (<see cref="SegmentNameConverter"/>).</summary>
    public IReadOnlyList<MappingGroup> Groups { get; init; } = [];
    public List<MapsMappingJson> Mappings { get; init; } = [];

    public static MapsJson From(AddressSpaceSnapshot s) => new()
    {
        Pid = s.Pid,
        Comm = s.Comm,
        Exe = s.ExePath,
        PageSizeBytes = s.PageSizeBytes,
        HugePageSizeBytes = s.HugePageSizeBytes,
        VmPteBytes = s.PageTableBytes,
        SystemPageTablesBytes = s.SystemPageTablesBytes,
        StackPointersKnown = s.StackPointersKnown,
        VirtBytes = (ulong)s.Mappings.Sum(c => (decimal)c.Mapping.SizeBytes),
        Totals = s.Totals,
        Groups = s.Groups,
        Mappings = s.Mappings.Select(c => new MapsMappingJson
        {
            Start = c.Mapping.Start, End = c.Mapping.End, Perms = c.Mapping.Perms, Offset = c.Mapping.Offset,
            Dev = $"{c.Mapping.DevMajor:x2}:{c.Mapping.DevMinor:x2}", Inode = c.Mapping.Inode, Path = c.Mapping.Path,
            Deleted = c.Mapping.IsDeleted, Segment = AddressSpace.SegmentName(c.Segment), Kind = AddressSpace.KindName(c.Kind),
            Group = c.Group, Heuristic = c.Heuristic, Rule = c.Rule, Fields = c.Fields, VmFlags = c.Smaps.VmFlags,
        }).ToList(),
    };
}

public sealed record MapsMappingJson
{
    public ulong Start { get; init; }
    public ulong End { get; init; }
    public string Perms { get; init; } = "";
    public ulong Offset { get; init; }
    public string Dev { get; init; } = "";
    public ulong Inode { get; init; }
    public string Path { get; init; } = "";
    public bool Deleted { get; init; }
    public string Segment { get; init; } = "";
    public string Kind { get; init; } = "";
    public string Group { get; init; } = "";
    public bool Heuristic { get; init; }
    public string Rule { get; init; } = "";
    public SmapsFields Fields { get; init; } = new();
    public IReadOnlyList<string>? VmFlags { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true,
    Converters = new[] { typeof(SegmentNameConverter), typeof(MappingKindNameConverter) })]
[JsonSerializable(typeof(MapsJson))]
internal partial class MapsJsonContext : JsonSerializerContext;

/// <summary>Writes a <see cref="Segment"/> as the tables name it ("code", "mmap"...): <see cref="AddressSpace.SegmentName"/>.</summary>
internal sealed class SegmentNameConverter : JsonConverter<Segment>
{
    public override Segment Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => throw new NotSupportedException("maps JSON is output only");
    public override void Write(Utf8JsonWriter writer, Segment value, JsonSerializerOptions options) => writer.WriteStringValue(AddressSpace.SegmentName(value));
}

/// <summary>Writes a <see cref="MappingKind"/> as the tables name it ("shared library"...): <see cref="AddressSpace.KindName"/>.</summary>
internal sealed class MappingKindNameConverter : JsonConverter<MappingKind>
{
    public override MappingKind Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => throw new NotSupportedException("maps JSON is output only");
    public override void Write(Utf8JsonWriter writer, MappingKind value, JsonSerializerOptions options) => writer.WriteStringValue(AddressSpace.KindName(value));
}
