namespace MemScope.Procfs;

/// <summary>One row of /proc/PID/limits. <see cref="ProcPidLimits.Unlimited"/> (RLIM_INFINITY, 2^64-1) stands for "unlimited".</summary>
public readonly record struct ResourceLimit(string Name, ulong Soft, ulong Hard, string? Units)
{
    public bool SoftUnlimited => Soft == ProcPidLimits.Unlimited;
    public bool HardUnlimited => Hard == ProcPidLimits.Unlimited;
}

/// <summary>
/// /proc/PID/limits (2.6.24+): "Limit  Soft Limit  Hard Limit  Units" rows printed with fixed-width columns; limit
/// names contain spaces, "Max nice priority"/"Max realtime priority" have no units, and old kernels pad the
/// header and rows with trailing spaces. Values are in the row's unit (bytes for the memory limits).
/// </summary>
public sealed class ProcPidLimits
{
    public const ulong Unlimited = ulong.MaxValue;

    private readonly List<ResourceLimit> _rows;
    private ProcPidLimits(List<ResourceLimit> rows) => _rows = rows;

    public IReadOnlyList<ResourceLimit> Rows => _rows;

    /// <summary>The row named like the file ("Max address space"), or null when this kernel does not print it.</summary>
    public ResourceLimit? this[string name]
    {
        get
        {
            foreach (ResourceLimit r in _rows)
                if (r.Name == name) return r;
            return null;
        }
    }

    /// <summary>RLIMIT_AS soft limit in bytes.</summary>
    public ulong? AddressSpaceBytes => this["Max address space"]?.Soft;
    /// <summary>RLIMIT_RSS (not enforced by Linux since 2.6).</summary>
    public ulong? ResidentSetBytes => this["Max resident set"]?.Soft;
    public ulong? LockedMemoryBytes => this["Max locked memory"]?.Soft;
    public ulong? DataSizeBytes => this["Max data size"]?.Soft;
    public ulong? StackSizeBytes => this["Max stack size"]?.Soft;

    public static ProcPidLimits Read(string path) => KernelFile.Parse(path, Parse);

    public static ProcPidLimits Parse(ReadOnlySpan<char> content, string path)
    {
        var rows = new List<ResourceLimit>(16);
        int lineNumber = 0;
        bool header = false;
        foreach (ReadOnlySpan<char> raw in content.EnumerateLines())
        {
            lineNumber++;
            ReadOnlySpan<char> line = raw.TrimEnd();
            if (line.IsEmpty) continue;
            if (!header && line.StartsWith("Limit", StringComparison.Ordinal))
            {
                header = true;
                continue;
            }
            // The name is every word before the first value ("unlimited" or a number).
            ReadOnlySpan<char> rest = line;
            int nameEnd = -1;
            while (true)
            {
                ReadOnlySpan<char> before = rest;
                ReadOnlySpan<char> t = SpanParsing.NextToken(ref rest);
                if (t.IsEmpty) break;
                if (IsValue(t))
                {
                    nameEnd = line.Length - before.Length;
                    rest = before;
                    break;
                }
            }
            if (nameEnd <= 0)
                throw KernelFileException.Malformed(path, lineNumber, raw, "no soft limit on the row");
            string name = line[..nameEnd].Trim().ToString();
            ReadOnlySpan<char> softToken = SpanParsing.NextToken(ref rest);
            ReadOnlySpan<char> hardToken = SpanParsing.NextToken(ref rest);
            if (!TryValue(softToken, out ulong soft) || !TryValue(hardToken, out ulong hard))
                throw KernelFileException.Malformed(path, lineNumber, raw, "limits must be numbers or 'unlimited'");
            ReadOnlySpan<char> units = rest.Trim();
            rows.Add(new ResourceLimit(name, soft, hard, units.IsEmpty ? null : units.ToString()));
        }
        if (rows.Count == 0) throw new KernelFileException(KernelFileError.Malformed, path, "no limit rows");
        return new ProcPidLimits(rows);
    }

    private static bool IsValue(ReadOnlySpan<char> t) => t.SequenceEqual("unlimited") || (t.Length > 0 && char.IsAsciiDigit(t[0]));

    private static bool TryValue(ReadOnlySpan<char> t, out ulong value)
    {
        if (t.SequenceEqual("unlimited"))
        {
            value = Unlimited;
            return true;
        }
        return SpanParsing.TryParseULong(t, out value);
    }
}
