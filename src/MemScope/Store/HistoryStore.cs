using System.Globalization;
using MemScope.Model;
using MemScope.Procfs;
using Microsoft.Data.Sqlite;

namespace MemScope.Store;

/// <summary>One recorded sample: its row id and wall-clock time.</summary>
public readonly record struct SampleInfo(long Id, DateTimeOffset Time);

/// <summary>How long and how large a recording may grow; the older samples go first.</summary>
public sealed record RetentionPolicy(TimeSpan? MaxAge, long? MaxBytes)
{
    public static readonly RetentionPolicy Default = new(TimeSpan.FromDays(7), 1L << 30);
}

/// <summary>
/// A MemScope recording: a SQLite database in WAL mode holding raw counters (meminfo and vmstat entries, /proc/stat
/// ticks, PSI, per-process stats), one transaction per sample. Reads rebuild the very <see cref="Snapshot"/> objects
/// the live views use, so rates (<see cref="Rates.Between"/>) and every view work on history unchanged.
/// Not thread-safe: one instance per thread.
/// </summary>
public sealed partial class HistoryStore : IDisposable
{
    private readonly SqliteConnection _conn;
    private readonly Dictionary<(string Source, string Name), long> _keyIds = new();
    private readonly Dictionary<long, (string Source, string Name)> _keyNames = new();
    private readonly Dictionary<(int Pid, ulong Start, string Comm, string Cmd, uint? Uid), long> _identIds = new();
    private SqliteCommand? _insertSample, _insertIdent, _selectIdent, _insertKey;
    private DateTimeOffset? _oldestCached;
    private DateTime _lastIdentGc = DateTime.MinValue;

    public string Path { get; }
    public bool Writable { get; }
    /// <summary>The file's schema version (a reader of an older recording sees what that version stored; newer sources are null).</summary>
    public int SchemaVersion { get; }

    private HistoryStore(string path, SqliteConnection conn, bool writable, int schemaVersion)
    {
        Path = path;
        _conn = conn;
        Writable = writable;
        SchemaVersion = schemaVersion;
    }

    /// <summary>The default recording: /var/lib/memscope/memscope.db for root, else $XDG_DATA_HOME/memscope or ~/.local/share/memscope.</summary>
    public static string DefaultPath()
    {
        if (Environment.UserName == "root" || Procfs.Privilege.IsRoot) return "/var/lib/memscope/memscope.db";
        string? xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        string baseDir = !string.IsNullOrEmpty(xdg) && System.IO.Path.IsPathRooted(xdg)
            ? xdg
            : System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return System.IO.Path.Combine(baseDir, "memscope", "memscope.db");
    }

    /// <summary>Opens (creating when needed) a recording for writing.</summary>
    public static HistoryStore OpenForWriting(string path) => Open(path, write: true);

    /// <summary>Opens an existing recording for reading; a missing, foreign or damaged file gives a <see cref="StoreException"/>.</summary>
    public static HistoryStore OpenForReading(string path) => Open(path, write: false);

    private static HistoryStore Open(string path, bool write)
    {
        path = System.IO.Path.GetFullPath(path);
        if (!write && !File.Exists(path))
            throw new StoreException(StoreError.NotFound, $"{path}: no recording there (start one with 'memscope record --db {path}')");
        if (Directory.Exists(path))
            throw new StoreException(StoreError.Io, $"{path} is a directory, not a recording file");
        if (write)
        {
            try { Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new StoreException(StoreError.Io, $"cannot create the directory of {path}: {e.Message}", e);
            }
        }
        // Readers open read-write when they may (so WAL recovery after a crash can run), read-only otherwise.
        bool canWrite = write || CanWrite(path);
        var csb = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = write ? SqliteOpenMode.ReadWriteCreate : canWrite ? SqliteOpenMode.ReadWrite : SqliteOpenMode.ReadOnly,
            Pooling = false,
            DefaultTimeout = 10,
        };
        SQLitePCL.Batteries_V2.Init();
        var conn = new SqliteConnection(csb.ToString());
        try
        {
            conn.Open();
            Exec(conn, "PRAGMA busy_timeout = 5000");
            int version = StoreSchema.Prepare(conn, path, create: write);
            if (write)
            {
                // WAL: readers (replay while recording) never block the recorder; NORMAL sync is safe against a crash of
                // the recorder (a committed sample survives SIGKILL); only a power loss may drop the last samples.
                string mode = Text(conn, "PRAGMA journal_mode = WAL");
                if (!mode.Equals("wal", StringComparison.OrdinalIgnoreCase))
                    throw new StoreException(StoreError.Io, $"{path}: SQLite refused WAL mode (journal_mode={mode}); is it on a network file system?");
                Exec(conn, "PRAGMA synchronous = NORMAL");
            }
            else if (new FileInfo(path).Length < 64L << 20)
            {
                // Small enough to check cheaply: a damaged file fails here with one clear line instead of odd numbers later.
                string check = Text(conn, "PRAGMA quick_check(1)");
                if (!check.Equals("ok", StringComparison.OrdinalIgnoreCase))
                    throw new StoreException(StoreError.Corrupt, $"{path}: recording is damaged (SQLite quick_check: {check})");
            }
            var store = new HistoryStore(path, conn, write, version);
            store.LoadKeys();
            return store;
        }
        catch (SqliteException e)
        {
            conn.Dispose();
            throw Translate(e, path);
        }
        catch
        {
            conn.Dispose();
            throw;
        }
    }

    private static bool CanWrite(string path)
    {
        try
        {
            using var f = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
            string dir = System.IO.Path.GetDirectoryName(path)!;
            return File.Exists(path + "-shm") || HasDirWriteAccess(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    private static bool HasDirWriteAccess(string dir)
    {
        try
        {
            string probe = System.IO.Path.Combine(dir, $".memscope-probe-{Environment.ProcessId}");
            File.WriteAllBytes(probe, []);
            File.Delete(probe);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    internal static StoreException Translate(SqliteException e, string path) => e.SqliteErrorCode switch
    {
        11 or 26 => new StoreException(StoreError.Corrupt, $"{path}: recording is damaged or not a SQLite database ({StoreSchema.Short(e)})", e),
        13 => new StoreException(StoreError.Io, $"{path}: disk full ({StoreSchema.Short(e)})", e),
        8 or 14 or 23 => new StoreException(StoreError.Io, $"{path}: cannot open or write ({StoreSchema.Short(e)})", e),
        5 or 6 => new StoreException(StoreError.Io, $"{path}: database is locked by another process ({StoreSchema.Short(e)})", e),
        _ => new StoreException(StoreError.Io, $"{path}: {StoreSchema.Short(e)}", e),
    };

    private T Guard<T>(Func<T> f)
    {
        try { return f(); }
        catch (SqliteException e) { throw Translate(e, Path); }
        catch (FormatException e) { throw new StoreException(StoreError.Corrupt, $"{Path}: damaged counter data ({e.Message})", e); }
    }

    public void Dispose()
    {
        _insertSample?.Dispose();
        DisposeProcessStatement();
        _insertIdent?.Dispose();
        _selectIdent?.Dispose();
        _insertKey?.Dispose();
        DisposeSystemCommands();
        DisposeExtrasCommands();
        _conn.Dispose();
    }

    // ---------------------------------------------------------------- metadata and size

    public void SetMeta(string key, string value) => Guard(() =>
    {
        using var cmd = _conn.CreateCommand();
        cmd.CommandText = "INSERT INTO meta(key, value) VALUES ($k, $v) ON CONFLICT(key) DO UPDATE SET value = excluded.value";
        cmd.Parameters.AddWithValue("$k", key);
        cmd.Parameters.AddWithValue("$v", value);
        return cmd.ExecuteNonQuery();
    });

    public string? GetMeta(string key) => Guard(() =>
    {
        using var cmd = _conn.CreateCommand();
        cmd.CommandText = "SELECT value FROM meta WHERE key = $k";
        cmd.Parameters.AddWithValue("$k", key);
        return cmd.ExecuteScalar() as string;
    });

    /// <summary>Bytes on disk: the database file plus its write-ahead log.</summary>
    public long FileBytes => FileSize(Path) + FileSize(Path + "-wal");

    /// <summary>Bytes of pages in use (excluding the free list).</summary>
    public long UsedBytes => Guard(() => (StoreSchema.Scalar(_conn, "PRAGMA page_count") - StoreSchema.Scalar(_conn, "PRAGMA freelist_count"))
                                         * StoreSchema.Scalar(_conn, "PRAGMA page_size"));

    private static long FileSize(string p)
    {
        try { return new FileInfo(p).Exists ? new FileInfo(p).Length : 0; }
        catch (IOException) { return 0; }
    }

    public long SampleCount => Guard(() => StoreSchema.Scalar(_conn, "SELECT COUNT(*) FROM samples"));

    // ---------------------------------------------------------------- writing

    private void LoadKeys()
    {
        using var cmd = _conn.CreateCommand();
        cmd.CommandText = "SELECT id, source, name FROM counter_keys";
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            var k = (r.GetString(1), r.GetString(2));
            _keyIds[k] = r.GetInt64(0);
            _keyNames[r.GetInt64(0)] = k;
        }
    }

    private long KeyId(string source, string name, SqliteTransaction tx)
    {
        if (_keyIds.TryGetValue((source, name), out long id)) return id;
        _insertKey ??= _conn.CreateCommand();
        _insertKey.CommandText = "INSERT INTO counter_keys(source, name) VALUES ($s, $n) RETURNING id";
        _insertKey.Parameters.Clear();
        _insertKey.Parameters.AddWithValue("$s", source);
        _insertKey.Parameters.AddWithValue("$n", name);
        _insertKey.Transaction = tx;
        id = (long)_insertKey.ExecuteScalar()!;
        _keyIds[(source, name)] = id;
        _keyNames[id] = (source, name);
        return id;
    }

    private byte[] EncodeCounters(string source, IEnumerable<KeyValuePair<string, ulong>> entries, SqliteTransaction tx)
    {
        var o = new List<byte>(1024);
        foreach (var kv in entries)
        {
            CounterBlob.WriteVarint(o, (ulong)KeyId(source, kv.Key, tx));
            CounterBlob.WriteVarint(o, kv.Value);
        }
        return o.ToArray();
    }

    private List<KeyValuePair<string, ulong>> DecodeCounters(byte[] blob)
    {
        var list = new List<KeyValuePair<string, ulong>>(blob.Length / 3);
        int pos = 0;
        while (pos < blob.Length)
        {
            long id = (long)CounterBlob.ReadVarint(blob, ref pos);
            ulong v = CounterBlob.ReadVarint(blob, ref pos);
            if (!_keyNames.TryGetValue(id, out var k)) throw new FormatException($"unknown counter key id {id}");
            list.Add(new(k.Name, v));
        }
        return list;
    }

    private static byte[] EncodeCpu(ProcStat stat)
    {
        var o = new List<byte>(64 + stat.PerCpu.Count * 40);
        CounterBlob.WriteVarint(o, (ulong)(stat.PerCpu.Count + 1));
        foreach (CpuTicks t in stat.PerCpu.Prepend(stat.Cpu))
        {
            CounterBlob.WriteVarint(o, t.User);
            CounterBlob.WriteVarint(o, t.Nice);
            CounterBlob.WriteVarint(o, t.System);
            CounterBlob.WriteVarint(o, t.Idle);
            CounterBlob.WriteNullable(o, t.IoWait);
            CounterBlob.WriteNullable(o, t.Irq);
            CounterBlob.WriteNullable(o, t.SoftIrq);
            CounterBlob.WriteNullable(o, t.Steal);
            CounterBlob.WriteNullable(o, t.Guest);
            CounterBlob.WriteNullable(o, t.GuestNice);
        }
        return o.ToArray();
    }

    private static List<CpuTicks> DecodeCpu(byte[] blob)
    {
        int pos = 0;
        ulong n = CounterBlob.ReadVarint(blob, ref pos);
        // one CPU takes at least ten bytes: a damaged count is damage, not a list of billions
        if (n > (ulong)(blob.Length - pos)) throw new FormatException($"cpu count {n} exceeds the {blob.Length - pos} bytes left");
        var list = new List<CpuTicks>((int)n);
        for (int i = 0; i < (int)n; i++)
        {
            list.Add(new CpuTicks(
                CounterBlob.ReadVarint(blob, ref pos), CounterBlob.ReadVarint(blob, ref pos),
                CounterBlob.ReadVarint(blob, ref pos), CounterBlob.ReadVarint(blob, ref pos),
                CounterBlob.ReadNullable(blob, ref pos), CounterBlob.ReadNullable(blob, ref pos),
                CounterBlob.ReadNullable(blob, ref pos), CounterBlob.ReadNullable(blob, ref pos),
                CounterBlob.ReadNullable(blob, ref pos), CounterBlob.ReadNullable(blob, ref pos)));
        }
        return list;
    }

    private static readonly string[] SampleColumns =
    [
        "time_ms", "mono_s", "uptime_s", "page_size", "clk_tck", "has_processes", "top_n", "processes_gone", "processes_denied",
        "meminfo", "vmstat", "cpu", "intr", "ctxt", "btime", "forks", "procs_running", "procs_blocked",
        "psi_some_avg10", "psi_some_avg60", "psi_some_avg300", "psi_some_total",
        "psi_full_avg10", "psi_full_avg60", "psi_full_avg300", "psi_full_total",
    ];

    private static readonly string[] ProcessColumns =
    [
        "sample_id", "ident_id", "ppid", "state", "threads", "virt", "rss", "shared", "rss_anon", "rss_file", "rss_shmem",
        "swap", "data", "stack", "pte", "locked", "hugetlb", "pss", "uss", "swap_pss", "anon_huge", "smaps_denied",
        "minflt", "majflt", "cpu_ticks", "oom_score", "oom_score_adj",
    ];

    private static SqliteCommand Prepared(SqliteConnection conn, string table, string[] columns, string suffix = "")
    {
        var cmd = conn.CreateCommand();
        cmd.CommandText = $"INSERT INTO {table}({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select(c => "$" + c))}){suffix}";
        foreach (string c in columns) cmd.Parameters.Add(new SqliteParameter("$" + c, null));
        return cmd;
    }

    private static object Db(ulong? v) => v is ulong x ? (x > long.MaxValue ? long.MaxValue : (long)x) : DBNull.Value;
    private static object Db(long? v) => v is long x ? x : DBNull.Value;
    private static object Db(double? v) => v is double x && !double.IsNaN(x) ? x : DBNull.Value;

    /// <summary>
    /// Appends one snapshot in one transaction and returns its sample id. <paramref name="topN"/> records how many
    /// processes got smaps_rollup (so replay can tell "not read" from "unknown").
    /// </summary>
    public long Append(Snapshot s, int? topN = null, SampleExtras? extras = null) => Guard(() =>
    {
        if (!Writable) throw new InvalidOperationException("opened for reading");
        try { return AppendInTransaction(s, topN, extras); }
        catch
        {
            ForgetUncommitted(); // the transaction has been rolled back (disposed) by now
            throw;
        }
    });

    /// <summary>
    /// After a failed append (disk full, a busy lock, a reader callback throwing): the ids and "last stored" blobs
    /// cached while writing may name rows of the rolled-back transaction. Kept, a later append would reference a key,
    /// cgroup or identity row that does not exist (its samples then drop out of every replay's join, or decode as
    /// damage), or skip storing sysctls/shared memory as "unchanged". Forget them; they are re-read from the file.
    /// </summary>
    private void ForgetUncommitted()
    {
        _identIds.Clear();
        _cgroupIds.Clear();
        _lastSysctlBlob = null;
        _sysctlRows = null;
        _lastShmBlob = null;
        _keyIds.Clear();
        _keyNames.Clear();
        try { LoadKeys(); }
        catch (SqliteException) { } // the file is unusable anyway; the next call reports it
    }

    private long AppendInTransaction(Snapshot s, int? topN, SampleExtras? extras)
    {
        using var tx = _conn.BeginTransaction();
        _insertSample ??= Prepared(_conn, "samples", [.. SampleColumns, .. SampleColumnsV2], " RETURNING id");
        var p = _insertSample.Parameters;
        _insertSample.Transaction = tx;
        p["$time_ms"].Value = s.Time.ToUnixTimeMilliseconds();
        p["$mono_s"].Value = Db(s.MonotonicSeconds);
        p["$uptime_s"].Value = Db(s.System.UptimeSeconds);
        p["$page_size"].Value = s.PageSize;
        p["$clk_tck"].Value = s.ClockTicksPerSecond;
        p["$has_processes"].Value = s.Processes.Count > 0 ? 1 : 0;
        p["$top_n"].Value = Db((long?)topN);
        p["$processes_gone"].Value = s.ProcessesGone;
        p["$processes_denied"].Value = s.ProcessesDenied;
        p["$meminfo"].Value = EncodeCounters("meminfo", s.System.Meminfo.Entries, tx);
        p["$vmstat"].Value = s.System.Vmstat is { } vm ? EncodeCounters("vmstat", vm.Entries, tx) : DBNull.Value;
        ProcStat? st = s.System.Stat;
        p["$cpu"].Value = st is not null ? EncodeCpu(st) : DBNull.Value;
        p["$intr"].Value = Db(st?.InterruptsTotal);
        p["$ctxt"].Value = Db(st?.ContextSwitches);
        p["$btime"].Value = Db(st?.BootTimeUnixSeconds);
        p["$forks"].Value = Db(st?.ProcessesCreated);
        p["$procs_running"].Value = Db(st?.ProcsRunning);
        p["$procs_blocked"].Value = Db(st?.ProcsBlocked);
        PressureLine? some = s.System.MemoryPressure?.Some, full = s.System.MemoryPressure?.Full;
        p["$psi_some_avg10"].Value = Db(some?.Avg10);
        p["$psi_some_avg60"].Value = Db(some?.Avg60);
        p["$psi_some_avg300"].Value = Db(some?.Avg300);
        p["$psi_some_total"].Value = Db(some?.TotalMicroseconds);
        p["$psi_full_avg10"].Value = Db(full?.Avg10);
        p["$psi_full_avg60"].Value = Db(full?.Avg60);
        p["$psi_full_avg300"].Value = Db(full?.Avg300);
        p["$psi_full_total"].Value = Db(full?.TotalMicroseconds);
        BindSystemV2(p, s.System, tx);
        long sampleId = (long)_insertSample.ExecuteScalar()!;
        if (s.System.SysVm is { } sysvm) AppendSysctlsIfChanged(sampleId, s.Time, sysvm, tx);
        if (s.System.MemoryCgroups is { } cgroups) AppendCgroups(sampleId, cgroups, tx);
        if (extras is not null) AppendExtras(sampleId, s.Time, extras, tx);

        _cgroupOf = extras?.CgroupOf;
        try { InsertProcessRows(sampleId, s.Processes, tx); }
        finally { _cgroupOf = null; }
        tx.Commit();
        _oldestCached ??= s.Time;
        return sampleId;
    }

    private long IdentId(ProcessSnapshot ps, SqliteTransaction tx)
    {
        var key = (ps.Pid, ps.StartTimeTicks, ps.Comm, ps.CommandLine, ps.Uid);
        if (_identIds.TryGetValue(key, out long id)) return id;
        if (_insertIdent is null)
        {
            _insertIdent = _conn.CreateCommand();
            _insertIdent.CommandText = "INSERT OR IGNORE INTO process_identities(pid, start_ticks, comm, cmdline, uid, kthread, cgroup_id) VALUES ($pid, $start, $comm, $cmd, $uid, $k, $cg)";
            _selectIdent = _conn.CreateCommand();
            _selectIdent.CommandText = "SELECT id FROM process_identities WHERE pid = $pid AND start_ticks = $start AND comm = $comm AND cmdline = $cmd AND uid IS $uid";
        }
        id = InsertOrSelectId(_insertIdent, _selectIdent!, tx, (parameters, inserting) =>
        {
            parameters.AddWithValue("$pid", ps.Pid);
            parameters.AddWithValue("$start", Db(ps.StartTimeTicks));
            parameters.AddWithValue("$comm", ps.Comm);
            parameters.AddWithValue("$cmd", ps.CommandLine);
            parameters.AddWithValue("$uid", ps.Uid is uint u ? (long)u : DBNull.Value);
            if (!inserting) return;
            parameters.AddWithValue("$k", ps.IsKernelThread ? 1 : 0);
            // The memory cgroup is read once, with the identity: moving a running process to another cgroup is rare
            // (systemd and container runtimes place it at start), so a later move is not seen; exec makes a new identity.
            parameters.AddWithValue("$cg", IdentityCgroupId(ps, tx) is long cg ? cg : DBNull.Value);
        });
        if (_identIds.Count > 100_000) _identIds.Clear();
        _identIds[key] = id;
        return id;
    }

    /// <summary>
    /// The id of a row named by its natural key (process identity, cgroup): insert it when new (INSERT OR IGNORE), then
    /// read its id. <paramref name="bind"/> adds the key's parameters to each command (true for the insert, which may
    /// carry more columns than the key).
    /// </summary>
    private static long InsertOrSelectId(SqliteCommand insert, SqliteCommand select, SqliteTransaction tx, Action<SqliteParameterCollection, bool> bind)
    {
        foreach (SqliteCommand cmd in new[] { insert, select })
        {
            cmd.Transaction = tx;
            cmd.Parameters.Clear();
            bind(cmd.Parameters, cmd == insert);
        }
        insert.ExecuteNonQuery();
        return (long)select.ExecuteScalar()!;
    }

    // ---------------------------------------------------------------- retention

    /// <summary>What a retention pass removed.</summary>
    public readonly record struct RetentionResult(int SamplesDeleted, long BytesBefore, long BytesAfter);

    /// <summary>
    /// Deletes samples older than the policy's age and, when the files outgrow its size, the oldest ~10% of the
    /// recording (then gives the pages back: incremental vacuum and a truncating checkpoint). Cheap when nothing is due.
    /// </summary>
    public RetentionResult EnforceRetention(RetentionPolicy policy, DateTimeOffset now) => Guard(() =>
    {
        long before = FileBytes;
        int deleted = 0;
        if (policy.MaxAge is TimeSpan age)
        {
            DateTimeOffset cutoff = now - age;
            _oldestCached ??= OldestTime();
            if (_oldestCached is DateTimeOffset oldest && oldest < cutoff)
            {
                deleted += DeleteWhere("time_ms < $t", cutoff.ToUnixTimeMilliseconds());
                _oldestCached = OldestTime();
            }
        }
        // Start early (85% of the cap) and work in small steps, each followed by a truncating checkpoint: deleting and
        // vacuuming write pages to the WAL, and one big step would push the files past the cap while it runs.
        if (policy.MaxBytes is long max && before > max * 85 / 100)
        {
            long pageSize = StoreSchema.Scalar(_conn, "PRAGMA page_size");
            long walBudget = WalBudgetPages(max, pageSize) * pageSize;
            long target = Math.Max(0, max * 7 / 10 - walBudget);
            Exec(_conn, "PRAGMA wal_checkpoint(TRUNCATE)");
            while (SampleCount is long count && count > 1 && UsedBytes > target)
            {
                long n = Math.Clamp(count / 20, 1, count - 1);
                long cutId = StoreSchema.Scalar(_conn, $"SELECT id FROM samples ORDER BY id LIMIT 1 OFFSET {n - 1}");
                deleted += DeleteWhere("id <= $t", cutId);
                Exec(_conn, "PRAGMA wal_checkpoint(TRUNCATE)");
            }
            _oldestCached = OldestTime();
            CollectIdentities(force: true);
            Exec(_conn, "PRAGMA wal_checkpoint(TRUNCATE)");
            for (long free = StoreSchema.Scalar(_conn, "PRAGMA freelist_count"), was = long.MaxValue; free > 0 && free < was;
                 was = free, free = StoreSchema.Scalar(_conn, "PRAGMA freelist_count"))
            {
                Exec(_conn, "PRAGMA incremental_vacuum(8)");
                Exec(_conn, "PRAGMA wal_checkpoint(TRUNCATE)");
            }
        }
        else if (deleted > 0)
        {
            CollectIdentities(force: false);
        }
        return new RetentionResult(deleted, before, FileBytes);
    });

    /// <summary>Sets the WAL checkpoint size for a size cap: at most a tenth of it, at most 1000 pages (SQLite's default).</summary>
    public void ConfigureFor(RetentionPolicy policy) => Guard(() =>
    {
        long pageSize = StoreSchema.Scalar(_conn, "PRAGMA page_size");
        long pages = policy.MaxBytes is long max ? WalBudgetPages(max, pageSize) : 1000;
        Exec(_conn, $"PRAGMA wal_autocheckpoint = {pages}");
        Exec(_conn, $"PRAGMA journal_size_limit = {pages * pageSize}");
        return 0;
    });

    private static long WalBudgetPages(long max, long pageSize) => Math.Clamp(max / 10 / pageSize, 4, 1000);

    private int DeleteWhere(string condition, long value)
    {
        using var tx = _conn.BeginTransaction();
        using var cmd = _conn.CreateCommand();
        cmd.Transaction = tx;
        cmd.Parameters.AddWithValue("$t", value);
        cmd.CommandText = $"DELETE FROM process_samples WHERE sample_id IN (SELECT id FROM samples WHERE {condition})";
        cmd.ExecuteNonQuery();
        cmd.CommandText = $"DELETE FROM cgroup_samples WHERE sample_id IN (SELECT id FROM samples WHERE {condition})";
        cmd.ExecuteNonQuery();
        if (SchemaVersion >= 4)
        {
            cmd.CommandText = $"DELETE FROM slabinfo WHERE sample_id IN (SELECT id FROM samples WHERE {condition})";
            cmd.ExecuteNonQuery();
        }
        cmd.CommandText = $"DELETE FROM samples WHERE {condition}";
        int n = cmd.ExecuteNonQuery();
        DeleteOrphanedSystemRows(cmd);
        tx.Commit();
        return n;
    }

    /// <summary>Drops identities and cgroup paths no sample refers to any more (full scans: at most every 10 minutes unless forced).</summary>
    private void CollectIdentities(bool force)
    {
        if (!force && DateTime.UtcNow - _lastIdentGc < TimeSpan.FromMinutes(10)) return;
        _lastIdentGc = DateTime.UtcNow;
        Exec(_conn, "DELETE FROM process_identities WHERE id NOT IN (SELECT ident_id FROM process_samples)");
        _identIds.Clear();
        // Cgroup paths too: container hosts create and remove cgroups all day, and the names would outlive the samples.
        if (SchemaVersion >= 4)
        {
            Exec(_conn, "DELETE FROM cgroups WHERE id NOT IN (SELECT cgroup_id FROM cgroup_samples)"
                        + " AND id NOT IN (SELECT cgroup_id FROM process_identities WHERE cgroup_id IS NOT NULL)");
            _cgroupIds.Clear();
        }
    }

    private DateTimeOffset? OldestTime()
    {
        using var cmd = _conn.CreateCommand();
        cmd.CommandText = "SELECT MIN(time_ms) FROM samples";
        return cmd.ExecuteScalar() is long ms ? DateTimeOffset.FromUnixTimeMilliseconds(ms) : null;
    }

    // ---------------------------------------------------------------- reading

    /// <summary>Samples with from ≤ time ≤ to (either bound optional), oldest first.</summary>
    public List<SampleInfo> ListSamples(DateTimeOffset? from = null, DateTimeOffset? to = null) => Guard(() =>
    {
        using var cmd = _conn.CreateCommand();
        cmd.CommandText = "SELECT id, time_ms FROM samples WHERE time_ms >= $a AND time_ms <= $b ORDER BY time_ms, id";
        cmd.Parameters.AddWithValue("$a", from?.ToUnixTimeMilliseconds() ?? long.MinValue);
        cmd.Parameters.AddWithValue("$b", to?.ToUnixTimeMilliseconds() ?? long.MaxValue);
        using var r = cmd.ExecuteReader();
        var list = new List<SampleInfo>();
        while (r.Read()) list.Add(new SampleInfo(r.GetInt64(0), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1))));
        return list;
    });

    /// <summary>The latest sample at or before <paramref name="time"/>, or null.</summary>
    public SampleInfo? AtOrBefore(DateTimeOffset time) => Nearest("time_ms <= $t ORDER BY time_ms DESC, id DESC", time);

    /// <summary>The earliest sample at or after <paramref name="time"/>, or null.</summary>
    public SampleInfo? AtOrAfter(DateTimeOffset time) => Nearest("time_ms >= $t ORDER BY time_ms, id", time);

    /// <summary>The sample just before the given one (for rates), or null.</summary>
    public SampleInfo? Previous(SampleInfo s) => Guard(() =>
    {
        using var cmd = _conn.CreateCommand();
        cmd.CommandText = "SELECT id, time_ms FROM samples WHERE (time_ms < $t OR (time_ms = $t AND id < $id)) ORDER BY time_ms DESC, id DESC LIMIT 1";
        cmd.Parameters.AddWithValue("$t", s.Time.ToUnixTimeMilliseconds());
        cmd.Parameters.AddWithValue("$id", s.Id);
        using var r = cmd.ExecuteReader();
        return r.Read() ? new SampleInfo(r.GetInt64(0), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1))) : (SampleInfo?)null;
    });

    /// <summary>First and last sample, or null when the recording is empty.</summary>
    public (SampleInfo First, SampleInfo Last, long Count)? Extent() => Guard(() =>
    {
        SampleInfo? first = Nearest("1 ORDER BY time_ms, id", DateTimeOffset.UnixEpoch);
        SampleInfo? last = Nearest("1 ORDER BY time_ms DESC, id DESC", DateTimeOffset.UnixEpoch);
        return first is { } f && last is { } l ? (f, l, SampleCount) : ((SampleInfo, SampleInfo, long)?)null;
    });

    private SampleInfo? Nearest(string where, DateTimeOffset time) => Guard(() =>
    {
        using var cmd = _conn.CreateCommand();
        cmd.CommandText = $"SELECT id, time_ms FROM samples WHERE {where} LIMIT 1";
        cmd.Parameters.AddWithValue("$t", time.ToUnixTimeMilliseconds());
        using var r = cmd.ExecuteReader();
        return r.Read() ? new SampleInfo(r.GetInt64(0), DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(1))) : (SampleInfo?)null;
    });

    /// <summary>Rebuilds the recorded snapshot; with <paramref name="processes"/> false the process list is left empty (cheaper).</summary>
    public Snapshot Read(long sampleId, bool processes = true) => Guard(() =>
    {
        using var cmd = _conn.CreateCommand();
        cmd.CommandText = $"SELECT {ReadColumns} FROM samples WHERE id = $id";
        cmd.Parameters.AddWithValue("$id", sampleId);
        Snapshot snap;
        using (var r = cmd.ExecuteReader())
        {
            if (!r.Read()) throw new StoreException(StoreError.NotFound, $"{Path}: no sample {sampleId}");
            snap = ReadSampleRow(r);
        }
        snap = WithCgroups(snap, sampleId);
        return processes ? snap with { Processes = ReadProcesses(sampleId) } : snap;
    });

    /// <summary>All samples in a window, oldest first, without processes (for series, reports and plots).</summary>
    public List<Snapshot> ReadSystemRange(DateTimeOffset? from, DateTimeOffset? to) => Guard(() =>
    {
        using var cmd = _conn.CreateCommand();
        cmd.CommandText = $"SELECT {ReadColumns} FROM samples WHERE time_ms >= $a AND time_ms <= $b ORDER BY time_ms, id";
        cmd.Parameters.AddWithValue("$a", from?.ToUnixTimeMilliseconds() ?? long.MinValue);
        cmd.Parameters.AddWithValue("$b", to?.ToUnixTimeMilliseconds() ?? long.MaxValue);
        using var r = cmd.ExecuteReader();
        var list = new List<Snapshot>();
        while (r.Read()) list.Add(ReadSampleRow(r));
        return list;
    });

    private Snapshot ReadSampleRow(SqliteDataReader r)
    {
        double? D(int i) => r.IsDBNull(i) ? null : r.GetDouble(i);
        ulong? U(int i) => r.IsDBNull(i) ? null : (ulong)r.GetInt64(i);
        var meminfo = Meminfo.FromEntries(DecodeCounters((byte[])r[9]));
        Vmstat? vmstat = r.IsDBNull(10) ? null : Vmstat.FromEntries(DecodeCounters((byte[])r[10]));
        ProcStat? stat = null;
        if (!r.IsDBNull(11))
        {
            List<CpuTicks> cpus = DecodeCpu((byte[])r[11]);
            if (cpus.Count == 0) throw new FormatException("empty cpu blob");
            stat = new ProcStat(cpus[0], cpus.Skip(1).ToList(), U(12), U(13), U(14), U(15), U(16), U(17));
        }
        PressureLine? some = r.IsDBNull(21) ? null : new PressureLine(D(18) ?? double.NaN, D(19) ?? double.NaN, D(20) ?? double.NaN, U(21)!.Value);
        PressureLine? full = r.IsDBNull(25) ? null : new PressureLine(D(22) ?? double.NaN, D(23) ?? double.NaN, D(24) ?? double.NaN, U(25)!.Value);
        var system = new SystemSnapshot
        {
            Meminfo = meminfo,
            Vmstat = vmstat,
            Stat = stat,
            MemoryPressure = some is null && full is null ? null : new Pressure(some, full),
            UptimeSeconds = D(2),
        };
        return new Snapshot
        {
            Time = DateTimeOffset.FromUnixTimeMilliseconds(r.GetInt64(0)),
            MonotonicSeconds = D(1),
            PageSize = r.GetInt32(3),
            ClockTicksPerSecond = r.GetInt32(4),
            ProcessesGone = r.GetInt32(7),
            ProcessesDenied = r.GetInt32(8),
            System = ReadSystemV2(r, system),
        };
    }

    private List<ProcessSnapshot> ReadProcesses(long sampleId)
    {
        using var cmd = _conn.CreateCommand();
        cmd.CommandText = $"""
            SELECT i.pid, i.start_ticks, i.comm, i.cmdline, i.uid, i.kthread, {string.Join(", ", ProcessColumns.Skip(2).Select(c => "p." + c))},
                   {(SchemaVersion >= 4 ? "c.path" : "NULL")}
            FROM process_samples p JOIN process_identities i ON i.id = p.ident_id
            {(SchemaVersion >= 4 ? "LEFT JOIN cgroups c ON c.id = i.cgroup_id" : "")}
            WHERE p.sample_id = $id ORDER BY i.pid
            """;
        cmd.Parameters.AddWithValue("$id", sampleId);
        using var r = cmd.ExecuteReader();
        var list = new List<ProcessSnapshot>();
        while (r.Read()) list.Add(ReadProcessRow(r));
        return list;
    }

    private static ProcessSnapshot ReadProcessRow(SqliteDataReader r)
    {
        ulong? U(int i) => r.IsDBNull(i) ? null : (ulong)r.GetInt64(i);
        long? L(int i) => r.IsDBNull(i) ? null : r.GetInt64(i);
        const int b = 6; // first process_samples column after the identity
        return new ProcessSnapshot
        {
            Pid = r.GetInt32(0),
            StartTimeTicks = (ulong)r.GetInt64(1),
            Comm = r.GetString(2),
            CommandLine = r.GetString(3),
            Uid = r.IsDBNull(4) ? null : (uint)r.GetInt64(4),
            IsKernelThread = r.GetInt64(5) != 0,
            PPid = (int)(L(b) ?? 0),
            State = (char)(L(b + 1) ?? '?'),
            Threads = (int)(L(b + 2) ?? 0),
            VirtBytes = U(b + 3) ?? 0,
            RssBytes = U(b + 4) ?? 0,
            SharedBytes = U(b + 5) ?? 0,
            RssAnonBytes = U(b + 6),
            RssFileBytes = U(b + 7),
            RssShmemBytes = U(b + 8),
            SwapBytes = U(b + 9),
            DataBytes = U(b + 10),
            StackBytes = U(b + 11),
            PageTableBytes = U(b + 12),
            LockedBytes = U(b + 13),
            HugetlbBytes = U(b + 14),
            PssBytes = U(b + 15),
            UssBytes = U(b + 16),
            SwapPssBytes = U(b + 17),
            AnonHugePagesBytes = U(b + 18),
            SmapsDenied = L(b + 19) == 1,
            MinorFaults = U(b + 20) ?? 0,
            MajorFaults = U(b + 21) ?? 0,
            CpuTicks = U(b + 22) ?? 0,
            OomScore = L(b + 23),
            OomScoreAdj = L(b + 24),
            MemoryCgroup = r.IsDBNull(b + 25) ? null : r.GetString(b + 25),
        };
    }

    /// <summary>How many processes (largest RSS first) got smaps_rollup in this sample; null when not recorded.</summary>
    public int? RecordedTopN(long sampleId) => Guard(() =>
    {
        using var cmd = _conn.CreateCommand();
        cmd.CommandText = "SELECT top_n FROM samples WHERE id = $id";
        cmd.Parameters.AddWithValue("$id", sampleId);
        return cmd.ExecuteScalar() is long n ? (int?)n : null;
    });

    /// <summary>One process's RSS/PSS/swap at one sample: the rows reports aggregate without rebuilding whole snapshots.</summary>
    public readonly record struct ProcessPoint(long SampleId, long IdentId, int Pid, string Comm, string CommandLine, ulong Rss, ulong? Pss, ulong? Swap);

    /// <summary>Every process row between two sample ids (inclusive), ordered by sample.</summary>
    public List<ProcessPoint> ReadProcessPoints(long fromSample, long toSample) => Guard(() =>
    {
        using var cmd = _conn.CreateCommand();
        cmd.CommandText = """
            SELECT p.sample_id, p.ident_id, i.pid, i.comm, i.cmdline, p.rss, p.pss, p.swap
            FROM process_samples p JOIN process_identities i ON i.id = p.ident_id
            WHERE p.sample_id >= $a AND p.sample_id <= $b ORDER BY p.sample_id
            """;
        cmd.Parameters.AddWithValue("$a", fromSample);
        cmd.Parameters.AddWithValue("$b", toSample);
        using var r = cmd.ExecuteReader();
        var list = new List<ProcessPoint>();
        while (r.Read())
            list.Add(new ProcessPoint(r.GetInt64(0), r.GetInt64(1), r.GetInt32(2), r.GetString(3), r.GetString(4),
                r.IsDBNull(5) ? 0 : (ulong)r.GetInt64(5), r.IsDBNull(6) ? null : (ulong)r.GetInt64(6), r.IsDBNull(7) ? null : (ulong)r.GetInt64(7)));
        return list;
    });

    private static void Exec(SqliteConnection conn, string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        using var r = cmd.ExecuteReader();
        while (r.Read()) { }
    }

    private static string Text(SqliteConnection conn, string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToString(cmd.ExecuteScalar(), CultureInfo.InvariantCulture) ?? "";
    }
}
