namespace MemScope.Procfs;

/// <summary>/proc/PID/io (task I/O accounting, CONFIG_TASK_IO_ACCOUNTING): bytes, readable only by the owner or root.</summary>
public sealed record ProcPidIo(ulong? Rchar, ulong? Wchar, ulong? Syscr, ulong? Syscw, ulong? ReadBytes, ulong? WriteBytes, ulong? CancelledWriteBytes)
{
    public static ProcPidIo Read(string path) => KernelFile.Parse(path, Parse);

    public static ProcPidIo Parse(ReadOnlySpan<char> content, string path)
    {
        ulong? rchar = null, wchar = null, syscr = null, syscw = null, rb = null, wb = null, cwb = null;
        int lineNumber = 0;
        foreach (ReadOnlySpan<char> raw in content.EnumerateLines())
        {
            lineNumber++;
            if (!SpanParsing.TrySplitKeyValue(raw, out var key, out var value)) continue;
            if (!SpanParsing.TryParseULong(value, out ulong v))
                throw KernelFileException.Malformed(path, lineNumber, raw, $"'{key}' is not a number");
            switch (key)
            {
                case "rchar": rchar = v; break;
                case "wchar": wchar = v; break;
                case "syscr": syscr = v; break;
                case "syscw": syscw = v; break;
                case "read_bytes": rb = v; break;
                case "write_bytes": wb = v; break;
                case "cancelled_write_bytes": cwb = v; break;
            }
        }
        return new ProcPidIo(rchar, wchar, syscr, syscw, rb, wb, cwb);
    }
}
