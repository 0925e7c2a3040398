using MemScope.Procfs;

namespace MemScope.Tests.Fixtures.Handlers;

/// <summary>
/// /proc/pressure/{cpu,io,memory,irq}. prometheus/procfs asserts "some"/"full" objects (avg percent, total µs);
/// node_exporter asserts "some.total"/"full.total" in seconds (µs / 1e6).
/// </summary>
public sealed class PressureHandler : IFixtureHandler
{
    public bool Handles(FixtureEntry e) => !e.IsDirectory && e.Segments is [.., "pressure", _];

    public void Check(FixtureEntry e)
    {
        Pressure? p = new ProcFs(e.ProcRoot!).TryReadPressure(e.FileName);
        e.True("file", p is not null, "TryReadPressure returned null for an existing file");
        if (p is null) return;
        foreach (var (field, expected) in e.Fields(e.Values))
        {
            string[] parts = field.Split('.');
            PressureLine? line = parts[0] switch { "some" => p.Some, "full" => p.Full, _ => null };
            if (parts[0] is not ("some" or "full")) { e.NoMapping(field); continue; }
            if (line is not { } l) { e.Fail(field, "line missing"); continue; }
            if (parts.Length == 2 && parts[1] == "total") // seconds
            {
                e.Real(field, l.TotalMicroseconds / 1e6, expected);
                continue;
            }
            foreach (var (k, want) in e.Fields(expected))
            {
                switch (k)
                {
                    case "avg10": e.Real($"{field}.{k}", l.Avg10, want); break;
                    case "avg60": e.Real($"{field}.{k}", l.Avg60, want); break;
                    case "avg300": e.Real($"{field}.{k}", l.Avg300, want); break;
                    case "total": e.Number($"{field}.{k}", l.TotalMicroseconds, want); break;
                    default: e.NoMapping($"{field}.{k}"); break;
                }
            }
        }
        foreach (string field in e.Absent)
            e.Missing(field, field switch { "some" => p.Some, "full" => p.Full, _ => (object)"unknown field" });
    }
}
