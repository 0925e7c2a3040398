using Microsoft.Data.Sqlite;

namespace MemScope.Store;

/// <summary>
/// The recording's schema and its migrations. A MemScope recording is recognised by
/// <c>PRAGMA application_id</c> = <see cref="ApplicationId"/> and a <c>schema_version</c> table; anything else is
/// refused rather than written into. Migrations run in order inside one transaction when a writer opens an older file.
/// </summary>
public static class StoreSchema
{
    /// <summary>"MSCP" as a big-endian int: marks the SQLite file as a MemScope recording (see `file(1)` magic).</summary>
    public const int ApplicationId = 0x4D534350;

    /// <summary>The schema this build writes; it reads every version up to this one.</summary>
    public const int CurrentVersion = 4;

    /// <summary>Migration i brings the schema from version i to i+1 (index 0 creates version 1).</summary>
    internal static readonly string[] Migrations =
    [
        """
        CREATE TABLE schema_version(version INTEGER NOT NULL);
        CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE counter_keys(id INTEGER PRIMARY KEY, source TEXT NOT NULL, name TEXT NOT NULL, UNIQUE(source, name));
        CREATE TABLE samples(
            id INTEGER PRIMARY KEY,
            time_ms INTEGER NOT NULL,
            mono_s REAL,
            uptime_s REAL,
            page_size INTEGER NOT NULL,
            clk_tck INTEGER NOT NULL,
            has_processes INTEGER NOT NULL,
            top_n INTEGER,
            processes_gone INTEGER NOT NULL,
            processes_denied INTEGER NOT NULL,
            meminfo BLOB NOT NULL,
            vmstat BLOB,
            cpu BLOB,
            intr INTEGER, ctxt INTEGER, btime INTEGER, forks INTEGER, procs_running INTEGER, procs_blocked INTEGER,
            psi_some_avg10 REAL, psi_some_avg60 REAL, psi_some_avg300 REAL, psi_some_total INTEGER,
            psi_full_avg10 REAL, psi_full_avg60 REAL, psi_full_avg300 REAL, psi_full_total INTEGER);
        CREATE INDEX samples_time ON samples(time_ms);
        CREATE TABLE process_identities(
            id INTEGER PRIMARY KEY,
            pid INTEGER NOT NULL,
            start_ticks INTEGER NOT NULL,
            comm TEXT NOT NULL,
            cmdline TEXT NOT NULL,
            uid INTEGER,
            kthread INTEGER NOT NULL,
            UNIQUE(pid, start_ticks, comm, cmdline, uid));
        CREATE TABLE process_samples(
            sample_id INTEGER NOT NULL,
            ident_id INTEGER NOT NULL,
            ppid INTEGER, state INTEGER, threads INTEGER,
            virt INTEGER, rss INTEGER, shared INTEGER, rss_anon INTEGER, rss_file INTEGER, rss_shmem INTEGER,
            swap INTEGER, data INTEGER, stack INTEGER, pte INTEGER, locked INTEGER, hugetlb INTEGER,
            pss INTEGER, uss INTEGER, swap_pss INTEGER, anon_huge INTEGER, smaps_denied INTEGER,
            minflt INTEGER, majflt INTEGER, cpu_ticks INTEGER, oom_score INTEGER, oom_score_adj INTEGER,
            PRIMARY KEY(sample_id, ident_id)) WITHOUT ROWID;
        INSERT INTO schema_version(version) VALUES (1);
        """,
        // v2: what `swap` and `doctor` need over history. zoneinfo/buddyinfo/swaps are per-sample blobs (null in v1
        // samples and when unreadable); the vm sysctls are stored only when they change, keyed by the first sample
        // they are valid for; OOM kills read from /dev/kmsg are events, deduplicated by (boot, kmsg sequence).
        """
        ALTER TABLE samples ADD COLUMN zoneinfo BLOB;
        ALTER TABLE samples ADD COLUMN buddyinfo BLOB;
        ALTER TABLE samples ADD COLUMN swaps BLOB;
        CREATE TABLE sysctls(first_sample_id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, vm BLOB NOT NULL);
        CREATE TABLE events(
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            time_ms INTEGER,
            boot_id TEXT NOT NULL,
            kmsg_seq INTEGER NOT NULL,
            since_boot_us INTEGER,
            pid INTEGER NOT NULL,
            comm TEXT NOT NULL,
            total_vm INTEGER, anon_rss INTEGER, file_rss INTEGER, shmem_rss INTEGER, pgtables INTEGER, uid INTEGER,
            oom_score_adj INTEGER,
            oom_constraint TEXT, oom_cgroup TEXT, task_cgroup TEXT, invoker TEXT, gfp_mask TEXT, alloc_order INTEGER,
            line TEXT NOT NULL,
            UNIQUE(boot_id, kmsg_seq));
        CREATE INDEX events_time ON events(time_ms);
        """,
        // v3: memory cgroups with the cheap figures (usage, limit, swap, failcnt, events) per sample, for the doctor's
        // cgroup-limit rule and swap's cgroup table. samples.cgroups = how many were read (NULL: not read).
        """
        ALTER TABLE samples ADD COLUMN cgroups INTEGER;
        CREATE TABLE cgroups(id INTEGER PRIMARY KEY, version INTEGER NOT NULL, path TEXT NOT NULL, UNIQUE(version, path));
        CREATE TABLE cgroup_samples(
            sample_id INTEGER NOT NULL,
            cgroup_id INTEGER NOT NULL,
            usage INTEGER, limit_bytes INTEGER, limit_is_max INTEGER NOT NULL,
            swap INTEGER, swap_limit INTEGER, swap_limit_is_max INTEGER NOT NULL,
            failcnt INTEGER, oom_kills INTEGER, events BLOB,
            PRIMARY KEY(sample_id, cgroup_id)) WITHOUT ROWID;
        """,
        // v4: what the slab, shmem and account-gap rules and `swap`/`ps --cgroup` need. slabinfo: the raw per-cache
        // counters of /proc/slabinfo (root only) as a varint blob, one row per reading (the recorder reads it every
        // slab interval, not every sample: the kernel spends ~1 ms producing it). shm: tmpfs/devtmpfs usage (statfs) and
        // the SysV segments (/proc/sysvipc/shm), a row only when they change, valid from its first sample on (like
        // sysctls). process_identities.cgroup_id: the process's memory cgroup, read once with its identity.
        """
        CREATE TABLE slabinfo(sample_id INTEGER PRIMARY KEY, caches BLOB NOT NULL);
        CREATE TABLE shm(first_sample_id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL, extras BLOB NOT NULL);
        ALTER TABLE process_identities ADD COLUMN cgroup_id INTEGER;
        """,
    ];

    /// <summary>
    /// Checks that <paramref name="conn"/> is a MemScope recording, creating the schema in an empty database when
    /// <paramref name="create"/>, migrating an older one when writable. Returns the schema version of the file as it is
    /// now (a reader of an older file gets that older version). Throws <see cref="StoreException"/> otherwise.
    /// </summary>
    internal static int Prepare(SqliteConnection conn, string path, bool create)
    {
        long appId;
        List<string> tables;
        try
        {
            appId = Scalar(conn, "PRAGMA application_id");
            tables = Strings(conn, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
        }
        catch (SqliteException e) when (e.SqliteErrorCode is 26 or 11)
        {
            throw new StoreException(StoreError.Corrupt, $"{path}: not a SQLite database, or a damaged one ({Short(e)})", e);
        }

        if (appId == 0 && tables.Count == 0)
        {
            if (!create) throw new StoreException(StoreError.NotFound, $"{path}: empty database, nothing recorded yet (start with 'memscope record --db {path}')");
            using var setup = conn.CreateCommand();
            // auto_vacuum must be chosen before the first table exists; it lets retention give pages back to the file system.
            setup.CommandText = $"PRAGMA auto_vacuum = INCREMENTAL; PRAGMA application_id = {ApplicationId};";
            setup.ExecuteNonQuery();
            Migrate(conn, 0);
            return CurrentVersion;
        }
        if (appId != ApplicationId)
        {
            string what = tables.Count == 0 ? "no tables" : "tables " + string.Join(", ", tables.Take(6)) + (tables.Count > 6 ? ", ..." : "");
            throw new StoreException(StoreError.NotMemScope,
                $"{path} is not a MemScope recording (SQLite application_id {appId:x}, {what}); refusing to read or write it");
        }
        if (!tables.Contains("schema_version"))
            throw new StoreException(StoreError.Corrupt, $"{path}: MemScope recording without a schema_version table (damaged)");
        long version = Scalar(conn, "SELECT MAX(version) FROM schema_version");
        if (version > CurrentVersion)
            throw new StoreException(StoreError.NewerSchema,
                $"{path} was written by a newer MemScope (schema {version}); this build reads schemas up to {CurrentVersion}");
        if (version < 1)
            throw new StoreException(StoreError.Corrupt, $"{path}: MemScope recording with schema version {version} (damaged)");
        if (version < CurrentVersion)
        {
            // A reader leaves an older file as it is and reads what it holds (the newer sources are null); a writer migrates it.
            if (!create) return (int)version;
            Migrate(conn, (int)version);
        }
        return CurrentVersion;
    }

    private static void Migrate(SqliteConnection conn, int from)
    {
        using var tx = conn.BeginTransaction();
        for (int v = from; v < CurrentVersion; v++)
        {
            using var cmd = conn.CreateCommand();
            cmd.Transaction = tx;
            cmd.CommandText = Migrations[v];
            cmd.ExecuteNonQuery();
            if (v > 0)
            {
                cmd.CommandText = "UPDATE schema_version SET version = $v";
                cmd.Parameters.AddWithValue("$v", v + 1);
                cmd.ExecuteNonQuery();
            }
        }
        tx.Commit();
    }

    internal static long Scalar(SqliteConnection conn, string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        object? o = cmd.ExecuteScalar();
        return o is null or DBNull ? 0 : Convert.ToInt64(o, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static List<string> Strings(SqliteConnection conn, string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        using var r = cmd.ExecuteReader();
        var list = new List<string>();
        while (r.Read()) list.Add(r.GetString(0));
        return list;
    }

    internal static string Short(SqliteException e)
    {
        string m = e.Message;
        int i = m.IndexOf('\'');
        return m.StartsWith("SQLite Error", StringComparison.Ordinal) && i > 0 ? m[(i + 1)..].TrimEnd('.', '\'') : m;
    }
}
