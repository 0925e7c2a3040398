namespace MemScope.Procfs;

/// <summary>
/// One line of /proc/PID/maps (and the header line of each /proc/PID/smaps block):
/// <c>start-end perms offset major:minor inode [path]</c>. See proc(5) and Documentation/filesystems/proc.rst.
/// </summary>
/// <remarks>
/// Layout variance handled: 8-hex-digit addresses on 32-bit kernels, 16 on 64-bit ([vsyscall] ends at
/// 0xffffffffff601000, hence ulong); the path column is absent for anonymous mappings (some kernels leave a trailing
/// space after the inode, some not); the path may contain spaces and ends with " (deleted)" when the file was
/// unlinked; pseudo paths are [heap], [stack], [stack:TID] (3.x kernels up to 4.4), [vdso], [vvar], [vsyscall],
/// [anon:NAME] (5.17+), [anon_shmem:NAME], [uprobes]. A header with a single address and no "-end" (seen in
/// psutil's mocks) is accepted with End = Start.
/// </remarks>
public sealed record MemoryMapping
{
    public required ulong Start { get; init; }
    public required ulong End { get; init; }
    /// <summary>The four permission characters as printed: r/-, w/-, x/-, p (private) or s (shared).</summary>
    public required string Perms { get; init; }
    public ulong Offset { get; init; }
    public uint DevMajor { get; init; }
    public uint DevMinor { get; init; }
    public ulong Inode { get; init; }
    /// <summary>The path column exactly as printed (including any " (deleted)" suffix); empty when absent.</summary>
    public string Path { get; init; } = "";

    public ulong SizeBytes => End >= Start ? End - Start : 0;
    public bool CanRead => Perms.Length > 0 && Perms[0] == 'r';
    public bool CanWrite => Perms.Length > 1 && Perms[1] == 'w';
    public bool CanExecute => Perms.Length > 2 && Perms[2] == 'x';
    public bool IsShared => Perms.Length > 3 && Perms[3] == 's';
    public bool IsPrivate => !IsShared;
    /// <summary>PROT_NONE: guard pages and address-space reservations.</summary>
    public bool IsNoAccess => !CanRead && !CanWrite && !CanExecute;

    public const string DeletedSuffix = " (deleted)";
    /// <summary>The file was unlinked after it was mapped (path ends with " (deleted)").</summary>
    public bool IsDeleted => Path.EndsWith(DeletedSuffix, StringComparison.Ordinal);
    /// <summary>The path without " (deleted)".</summary>
    public string FilePath => IsDeleted ? Path[..^DeletedSuffix.Length] : Path;
    /// <summary>No path at all: anonymous memory (private or shared).</summary>
    public bool IsAnonymous => Path.Length == 0;
    /// <summary>Kernel pseudo names such as [heap], [stack], [vdso], [anon:x].</summary>
    public bool IsPseudo => Path.Length > 1 && Path[0] == '[' && Path[^1] == ']';
    /// <summary>Backed by a file (path starting with '/'; includes /SYSV shm, /dev/shm, /memfd: files).</summary>
    public bool IsFileBacked => Path.Length > 0 && Path[0] == '/';
    public bool Contains(ulong address) => address >= Start && address < End;
}

/// <summary>/proc/PID/maps: every mapping of the process's address space, low to high.</summary>
public static class ProcPidMaps
{
    public static List<MemoryMapping> Read(string path) => KernelFile.Parse(path, Parse);

    public static List<MemoryMapping> Parse(ReadOnlySpan<char> content, string path)
    {
        var list = new List<MemoryMapping>(64);
        int lineNumber = 0;
        foreach (ReadOnlySpan<char> line in content.EnumerateLines())
        {
            lineNumber++;
            if (line.IsWhiteSpace()) continue;
            list.Add(ParseLine(line, path, lineNumber));
        }
        return list;
    }

    /// <summary>Parses one maps line (also an smaps header line), throwing a Malformed error naming the token.</summary>
    public static MemoryMapping ParseLine(ReadOnlySpan<char> line, string path, int lineNumber)
    {
        ReadOnlySpan<char> rest = line;
        ReadOnlySpan<char> range = SpanParsing.NextToken(ref rest);
        ulong start, end;
        int dash = range.IndexOf('-');
        if (dash < 0)
        {
            if (!SpanParsing.TryParseHex(range, out start))
                throw KernelFileException.Malformed(path, lineNumber, range, "address range is not 'start-end' in hex");
            end = start;
        }
        else if (!SpanParsing.TryParseHex(range[..dash], out start) || !SpanParsing.TryParseHex(range[(dash + 1)..], out end))
        {
            throw KernelFileException.Malformed(path, lineNumber, range, "address range is not 'start-end' in hex");
        }

        ReadOnlySpan<char> perms = SpanParsing.NextToken(ref rest);
        if (perms.Length != 4)
            throw KernelFileException.Malformed(path, lineNumber, perms, "permissions are not four characters (rwxp)");

        ReadOnlySpan<char> offsetTok = SpanParsing.NextToken(ref rest);
        if (!SpanParsing.TryParseHex(offsetTok, out ulong offset))
            throw KernelFileException.Malformed(path, lineNumber, offsetTok, "offset is not hex");

        ReadOnlySpan<char> dev = SpanParsing.NextToken(ref rest);
        int colon = dev.IndexOf(':');
        if (colon <= 0 || !SpanParsing.TryParseHex(dev[..colon], out ulong major) || !SpanParsing.TryParseHex(dev[(colon + 1)..], out ulong minor))
            throw KernelFileException.Malformed(path, lineNumber, dev, "device is not 'major:minor' in hex");

        ReadOnlySpan<char> inodeTok = SpanParsing.NextToken(ref rest);
        if (!SpanParsing.TryParseULong(inodeTok, out ulong inode))
            throw KernelFileException.Malformed(path, lineNumber, inodeTok, "inode is not a decimal number");

        // The kernel pads to a column with spaces, then prints the path verbatim (spaces included, "\012" for
        // newlines). Only the padding is removed: a path may legitimately end with a space.
        ReadOnlySpan<char> pathCol = rest.TrimStart(' ').TrimStart('\t');
        return new MemoryMapping
        {
            Start = start,
            End = end,
            Perms = InternPerms(perms),
            Offset = offset,
            DevMajor = (uint)major,
            DevMinor = (uint)minor,
            Inode = inode,
            Path = InternPath(pathCol),
        };
    }

    private static readonly string[] CommonPerms =
        ["r--p", "r-xp", "rw-p", "---p", "rwxp", "r--s", "rw-s", "r-xs", "rwxs", "---s", "--xp", "-w-p", "-wxp"];

    private static string InternPerms(ReadOnlySpan<char> perms)
    {
        foreach (string p in CommonPerms)
            if (perms.SequenceEqual(p)) return p;
        return perms.ToString();
    }

    private static readonly string[] CommonPaths = ["[heap]", "[stack]", "[vdso]", "[vvar]", "[vsyscall]", "[vvar_vclock]", "[uprobes]"];

    private static string InternPath(ReadOnlySpan<char> path)
    {
        if (path.IsEmpty) return "";
        if (path[0] == '[')
            foreach (string p in CommonPaths)
                if (path.SequenceEqual(p)) return p;
        return path.ToString();
    }
}
