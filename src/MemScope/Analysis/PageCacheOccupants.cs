using System.Globalization;
using MemScope.Procfs;

namespace MemScope.Analysis;

/// <summary>A file that may occupy the page cache: shown by <see cref="Path"/>, opened through <see cref="OpenPath"/>.</summary>
public sealed record CacheCandidate(string Path, string OpenPath, string Source);

/// <summary>The measured occupants, ranked, and how the search went.</summary>
public sealed record PageCacheOccupantsResult(List<FileResidency> Files, int Examined, int Failed, int ProcessesDenied);

/// <summary>
/// Which files occupy the page cache. The kernel has no list of cached files, so candidates are gathered from every
/// process's file mappings (/proc/PID/maps) and open files (/proc/PID/fd) plus paths the user names, then measured
/// with cachestat(2) or mincore and ranked by cached bytes. Deleted files are opened through /proc/PID/fd/N or
/// /proc/PID/map_files/. Device, proc and sys files are never opened (opening some devices has side effects).
/// </summary>
public static class PageCacheOccupants
{
    public static List<CacheCandidate> Candidates(ProcFs proc, IEnumerable<string> extraPaths, out int processesDenied)
    {
        var seen = new Dictionary<string, CacheCandidate>(StringComparer.Ordinal);
        processesDenied = 0;
        foreach (string p in extraPaths)
            foreach (var (path, err) in FileCacheResidency.Expand([p], recursive: true))
                if (err is null) seen.TryAdd(path, new CacheCandidate(path, path, "command line"));
        foreach (int pid in proc.ListPids())
        {
            bool denied = false;
            // open files
            try
            {
                foreach (string fdPath in Directory.EnumerateFileSystemEntries(proc.PidPath(pid, "fd")))
                {
                    string? target;
                    try { target = new FileInfo(fdPath).LinkTarget; }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
                    if (target is null || !Wanted(target)) continue;
                    bool deleted = target.EndsWith(" (deleted)", StringComparison.Ordinal);
                    seen.TryAdd(target, new CacheCandidate(target, deleted ? fdPath : target, "open file"));
                }
            }
            catch (UnauthorizedAccessException) { denied = true; }
            catch (IOException) { }
            // file mappings
            string? maps;
            try { maps = KernelFile.TryReadAllText(proc.PidPath(pid, "maps")); }
            catch (KernelFileException e) when (e.Error == KernelFileError.Denied) { denied = true; maps = null; }
            catch (KernelFileException) { maps = null; }
            if (maps is not null)
            {
                foreach (ReadOnlySpan<char> line in maps.AsSpan().EnumerateLines())
                {
                    int slash = line.IndexOf('/');
                    if (slash <= 0 || line[slash - 1] != ' ') continue; // [anon:/x] and the like are not paths
                    // the path is the 6th field; a '/' earlier on the line cannot happen (fields are hex, perms, dev, inode)
                    string path = line[slash..].ToString();
                    if (!Wanted(path) || seen.ContainsKey(path)) continue;
                    bool deleted = path.EndsWith(" (deleted)", StringComparison.Ordinal);
                    string open = path;
                    if (deleted)
                    {
                        int space = line.IndexOf(' ');
                        if (space <= 0) continue;
                        open = proc.PidPath(pid, "map_files/" + line[..space].ToString());
                    }
                    seen.TryAdd(path, new CacheCandidate(path, open, "mapping"));
                }
            }
            if (denied) processesDenied++;
        }
        return seen.Values.ToList();
    }

    private static bool Wanted(string path) =>
        path.Length > 1 && path[0] == '/'
        && !path.StartsWith("/dev/", StringComparison.Ordinal) && !path.StartsWith("/proc/", StringComparison.Ordinal)
        && !path.StartsWith("/sys/", StringComparison.Ordinal) && !path.StartsWith("/memfd:", StringComparison.Ordinal);

    /// <summary>Measures the candidates and returns the <paramref name="top"/> largest by cached bytes (0 = all).</summary>
    public static PageCacheOccupantsResult Rank(IEnumerable<CacheCandidate> candidates, int top, int processesDenied = 0)
    {
        var files = new List<FileResidency>();
        int examined = 0, failed = 0;
        foreach (CacheCandidate c in candidates)
        {
            examined++;
            try
            {
                if (Directory.Exists(c.OpenPath)) continue;
                FileResidency r = FileCacheResidency.Measure(c.Path, c.OpenPath);
                if (r.CachedPages > 0) files.Add(r);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { failed++; }
        }
        files.Sort((a, b) => b.CachedPages.CompareTo(a.CachedPages) is int d && d != 0 ? d : string.CompareOrdinal(a.Path, b.Path));
        if (top > 0 && files.Count > top) files.RemoveRange(top, files.Count - top);
        return new PageCacheOccupantsResult(files, examined, failed, processesDenied);
    }
}
