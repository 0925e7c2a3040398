using System.Reflection;
using System.Text.Json;

namespace MemScope.Tests.Fixtures;

/// <summary>Every entry of every expected.json under <see cref="Paths.SharedFixtures"/>, and the handlers found by reflection.</summary>
public static class FixtureCatalog
{
    private static readonly Lazy<IReadOnlyList<FixtureEntry>> _entries = new(Load);
    private static readonly Lazy<IReadOnlyList<IFixtureHandler>> _handlers = new(FindHandlers);

    public static IReadOnlyList<FixtureEntry> Entries => _entries.Value;
    public static IReadOnlyList<IFixtureHandler> Handlers => _handlers.Value;

    public static FixtureEntry Get(string source, string key) =>
        Entries.Single(e => e.Source == source && e.Key == key);

    /// <summary>The handlers that claim an entry (exactly one is expected).</summary>
    public static List<IFixtureHandler> HandlersFor(FixtureEntry e) => Handlers.Where(h => h.Handles(e)).ToList();

    private static IReadOnlyList<FixtureEntry> Load()
    {
        var list = new List<FixtureEntry>();
        foreach (string file in Directory.EnumerateFiles(Paths.SharedFixtures, "expected.json", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            string source = Path.GetRelativePath(Paths.SharedFixtures, Path.GetDirectoryName(file)!);
            using var doc = JsonDocument.Parse(File.ReadAllText(file));
            foreach (JsonProperty p in doc.RootElement.EnumerateObject())
            {
                if (p.Name.StartsWith('_')) continue; // _meta
                list.Add(new FixtureEntry(source, p.Name, p.Value.Clone()));
            }
        }
        return list;
    }

    private static IReadOnlyList<IFixtureHandler> FindHandlers() =>
        typeof(FixtureCatalog).Assembly.GetTypes()
            .Where(t => typeof(IFixtureHandler).IsAssignableFrom(t) && t is { IsClass: true, IsAbstract: false })
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .Select(t => (IFixtureHandler)Activator.CreateInstance(t)!)
            .ToList();
}
