using MemScope.Procfs;

namespace MemScope.Sysfs;

/// <summary>One NUMA node's memory from /sys/devices/system/node/nodeN/meminfo (same fields as /proc/meminfo, plus MemUsed and FilePages).</summary>
public sealed record NumaNode(int Id, Meminfo Meminfo);

/// <summary>
/// NUMA nodes from sysfs. A machine without CONFIG_NUMA has no node directory: the list is then empty, and callers
/// fall back to /proc/meminfo alone.
/// </summary>
public static class NumaNodes
{
    public static IReadOnlyList<NumaNode> Read(SysFs sys)
    {
        string dir = sys.PathOf("devices/system/node");
        var nodes = new List<NumaNode>();
        if (!Directory.Exists(dir)) return nodes;
        foreach (string path in Directory.EnumerateDirectories(dir, "node*"))
        {
            if (!int.TryParse(Path.GetFileName(path.AsSpan())[4..], out int id)) continue;
            try { nodes.Add(new NumaNode(id, Meminfo.Read(Path.Combine(path, "meminfo")))); }
            catch (KernelFileException e) when (e.Error is KernelFileError.Gone or KernelFileError.Denied) { }
        }
        nodes.Sort((a, b) => a.Id.CompareTo(b.Id));
        return nodes;
    }
}
