using System.Globalization;
using MemScope.Procfs;
using MemScope.Tracing;

namespace MemScope.Analysis;

/// <summary>An open file descriptor with O_DIRECT: its reads and writes bypass the page cache.</summary>
public sealed record DirectIoFile(int Pid, string? Comm, int Fd, string? Path, ulong Flags);

/// <summary>
/// Finds processes doing direct I/O: O_DIRECT in the octal "flags:" of /proc/PID/fdinfo/N (2.6.22+). Processes that
/// vanish are skipped; unreadable ones (other users' fds without root) are counted in <see cref="Denied"/>.
/// </summary>
public sealed class DirectIoScanner(ProcFs proc)
{
    public int Denied { get; private set; }

    public List<DirectIoFile> Scan()
    {
        var found = new List<DirectIoFile>();
        Denied = 0;
        int odirect = PerfEventNative.ODirect;
        foreach (int pid in proc.ListPids())
        {
            string dir = proc.PidPath(pid, "fdinfo");
            IEnumerable<string> entries;
            try { entries = Directory.EnumerateFiles(dir).ToList(); }
            catch (UnauthorizedAccessException) { Denied++; continue; }
            catch (IOException) { continue; }
            string? comm = null;
            foreach (string entry in entries)
            {
                if (!int.TryParse(System.IO.Path.GetFileName(entry), NumberStyles.None, CultureInfo.InvariantCulture, out int fd)) continue;
                ulong? flags = ReadFlags(entry);
                if (flags is not ulong f || (f & (ulong)odirect) == 0) continue;
                comm ??= KernelFile.TryReadAllText(proc.PidPath(pid, "comm"))?.TrimEnd('\n');
                string? target = null;
                try { target = new FileInfo(proc.PidPath(pid, $"fd/{fd}")).LinkTarget; }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
                found.Add(new DirectIoFile(pid, comm, fd, target, f));
            }
        }
        return found;
    }

    /// <summary>The "flags:" value (octal) of an fdinfo file, or null.</summary>
    public static ulong? ReadFlags(string fdinfoPath)
    {
        string? text;
        try { text = KernelFile.TryReadAllText(fdinfoPath); }
        catch (KernelFileException) { return null; }
        return text is null ? null : ParseFlags(text);
    }

    public static ulong? ParseFlags(ReadOnlySpan<char> text)
    {
        foreach (ReadOnlySpan<char> line in text.EnumerateLines())
        {
            if (!line.StartsWith("flags:")) continue;
            ReadOnlySpan<char> v = line[6..].Trim();
            ulong value = 0;
            foreach (char c in v)
            {
                if (c is < '0' or > '7') return null;
                value = (value << 3) | (uint)(c - '0');
            }
            return v.IsEmpty ? null : value;
        }
        return null;
    }
}
