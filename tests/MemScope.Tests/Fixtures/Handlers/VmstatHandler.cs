using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.Tests.Fixtures.Handlers;

/// <summary>/proc/vmstat and sysfs node vmstat: raw counters by name.</summary>
public sealed class VmstatHandler : IFixtureHandler
{
    public bool Handles(FixtureEntry e) => !e.IsDirectory && e.FileName == "vmstat";

    public void Check(FixtureEntry e)
    {
        Vmstat v;
        if (e.SysRoot is { } sysRoot && e.Segments is [.., "node", var nodeDir, "vmstat"])
            v = NumaNodes.ReadVmstat(new SysFs(sysRoot), int.Parse(nodeDir[4..]));
        else if (e.ProcRoot is { } procRoot && e.AfterProc == "vmstat")
            v = new ProcFs(procRoot).ReadVmstat();
        else
            v = Vmstat.Read(e.FullPath);

        if (e.ParseOnlyOrUnasserted)
        {
            e.True("entries", v.Entries.Any(), "parsed no counters from a real vmstat");
            return;
        }
        foreach (var (field, expected) in e.Fields(e.Values))
            e.Number(field, v[field], expected);
        foreach (string field in e.Absent)
            e.Missing(field, v[field]);
    }
}
