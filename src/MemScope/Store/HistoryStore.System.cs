using System.Text;
using MemScope.Analysis;
using MemScope.Model;
using MemScope.Procfs;
using Microsoft.Data.Sqlite;

namespace MemScope.Store;

/// <summary>
/// Schema v2 of the recording: what `swap` and `doctor` replay needs besides meminfo/vmstat/stat/PSI. zoneinfo,
/// buddyinfo and swaps are compact per-sample blobs (varints; names through counter_keys), the vm sysctls a row only
/// when they change (keyed by the first sample they hold for), OOM kills an events table filled from /dev/kmsg.
/// Reads rebuild the very model objects (<see cref="Zoneinfo"/>, <see cref="Buddyinfo"/>, <see cref="Swaps"/>,
/// <see cref="SysVm"/>, <see cref="OomKill"/>) the live collectors return.
/// </summary>
public sealed partial class HistoryStore
{
    private static readonly string[] SampleColumnsV2 = ["zoneinfo", "buddyinfo", "swaps", "cgroups"];
    private readonly Dictionary<(int Version, string Path), long> _cgroupIds = new();
    private SqliteCommand? _insertCgroup, _selectCgroup, _insertCgroupSample;
    private byte[]? _lastSysctlBlob;
    private List<(long FirstSample, byte[] Blob)>? _sysctlRows;
    private readonly Dictionary<long, SysVm> _sysctlDecoded = new();
    private SqliteCommand? _insertSysctl, _insertEvent;

    /// <summary>The columns a sample read selects: v1's, then id, then the v2 blobs and the v3 cgroup count (NULL where the file predates them).</summary>
    private string ReadColumns => string.Join(", ", SampleColumns) + ", id, " +
        (SchemaVersion >= 2 ? "zoneinfo, buddyinfo, swaps" : "NULL, NULL, NULL") + ", " + (SchemaVersion >= 3 ? "cgroups" : "NULL");

    private void DisposeSystemCommands()
    {
        _insertSysctl?.Dispose();
        _insertEvent?.Dispose();
        _insertCgroup?.Dispose();
        _selectCgroup?.Dispose();
        _insertCgroupSample?.Dispose();
    }

    // ---------------------------------------------------------------- blob writer

    private sealed class Blob
    {
        public readonly List<byte> Bytes = new(512);
        public void U(ulong v) => CounterBlob.WriteVarint(Bytes, v);
        public void N(ulong? v) => CounterBlob.WriteNullable(Bytes, v);
        public void S(long v) => U((ulong)((v << 1) ^ (v >> 63))); // zigzag
        public void Str(string s)
        {
            byte[] b = Encoding.UTF8.GetBytes(s);
            U((ulong)b.Length);
            Bytes.AddRange(b);
        }
        public byte[] ToArray() => Bytes.ToArray();
    }

    private ref struct Reader(ReadOnlySpan<byte> b)
    {
        private readonly ReadOnlySpan<byte> _b = b;
        private int _pos;
        public bool End => _pos >= _b.Length;
        public ulong U() => CounterBlob.ReadVarint(_b, ref _pos);
        /// <summary>A non-negative int; a damaged value is a FormatException (a Corrupt store error), not an overflow.</summary>
        public int I()
        {
            ulong v = U();
            return v <= int.MaxValue ? (int)v : throw new FormatException($"value {v} out of range");
        }
        /// <summary>
        /// An element count: every element takes at least one byte, so a count above the bytes left is damage, caught
        /// here before a list or array of that size is allocated (a damaged count could ask for gigabytes).
        /// </summary>
        public int Count() => Count(0);
        /// <summary><see cref="Count()"/> of a list stored as count + 1 (0 = absent): at most one more than the bytes left.</summary>
        public int CountPlusOne() => Count(1);
        private int Count(int slack)
        {
            int n = I();
            return n - slack <= _b.Length - _pos ? n : throw new FormatException($"count {n - slack} exceeds the {_b.Length - _pos} bytes left");
        }
        public ulong? N() => CounterBlob.ReadNullable(_b, ref _pos);
        public long S()
        {
            ulong z = U();
            return (long)(z >> 1) ^ -(long)(z & 1);
        }
        /// <summary>A signed value stored for an int field (pid, id): out of range is damage (FormatException).</summary>
        public int SInt()
        {
            long v = S();
            return v is >= int.MinValue and <= int.MaxValue ? (int)v : throw new FormatException($"value {v} out of range");
        }
        /// <summary>An unsigned value stored for a uint field (uid): out of range is damage (FormatException).</summary>
        public uint UInt()
        {
            ulong v = U();
            return v <= uint.MaxValue ? (uint)v : throw new FormatException($"value {v} out of range");
        }
        public string Str()
        {
            int n = I();
            if (n < 0 || _pos + n > _b.Length) throw new FormatException("truncated string");
            string s = Encoding.UTF8.GetString(_b.Slice(_pos, n));
            _pos += n;
            return s;
        }
        public void Done()
        {
            if (!End) throw new FormatException("trailing bytes in blob");
        }
    }

    private string KeyName(ulong id) =>
        _keyNames.TryGetValue((long)id, out var k) ? k.Name : throw new FormatException($"unknown key id {id}");

    private void Counters(Blob o, string source, IEnumerable<KeyValuePair<string, ulong>> entries, SqliteTransaction tx)
    {
        var list = entries.ToList();
        o.U((ulong)list.Count);
        foreach (var kv in list)
        {
            o.U((ulong)KeyId(source, kv.Key, tx));
            o.U(kv.Value);
        }
    }

    private void ReadCounters(ref Reader r, CounterTable into)
    {
        int n = r.Count();
        for (int i = 0; i < n; i++)
        {
            string name = KeyName(r.U());
            into.Set(name, r.U());
        }
    }

    // ---------------------------------------------------------------- zoneinfo, buddyinfo, swaps

    internal byte[] EncodeZoneinfo(Zoneinfo z, SqliteTransaction tx)
    {
        var o = new Blob();
        o.U((ulong)z.Zones.Count);
        foreach (ZoneinfoZone zone in z.Zones)
        {
            o.U((ulong)zone.Node);
            o.U((ulong)KeyId("zone_name", zone.Name, tx));
            foreach (ulong? v in new[] { zone.PagesFree, zone.Boost, zone.Min, zone.Low, zone.High, zone.Promo, zone.Scanned, zone.Spanned,
                         zone.Present, zone.Managed, zone.Cma, zone.StartPfn, zone.InactiveRatio })
                o.N(v);
            o.U(zone.NodeUnreclaimable is bool u ? (u ? 2UL : 1UL) : 0UL);
            if (zone.Protection is { } prot)
            {
                o.U((ulong)prot.Length + 1);
                foreach (long p in prot) o.S(p);
            }
            else o.U(0);
            Counters(o, "zoneinfo", zone.Counters.Entries, tx);
        }
        o.U((ulong)z.Nodes.Count);
        foreach (ZoneinfoNode node in z.Nodes)
        {
            o.U((ulong)node.Node);
            Counters(o, "zoneinfo_node", node.Counters.Entries, tx);
        }
        return o.ToArray();
    }

    internal Zoneinfo DecodeZoneinfo(ReadOnlySpan<byte> blob)
    {
        var r = new Reader(blob);
        int nz = r.Count();
        var zones = new List<ZoneinfoZone>(nz);
        for (int i = 0; i < nz; i++)
        {
            int node = r.I();
            var zone = new ZoneinfoZone(node, KeyName(r.U()))
            {
                PagesFree = r.N(), Boost = r.N(), Min = r.N(), Low = r.N(), High = r.N(), Promo = r.N(), Scanned = r.N(), Spanned = r.N(),
                Present = r.N(), Managed = r.N(), Cma = r.N(), StartPfn = r.N(), InactiveRatio = r.N(),
            };
            ulong unrec = r.U();
            zone.NodeUnreclaimable = unrec == 0 ? null : unrec == 2;
            int np = r.CountPlusOne();
            if (np > 0)
            {
                var prot = new long[np - 1];
                for (int k = 0; k < prot.Length; k++) prot[k] = r.S();
                zone.Protection = prot;
            }
            ReadCounters(ref r, zone.Counters);
            zones.Add(zone);
        }
        int nn = r.Count();
        var nodes = new List<ZoneinfoNode>(nn);
        for (int i = 0; i < nn; i++)
        {
            var node = new ZoneinfoNode(r.I());
            ReadCounters(ref r, node.Counters);
            nodes.Add(node);
        }
        r.Done();
        return new Zoneinfo(zones, nodes);
    }

    internal byte[] EncodeBuddyinfo(Buddyinfo b, SqliteTransaction tx)
    {
        var o = new Blob();
        o.U((ulong)b.Zones.Count);
        foreach (BuddyinfoZone z in b.Zones)
        {
            o.U((ulong)z.Node);
            o.U((ulong)KeyId("zone_name", z.Name, tx));
            o.U((ulong)z.FreeBlocks.Length);
            foreach (ulong c in z.FreeBlocks) o.U(c);
        }
        return o.ToArray();
    }

    internal Buddyinfo DecodeBuddyinfo(ReadOnlySpan<byte> blob)
    {
        var r = new Reader(blob);
        int n = r.Count();
        var zones = new List<BuddyinfoZone>(n);
        for (int i = 0; i < n; i++)
        {
            int node = r.I();
            string name = KeyName(r.U());
            var counts = new ulong[r.Count()];
            for (int k = 0; k < counts.Length; k++) counts[k] = r.U();
            zones.Add(new BuddyinfoZone(node, name, counts));
        }
        r.Done();
        return new Buddyinfo(zones);
    }

    internal static byte[] EncodeSwaps(Swaps s)
    {
        var o = new Blob();
        o.U((ulong)s.Areas.Count);
        foreach (SwapArea a in s.Areas)
        {
            o.Str(a.Filename);
            o.Str(a.Type);
            o.U(a.SizeBytes);
            o.U(a.UsedBytes);
            o.S(a.Priority);
        }
        return o.ToArray();
    }

    internal static Swaps DecodeSwaps(ReadOnlySpan<byte> blob)
    {
        var r = new Reader(blob);
        int n = r.Count();
        var areas = new List<SwapArea>(n);
        for (int i = 0; i < n; i++) areas.Add(new SwapArea(r.Str(), r.Str(), r.U(), r.U(), r.S()));
        r.Done();
        return new Swaps(areas);
    }

    private void BindSystemV2(SqliteParameterCollection p, SystemSnapshot s, SqliteTransaction tx)
    {
        p["$zoneinfo"].Value = s.Zoneinfo is { } z ? EncodeZoneinfo(z, tx) : DBNull.Value;
        p["$buddyinfo"].Value = s.Buddyinfo is { } b ? EncodeBuddyinfo(b, tx) : DBNull.Value;
        p["$swaps"].Value = s.Swaps is { } sw ? EncodeSwaps(sw) : DBNull.Value;
        p["$cgroups"].Value = s.MemoryCgroups is { } cg ? cg.Count : DBNull.Value;
    }

    // ---------------------------------------------------------------- memory cgroups (v3)

    private long CgroupId(Sysfs.MemoryCgroup g, SqliteTransaction tx) => CgroupId((int)g.Version, g.Path, tx);

    private long CgroupId(int version, string path, SqliteTransaction tx)
    {
        var key = (version, path);
        if (_cgroupIds.TryGetValue(key, out long id)) return id;
        if (_insertCgroup is null)
        {
            _insertCgroup = _conn.CreateCommand();
            _insertCgroup.CommandText = "INSERT OR IGNORE INTO cgroups(version, path) VALUES ($v, $p)";
            _selectCgroup = _conn.CreateCommand();
            _selectCgroup.CommandText = "SELECT id FROM cgroups WHERE version = $v AND path = $p";
        }
        id = InsertOrSelectId(_insertCgroup, _selectCgroup!, tx, (parameters, _) =>
        {
            parameters.AddWithValue("$v", version);
            parameters.AddWithValue("$p", path);
        });
        if (_cgroupIds.Count > 10_000) _cgroupIds.Clear();
        _cgroupIds[key] = id;
        return id;
    }

    private void AppendCgroups(long sampleId, IReadOnlyList<Sysfs.MemoryCgroup> groups, SqliteTransaction tx)
    {
        _insertCgroupSample ??= Prepared(_conn, "cgroup_samples",
            ["sample_id", "cgroup_id", "usage", "limit_bytes", "limit_is_max", "swap", "swap_limit", "swap_limit_is_max", "failcnt", "oom_kills", "events"]);
        _insertCgroupSample.Transaction = tx;
        var p = _insertCgroupSample.Parameters;
        foreach (Sysfs.MemoryCgroup g in groups)
        {
            p["$sample_id"].Value = sampleId;
            p["$cgroup_id"].Value = CgroupId(g, tx);
            p["$usage"].Value = Db(g.UsageBytes);
            p["$limit_bytes"].Value = Db(g.LimitBytes);
            p["$limit_is_max"].Value = g.LimitIsMax ? 1 : 0;
            p["$swap"].Value = Db(g.SwapUsageBytes);
            p["$swap_limit"].Value = Db(g.SwapLimitBytes);
            p["$swap_limit_is_max"].Value = g.SwapLimitIsMax ? 1 : 0;
            p["$failcnt"].Value = Db(g.Failcnt);
            p["$oom_kills"].Value = Db(g.OomKills);
            if (g.Events is { } e)
            {
                var o = new Blob();
                foreach (ulong? v in new[] { e.Low, e.High, e.Max, e.Oom, e.OomKill, e.OomGroupKill }) o.N(v);
                p["$events"].Value = o.ToArray();
            }
            else p["$events"].Value = DBNull.Value;
            _insertCgroupSample.ExecuteNonQuery();
        }
    }

    /// <summary>Adds the memory cgroups recorded with a sample (schema 3; the sample's cgroups count says whether they were read).</summary>
    private Snapshot WithCgroups(Snapshot s, long sampleId)
    {
        if (SchemaVersion < 3) return s;
        using var cmd = _conn.CreateCommand();
        cmd.CommandText = """
            SELECT s.cgroups, c.version, c.path, g.usage, g.limit_bytes, g.limit_is_max, g.swap, g.swap_limit, g.swap_limit_is_max, g.failcnt, g.oom_kills, g.events
            FROM samples s LEFT JOIN cgroup_samples g ON g.sample_id = s.id LEFT JOIN cgroups c ON c.id = g.cgroup_id
            WHERE s.id = $id ORDER BY c.version, c.path
            """;
        cmd.Parameters.AddWithValue("$id", sampleId);
        using var r = cmd.ExecuteReader();
        var list = new List<Sysfs.MemoryCgroup>();
        bool recorded = false;
        while (r.Read())
        {
            if (r.IsDBNull(0)) return s;
            recorded = true;
            if (r.IsDBNull(1)) continue;
            ulong? U(int i) => r.IsDBNull(i) ? null : (ulong)r.GetInt64(i);
            Sysfs.CgroupMemoryEvents? events = null;
            if (!r.IsDBNull(11))
            {
                var br = new Reader((byte[])r[11]);
                events = new Sysfs.CgroupMemoryEvents(br.N(), br.N(), br.N(), br.N(), br.N(), br.N());
                br.Done();
            }
            list.Add(new Sysfs.MemoryCgroup
            {
                Version = (Sysfs.CgroupVersion)r.GetInt32(1),
                Path = r.GetString(2),
                Directory = "",
                UsageBytes = U(3),
                LimitBytes = U(4),
                LimitIsMax = r.GetInt64(5) != 0,
                SwapUsageBytes = U(6),
                SwapLimitBytes = U(7),
                SwapLimitIsMax = r.GetInt64(8) != 0,
                Failcnt = U(9),
                OomKills = U(10),
                Events = events,
            });
        }
        return recorded ? s with { System = s.System with { MemoryCgroups = list } } : s;
    }

    /// <summary>Adds the v2 sources to a row read with <see cref="ReadColumns"/> (columns 26 = id, 27..29 = blobs).</summary>
    private SystemSnapshot ReadSystemV2(SqliteDataReader r, SystemSnapshot s)
    {
        if (SchemaVersion < 2) return s;
        long id = r.GetInt64(26);
        return s with
        {
            Zoneinfo = r.IsDBNull(27) ? null : DecodeZoneinfo((byte[])r[27]),
            Buddyinfo = r.IsDBNull(28) ? null : DecodeBuddyinfo((byte[])r[28]),
            Swaps = r.IsDBNull(29) ? null : DecodeSwaps((byte[])r[29]),
            SysVm = SysctlsFor(id),
        };
    }

    // ---------------------------------------------------------------- sysctls

    private byte[] EncodeSysVm(SysVm vm, SqliteTransaction tx)
    {
        var o = new Blob();
        var numbers = vm.All.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        o.U((ulong)numbers.Count);
        foreach (var kv in numbers)
        {
            o.U((ulong)KeyId("sysctl_vm", kv.Key, tx));
            o.U((ulong)kv.Value.Length);
            foreach (long v in kv.Value) o.S(v);
        }
        var texts = vm.Texts.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToList();
        o.U((ulong)texts.Count);
        foreach (var kv in texts)
        {
            o.U((ulong)KeyId("sysctl_vm", kv.Key, tx));
            o.Str(kv.Value);
        }
        return o.ToArray();
    }

    private SysVm DecodeSysVm(ReadOnlySpan<byte> blob)
    {
        var r = new Reader(blob);
        int n = r.Count();
        var values = new List<KeyValuePair<string, long[]>>(n);
        for (int i = 0; i < n; i++)
        {
            string name = KeyName(r.U());
            var v = new long[r.Count()];
            for (int k = 0; k < v.Length; k++) v[k] = r.S();
            values.Add(new(name, v));
        }
        int t = r.Count();
        var texts = new List<KeyValuePair<string, string>>(t);
        for (int i = 0; i < t; i++)
        {
            string name = KeyName(r.U());
            texts.Add(new(name, r.Str()));
        }
        r.Done();
        return SysVm.FromValues(values, texts);
    }

    /// <summary>Stores the sysctls when they differ from the last stored reading; they then hold from this sample on.</summary>
    private void AppendSysctlsIfChanged(long sampleId, DateTimeOffset time, SysVm vm, SqliteTransaction tx)
    {
        if (AppendIfChanged("sysctls", "vm", ref _lastSysctlBlob, ref _insertSysctl, sampleId, time, EncodeSysVm(vm, tx), tx))
            _sysctlRows = null;
    }

    /// <summary>
    /// For the tables keyed by the first sample a reading holds for (sysctls, shm): stores <paramref name="blob"/> when it
    /// differs from the last stored one (read from the table once, then kept in <paramref name="last"/>). True when stored.
    /// </summary>
    private bool AppendIfChanged(string table, string column, ref byte[]? last, ref SqliteCommand? insert, long sampleId,
        DateTimeOffset time, byte[] blob, SqliteTransaction tx)
    {
        if (last is null)
        {
            using var select = _conn.CreateCommand();
            select.Transaction = tx;
            select.CommandText = $"SELECT {column} FROM {table} ORDER BY first_sample_id DESC LIMIT 1";
            last = select.ExecuteScalar() as byte[];
        }
        if (last is not null && blob.AsSpan().SequenceEqual(last)) return false;
        insert ??= _conn.CreateCommand();
        insert.CommandText = $"INSERT INTO {table}(first_sample_id, time_ms, {column}) VALUES ($id, $t, $blob)";
        insert.Parameters.Clear();
        insert.Parameters.AddWithValue("$id", sampleId);
        insert.Parameters.AddWithValue("$t", time.ToUnixTimeMilliseconds());
        insert.Parameters.AddWithValue("$blob", blob);
        insert.Transaction = tx;
        insert.ExecuteNonQuery();
        last = blob;
        return true;
    }

    /// <summary>The sysctls in effect at a sample (the latest row at or before it), or null when none was stored by then.</summary>
    public SysVm? SysctlsFor(long sampleId) => Guard(() =>
    {
        if (SchemaVersion < 2) return null;
        if (_sysctlRows is null)
        {
            _sysctlRows = [];
            _sysctlDecoded.Clear();
            using var cmd = _conn.CreateCommand();
            cmd.CommandText = "SELECT first_sample_id, vm FROM sysctls ORDER BY first_sample_id";
            using var rd = cmd.ExecuteReader();
            while (rd.Read()) _sysctlRows.Add((rd.GetInt64(0), (byte[])rd[1]));
        }
        for (int i = _sysctlRows.Count - 1; i >= 0; i--)
        {
            var (first, blob) = _sysctlRows[i];
            if (first > sampleId) continue;
            if (!_sysctlDecoded.TryGetValue(first, out SysVm? vm)) _sysctlDecoded[first] = vm = DecodeSysVm(blob);
            return vm;
        }
        return (SysVm?)null;
    });

    // ---------------------------------------------------------------- events (OOM kills)

    /// <summary>The highest kmsg sequence number stored for this boot, or null (so a recorder resumes where the last one stopped).</summary>
    public ulong? LastKmsgSequence(string bootId) => Guard(() =>
    {
        using var cmd = _conn.CreateCommand();
        cmd.CommandText = "SELECT MAX(kmsg_seq) FROM events WHERE boot_id = $b";
        cmd.Parameters.AddWithValue("$b", bootId);
        return cmd.ExecuteScalar() is long v ? (ulong?)v : null;
    });

    /// <summary>Stores OOM kills (one transaction); kills already stored (same boot and kmsg sequence) are ignored. Returns how many were new.</summary>
    public int AppendOomKills(IEnumerable<(OomKill Kill, ulong Sequence)> kills, string bootId) => Guard(() =>
    {
        if (!Writable) throw new InvalidOperationException("opened for reading");
        using var tx = _conn.BeginTransaction();
        _insertEvent ??= Prepared(_conn, "events",
        [
            "kind", "time_ms", "boot_id", "kmsg_seq", "since_boot_us", "pid", "comm", "total_vm", "anon_rss", "file_rss", "shmem_rss",
            "pgtables", "uid", "oom_score_adj", "oom_constraint", "oom_cgroup", "task_cgroup", "invoker", "gfp_mask", "alloc_order", "line",
        ]);
        _insertEvent.CommandText = _insertEvent.CommandText.Replace("INSERT INTO", "INSERT OR IGNORE INTO", StringComparison.Ordinal);
        _insertEvent.Transaction = tx;
        var p = _insertEvent.Parameters;
        int added = 0;
        foreach (var (k, seq) in kills)
        {
            p["$kind"].Value = "oom_kill";
            p["$time_ms"].Value = Db(k.Time?.ToUnixTimeMilliseconds());
            p["$boot_id"].Value = bootId;
            p["$kmsg_seq"].Value = Db(seq);
            p["$since_boot_us"].Value = Db(k.SecondsSinceBoot is double sec ? (long)Math.Round(sec * 1e6) : null);
            p["$pid"].Value = k.Pid;
            p["$comm"].Value = k.Command;
            p["$total_vm"].Value = Db(k.TotalVmBytes);
            p["$anon_rss"].Value = Db(k.AnonRssBytes);
            p["$file_rss"].Value = Db(k.FileRssBytes);
            p["$shmem_rss"].Value = Db(k.ShmemRssBytes);
            p["$pgtables"].Value = Db(k.PageTablesBytes);
            p["$uid"].Value = Db(k.Uid is uint u ? (long)u : null);
            p["$oom_score_adj"].Value = Db(k.OomScoreAdj);
            p["$oom_constraint"].Value = k.Trigger.ToString();
            p["$oom_cgroup"].Value = (object?)k.OomCgroup ?? DBNull.Value;
            p["$task_cgroup"].Value = (object?)k.TaskCgroup ?? DBNull.Value;
            p["$invoker"].Value = (object?)k.Invoker ?? DBNull.Value;
            p["$gfp_mask"].Value = (object?)k.GfpMask ?? DBNull.Value;
            p["$alloc_order"].Value = Db((long?)k.Order);
            p["$line"].Value = k.Line;
            added += _insertEvent.ExecuteNonQuery();
        }
        tx.Commit();
        return added;
    });

    /// <summary>OOM kills whose time falls in [from, to] (either bound optional), oldest first; undated ones only without bounds.</summary>
    public List<OomKill> ReadOomKills(DateTimeOffset? from = null, DateTimeOffset? to = null) => Guard(() =>
    {
        var list = new List<OomKill>();
        if (SchemaVersion < 2) return list;
        using var cmd = _conn.CreateCommand();
        cmd.CommandText = """
            SELECT time_ms, since_boot_us, pid, comm, total_vm, anon_rss, file_rss, shmem_rss, pgtables, uid, oom_score_adj,
                   oom_constraint, oom_cgroup, task_cgroup, invoker, gfp_mask, alloc_order, line
            FROM events WHERE kind = 'oom_kill' AND ((time_ms >= $a AND time_ms <= $b) OR ($all AND time_ms IS NULL))
            ORDER BY time_ms, boot_id, kmsg_seq
            """;
        cmd.Parameters.AddWithValue("$a", from?.ToUnixTimeMilliseconds() ?? long.MinValue);
        cmd.Parameters.AddWithValue("$b", to?.ToUnixTimeMilliseconds() ?? long.MaxValue);
        cmd.Parameters.AddWithValue("$all", from is null && to is null ? 1 : 0);
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            ulong? U(int i) => r.IsDBNull(i) ? null : (ulong)r.GetInt64(i);
            long? L(int i) => r.IsDBNull(i) ? null : r.GetInt64(i);
            string? T(int i) => r.IsDBNull(i) ? null : r.GetString(i);
            list.Add(new OomKill
            {
                Time = L(0) is long ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null,
                SecondsSinceBoot = L(1) is long us ? us / 1e6 : null,
                Pid = r.GetInt32(2),
                Command = r.GetString(3),
                TotalVmBytes = U(4),
                AnonRssBytes = U(5),
                FileRssBytes = U(6),
                ShmemRssBytes = U(7),
                PageTablesBytes = U(8),
                Uid = L(9) is long uid ? (uint)uid : null,
                OomScoreAdj = L(10),
                Trigger = Enum.TryParse(T(11), out OomTrigger trig) ? trig : OomTrigger.Unknown,
                OomCgroup = T(12),
                TaskCgroup = T(13),
                Invoker = T(14),
                GfpMask = T(15),
                Order = L(16) is long o ? (int)o : null,
                Line = r.GetString(17),
            });
        }
        return list;
    });

    /// <summary>After samples were deleted: drops events older than the oldest sample and sysctl rows no remaining sample uses.</summary>
    private void DeleteOrphanedSystemRows(SqliteCommand cmd)
    {
        if (SchemaVersion < 2) return;
        cmd.CommandText = "DELETE FROM events WHERE time_ms < (SELECT MIN(time_ms) FROM samples)";
        cmd.ExecuteNonQuery();
        cmd.CommandText = """
            DELETE FROM sysctls WHERE first_sample_id <
                (SELECT MAX(first_sample_id) FROM sysctls WHERE first_sample_id <= (SELECT MIN(id) FROM samples))
            """;
        cmd.ExecuteNonQuery();
        _sysctlRows = null;
        DeleteOrphanedExtras(cmd);
    }
}
