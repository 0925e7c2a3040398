namespace MemScope.TestSupport;

/// <summary>Copies of fixture trees that a test may edit (the shared fixtures are read-only).</summary>
public static class TempTrees
{
    /// <summary>Copies <paramref name="from"/> to <paramref name="to"/> as new, writable files.</summary>
    public static void CopyWritable(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (string f in Directory.GetFiles(from)) File.WriteAllBytes(Path.Combine(to, Path.GetFileName(f)), File.ReadAllBytes(f));
        foreach (string d in Directory.GetDirectories(from)) CopyWritable(d, Path.Combine(to, Path.GetFileName(d)));
    }
}
