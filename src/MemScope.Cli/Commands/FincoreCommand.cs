using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MemScope.Analysis;
using MemScope.Tracing;

namespace MemScope.Cli.Commands;

/// <summary>
/// `memscope fincore PATH... [-r]`: how much of each file is in the page cache. cachestat(2) (Linux 6.5+) also gives
/// dirty, writeback, evicted and recently evicted pages; elsewhere mmap+mincore, marked unreliable for files the caller
/// may not write (the kernel then answers "resident" for every page).
/// </summary>
internal static class FincoreCommand
{
    public static Command Create()
    {
        var cmd = new Command("fincore", "Page-cache residency of files (cachestat(2) or mincore)");
        var paths = new Argument<string[]>("path") { Description = "files or directories", Arity = ArgumentArity.OneOrMore };
        var recursive = new Option<bool>("--recursive", "-r") { Description = "descend into directories recursively" };
        var json = new Option<bool>("--json") { Description = "JSON output (page counts and bytes)" };
        var mincore = new Option<bool>("--mincore") { Description = "use mmap+mincore even where cachestat(2) exists" };
        cmd.Arguments.Add(paths);
        cmd.Options.Add(recursive);
        cmd.Options.Add(json);
        cmd.Options.Add(mincore);
        cmd.SetAction(parse =>
        {
            TextWriter output = parse.InvocationConfiguration.Output;
            TextWriter error = parse.InvocationConfiguration.Error;
            bool forceMincore = parse.GetValue(mincore);
            var results = new List<FileResidency>();
            var errors = new List<FincoreErrorJson>();
            bool anyDenied = false;
            bool prev = FileCacheResidency.ForceMincore;
            FileCacheResidency.ForceMincore = forceMincore || prev;
            try
            {
                foreach (var (path, err) in FileCacheResidency.Expand(parse.GetValue(paths) ?? [], parse.GetValue(recursive)))
                {
                    if (err is not null) { errors.Add(new(path, err)); continue; }
                    try { results.Add(FileCacheResidency.Measure(path)); }
                    catch (UnauthorizedAccessException e) { anyDenied = true; errors.Add(new(path, Short(e.Message, path))); }
                    catch (IOException e) { errors.Add(new(path, Short(e.Message, path))); }
                }
            }
            finally
            {
                FileCacheResidency.ForceMincore = prev;
            }

            if (parse.GetValue(json))
            {
                var dto = new FincoreJsonDto
                {
                    PageSize = PerfEventNative.PageSize,
                    Method = results.Count > 0 && results.All(r => r.Method == ResidencyMethod.Cachestat) ? "cachestat" : "mincore",
                    Files = results.Select(ToJson).ToList(),
                    Errors = errors,
                };
                output.WriteLine(JsonSerializer.Serialize(dto, CacheJsonContext.Default.FincoreJsonDto));
            }
            else
            {
                Render(output, results);
            }
            foreach (var e in errors) error.WriteLine($"memscope: fincore: {e.Path}: {e.Error}");
            if (results.Count == 0 && errors.Count > 0) return anyDenied ? ExitCodes.NoPermission : ExitCodes.NotFound;
            return errors.Count > 0 ? ExitCodes.Failure : ExitCodes.Ok;
        });
        return cmd;
    }

    private static string Short(string message, string path) =>
        message.StartsWith(path + ": ", StringComparison.Ordinal) ? message[(path.Length + 2)..] : message;

    internal static FincoreFileJson ToJson(FileResidency r) => new()
    {
        Path = r.Path, SizeBytes = r.SizeBytes, Pages = r.Pages, CachedPages = r.CachedPages, CachedBytes = r.CachedBytes,
        CachedPercent = r.CachedPercent is double p ? Math.Round(p, 2) : null,
        DirtyPages = r.DirtyPages, WritebackPages = r.WritebackPages, EvictedPages = r.EvictedPages,
        RecentlyEvictedPages = r.RecentlyEvictedPages,
        Method = r.Method == ResidencyMethod.Cachestat ? "cachestat" : "mincore", Reliable = r.Reliable,
    };

    internal static void Render(TextWriter o, IReadOnlyList<FileResidency> results)
    {
        bool full = results.Any(r => r.DirtyPages is not null);
        o.Write($"{"RES",9} {"PAGES",10} {"CACHED",10} {"PERCENT",8}");
        if (full) o.Write($" {"DIRTY",8} {"WRITEBACK",9} {"EVICTED",8} {"RECENT",8}");
        o.WriteLine($" {"SIZE",9}  FILE");
        bool anyUnreliable = false;
        foreach (FileResidency r in results)
        {
            string pct = r.CachedPercent is double p ? p.ToString("0.0", CultureInfo.InvariantCulture) + "%" : "-";
            if (!r.Reliable) { pct += "*"; anyUnreliable = true; }
            o.Write($"{Human(r.CachedBytes),9} {r.Pages,10} {r.CachedPages,10} {pct,8}");
            if (full) o.Write($" {N(r.DirtyPages),8} {N(r.WritebackPages),9} {N(r.EvictedPages),8} {N(r.RecentlyEvictedPages),8}");
            o.WriteLine($" {Human(r.SizeBytes),9}  {r.Path}");
        }
        if (anyUnreliable)
            o.WriteLine("* mincore cannot be trusted for files you may not write (Linux 5.2+ reports them all resident); run as the owner or root, or on Linux 6.5+ (cachestat)");
    }

    private static string N(long? v) => v?.ToString(CultureInfo.InvariantCulture) ?? "-";

    internal static string Human(long bytes)
    {
        string[] units = ["B", "K", "M", "G", "T", "P"];
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.Length - 1) { v /= 1024; u++; }
        return u == 0 ? $"{bytes}B" : v.ToString(v >= 100 ? "0" : "0.0", CultureInfo.InvariantCulture) + units[u];
    }
}
