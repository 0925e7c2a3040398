using MemScope.Analysis;
using MemScope.Procfs;
using Microsoft.Data.Sqlite;

namespace MemScope.Store;

/// <summary>
/// What a sample carries besides the snapshot (schema 4), each optional: the per-cache slab counters when the recorder
/// read /proc/slabinfo for this sample, the tmpfs/SysV shared memory it saw, and how to find a new process's memory
/// cgroup (called once per process identity, never for a process already recorded).
/// </summary>
public sealed record SampleExtras
{
    public Slabinfo? Slabinfo { get; init; }
    public SharedMemoryUsage? SharedMemory { get; init; }
    /// <summary>pid → (cgroup version, path) of its memory cgroup, or null when unknown (gone, no memory hierarchy).</summary>
    public Func<int, (int Version, string Path)?>? CgroupOf { get; init; }
}

/// <summary>
/// Schema v4 of the recording: /proc/slabinfo per-cache counters (a varint blob per reading, cache names through
/// counter_keys), tmpfs/devtmpfs usage and SysV segments (a row only when they change, like the sysctls), and each
/// process identity's memory cgroup (a reference into the cgroups table). Reads rebuild the parsers' own records
/// (<see cref="Slabinfo"/>, <see cref="SysvShmSegment"/>, <see cref="TmpfsUsage"/>).
/// </summary>
public sealed partial class HistoryStore
{
    /// <summary>Meta key: how /proc/slabinfo was recorded ("every N s") or "unavailable: why".</summary>
    public const string SlabinfoMeta = "slabinfo";

    private SqliteCommand? _insertSlab, _insertShm;
    private byte[]? _lastShmBlob;
    private Func<int, (int Version, string Path)?>? _cgroupOf;

    private void AppendExtras(long sampleId, DateTimeOffset time, SampleExtras extras, SqliteTransaction tx)
    {
        if (extras.Slabinfo is { } slab)
        {
            _insertSlab ??= _conn.CreateCommand();
            _insertSlab.CommandText = "INSERT INTO slabinfo(sample_id, caches) VALUES ($id, $b)";
            _insertSlab.Parameters.Clear();
            _insertSlab.Parameters.AddWithValue("$id", sampleId);
            _insertSlab.Parameters.AddWithValue("$b", EncodeSlabinfo(slab, tx));
            _insertSlab.Transaction = tx;
            _insertSlab.ExecuteNonQuery();
        }
        if (extras.SharedMemory is { } shm) AppendSharedMemoryIfChanged(sampleId, time, shm, tx);
    }

    /// <summary>The id of a new identity's memory cgroup (null when no resolver or unknown).</summary>
    private long? IdentityCgroupId(Model.ProcessSnapshot ps, SqliteTransaction tx)
    {
        if (_cgroupOf?.Invoke(ps.Pid) is not var (version, path)) return null;
        return CgroupId(version, path, tx);
    }

    // ---------------------------------------------------------------- slabinfo

    internal byte[] EncodeSlabinfo(Slabinfo slab, SqliteTransaction tx)
    {
        var o = new Blob();
        o.Str(slab.Version);
        o.U((ulong)slab.Caches.Count);
        foreach (SlabCache c in slab.Caches)
        {
            o.U((ulong)KeyId("slab_cache", c.Name, tx));
            o.U(c.ActiveObjects);
            o.U(c.TotalObjects);
            o.U(c.ObjectSizeBytes);
            o.U(c.ObjectsPerSlab);
            o.U(c.PagesPerSlab);
            o.U(c.Limit);
            o.U(c.BatchCount);
            o.U(c.SharedFactor);
            o.U(c.ActiveSlabs);
            o.U(c.TotalSlabs);
            o.U(c.SharedAvail);
        }
        return o.ToArray();
    }

    internal Slabinfo DecodeSlabinfo(ReadOnlySpan<byte> blob)
    {
        var r = new Reader(blob);
        string version = r.Str();
        int n = r.Count();
        var caches = new List<SlabCache>(n);
        for (int i = 0; i < n; i++)
            caches.Add(new SlabCache(KeyName(r.U()), r.U(), r.U(), r.U(), r.U(), r.U(), r.U(), r.U(), r.U(), r.U(), r.U(), r.U()));
        r.Done();
        return new Slabinfo(version, caches);
    }

    /// <summary>The slabinfo reading at or before a sample (the recorder reads it every slab interval), with the sample it was taken at.</summary>
    public (SampleInfo At, Slabinfo Slab)? SlabinfoAt(long sampleId) =>
        SlabRow("s.sample_id <= $a ORDER BY s.sample_id DESC", sampleId, 0);

    /// <summary>The first slabinfo reading taken in [fromSampleId, toSampleId], or null.</summary>
    public (SampleInfo At, Slabinfo Slab)? FirstSlabinfoIn(long fromSampleId, long toSampleId) =>
        SlabRow("s.sample_id >= $a AND s.sample_id <= $b ORDER BY s.sample_id", fromSampleId, toSampleId);

    private (SampleInfo, Slabinfo)? SlabRow(string where, long a, long b) => Guard(() =>
    {
        if (SchemaVersion < 4) return ((SampleInfo, Slabinfo)?)null;
        using var cmd = _conn.CreateCommand();
        cmd.CommandText = $"SELECT s.sample_id, t.time_ms, s.caches FROM slabinfo s JOIN samples t ON t.id = s.sample_id WHERE {where} LIMIT 1";
        cmd.Parameters.AddWithValue("$a", a);
        cmd.Parameters.AddWithValue("$b", b);
        using var r = cmd.ExecuteReader();
        if (!r.Read()) return null;
        return (new SampleInfo(r.GetInt64(0), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1))), DecodeSlabinfo((byte[])r[2]));
    });

    /// <summary>
    /// Why no per-cache slab reading was found where one was looked for: the recorder's note (e.g. not root), the file
    /// predating them, or no reading in that stretch of the recording.
    /// </summary>
    public string SlabinfoUnavailableReason()
    {
        const string what = "per-cache figures (/proc/slabinfo)";
        if (SchemaVersion < 4) return $"{what} are not in the recording (schema {SchemaVersion} recording)";
        string? note = GetMeta(SlabinfoMeta);
        if (note is null) return $"{what} are not in the recording";
        if (note.StartsWith("unavailable: ", StringComparison.Ordinal)) return $"{what} were not recorded: {note["unavailable: ".Length..]}";
        return $"{what}: no reading recorded in this window ({note})";
    }

    // ---------------------------------------------------------------- tmpfs and SysV shared memory

    internal static byte[] EncodeSharedMemory(SharedMemoryUsage shm)
    {
        var o = new Blob();
        if (shm.Tmpfs is { } tmpfs)
        {
            o.U((ulong)tmpfs.Count + 1);
            foreach (TmpfsUsage t in tmpfs)
            {
                o.Str(t.MountPoint);
                o.S(t.UsedBytes);
            }
        }
        else o.U(0);
        if (shm.SysvSegments is { } sysv)
        {
            o.U((ulong)sysv.Count + 1);
            foreach (SysvShmSegment g in sysv)
            {
                o.S(g.Key);
                o.S(g.ShmId);
                o.U(g.SizeBytes);
                o.S(g.CreatorPid);
                o.S(g.LastPid);
                o.U(g.Attached);
                o.U(g.Uid);
                o.N(g.RssBytes);
                o.N(g.SwapBytes);
            }
        }
        else o.U(0);
        return o.ToArray();
    }

    internal static SharedMemoryUsage DecodeSharedMemory(ReadOnlySpan<byte> blob)
    {
        var r = new Reader(blob);
        List<TmpfsUsage>? tmpfs = null;
        int nt = r.CountPlusOne();
        if (nt > 0)
        {
            tmpfs = new List<TmpfsUsage>(nt - 1);
            for (int i = 0; i < nt - 1; i++) tmpfs.Add(new TmpfsUsage(r.Str(), r.S()));
        }
        List<SysvShmSegment>? sysv = null;
        int ns = r.CountPlusOne();
        if (ns > 0)
        {
            sysv = new List<SysvShmSegment>(ns - 1);
            for (int i = 0; i < ns - 1; i++)
                sysv.Add(new SysvShmSegment(r.S(), r.SInt(), r.U(), r.SInt(), r.SInt(), r.U(), r.UInt(), r.N(), r.N()));
        }
        r.Done();
        return new SharedMemoryUsage(tmpfs, sysv);
    }

    /// <summary>Stores the shared-memory reading when it differs from the last stored one; it then holds from this sample on.</summary>
    private void AppendSharedMemoryIfChanged(long sampleId, DateTimeOffset time, SharedMemoryUsage shm, SqliteTransaction tx) =>
        AppendIfChanged("shm", "extras", ref _lastShmBlob, ref _insertShm, sampleId, time, EncodeSharedMemory(shm), tx);

    /// <summary>The tmpfs/SysV reading in effect at a sample (the latest stored at or before it), with the sample it was stored at; null when none.</summary>
    public (SampleInfo Since, SharedMemoryUsage Usage)? SharedMemoryAt(long sampleId) => Guard(() =>
    {
        if (SchemaVersion < 4) return ((SampleInfo, SharedMemoryUsage)?)null;
        using var cmd = _conn.CreateCommand();
        cmd.CommandText = "SELECT first_sample_id, time_ms, extras FROM shm WHERE first_sample_id <= $id ORDER BY first_sample_id DESC LIMIT 1";
        cmd.Parameters.AddWithValue("$id", sampleId);
        using var r = cmd.ExecuteReader();
        if (!r.Read()) return null;
        return (new SampleInfo(r.GetInt64(0), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1))), DecodeSharedMemory((byte[])r[2]));
    });

    /// <summary>After samples were deleted: drops shm rows no remaining sample uses (slabinfo rows go with their samples).</summary>
    private void DeleteOrphanedExtras(SqliteCommand cmd)
    {
        if (SchemaVersion < 4) return;
        cmd.CommandText = """
            DELETE FROM shm WHERE first_sample_id <
                (SELECT MAX(first_sample_id) FROM shm WHERE first_sample_id <= (SELECT MIN(id) FROM samples))
            """;
        cmd.ExecuteNonQuery();
    }

    private void DisposeExtrasCommands()
    {
        _insertSlab?.Dispose();
        _insertShm?.Dispose();
    }
}
