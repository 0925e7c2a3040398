using MemScope.Procfs;

namespace MemScope.Tests.Fixtures.Handlers;

/// <summary>/proc/PID/maps: every mapping in file order (addresses, perms, offset, device, inode, pathname).</summary>
public sealed class MapsHandler : IFixtureHandler
{
    public bool Handles(FixtureEntry e) => !e.IsDirectory && e.FileName == "maps";

    public void Check(FixtureEntry e)
    {
        List<MemoryMapping> maps = ProcPidMaps.Read(e.FullPath);
        if (e.ParseOnlyOrUnasserted)
        {
            int lines = File.ReadAllLines(e.FullPath).Count(l => l.Trim().Length > 0);
            e.True("count", maps.Count == lines, $"{maps.Count} mappings from {lines} lines");
            e.True("order", maps.Zip(maps.Skip(1)).All(p => p.First.End <= p.Second.Start), "mappings overlap or are out of order");
            return;
        }
        var want = e.Values!.Value.EnumerateArray().ToList();
        e.True("count", maps.Count == want.Count, $"{maps.Count} mappings, {want.Count} expected");
        for (int i = 0; i < Math.Min(maps.Count, want.Count); i++)
        {
            MemoryMapping m = maps[i];
            foreach (var (field, expected) in e.Fields(want[i]))
            {
                string name = $"[{i}].{field}";
                switch (field)
                {
                    case "start": e.Number(name, m.Start, expected); break;
                    case "end": e.Number(name, m.End, expected); break;
                    case "perms": e.Text(name, m.Perms, expected); break;
                    case "offset": e.Number(name, m.Offset, expected); break;
                    case "dev_major": e.Number(name, m.DevMajor, expected); break;
                    case "dev_minor": e.Number(name, m.DevMinor, expected); break;
                    case "inode": e.Number(name, m.Inode, expected); break;
                    case "pathname": e.Text(name, m.Path, expected); break;
                    default: e.NoMapping(name); break;
                }
            }
        }
    }
}
