namespace MemScope.Tests.Fixtures;

/// <summary>
/// Walks every expected.json under ../shared/fixtures (real captures from prometheus/procfs, node_exporter, gopsutil,
/// goprocinfo, go-sysinfo and psutil, with the values their own tests assert) and checks each entry through our
/// readers, each source folder used as a fake /proc and /sys root. One test case per entry.
/// </summary>
public class SharedFixtureTests
{
    public static IEnumerable<object[]> Entries() =>
        FixtureCatalog.Entries.Select(e => new object[] { e.Source, e.Key });

    [SkippableTheory]
    [MemberData(nameof(Entries))]
    public void Entry_matches_the_source_projects_assertions(string source, string key)
    {
        FixtureEntry entry = FixtureCatalog.Get(source, key);
        Assert.True(File.Exists(entry.FullPath) || Directory.Exists(entry.FullPath) || entry.Key.Contains('*'),
            $"{entry.Id}: fixture file missing at {entry.FullPath}");
        List<IFixtureHandler> handlers = FixtureCatalog.HandlersFor(entry);
        // Entries without a handler are listed (and fail) in Every_entry_has_a_handler.
        Skip.If(handlers.Count == 0, $"no handler for {entry.Id} yet");
        Assert.True(handlers.Count == 1, $"{entry.Id} is claimed by {string.Join(", ", handlers.Select(h => h.GetType().Name))}");

        handlers[0].Check(entry);
        entry.ThrowIfFailed();
        if (!entry.ParseOnlyOrUnasserted && HasAssertedValues(entry))
            Assert.True(entry.Checks > 0, $"{entry.Id}: the handler asserted nothing although values are listed");
    }

    [Fact]
    public void Fixtures_are_there()
    {
        // Six sources and 101 entries at the time of writing; a wrong path would silently test nothing.
        Assert.True(FixtureCatalog.Entries.Select(e => e.Source).Distinct().Count() >= 6, $"expected.json files not found under {Paths.SharedFixtures}");
        Assert.True(FixtureCatalog.Entries.Count >= 100, $"only {FixtureCatalog.Entries.Count} entries found");
    }

    /// <summary>Makes gaps visible: every fixture entry must be claimed by exactly one handler.</summary>
    [Fact]
    public void Every_entry_has_a_handler()
    {
        var unhandled = FixtureCatalog.Entries.Where(e => FixtureCatalog.HandlersFor(e).Count == 0).Select(e => e.Id).ToList();
        var ambiguous = FixtureCatalog.Entries.Where(e => FixtureCatalog.HandlersFor(e).Count > 1)
            .Select(e => $"{e.Id} ({string.Join(", ", FixtureCatalog.HandlersFor(e).Select(h => h.GetType().Name))})").ToList();
        Assert.True(unhandled.Count == 0 && ambiguous.Count == 0,
            (unhandled.Count > 0 ? $"{unhandled.Count} fixture entries have no handler (add one in tests/MemScope.Tests/Fixtures/Handlers):\n  "
                + string.Join("\n  ", unhandled) + "\n" : "")
            + (ambiguous.Count > 0 ? "claimed by more than one handler:\n  " + string.Join("\n  ", ambiguous) : ""));
    }

    /// <summary>
    /// The handlers together must really compare values: the README counts ~1,270 expected values plus 66 absent keys
    /// (a list of scalars counts as one here, so the floor is lower). Prints the count per source.
    /// </summary>
    [Fact]
    public void Handlers_check_over_a_thousand_values()
    {
        var perSource = new Dictionary<string, int>();
        foreach (FixtureEntry template in FixtureCatalog.Entries)
        {
            var e = new FixtureEntry(template.Source, template.Key, template.Json);
            var h = FixtureCatalog.HandlersFor(e);
            if (h.Count != 1) continue;
            h[0].Check(e);
            perSource[e.Source] = perSource.GetValueOrDefault(e.Source) + e.Checks;
        }
        int total = perSource.Values.Sum();
        Console.WriteLine($"fixture checks: {total} ({string.Join(", ", perSource.Select(kv => $"{kv.Key} {kv.Value}"))})");
        Assert.True(total >= 1000, $"only {total} checks ran: {string.Join(", ", perSource.Select(kv => $"{kv.Key} {kv.Value}"))}");
    }

    private static bool HasAssertedValues(FixtureEntry e) => e.Values is { } v && v.ValueKind switch
    {
        System.Text.Json.JsonValueKind.Object => v.EnumerateObject().Any(),
        System.Text.Json.JsonValueKind.Array => v.GetArrayLength() > 0,
        _ => true,
    };
}
