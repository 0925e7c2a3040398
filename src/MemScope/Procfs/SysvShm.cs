namespace MemScope.Procfs;

/// <summary>One System V shared memory segment from /proc/sysvipc/shm. rss/swap columns exist since 2.6.x-era kernels (null before).</summary>
public sealed record SysvShmSegment(long Key, int ShmId, ulong SizeBytes, int CreatorPid, int LastPid, ulong Attached,
    uint Uid, ulong? RssBytes, ulong? SwapBytes);

/// <summary>/proc/sysvipc/shm: every SysV segment, attached or not (an unattached segment still pins its memory in Shmem).</summary>
public static class SysvShm
{
    public static IReadOnlyList<SysvShmSegment> Read(string path) => KernelFile.Parse(path, Parse);

    public static IReadOnlyList<SysvShmSegment> Parse(ReadOnlySpan<char> content, string path)
    {
        var segments = new List<SysvShmSegment>();
        int lineNumber = 0;
        Span<long> v = stackalloc long[16];
        foreach (ReadOnlySpan<char> raw in content.EnumerateLines())
        {
            lineNumber++;
            if (lineNumber == 1 || raw.Trim().IsEmpty) continue; // header
            ReadOnlySpan<char> rest = raw;
            int count = 0;
            while (count < v.Length)
            {
                ReadOnlySpan<char> t = SpanParsing.NextToken(ref rest);
                if (t.IsEmpty) break;
                if (!SpanParsing.TryParseLong(t, out v[count]))
                    throw KernelFileException.Malformed(path, lineNumber, t, "expected a number");
                count++;
            }
            // key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime [rss swap]
            if (count < 14) throw KernelFileException.Malformed(path, lineNumber, raw, $"only {count} columns");
            segments.Add(new SysvShmSegment(v[0], (int)v[1], (ulong)v[3], (int)v[4], (int)v[5], (ulong)v[6], (uint)v[7],
                count >= 16 ? (ulong)v[14] : null, count >= 16 ? (ulong)v[15] : null));
        }
        return segments;
    }
}
