using System.Buffers;
using MemScope.Procfs;

namespace MemScope.Analysis;

/// <summary>A virtual range to scan (clipped to one mapping).</summary>
public sealed record PageScanRange(ulong Start, ulong End, string Label, MappingKind Kind);

/// <summary>Page counts of a range. Counts that need /proc/kpageflags (root) are null when it was unreadable.</summary>
public sealed record PageCounts
{
    public ulong Pages { get; init; }
    /// <summary>Backed by a page frame in RAM (pagemap bit 63).</summary>
    public ulong Present { get; init; }
    /// <summary>In swap (bit 62).</summary>
    public ulong Swapped { get; init; }
    /// <summary>Neither present nor swapped: never touched (anonymous), or not mapped/evicted (file).</summary>
    public ulong NotPresent { get; init; }
    /// <summary>Present file pages or shared anonymous (bit 61).</summary>
    public ulong File { get; init; }
    /// <summary>Present private anonymous pages (bit 61 clear).</summary>
    public ulong Anon { get; init; }
    /// <summary>Present and mapped by this process only (bit 56, 4.2+).</summary>
    public ulong Exclusive { get; init; }
    public ulong SoftDirty { get; init; }
    /// <summary>Present pages that are part of a transparent huge page (kpageflags bit 22); null without root.</summary>
    public ulong? Thp { get; init; }
    /// <summary>Present pages mapped to the shared zero page (read but never written; kpageflags bit 24); null without root.</summary>
    public ulong? ZeroPage { get; init; }
    /// <summary>KSM-merged pages (bit 21); null without root.</summary>
    public ulong? Ksm { get; init; }
    /// <summary>Hugetlbfs pages (bit 17 without THP); null without root.</summary>
    public ulong? Hugetlb { get; init; }

    internal PageCounts Add(PageCounts o) => new()
    {
        Pages = Pages + o.Pages, Present = Present + o.Present, Swapped = Swapped + o.Swapped, NotPresent = NotPresent + o.NotPresent,
        File = File + o.File, Anon = Anon + o.Anon, Exclusive = Exclusive + o.Exclusive, SoftDirty = SoftDirty + o.SoftDirty,
        Thp = Thp + o.Thp, ZeroPage = ZeroPage + o.ZeroPage, Ksm = Ksm + o.Ksm, Hugetlb = Hugetlb + o.Hugetlb,
    };
}

/// <summary>The result of a pagemap scan.</summary>
public sealed record PageScan
{
    public required long PageSizeBytes { get; init; }
    public required IReadOnlyList<(PageScanRange Range, PageCounts Counts)> Ranges { get; init; }
    public required PageCounts Total { get; init; }
    /// <summary>False when present pages showed PFN 0: the kernel hides PFNs from readers without CAP_SYS_ADMIN.</summary>
    public bool PfnsVisible { get; init; }
    /// <summary>Null when /proc/kpageflags was read; otherwise why not.</summary>
    public string? FlagsMissing { get; init; }
    /// <summary>Residency per bar column over all ranges in address order: (pages, present, swapped).</summary>
    public required (ulong Pages, ulong Present, ulong Swapped)[] Bar { get; init; }
}

/// <summary>
/// Counts what backs each virtual page of a range from /proc/PID/pagemap, and (as root) what kind of physical page it
/// is from /proc/kpageflags. Reads in chunks with pread at offset vaddr / pagesize * 8.
/// </summary>
public static class PageResidency
{
    private const int Chunk = 1 << 16;

    public static PageScan Scan(ProcFs proc, int pid, IReadOnlyList<PageScanRange> ranges, int barWidth = 64)
    {
        long pageSize = Environment.SystemPageSize;
        ulong page = (ulong)pageSize;
        using ProcPidPagemap pagemap = ProcPidPagemap.Open(proc.PidPath(pid, "pagemap"));
        KpageTable? flags = null;
        string? flagsMissing = null;
        try { flags = KpageTable.Open(proc.PathOf("kpageflags")); }
        catch (KernelFileException e) when (e.Error == KernelFileError.Denied)
        {
            flagsMissing = "/proc/kpageflags is readable by root only";
        }
        catch (KernelFileException e) when (e.Error == KernelFileError.Gone)
        {
            flagsMissing = "this kernel has no /proc/kpageflags (CONFIG_PROC_PAGE_MONITOR off)";
        }

        ulong totalPages = 0;
        foreach (var r in ranges) totalPages += (r.End - r.Start) / page;
        barWidth = (int)Math.Max(1, Math.Min((ulong)barWidth, Math.Max(totalPages, 1)));
        var bar = new (ulong Pages, ulong Present, ulong Swapped)[barWidth];

        ulong[] entries = ArrayPool<ulong>.Shared.Rent(Chunk);
        ulong[] pfns = ArrayPool<ulong>.Shared.Rent(Chunk);
        ulong[] values = ArrayPool<ulong>.Shared.Rent(Chunk);
        bool sawPresent = false, sawPfn = false;
        var results = new List<(PageScanRange, PageCounts)>(ranges.Count);
        ulong seen = 0;
        try
        {
            foreach (var r in ranges)
            {
                ulong present = 0, swapped = 0, notPresent = 0, file = 0, anon = 0, excl = 0, soft = 0;
                ulong thp = 0, zero = 0, ksm = 0, huge = 0;
                ulong first = r.Start / page, last = r.End / page;
                for (ulong p = first; p < last;)
                {
                    int want = (int)Math.Min((ulong)Chunk, last - p);
                    int got = pagemap.Read(p, entries.AsSpan(0, want));
                    // A short read means the range ended (process exited or unmapped): the rest counts as not present.
                    for (int k = got; k < want; k++) entries[k] = 0;
                    int npfn = 0;
                    for (int k = 0; k < want; k++)
                    {
                        var e = new PagemapEntry(entries[k]);
                        int col = (int)((seen + (ulong)k) * (ulong)barWidth / Math.Max(totalPages, 1));
                        bar[col].Pages++;
                        if (e.Present)
                        {
                            present++;
                            bar[col].Present++;
                            sawPresent = true;
                            if (e.FileOrSharedAnon) file++; else anon++;
                            if (e.ExclusivelyMapped) excl++;
                            if (e.Pfn != 0) { sawPfn = true; pfns[npfn++] = e.Pfn; }
                        }
                        else if (e.Swapped) { swapped++; bar[col].Swapped++; }
                        else notPresent++;
                        if (e.SoftDirty && (e.Present || e.Swapped)) soft++;
                    }
                    if (flags is not null && npfn > 0)
                    {
                        flags.Read(pfns.AsSpan(0, npfn), values.AsSpan(0, npfn));
                        for (int k = 0; k < npfn; k++)
                        {
                            ulong f = values[k];
                            if (KpageFlags.Has(f, KpageFlags.Thp)) thp++;
                            else if (KpageFlags.Has(f, KpageFlags.Huge)) huge++;
                            if (KpageFlags.Has(f, KpageFlags.ZeroPage)) zero++;
                            if (KpageFlags.Has(f, KpageFlags.Ksm)) ksm++;
                        }
                    }
                    seen += (ulong)want;
                    p += (ulong)want;
                }
                bool flagged = flags is not null && (sawPfn || !sawPresent);
                results.Add((r, new PageCounts
                {
                    Pages = last - first, Present = present, Swapped = swapped, NotPresent = notPresent, File = file, Anon = anon,
                    Exclusive = excl, SoftDirty = soft,
                    Thp = flagged ? thp : null, ZeroPage = flagged ? zero : null, Ksm = flagged ? ksm : null, Hugetlb = flagged ? huge : null,
                }));
            }
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(entries);
            ArrayPool<ulong>.Shared.Return(pfns);
            ArrayPool<ulong>.Shared.Return(values);
            flags?.Dispose();
        }

        bool pfnsVisible = !sawPresent || sawPfn;
        if (!pfnsVisible && flagsMissing is null) flagsMissing = "PFNs are hidden (reported as 0) from readers without CAP_SYS_ADMIN";
        if (!pfnsVisible)
        {
            // Flags looked up for PFN 0 would be wrong: make them unknown.
            for (int i = 0; i < results.Count; i++)
                results[i] = (results[i].Item1, results[i].Item2 with { Thp = null, ZeroPage = null, Ksm = null, Hugetlb = null });
        }
        PageCounts total = new() { Thp = 0, ZeroPage = 0, Ksm = 0, Hugetlb = 0 };
        foreach (var (_, c) in results) total = total.Add(c);
        return new PageScan
        {
            PageSizeBytes = pageSize,
            Ranges = results,
            Total = total,
            PfnsVisible = pfnsVisible,
            FlagsMissing = flagsMissing,
            Bar = bar,
        };
    }

    /// <summary>
    /// One sentence for people, e.g. "100 MiB reserved, 25 MiB backed by RAM: the rest was never touched".
    /// <paramref name="size"/> formats bytes; <paramref name="fileBacked"/>: true all file mappings, false all anonymous, null mixed.
    /// </summary>
    public static string Explain(PageScan scan, Func<ulong, string> size, bool? fileBacked)
    {
        ulong page = (ulong)scan.PageSizeBytes;
        PageCounts t = scan.Total;
        string s = $"{size(t.Pages * page)} mapped, {size(t.Present * page)} backed by RAM";
        var rest = new List<string>();
        if (t.Swapped > 0) rest.Add($"{size(t.Swapped * page)} is in swap");
        if (t.NotPresent > 0)
            rest.Add(fileBacked switch
            {
                true => $"{size(t.NotPresent * page)} is not mapped in (never accessed, or its page-cache pages were evicted or never faulted in)",
                false => $"{size(t.NotPresent * page)} was never touched",
                null => $"{size(t.NotPresent * page)} is not present (anonymous pages never touched, file pages not faulted in)",
            });
        if (t.ZeroPage is > 0) rest.Add($"{size(t.ZeroPage.Value * page)} of the resident part is the shared zero page (read, never written)");
        if (rest.Count == 0) return s + ": all of it.";
        if (t.Swapped == 0 && t.NotPresent > 0 && rest.Count == 1)
            return s + (fileBacked == false ? ": the rest (" + size(t.NotPresent * page) + ") was never touched."
                                            : ": the rest " + rest[0][(rest[0].IndexOf(" is ", StringComparison.Ordinal) + 1)..] + ".");
        return s + "; " + string.Join("; ", rest) + ".";
    }
}
