namespace MemScope.Tests.Procps;

/// <summary>
/// The procps-ng 4.0.2 oracle outputs in Captures/procps (made by capture.sh with the real free/vmstat reading
/// bind-mounted fixture files) and the fake proc roots that give MemScope the very same files.
/// </summary>
public static class ProcpsCaptures
{
    public static string Dir => Path.Combine(Paths.Captures, "procps");

    public sealed record Input(string Name, string Meminfo, string Stat, string Vmstat);

    public static IReadOnlyList<Input> Inputs { get; } = LoadInputs();

    public static IReadOnlyList<string> FreeFlags { get; } = Lines("free-flags.txt");
    public static IReadOnlyList<string> VmstatFlags { get; } = Lines("vmstat-flags.txt");

    public static Input Get(string name) => Inputs.Single(i => i.Name == name);

    /// <summary>The file name capture.sh gives a flag set: dashes dropped, spaces to '_', empty → default.</summary>
    public static string Key(string flags)
    {
        string k = flags.Replace("-", "").Replace(' ', '_');
        return k.Length == 0 ? "default" : k;
    }

    public static string Expected(string tool, string input, string flags) =>
        File.ReadAllText(Path.Combine(Dir, tool, input, Key(flags) + ".txt"));

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<string>> Roots = new();

    /// <summary>
    /// A temporary directory holding copies of the input's meminfo, stat and vmstat: made once per test run (tests of
    /// several classes share it) and removed when the run ends. Named with a fresh id, so a directory an earlier run
    /// left behind (its test host had the same pid) is never taken for this run's copy of possibly newer fixtures.
    /// </summary>
    public static string FakeRoot(Input input) => Roots.GetOrAdd(input.Name, _ => new Lazy<string>(() =>
    {
        string root = Directory.CreateTempSubdirectory($"memscope_procps_{input.Name}_").FullName;
        File.Copy(input.Meminfo, Path.Combine(root, "meminfo"));
        File.Copy(input.Stat, Path.Combine(root, "stat"));
        File.Copy(input.Vmstat, Path.Combine(root, "vmstat"));
        RegisterCleanup();
        return root;
    })).Value;

    private static bool _cleanupRegistered;
    private static readonly object CleanupGate = new();

    private static void RegisterCleanup()
    {
        lock (CleanupGate)
        {
            if (_cleanupRegistered) return;
            _cleanupRegistered = true;
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                foreach (Lazy<string> r in Roots.Values)
                    if (r.IsValueCreated)
                        try { Directory.Delete(r.Value, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            };
        }
    }

    /// <summary>
    /// Byte-identical output, with one documented exception: where the input file lacks a line (a stripped-down
    /// fixture), procps prints a silent 0 and MemScope prints "-" (unknown) in the same column (and a Total: sum
    /// with an unknown part is unknown).
    /// </summary>
    public static void AssertSameOutput(string expected, string actual)
    {
        if (expected == actual) return;
        string[] e = expected.Split('\n'), a = actual.Split('\n');
        Assert.True(e.Length == a.Length, $"line count differs\nexpected:\n{expected}\nactual:\n{actual}");
        for (int i = 0; i < e.Length; i++)
        {
            if (e[i] == a[i]) continue;
            string[] et = e[i].Split(' ', StringSplitOptions.RemoveEmptyEntries), at = a[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(et.Length == at.Length, $"line {i + 1} differs:\nexpected: {e[i]}\nactual:   {a[i]}");
            for (int j = 0; j < et.Length; j++)
                Assert.True(et[j] == at[j] || (at[j] == "-" && (et[j] is "0" or "0B" || et[0] == "Total:")),
                    $"line {i + 1} column {j + 1}: expected '{et[j]}', got '{at[j]}'\nexpected: {e[i]}\nactual:   {a[i]}");
        }
    }

    private static string Resolve(string spec) =>
        spec.StartsWith('@') ? Path.Combine(Dir, spec[1..]) : Path.Combine(Paths.SharedFixtures, spec);

    private static IReadOnlyList<Input> LoadInputs()
    {
        var list = new List<Input>();
        foreach (string line in File.ReadAllLines(Path.Combine(Dir, "inputs.txt")))
        {
            if (line.Length == 0 || line.StartsWith('#')) continue;
            string[] p = line.Split('|');
            list.Add(new Input(p[0], Resolve(p[1]), Resolve(p[2]), Resolve(p[3])));
        }
        return list;
    }

    private static IReadOnlyList<string> Lines(string file) =>
        File.ReadAllLines(Path.Combine(Dir, file)).Select(l => l.Trim()).Concat([""]).ToList();
}
