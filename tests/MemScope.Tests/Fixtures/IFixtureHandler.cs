namespace MemScope.Tests.Fixtures;

/// <summary>
/// Checks one kind of kernel file from ../shared/fixtures against our readers. To cover a new file kind, add a class in
/// Fixtures/Handlers implementing this interface (it is found by reflection: no list to edit). A handler must assert
/// every listed value (fields it cannot map are failures via <see cref="FixtureEntry.NoMapping"/>), treat
/// parse_only/unasserted entries as "must parse without error", and report absent keys as missing (null).
/// </summary>
public interface IFixtureHandler
{
    /// <summary>True when this handler is responsible for the entry (match on file name / path, not on the source).</summary>
    bool Handles(FixtureEntry entry);

    /// <summary>Parses the fixture with our readers and records checks on <paramref name="entry"/>.</summary>
    void Check(FixtureEntry entry);
}
