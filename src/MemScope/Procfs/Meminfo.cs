namespace MemScope.Procfs;

/// <summary>
/// /proc/meminfo (Documentation/filesystems/proc.rst, "meminfo"). Values are bytes (the file's kB × 1024) except the
/// HugePages_* lines, which are page counts. Fields newer kernels added are null on older ones: MemAvailable (3.14),
/// KReclaimable (4.20), Percpu (4.16), FileHugePages (5.4), SecPageTables (6.0), Zswap/Zswapped (5.19),
/// Unaccepted (6.5). A negative value (seen in mocked and broken files) is reported as unknown.
/// Also parses the per-node <c>/sys/devices/system/node/nodeN/meminfo</c>, whose lines start "Node N ".
/// </summary>
public sealed class Meminfo
{
    public static readonly KeySet Keys = new(
        "MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapCached", "Active", "Inactive",
        "Active(anon)", "Inactive(anon)", "Active(file)", "Inactive(file)", "Unevictable", "Mlocked",
        "HighTotal", "HighFree", "LowTotal", "LowFree", "MmapCopy",
        "SwapTotal", "SwapFree", "Zswap", "Zswapped", "Dirty", "Writeback", "AnonPages", "Mapped", "Shmem",
        "KReclaimable", "Slab", "SReclaimable", "SUnreclaim", "KernelStack", "ShadowCallStack", "PageTables",
        "SecPageTables", "NFS_Unstable", "Bounce", "WritebackTmp", "CommitLimit", "Committed_AS", "VmallocTotal",
        "VmallocUsed", "VmallocChunk", "Percpu", "HardwareCorrupted", "AnonHugePages", "ShmemHugePages",
        "ShmemPmdMapped", "FileHugePages", "FilePmdMapped", "CmaTotal", "CmaFree", "Unaccepted", "Balloon",
        "HugePages_Total", "HugePages_Free", "HugePages_Rsvd", "HugePages_Surp", "Hugepagesize", "Hugetlb",
        "DirectMap4k", "DirectMap2M", "DirectMap4M", "DirectMap1G", "Quicklists", "GPUActive", "GPUReclaim",
        // per-node meminfo only
        "MemUsed", "FilePages");

    private readonly CounterTable _table;
    private Meminfo(CounterTable table) => _table = table;

    /// <summary>Any field by its name in the file; bytes for kB fields, counts otherwise.</summary>
    public ulong? this[string key] => _table[key];
    public IEnumerable<KeyValuePair<string, ulong>> Entries => _table.Entries;

    public ulong? MemTotal => _table[0];
    public ulong? MemFree => _table[1];
    public ulong? MemAvailable => _table[2];
    public ulong? Buffers => _table[3];
    public ulong? Cached => _table[4];
    public ulong? SwapCached => _table[5];
    public ulong? Active => _table[6];
    public ulong? Inactive => _table[7];
    public ulong? ActiveAnon => _table[8];
    public ulong? InactiveAnon => _table[9];
    public ulong? ActiveFile => _table[10];
    public ulong? InactiveFile => _table[11];
    public ulong? Unevictable => _table[12];
    public ulong? Mlocked => _table[13];
    public ulong? HighTotal => _table[14];
    public ulong? HighFree => _table[15];
    public ulong? LowTotal => _table[16];
    public ulong? LowFree => _table[17];
    public ulong? SwapTotal => _table[19];
    public ulong? SwapFree => _table[20];
    public ulong? Zswap => _table[21];
    public ulong? Zswapped => _table[22];
    public ulong? Dirty => _table[23];
    public ulong? Writeback => _table[24];
    public ulong? AnonPages => _table[25];
    public ulong? Mapped => _table[26];
    public ulong? Shmem => _table[27];
    public ulong? KReclaimable => _table[28];
    public ulong? Slab => _table[29];
    public ulong? SReclaimable => _table[30];
    public ulong? SUnreclaim => _table[31];
    public ulong? KernelStack => _table[32];
    public ulong? ShadowCallStack => _table[33];
    public ulong? PageTables => _table[34];
    public ulong? SecPageTables => _table[35];
    public ulong? NfsUnstable => _table[36];
    public ulong? Bounce => _table[37];
    public ulong? WritebackTmp => _table[38];
    public ulong? CommitLimit => _table[39];
    public ulong? CommittedAS => _table[40];
    public ulong? VmallocTotal => _table[41];
    public ulong? VmallocUsed => _table[42];
    public ulong? VmallocChunk => _table[43];
    public ulong? Percpu => _table[44];
    public ulong? HardwareCorrupted => _table[45];
    public ulong? AnonHugePages => _table[46];
    public ulong? ShmemHugePages => _table[47];
    public ulong? ShmemPmdMapped => _table[48];
    public ulong? FileHugePages => _table[49];
    public ulong? FilePmdMapped => _table[50];
    public ulong? CmaTotal => _table[51];
    public ulong? CmaFree => _table[52];
    public ulong? Unaccepted => _table[53];
    public ulong? Balloon => _table[54];
    /// <summary>Huge page pool counts (pages, not bytes).</summary>
    public ulong? HugePagesTotal => _table[55];
    public ulong? HugePagesFree => _table[56];
    public ulong? HugePagesRsvd => _table[57];
    public ulong? HugePagesSurp => _table[58];
    public ulong? HugepagesizeBytes => _table[59];
    public ulong? Hugetlb => _table[60];
    /// <summary>Per-node meminfo only.</summary>
    public ulong? MemUsed => _table["MemUsed"];
    public ulong? FilePages => _table["FilePages"];

    public static Meminfo Read(string path) => KernelFile.Parse(path, Parse);

    /// <summary>Rebuilds a Meminfo from stored entries (values already in bytes/counts, as <see cref="Entries"/> gives them), e.g. when replaying a recording.</summary>
    public static Meminfo FromEntries(IEnumerable<KeyValuePair<string, ulong>> entries)
    {
        var table = new CounterTable(Keys);
        foreach (var kv in entries) table.Set(kv.Key, kv.Value);
        return new Meminfo(table);
    }

    /// <summary>Parses meminfo text. Lines that are not "Key: number [kB]" (the 2.4-era table) are skipped.</summary>
    public static Meminfo Parse(ReadOnlySpan<char> content, string path)
    {
        var table = new CounterTable(Keys);
        int lineNumber = 0;
        foreach (ReadOnlySpan<char> raw in content.EnumerateLines())
        {
            lineNumber++;
            ReadOnlySpan<char> line = raw;
            // sysfs node meminfo: "Node 0 MemTotal:       12345 kB"
            if (line.StartsWith("Node "))
            {
                ReadOnlySpan<char> rest = line[5..];
                SpanParsing.NextToken(ref rest);
                line = rest;
            }
            if (!SpanParsing.TrySplitKeyValue(line, out var key, out var value)) continue;
            if (value.Length == 0 || !(char.IsAsciiDigit(value[0]) || value[0] == '-'))
            {
                // A known key must carry a number; anything else is a line format we do not read.
                if (Keys.TryGetIndex(key, out _))
                    throw KernelFileException.Malformed(path, lineNumber, raw, $"'{key}' has no number");
                continue;
            }
            if (!SpanParsing.TryParseSizeValue(value, out long number, out bool kb))
            {
                if (Keys.TryGetIndex(key, out _))
                    throw KernelFileException.Malformed(path, lineNumber, raw, $"'{key}' is not 'number [kB]'");
                continue;
            }
            if (number < 0) continue; // unknown, never a silently wrong number
            ulong v = (ulong)number;
            if (kb && v > ulong.MaxValue / 1024)
                throw KernelFileException.Malformed(path, lineNumber, raw, $"'{key}' overflows 64-bit bytes");
            table.Set(key, kb ? v * 1024 : v);
        }
        return new Meminfo(table);
    }
}
