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

    /// <summary>/proc/PID/comm: the 15-character command name, without the newline.</summary>
    public static string ReadComm(string path) => KernelFile.ReadAllText(path).TrimEnd('\n');
}
