namespace MemScope.Procfs;

/// <summary>/proc/PID/cmdline: NUL-separated argv; empty for kernel threads and zombies.</summary>
public static class ProcPidCmdline
{
    public static IReadOnlyList<string> Read(string path) => KernelFile.Parse(path, Parse);

    public static IReadOnlyList<string> Parse(ReadOnlySpan<char> content, string path)
    {
        var args = new List<string>();
        ReadOnlySpan<char> rest = content;
        while (!rest.IsEmpty)
        {
            int nul = rest.IndexOf('\0');
            if (nul < 0) { args.Add(rest.ToString()); break; }
            args.Add(rest[..nul].ToString());
            rest = rest[(nul + 1)..];
        }
        // A process that rewrites its argv may leave empty trailing strings: drop them.
        while (args.Count > 0 && args[^1].Length == 0) args.RemoveAt(args.Count - 1);
        return args;
    }

    /// <summary>
    /// The arguments joined by single spaces, as <c>string.Join(' ', Parse(...))</c> but in one string: NULs become
    /// spaces, trailing NULs (a trailing empty argument, or an argv rewritten shorter) are dropped.
    /// </summary>
    public static string ParseJoined(ReadOnlySpan<char> content, string path)
    {
        ReadOnlySpan<char> args = content.TrimEnd('\0');
        if (args.IsEmpty) return "";
        return string.Create(args.Length, args, static (dest, src) => src.Replace(dest, '\0', ' '));
    }

    /// <summary>/proc/PID/comm: the 15-character command name, without the newline.</summary>
    public static string ReadComm(string path) => KernelFile.ReadAllText(path).TrimEnd('\n');
}
