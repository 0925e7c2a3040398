namespace MemScope.Procfs;

/// <summary>One line of /proc/mounts (fstab(5) format); octal escapes (\040 for space) are decoded.</summary>
public sealed record Mount(string Device, string MountPoint, string FsType, string Options)
{
    public bool HasOption(string option)
    {
        foreach (var range in Options.AsSpan().Split(','))
            if (Options.AsSpan()[range].SequenceEqual(option)) return true;
        return false;
    }
}

/// <summary>/proc/mounts (or /proc/PID/mounts): what is mounted where. Used to find tracefs, cgroup and tmpfs mounts.</summary>
public static class Mounts
{
    public static IReadOnlyList<Mount> Read(string path) => KernelFile.Parse(path, Parse);

    public static IReadOnlyList<Mount> Parse(ReadOnlySpan<char> content, string path)
    {
        var mounts = new List<Mount>();
        int lineNumber = 0;
        foreach (ReadOnlySpan<char> raw in content.EnumerateLines())
        {
            lineNumber++;
            ReadOnlySpan<char> rest = raw;
            ReadOnlySpan<char> device = SpanParsing.NextToken(ref rest);
            if (device.IsEmpty) continue;
            ReadOnlySpan<char> mountPoint = SpanParsing.NextToken(ref rest);
            ReadOnlySpan<char> fsType = SpanParsing.NextToken(ref rest);
            ReadOnlySpan<char> options = SpanParsing.NextToken(ref rest);
            if (fsType.IsEmpty)
                throw KernelFileException.Malformed(path, lineNumber, raw, "expected 'device mountpoint type options'");
            mounts.Add(new Mount(Unescape(device), Unescape(mountPoint), fsType.ToString(), options.ToString()));
        }
        return mounts;
    }

    /// <summary>Decodes the kernel's octal escapes (\040 space, \011 tab, \012 newline, \134 backslash).</summary>
    public static string Unescape(ReadOnlySpan<char> s)
    {
        if (s.IndexOf('\\') < 0) return s.ToString();
        var sb = new System.Text.StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && IsOctal(s, i + 1))
            {
                sb.Append((char)((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0')));
                i += 3;
            }
            else sb.Append(s[i]);
        }
        return sb.ToString();
    }

    private static bool IsOctal(ReadOnlySpan<char> s, int at) =>
        at + 2 < s.Length && s[at] is >= '0' and <= '7' && s[at + 1] is >= '0' and <= '7' && s[at + 2] is >= '0' and <= '7';
}
