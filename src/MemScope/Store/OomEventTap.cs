using MemScope.Analysis;
using MemScope.Procfs;

namespace MemScope.Store;

/// <summary>
/// Follows /dev/kmsg for the recorder: a non-blocking fd kept open, so each <see cref="Poll"/> reads only what the
/// kernel logged since the last one. OOM kills (<see cref="OomLog"/>) are stored as events once: those with a kmsg
/// sequence at or below what the recording already holds for this boot are skipped, and the events table is unique
/// on (boot, sequence). A kill's lines can straddle two polls, so the tail of the previous batch is parsed again.
/// </summary>
public sealed class OomEventTap : IDisposable
{
    private const int ContextRecords = 256;
    private readonly Kmsg.KmsgStream _stream;
    private readonly string _bootId;
    private ulong? _lastSeq;
    private List<string> _tail = [];

    private OomEventTap(Kmsg.KmsgStream stream, string bootId, ulong? lastSeq)
    {
        _stream = stream;
        _bootId = bootId;
        _lastSeq = lastSeq;
    }

    /// <summary>Why the tap could not start (no root, no /dev/kmsg), when <see cref="TryOpen"/> returned null.</summary>
    public static OomEventTap? TryOpen(string kmsgPath, string bootId, HistoryStore store, out string? why)
    {
        try
        {
            var stream = Kmsg.OpenStream(kmsgPath);
            why = null;
            return new OomEventTap(stream, bootId, store.LastKmsgSequence(bootId));
        }
        catch (KernelFileException e)
        {
            why = e.Error == KernelFileError.Denied ? $"{kmsgPath} needs root (dmesg_restrict)" : e.Message;
            return null;
        }
    }

    /// <summary>The boot id (a new one after every reboot, when kmsg sequence numbers restart), or btime as a fallback.</summary>
    public static string BootId(ProcFs proc, ulong? btime)
    {
        try
        {
            string id = KernelFile.ReadAllText(proc.PathOf("sys/kernel/random/boot_id")).Trim();
            if (id.Length > 0) return id;
        }
        catch (KernelFileException) { }
        return btime is ulong b ? "btime:" + b.ToString(System.Globalization.CultureInfo.InvariantCulture) : "unknown";
    }

    /// <summary>Reads new kernel log records and stores the OOM kills among them. <paramref name="bootTime"/> dates them. Returns how many were stored.</summary>
    public int Poll(HistoryStore store, DateTimeOffset? bootTime)
    {
        List<string> fresh = _stream.ReadNew();
        if (fresh.Count == 0) return 0;
        var lines = new List<string>(_tail.Count + fresh.Count);
        lines.AddRange(_tail);
        lines.AddRange(fresh);
        _tail = lines.Count > ContextRecords ? lines.GetRange(lines.Count - ContextRecords, ContextRecords) : lines;
        var kills = new List<(OomKill, ulong)>();
        foreach (OomKill k in OomLog.Parse(lines, bootTime))
        {
            if (Kmsg.KmsgStream.Sequence(k.Line) is not ulong seq) continue;
            if (_lastSeq is ulong last && seq <= last) continue;
            kills.Add((k, seq));
        }
        if (kills.Count == 0) return 0;
        int added = store.AppendOomKills(kills, _bootId);
        _lastSeq = kills.Max(k => k.Item2);
        return added;
    }

    public void Dispose() => _stream.Dispose();
}
