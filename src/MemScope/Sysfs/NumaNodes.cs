using MemScope.Procfs;

namespace MemScope.Sysfs;

/// <summary>One NUMA node's memory from /sys/devices/system/node/nodeN/meminfo (same fields as /proc/meminfo, plus MemUsed and FilePages).</summary>
public sealed record NumaNode(int Id, Meminfo Meminfo);

/// <summary>
/// NUMA nodes from sysfs (/sys/devices/system/node/nodeN) and their per-node files: meminfo (lines "Node N Key: value
/// kB", parsed by <see cref="Meminfo"/>), numastat (<see cref="NodeNumastat"/>), vmstat (parsed by <see cref="Vmstat"/>)
/// and cpulist. A machine without CONFIG_NUMA has no node directory: the list is then empty, and callers fall back to
/// /proc/meminfo alone.
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

    public static string NodeDirectory(SysFs sys) => sys.PathOf("devices/system/node");
    public static string NodePath(SysFs sys, int node, string file) => $"{NodeDirectory(sys)}/node{node}/{file}";

    /// <summary>Node numbers present, sorted; empty when the directory is absent.</summary>
    public static List<int> List(SysFs sys)
    {
        var nodes = new List<int>();
        string dir = NodeDirectory(sys);
        if (!Directory.Exists(dir)) return nodes;
        foreach (string d in Directory.EnumerateDirectories(dir, "node*"))
        {
            ReadOnlySpan<char> name = Path.GetFileName(d.AsSpan());
            if (name.Length > 4 && int.TryParse(name[4..], System.Globalization.NumberStyles.None,
                    System.Globalization.CultureInfo.InvariantCulture, out int n))
                nodes.Add(n);
        }
        nodes.Sort();
        return nodes;
    }

    public static Meminfo ReadMeminfo(SysFs sys, int node) => Meminfo.Read(NodePath(sys, node, "meminfo"));
    public static NodeNumastat ReadNumastat(SysFs sys, int node) => NodeNumastat.Read(NodePath(sys, node, "numastat"));
    public static Vmstat ReadVmstat(SysFs sys, int node) => Vmstat.Read(NodePath(sys, node, "vmstat"));
    public static int[] ReadCpuList(SysFs sys, int node)
    {
        string path = NodePath(sys, node, "cpulist");
        return CpuList.Parse(KernelFile.ReadAllText(path), path);
    }
}
