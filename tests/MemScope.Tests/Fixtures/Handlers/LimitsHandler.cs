using MemScope.Procfs;

namespace MemScope.Tests.Fixtures.Handlers;

/// <summary>/proc/PID/limits: the soft limit of each row; "unlimited" is 2^64-1.</summary>
public sealed class LimitsHandler : IFixtureHandler
{
    public bool Handles(FixtureEntry e) => !e.IsDirectory && e.FileName == "limits";

    public void Check(FixtureEntry e)
    {
        ProcPidLimits l = e.Pid is int pid && e.ProcRoot is { } root
            ? ProcPidLimits.Read(new ProcFs(root).PidPath(pid, "limits"))
            : ProcPidLimits.Read(e.FullPath);
        if (e.ParseOnlyOrUnasserted)
        {
            // Every kernel since 2.6.24 prints these rows; the old layout pads with trailing spaces.
            e.True("rows", l.Rows.Count >= 15, $"only {l.Rows.Count} rows");
            e.True("Max address space", l.AddressSpaceBytes is not null, "no 'Max address space' row");
            e.True("units", l["Max nice priority"]?.Units is null && l["Max cpu time"]?.Units == "seconds", "units column misread");
            return;
        }
        foreach (var (field, expected) in e.Fields(e.Values))
            e.Number(field, l[field]?.Soft, expected);
        e.True("rows", l.Rows.Count == e.Values!.Value.EnumerateObject().Count(), $"read {l.Rows.Count} rows");
    }
}
