using MemScope.Sysfs;

namespace MemScope.Tests.Fixtures.Handlers;

/// <summary>sysfs NUMA: nodeN/numastat counters and the node list of /sys/devices/system/node/.</summary>
public sealed class NumaNodeHandler : IFixtureHandler
{
    public bool Handles(FixtureEntry e) =>
        (!e.IsDirectory && e.FileName == "numastat") || (e.IsDirectory && e.Key.EndsWith("devices/system/node/", StringComparison.Ordinal));

    public void Check(FixtureEntry e)
    {
        var sys = new SysFs(e.SysRoot!);
        if (e.IsDirectory)
        {
            foreach (var (field, expected) in e.Fields(e.Values))
            {
                if (field != "nodes") { e.NoMapping(field); continue; }
                var want = expected.EnumerateArray().Select(x => x.GetString()).ToList();
                var got = NumaNodes.List(sys).Select(n => n.ToString()).ToList();
                e.True(field, got.SequenceEqual(want), $"got [{string.Join(",", got)}], expected [{string.Join(",", want)}]");
            }
            return;
        }
        int node = int.Parse(e.Segments[^2][4..]);
        NodeNumastat n = NumaNodes.ReadNumastat(sys, node);
        foreach (var (field, expected) in e.Fields(e.Values))
            e.Number(field, n[field], expected);
        e.True("count", n.Entries.Count() == e.Values!.Value.EnumerateObject().Count(), "more counters than listed");
    }
}
