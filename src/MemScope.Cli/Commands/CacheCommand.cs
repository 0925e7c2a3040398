using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MemScope.Analysis;
using MemScope.Procfs;

namespace MemScope.Cli.Commands;

/// <summary>
/// `memscope cache [PATH...]`: buffers and page cache from /proc/meminfo, how much of buff/cache can really be
/// reclaimed and why, and the files occupying the cache (candidates from every process's mappings and open files plus
/// the given paths, measured with cachestat(2) or mincore, ranked by cached bytes).
/// </summary>
internal static class CacheCommand
{
    public static Command Create()
    {
        var cmd = new Command("cache", "Buffers and page cache: what is reclaimable, which files occupy it");
        var paths = new Argument<string[]>("path") { Description = "more files or directories to consider (recursively)", Arity = ArgumentArity.ZeroOrMore };
        var top = new Option<int>("--top", "-n") { Description = "files to list (0 = all)", DefaultValueFactory = _ => 20 };
        var noFiles = new Option<bool>("--no-files") { Description = "only the meminfo figures, no file search" };
        var json = new Option<bool>("--json") { Description = "JSON output (bytes)" };
        cmd.Arguments.Add(paths);
        var explain = new Option<bool>("--explain") { Description = "explain each column under the table (--lang zh for Chinese)" };
        foreach (Option o in new Option[] { top, noFiles, json, explain }) cmd.Options.Add(o);
        SnapshotSource history = SnapshotSource.Add(cmd);
        cmd.SetAction(parse =>
        {
            TextWriter o = parse.InvocationConfiguration.Output;
            int n = parse.GetValue(top);
            if (n < 0) throw new CliException(ExitCodes.Usage, "cache: --top must be 0 or more");
            // --db/--at: the meminfo recorded then; which files were cached is not recorded, so none are listed.
            bool replaying = history.IsReplay(parse);
            if (replaying && parse.GetValue(paths) is { Length: > 0 })
                throw new CliException(ExitCodes.Usage, "cache: PATH arguments measure files cached now; with --db/--at only the recorded meminfo can be shown");
            MemScope.Model.Snapshot? replayed = history.Replay(parse, processes: false);
            ProcFs? proc = replaying ? null : GlobalOptions.OpenProc(parse);
            Meminfo mi = replayed?.System.Meminfo ?? proc!.ReadMeminfo();
            CacheReclaimJson reclaim = Reclaim(mi);
            PageCacheOccupantsResult? occ = null;
            if (proc is not null && !parse.GetValue(noFiles))
            {
                List<CacheCandidate> cands = PageCacheOccupants.Candidates(proc, parse.GetValue(paths) ?? [], out int denied);
                occ = PageCacheOccupants.Rank(cands, n, denied);
            }
            string method = replaying ? "none" : FileCacheResidency.CachestatAvailable ? "cachestat" : "mincore";
            string? notListed = replaying ? "file residency is not recorded: a recording keeps /proc/meminfo, not which files were in the page cache" : null;
            if (parse.GetValue(json))
            {
                var dto = new CacheJsonDto
                {
                    Time = replayed?.Time ?? DateTimeOffset.UtcNow,
                    Meminfo = Fields.ToDictionary(f => Snake(f), f => mi[f]),
                    Reclaim = reclaim,
                    Files = occ?.Files.Select(FincoreCommand.ToJson).ToList() ?? [],
                    CandidatesExamined = occ?.Examined ?? 0,
                    CandidatesFailed = occ?.Failed ?? 0,
                    FileMethod = method,
                    FilesNotListed = notListed,
                };
                o.WriteLine(JsonSerializer.Serialize(dto, CacheJsonContext.Default.CacheJsonDto));
                return ExitCodes.Ok;
            }
            o.WriteLine(replayed is null ? "Buffers and page cache (/proc/meminfo)"
                : $"Buffers and page cache (/proc/meminfo recorded at {MemScope.Store.SnapshotReplay.Format(replayed.Time)})");
            foreach (var (field, what) in Explained)
                o.WriteLine($"  {field,-16} {Mib(mi[field]),10}  {what}");
            o.WriteLine();
            o.WriteLine("How much of buff/cache can be reclaimed");
            o.WriteLine($"  {"buff/cache",-44} {Mib(reclaim.BuffCacheBytes),10}  Buffers + Cached + SReclaimable, as free shows it");
            o.WriteLine($"  {"clean file pages, not mapped",-44} {Mib(reclaim.CleanUnmappedBytes),10}  reclaimable now, cheaply");
            o.WriteLine($"  {"clean file pages mapped by processes",-44} {Mib(reclaim.CleanMappedBytes),10}  reclaimable, but they will fault back in");
            o.WriteLine($"  {"dirty + under writeback",-44} {Mib(reclaim.DirtyWritebackBytes),10}  reclaimable only after writeback to disk");
            o.WriteLine($"  {"reclaimable slab (dentries, inodes)",-44} {Mib(reclaim.SlabReclaimableBytes),10}  reclaimable, rebuilt on the next lookups");
            o.WriteLine($"  {"Shmem (tmpfs, shared memory)",-44} {Mib(reclaim.ShmemBytes),10}  NOT reclaimable: can only move to swap");
            o.WriteLine($"  {"Unevictable (mlocked, ramfs)",-44} {Mib(reclaim.UnevictableBytes),10}  NOT reclaimable");
            o.WriteLine($"  {"=> reclaimable (estimate)",-44} {Mib(reclaim.ReclaimableEstimateBytes),10}  of which not reclaimable: {Mib(reclaim.NotReclaimableBytes)} MiB");
            o.WriteLine($"  {"kernel's MemAvailable",-44} {Mib(reclaim.MemAvailableBytes),10}  free + what the kernel thinks it can reclaim, minus reserves");
            foreach (string note in reclaim.Notes) o.WriteLine($"  note: {note}");
            if (notListed is not null)
            {
                o.WriteLine();
                o.WriteLine($"Files in the page cache: not listed ({notListed}; run 'memscope cache' live for the files cached now)");
            }
            if (occ is not null)
            {
                o.WriteLine();
                o.WriteLine($"Files in the page cache (top {occ.Files.Count}; {occ.Examined} candidates from process mappings, open files and the command line; {method})");
                FincoreCommand.Render(o, occ.Files);
                if (occ.Failed > 0) o.WriteLine($"({occ.Failed} candidates could not be opened)");
                if (occ.ProcessesDenied > 0) o.WriteLine($"({occ.ProcessesDenied} processes' maps or fds unreadable (EACCES{(Procfs.Privilege.IsRoot ? "" : "; run as root")}): their files may be missing here)");
                o.WriteLine("Only files some process maps or holds open (or that you name) can be listed: the kernel keeps no list of cached files.");
            }
            if (parse.GetValue(explain))
                ExplainFooter.Write(o, GlobalOptions.LanguageOf(parse), "meminfo.Buffers", "meminfo.Cached", "meminfo.SwapCached", "meminfo.Shmem",
                    "meminfo.SReclaimable", "meminfo.SUnreclaim", "meminfo.Dirty", "meminfo.Writeback", "meminfo.Active(file)", "meminfo.Inactive(file)",
                    "meminfo.Mapped", "page-cache-vs-buffers");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static readonly string[] Fields =
        ["Buffers", "Cached", "SwapCached", "Shmem", "SReclaimable", "SUnreclaim", "Dirty", "Writeback", "Active(file)", "Inactive(file)", "Mapped", "Unevictable", "Mlocked", "MemAvailable", "SwapTotal"];

    private static readonly (string, string)[] Explained =
    [
        ("Buffers", "raw block-device data (filesystem metadata, direct block reads)"),
        ("Cached", "file pages in the page cache, Shmem included"),
        ("SwapCached", "swapped-out pages also still in memory"),
        ("Shmem", "tmpfs, /dev/shm, shared anonymous memory: counted in Cached"),
        ("SReclaimable", "slab the kernel can free (dentry and inode caches)"),
        ("SUnreclaim", "slab it cannot"),
        ("Dirty", "modified file pages waiting to be written"),
        ("Writeback", "being written now"),
        ("Active(file)", "file pages used recently (reclaimed last)"),
        ("Inactive(file)", "file pages reclaimed first"),
        ("Mapped", "file pages mapped into processes"),
    ];

    private static string Snake(string field) => field.Replace("(", "_").Replace(")", "").ToLowerInvariant() + "_bytes";

    internal static CacheReclaimJson Reclaim(Meminfo mi)
    {
        var notes = new List<string>();
        ulong? buffers = mi.Buffers, cached = mi.Cached, shmem = mi.Shmem, dirty = mi.Dirty, wb = mi.Writeback, unev = mi.Unevictable,
            mapped = mi.Mapped, sre = mi.SReclaimable;
        ulong? buffCache = buffers + cached + (sre ?? 0);
        ulong? clean = null, cleanMapped = null, cleanUnmapped = null;
        if (buffers is ulong b && cached is ulong c && shmem is ulong s && dirty is ulong d && wb is ulong w)
        {
            long file = (long)(b + c) - (long)s;
            long cl = file - (long)d - (long)w - (long)(unev ?? 0);
            if (cl < 0) cl = 0;
            clean = (ulong)cl;
            // Mapped includes mapped shmem; clamp so the split never exceeds the clean total
            long mp = Math.Min(cl, (long)(mapped ?? 0));
            cleanMapped = (ulong)mp;
            cleanUnmapped = (ulong)(cl - mp);
        }
        ulong? dw = dirty + wb;
        ulong? reclaimable = clean is ulong cc ? cc + (dw ?? 0) + (sre ?? 0) : null;
        ulong? notReclaimable = shmem + (unev ?? 0);
        bool swap = (mi.SwapTotal ?? 0) > 0;
        if ((shmem ?? 0) > 0) notes.Add(swap ? "Shmem can be pushed to swap under pressure (swap is configured)" : "no swap configured: Shmem stays in RAM until its files are deleted or segments removed");
        if (unev is null) notes.Add("Unevictable unknown on this kernel: estimate may be high");
        if (reclaimable is ulong r && mi.MemAvailable is ulong avail && mi.MemFree is ulong free && avail < free + r / 2)
            notes.Add("MemAvailable is well below free + reclaimable: the kernel keeps part of the cache (low watermarks, workingset) and counts only half of reclaimable slab");
        return new CacheReclaimJson
        {
            BuffCacheBytes = buffCache, CleanUnmappedBytes = cleanUnmapped, CleanMappedBytes = cleanMapped,
            DirtyWritebackBytes = dw, ShmemBytes = shmem, UnevictableBytes = unev, SlabReclaimableBytes = sre,
            ReclaimableEstimateBytes = reclaimable, NotReclaimableBytes = notReclaimable, MemAvailableBytes = mi.MemAvailable,
            Notes = notes,
        };
    }

    private static string Mib(ulong? bytes) => bytes is ulong b ? (b / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) : "-";
}
