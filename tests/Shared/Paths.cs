namespace MemScope.TestSupport;

/// <summary>Where the shared fixtures and our own captures are.</summary>
public static class Paths
{
    /// <summary>The repository root (the folder holding MemScope.slnx).</summary>
    public static string RepoRoot { get; } = FindUp(AppContext.BaseDirectory, "MemScope.slnx")
        ?? throw new InvalidOperationException("cannot find MemScope.slnx above the test binaries");

    /// <summary>../shared/fixtures beside the repository (read-only, from other projects).</summary>
    /// (Searched upwards, so worktrees at /work/wt/NAME find /work/shared/fixtures too.)
    public static string SharedFixtures { get; } = FindUpDir(RepoRoot, Path.Combine("shared", "fixtures"))
        ?? Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "fixtures"));

    /// <summary>Our own captures from this machine, beside the tests.</summary>
    public static string Captures { get; } = Path.Combine(RepoRoot, "tests", "MemScope.Tests", "Captures");

    private static string? FindUpDir(string start, string relative)
    {
        for (var dir = new DirectoryInfo(start).Parent; dir is not null; dir = dir.Parent)
            if (Directory.Exists(Path.Combine(dir.FullName, relative))) return Path.Combine(dir.FullName, relative);
        return null;
    }

    private static string? FindUp(string start, string marker)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, marker))) return dir.FullName;
        return null;
    }
}
