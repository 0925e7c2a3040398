namespace MemScope.Procfs;

/// <summary>
/// The kernel's CPU/node list format ("0-3,8,10-11"), used by status Cpus_allowed_list/Mems_allowed_list and sysfs
/// cpulist/online/possible files (Documentation/admin-guide/cputopology.rst). An empty list is valid.
/// </summary>
public static class CpuList
{
    public static int[] Parse(ReadOnlySpan<char> text, string path = "cpulist")
    {
        var result = new List<int>();
        ReadOnlySpan<char> rest = text.Trim();
        while (!rest.IsEmpty)
        {
            int comma = rest.IndexOf(',');
            ReadOnlySpan<char> part = (comma < 0 ? rest : rest[..comma]).Trim();
            rest = comma < 0 ? default : rest[(comma + 1)..];
            if (part.IsEmpty) continue;
            int dash = part.IndexOf('-');
            // The kernel also prints strided ranges ("0-7:2") for some files.
            int colon = part.IndexOf(':');
            int stride = 1;
            if (colon >= 0)
            {
                if (!int.TryParse(part[(colon + 1)..], out stride) || stride <= 0)
                    throw KernelFileException.Malformed(path, 1, part, "bad stride in CPU list");
                part = part[..colon];
            }
            if (dash < 0)
            {
                if (!int.TryParse(part, System.Globalization.NumberStyles.None, null, out int one))
                    throw KernelFileException.Malformed(path, 1, part, "not a CPU number");
                result.Add(one);
                continue;
            }
            if (!int.TryParse(part[..dash], System.Globalization.NumberStyles.None, null, out int first)
                || !int.TryParse(part[(dash + 1)..], System.Globalization.NumberStyles.None, null, out int last)
                || last < first || last - first > 1 << 20)
                throw KernelFileException.Malformed(path, 1, part, "not a CPU range");
            for (int c = first; c <= last; c += stride) result.Add(c);
        }
        return result.ToArray();
    }
}
