using MemScope.Procfs;
using MemScope.Store;
using Microsoft.Data.Sqlite;

namespace MemScope.Tests.Store;

/// <summary>Recordings of an older schema, written with that schema's own migration SQL, for the migration tests.</summary>
internal static class LegacyRecording
{
    /// <summary>
    /// A schema-<paramref name="version"/> file: meminfo as varint blobs through counter_keys, one process (pid 4242 "hog",
    /// RSS 100 MB + 4 KiB per sample, swap 8 KiB per sample) and, from schema 3, one memory cgroup (/memscope_t, usage =
    /// the hog's RSS); samples 5 s apart from <paramref name="t0"/>.
    /// </summary>
    public static void Create(string path, Meminfo meminfo, int samples, DateTimeOffset t0, int version)
    {
        using var c = new SqliteConnection($"Data Source={path};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"PRAGMA auto_vacuum = INCREMENTAL; PRAGMA application_id = {StoreSchema.ApplicationId};";
        cmd.ExecuteNonQuery();
        cmd.CommandText = string.Concat(StoreSchema.Migrations.Take(version)) + (version > 1 ? $"UPDATE schema_version SET version = {version};" : "");
        cmd.ExecuteNonQuery();
        var blob = new List<byte>();
        long key = 0;
        foreach (var kv in meminfo.Entries)
        {
            key++;
            cmd.CommandText = "INSERT INTO counter_keys(id, source, name) VALUES ($id, 'meminfo', $n)";
            cmd.Parameters.Clear();
            cmd.Parameters.AddWithValue("$id", key);
            cmd.Parameters.AddWithValue("$n", kv.Key);
            cmd.ExecuteNonQuery();
            CounterBlob.WriteVarint(blob, (ulong)key);
            CounterBlob.WriteVarint(blob, kv.Value);
        }
        cmd.CommandText = "INSERT INTO process_identities(id, pid, start_ticks, comm, cmdline, uid, kthread) VALUES (1, 4242, 777, 'hog', 'hog --big', 0, 0);" +
                          (version >= 3 ? "INSERT INTO cgroups(id, version, path) VALUES (1, 1, '/memscope_t');" : "");
        cmd.Parameters.Clear();
        cmd.ExecuteNonQuery();
        for (int i = 0; i < samples; i++)
        {
            cmd.CommandText = version >= 3
                ? """
                  INSERT INTO samples(id, time_ms, mono_s, page_size, clk_tck, has_processes, processes_gone, processes_denied, meminfo, cgroups)
                  VALUES ($id, $t, $m, 4096, 100, 1, 0, 0, $blob, 1);
                  INSERT INTO cgroup_samples(sample_id, cgroup_id, usage, limit_is_max, swap_limit_is_max) VALUES ($id, 1, $rss, 0, 1);
                  """
                : """
                  INSERT INTO samples(id, time_ms, mono_s, page_size, clk_tck, has_processes, processes_gone, processes_denied, meminfo)
                  VALUES ($id, $t, $m, 4096, 100, 1, 0, 0, $blob);
                  """;
            cmd.CommandText += "INSERT INTO process_samples(sample_id, ident_id, rss, swap) VALUES ($id, 1, $rss, $swap);";
            cmd.Parameters.Clear();
            cmd.Parameters.AddWithValue("$id", i + 1);
            cmd.Parameters.AddWithValue("$t", t0.AddSeconds(5 * i).ToUnixTimeMilliseconds());
            cmd.Parameters.AddWithValue("$m", 1000.0 + 5 * i);
            cmd.Parameters.AddWithValue("$blob", blob.ToArray());
            cmd.Parameters.AddWithValue("$rss", 100_000_000L + i * 4096);
            cmd.Parameters.AddWithValue("$swap", 8192L * i);
            cmd.ExecuteNonQuery();
        }
    }

    /// <summary>The schema version the file says it has (read without MemScope's store).</summary>
    public static long SchemaVersionOf(string path)
    {
        using var c = new SqliteConnection($"Data Source={path};Pooling=False;Mode=ReadOnly");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT MAX(version) FROM schema_version";
        return (long)cmd.ExecuteScalar()!;
    }
}
