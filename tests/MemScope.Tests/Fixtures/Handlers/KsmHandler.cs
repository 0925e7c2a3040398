using MemScope.Sysfs;

namespace MemScope.Tests.Fixtures.Handlers;

/// <summary>/sys/kernel/mm/ksm/: one integer per file; node_exporter asserts sleep_millisecs in seconds.</summary>
public sealed class KsmHandler : IFixtureHandler
{
    public bool Handles(FixtureEntry e) => e.IsDirectory && e.Key.EndsWith("kernel/mm/ksm/", StringComparison.Ordinal);

    public void Check(FixtureEntry e)
    {
        Ksm? ksm = Ksm.TryRead(new SysFs(e.SysRoot!));
        e.True("directory", ksm is not null, "Ksm.TryRead returned null");
        if (ksm is null) return;
        foreach (var (field, expected) in e.Fields(e.Values))
        {
            if (e.FieldUnit(field).StartsWith("seconds", StringComparison.Ordinal))
                e.Real(field, ksm[field] / 1000.0, expected); // the file holds milliseconds
            else
                e.Signed(field, ksm[field], expected);
        }
        e.True("count", ksm.All.Count == e.Values!.Value.EnumerateObject().Count(), $"read {ksm.All.Count} files");
    }
}
