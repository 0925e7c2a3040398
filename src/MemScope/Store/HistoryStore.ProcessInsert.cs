using MemScope.Model;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace MemScope.Store;

// The per-process insert, the recorder's hot path (one row per process per sample: ~1,000 rows a second on a busy
// host). Microsoft.Data.Sqlite boxes every value and looks each parameter up by name on every execution, which cost
// ~15-20 ms a sample at 1,000 processes; here one statement prepared once on the connection's own handle (so it runs
// inside the open transaction) is bound by index with sqlite3_bind_int64/null, stepped and reset: no allocation per row.
public sealed partial class HistoryStore
{
    private sqlite3_stmt? _processStmt;

    private void InsertProcessRows(long sampleId, IReadOnlyList<ProcessSnapshot> processes, SqliteTransaction tx)
    {
        sqlite3 db = _conn.Handle!;
        if (_processStmt is null)
        {
            // The binds below follow ProcessColumns by position: a column added there must be bound here too.
            if (ProcessColumns.Length != 27)
                throw new InvalidOperationException($"process_samples has {ProcessColumns.Length} columns; InsertProcessRows binds 27");
            string sql = $"INSERT INTO process_samples({string.Join(", ", ProcessColumns)}) VALUES ({string.Join(", ", ProcessColumns.Select((_, i) => "?" + (i + 1)))})";
            int prc = raw.sqlite3_prepare_v2(db, sql, out sqlite3_stmt stmt);
            if (prc != raw.SQLITE_OK)
            {
                stmt.Dispose();
                SqliteException.ThrowExceptionForRC(prc, db);
            }
            _processStmt = stmt;
        }
        sqlite3_stmt st = _processStmt;
        for (int i = 0; i < processes.Count; i++)
        {
            ProcessSnapshot ps = processes[i];
            long identId = IdentId(ps, tx);
            // Same values, same column order (ProcessColumns) and same caps as the named-parameter insert before it.
            raw.sqlite3_bind_int64(st, 1, sampleId);
            raw.sqlite3_bind_int64(st, 2, identId);
            raw.sqlite3_bind_int64(st, 3, ps.PPid);
            raw.sqlite3_bind_int64(st, 4, ps.State);
            raw.sqlite3_bind_int64(st, 5, ps.Threads);
            raw.sqlite3_bind_int64(st, 6, Capped(ps.VirtBytes));
            raw.sqlite3_bind_int64(st, 7, Capped(ps.RssBytes));
            raw.sqlite3_bind_int64(st, 8, Capped(ps.SharedBytes));
            Bind(st, 9, ps.RssAnonBytes);
            Bind(st, 10, ps.RssFileBytes);
            Bind(st, 11, ps.RssShmemBytes);
            Bind(st, 12, ps.SwapBytes);
            Bind(st, 13, ps.DataBytes);
            Bind(st, 14, ps.StackBytes);
            Bind(st, 15, ps.PageTableBytes);
            Bind(st, 16, ps.LockedBytes);
            Bind(st, 17, ps.HugetlbBytes);
            Bind(st, 18, ps.PssBytes);
            Bind(st, 19, ps.UssBytes);
            Bind(st, 20, ps.SwapPssBytes);
            Bind(st, 21, ps.AnonHugePagesBytes);
            raw.sqlite3_bind_int64(st, 22, ps.SmapsDenied ? 1 : 0);
            raw.sqlite3_bind_int64(st, 23, Capped(ps.MinorFaults));
            raw.sqlite3_bind_int64(st, 24, Capped(ps.MajorFaults));
            raw.sqlite3_bind_int64(st, 25, Capped(ps.CpuTicks));
            Bind(st, 26, ps.OomScore);
            Bind(st, 27, ps.OomScoreAdj);
            int rc = raw.sqlite3_step(st);
            raw.sqlite3_reset(st);
            if (rc != raw.SQLITE_DONE) SqliteException.ThrowExceptionForRC(rc, db);
        }
    }

    /// <summary>Counters above long.MaxValue are stored as long.MaxValue (SQLite integers are signed 64-bit), as always.</summary>
    private static long Capped(ulong v) => v > long.MaxValue ? long.MaxValue : (long)v;

    private static void Bind(sqlite3_stmt st, int index, ulong? v)
    {
        if (v is ulong x) raw.sqlite3_bind_int64(st, index, Capped(x));
        else raw.sqlite3_bind_null(st, index);
    }

    private static void Bind(sqlite3_stmt st, int index, long? v)
    {
        if (v is long x) raw.sqlite3_bind_int64(st, index, x);
        else raw.sqlite3_bind_null(st, index);
    }

    private void DisposeProcessStatement()
    {
        _processStmt?.Dispose(); // finalizes; must run before the connection closes
        _processStmt = null;
    }
}
