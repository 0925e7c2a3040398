using MemScope.Model;
using MemScope.Procfs;
using MemScope.Store;
using MemScope.Sysfs;
using Microsoft.Data.Sqlite;

namespace MemScope.Tests.Store;

public sealed class HistoryStoreTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "memscope-store-" + Guid.NewGuid().ToString("N"));

    public HistoryStoreTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private string Db(string name = "rec.db") => Path.Combine(_dir, name);

    private static string FixtureProc => Path.Combine(Paths.SharedFixtures, "node_exporter", "proc");

    private static Snapshot FixtureSnapshot()
    {
        // node_exporter's root has meminfo, vmstat, stat and PSI; the processes are made up, with every kind of field (known, null, denied).
        var system = new SnapshotCollector(new ProcFs(FixtureProc), new SysFs(Path.Combine(Paths.SharedFixtures, "node_exporter", "sys")));
        return system.Collect() with { Processes = Processes(), ProcessesGone = 2, ProcessesDenied = 1 };
    }

    internal static List<ProcessSnapshot> Processes() =>
    [
        new ProcessSnapshot
        {
            Pid = 1, PPid = 0, StartTimeTicks = 5, Comm = "systemd", CommandLine = "/sbin/init splash", State = 'S', Uid = 0, Threads = 1,
            VirtBytes = 170_000_000, RssBytes = 12_000_000, SharedBytes = 8_000_000, RssAnonBytes = 4_000_000, RssFileBytes = 8_000_000,
            RssShmemBytes = 0, SwapBytes = 0, DataBytes = 3_000_000, StackBytes = 135_168, PageTableBytes = 90_112, LockedBytes = 0,
            HugetlbBytes = 0, SmapsDenied = true, MinorFaults = 12345, MajorFaults = 67, CpuTicks = 890, OomScore = 0, OomScoreAdj = 0,
        },
        new ProcessSnapshot
        {
            Pid = 4242, PPid = 1, StartTimeTicks = 98_765_432, Comm = "postgres: wal", CommandLine = "postgres: walwriter ", State = 'R', Uid = 999, Threads = 3,
            VirtBytes = 1UL << 40, RssBytes = 300_000_000, SharedBytes = 200_000_000, RssAnonBytes = 100_000_000, RssFileBytes = 150_000_000,
            RssShmemBytes = 50_000_000, SwapBytes = 4096, PssBytes = 123_456_789, UssBytes = 99_999_999, SwapPssBytes = 2048,
            AnonHugePagesBytes = 2_097_152, MinorFaults = ulong.MaxValue / 4, MajorFaults = 0, CpuTicks = 1, OomScore = 666, OomScoreAdj = -1000,
        },
        new ProcessSnapshot { Pid = 77, Comm = "zombie", State = 'Z' },
    ];

    [Fact]
    public void Replay_rebuilds_exactly_the_recorded_snapshot()
    {
        Snapshot s = FixtureSnapshot();
        Assert.NotNull(s.System.Vmstat);
        Assert.NotNull(s.System.Stat);
        Assert.NotNull(s.System.MemoryPressure);
        Assert.NotEmpty(s.Processes);
        long id;
        using (var w = HistoryStore.OpenForWriting(Db())) id = w.Append(s, topN: 3);

        using var r = HistoryStore.OpenForReading(Db());
        Snapshot back = r.Read(id);
        Assert.Equal(s.Time.ToUnixTimeMilliseconds(), back.Time.ToUnixTimeMilliseconds());
        Assert.Equal(s.MonotonicSeconds, back.MonotonicSeconds);
        Assert.Equal(s.System.Meminfo.Entries.ToList(), back.System.Meminfo.Entries.ToList());
        Assert.Equal(s.System.Meminfo.MemAvailable, back.System.Meminfo.MemAvailable);
        Assert.Equal(s.System.Vmstat!.Entries.ToList(), back.System.Vmstat!.Entries.ToList());
        Assert.Equal(s.System.Stat!.Cpu, back.System.Stat!.Cpu);
        Assert.Equal(s.System.Stat.PerCpu, back.System.Stat.PerCpu);
        // Recorded from /proc/stat: cpu ticks, intr total, ctxt, btime, processes, procs_running/blocked (per-IRQ and softirq lines are not stored).
        Assert.Equal((s.System.Stat.InterruptsTotal, s.System.Stat.ContextSwitches, s.System.Stat.BootTimeUnixSeconds, s.System.Stat.ProcessesCreated, s.System.Stat.ProcsRunning, s.System.Stat.ProcsBlocked),
            (back.System.Stat.InterruptsTotal, back.System.Stat.ContextSwitches, back.System.Stat.BootTimeUnixSeconds, back.System.Stat.ProcessesCreated, back.System.Stat.ProcsRunning, back.System.Stat.ProcsBlocked));
        Assert.Equal(s.System.MemoryPressure, back.System.MemoryPressure);
        Assert.Equal(s.System.UptimeSeconds, back.System.UptimeSeconds);
        Assert.Equal(s.Processes.OrderBy(p => p.Pid), back.Processes);
        Assert.Equal(s.ProcessesGone, back.ProcessesGone);
        // Rates work on replayed snapshots like on live ones.
        Rates rates = Rates.Between(back, back with { Time = back.Time.AddSeconds(1), MonotonicSeconds = null });
        Assert.Equal(0, rates.FaultsPerSec);
    }

    [Fact]
    public void Nearest_sample_at_or_before_a_time()
    {
        Snapshot s = FixtureSnapshot();
        var t0 = new DateTimeOffset(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);
        using (var w = HistoryStore.OpenForWriting(Db()))
            for (int i = 0; i < 5; i++) w.Append(s with { Time = t0.AddSeconds(10 * i), MonotonicSeconds = 1000 + 10 * i });
        using var replay = SnapshotReplay.Open(Db());
        Assert.Equal(t0.AddSeconds(20), replay.At(t0.AddSeconds(29)).Time);
        Assert.Equal(t0.AddSeconds(30), replay.At(t0.AddSeconds(30)).Time);
        Assert.Equal(t0.AddSeconds(40), replay.At(t0.AddHours(1)).Time);
        var e = Assert.Throws<StoreException>(() => replay.At(t0.AddSeconds(-1)));
        Assert.Equal(StoreError.NotFound, e.Error);
        Assert.Contains("5 samples", e.Message);
        var pair = replay.PairAt(t0.AddSeconds(25))!.Value;
        Assert.Equal(10, Snapshot.Elapsed(pair.Earlier, pair.Later));
        Assert.Null(replay.PairAt(t0));
        Assert.Equal(3, replay.Range(t0.AddSeconds(10), t0.AddSeconds(30)).Count);
    }

    [Fact]
    public void Foreign_sqlite_database_is_refused_with_a_clear_error()
    {
        using (var c = new SqliteConnection($"Data Source={Db("other.db")};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers(name) VALUES ('x');";
            cmd.ExecuteNonQuery();
        }
        var e = Assert.Throws<StoreException>(() => HistoryStore.OpenForReading(Db("other.db")));
        Assert.Equal(StoreError.NotMemScope, e.Error);
        Assert.Contains("not a MemScope recording", e.Message);
        Assert.Contains("customers", e.Message);
        // ...and never written into either.
        Assert.Equal(StoreError.NotMemScope, Assert.Throws<StoreException>(() => HistoryStore.OpenForWriting(Db("other.db"))).Error);

        CliResult r = CliRun.Run("record", "--db", Db("other.db"), "--count", "1");
        Assert.Equal(65, r.ExitCode);
        Assert.StartsWith("memscope: ", r.Stderr);
        Assert.Contains("not a MemScope recording", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Fact]
    public void A_cap_too_small_for_one_sample_is_said_once_and_the_newest_sample_kept()
    {
        // The empty schema is 20 pages (80 KiB at 4 KiB pages) and one sample adds ~20 more: a 64 KB cap can never be met.
        CliResult r = CliRun.Run("record", "--proc-root", FixtureProc, "--sys-root", Path.Combine(Paths.SharedFixtures, "node_exporter", "sys"),
            "--db", Db(), "--count", "3", "--interval", "100ms", "--max-size", "64KB");
        Assert.Equal(0, r.ExitCode);
        string[] told = r.Stderr.Split('\n').Where(l => l.Contains("cannot hold one sample", StringComparison.Ordinal)).ToArray();
        Assert.Single(told);
        Assert.StartsWith("memscope: --max-size 64KB cannot hold one sample (", told[0]);
        Assert.EndsWith("KiB on disk); only the newest sample is kept", told[0]);
        using var store = HistoryStore.OpenForReading(Db());
        Assert.Equal(1, store.SampleCount);
        Assert.Equal(3, store.ListSamples().Single().Id);
    }

    [Fact]
    public void Hostname_and_kernel_are_the_proc_roots_machine_not_this_one()
    {
        string proc = Path.Combine(_dir, "proc");
        TempTrees.CopyWritable(FixtureProc, proc);
        string sys = Path.Combine(Paths.SharedFixtures, "node_exporter", "sys");
        // node_exporter's capture has no hostname/osrelease: unknown, not this machine's name
        Assert.Equal(0, CliRun.Run("record", "--proc-root", proc, "--sys-root", sys, "--db", Db("a.db"), "--count", "1").ExitCode);
        using (var a = HistoryStore.OpenForReading(Db("a.db")))
        {
            Assert.Null(a.GetMeta("hostname"));
            Assert.Null(a.GetMeta("kernel"));
        }
        File.WriteAllText(Path.Combine(proc, "sys", "kernel", "hostname"), "db-7\n");
        File.WriteAllText(Path.Combine(proc, "sys", "kernel", "osrelease"), "5.15.0-91-generic\n");
        Assert.Equal(0, CliRun.Run("record", "--proc-root", proc, "--sys-root", sys, "--db", Db("b.db"), "--count", "1").ExitCode);
        using var b = HistoryStore.OpenForReading(Db("b.db"));
        Assert.Equal("db-7", b.GetMeta("hostname"));
        Assert.Equal("5.15.0-91-generic", b.GetMeta("kernel"));
    }

    [Fact]
    public void Garbage_file_is_reported_as_damaged()
    {
        File.WriteAllText(Db("junk.db"), new string('x', 10_000));
        var e = Assert.Throws<StoreException>(() => HistoryStore.OpenForReading(Db("junk.db")));
        Assert.Equal(StoreError.Corrupt, e.Error);
        Assert.Contains("not a SQLite database", e.Message);
    }

    [Fact]
    public void Damaged_pages_are_reported_as_damaged()
    {
        Snapshot s = FixtureSnapshot();
        using (var w = HistoryStore.OpenForWriting(Db()))
            for (int i = 0; i < 50; i++) w.Append(s with { Time = s.Time.AddSeconds(i) });
        SqliteConnection.ClearAllPools();
        // Checkpoint everything into the main file, then overwrite a stretch of pages in the middle.
        using (var c = new SqliteConnection($"Data Source={Db()};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode=DELETE;";
            cmd.ExecuteNonQuery();
        }
        byte[] bytes = File.ReadAllBytes(Db());
        Assert.True(bytes.Length > 8 * 4096);
        new Random(1).NextBytes(bytes.AsSpan(2 * 4096, bytes.Length - 3 * 4096));
        File.WriteAllBytes(Db(), bytes);
        var e = Assert.Throws<StoreException>(() =>
        {
            using var r = HistoryStore.OpenForReading(Db());
            foreach (var info in r.ListSamples()) r.Read(info.Id);
        });
        Assert.Equal(StoreError.Corrupt, e.Error);
        Assert.Contains("damaged", e.Message);
    }

    [Fact]
    public void Newer_schema_is_refused()
    {
        using (var w = HistoryStore.OpenForWriting(Db())) { }
        using (var c = new SqliteConnection($"Data Source={Db()};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "UPDATE schema_version SET version = 99";
            cmd.ExecuteNonQuery();
        }
        var e = Assert.Throws<StoreException>(() => HistoryStore.OpenForReading(Db()));
        Assert.Equal(StoreError.NewerSchema, e.Error);
        Assert.Contains("newer MemScope", e.Message);
    }

    [Fact]
    public void Missing_recording_is_not_found()
    {
        var e = Assert.Throws<StoreException>(() => HistoryStore.OpenForReading(Db("none.db")));
        Assert.Equal(StoreError.NotFound, e.Error);
        Assert.False(File.Exists(Db("none.db")));
    }

    [Fact]
    public void Age_retention_deletes_old_samples_only()
    {
        Snapshot s = FixtureSnapshot();
        var t0 = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        using var w = HistoryStore.OpenForWriting(Db());
        for (int i = 0; i < 10; i++) w.Append(s with { Time = t0.AddHours(i) });
        var result = w.EnforceRetention(new RetentionPolicy(TimeSpan.FromHours(3), null), t0.AddHours(9).AddMinutes(30));
        Assert.Equal(7, result.SamplesDeleted); // 00:00..06:00 are older than 06:30
        Assert.Equal(3, w.SampleCount);
        Assert.Equal(t0.AddHours(7), w.Extent()!.Value.First.Time);
        using var r = HistoryStore.OpenForReading(Db());
        Assert.Equal(s.Processes.Count, r.Read(r.ListSamples()[0].Id).Processes.Count);
    }

    [Fact]
    public void Size_cap_holds_within_one_sample_batch()
    {
        Snapshot s = FixtureSnapshot();
        const long max = 256 * 1024;
        var policy = new RetentionPolicy(null, max);
        using var w = HistoryStore.OpenForWriting(Db());
        w.ConfigureFor(policy);
        long maxSeen = 0, maxBatch = 0, trims = 0;
        for (int i = 0; i < 600; i++)
        {
            long before = w.FileBytes;
            // vary the process list so pages really fill
            w.Append(s with { Time = s.Time.AddSeconds(i), Processes = s.Processes.Select(p => p with { RssBytes = (ulong)i * 4096 + p.RssBytes, Pid = p.Pid + i }).ToList() });
            long afterAppend = w.FileBytes;
            maxBatch = Math.Max(maxBatch, afterAppend - before);
            maxSeen = Math.Max(maxSeen, afterAppend);
            var r = w.EnforceRetention(policy, s.Time.AddSeconds(i));
            if (r.SamplesDeleted > 0) trims++;
            Assert.True(r.BytesAfter <= max, $"after retention {r.BytesAfter} > {max}");
        }
        Assert.True(trims >= 2, $"only {trims} trims");
        Assert.True(maxSeen <= max + maxBatch, $"peak {maxSeen} exceeds {max} by more than one batch ({maxBatch})");
        Assert.True(w.SampleCount > 20, $"only {w.SampleCount} samples kept");
        using var c = new SqliteConnection($"Data Source={Db()};Pooling=False;Mode=ReadOnly");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "PRAGMA integrity_check";
        Assert.Equal("ok", cmd.ExecuteScalar());
    }

    [Theory]
    [InlineData("-10m", -600)]
    [InlineData("-1h30m", -5400)]
    [InlineData("now", 0)]
    public void Relative_times(string text, int seconds)
    {
        var now = new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
        Assert.True(TimeSpec.TryParse(text, now, out var t));
        Assert.Equal(now.AddSeconds(seconds), t);
    }

    [Fact]
    public void Absolute_and_time_of_day()
    {
        var now = new DateTimeOffset(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
        Assert.True(TimeSpec.TryParse("2026-11-27T10:15:00Z", now, out var a));
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 10, 15, 0, TimeSpan.Zero), a);
        Assert.True(TimeSpec.TryParse("10:15:30", now, out var b));
        Assert.Equal((10, 15, 30), (b.Hour, b.Minute, b.Second));
        Assert.Equal(now.ToLocalTime().Date, b.Date);
        Assert.True(TimeSpec.TryParse("@1795772511.5", now, out var c));
        Assert.Equal(1795772511500, c.ToUnixTimeMilliseconds());
        Assert.True(TimeSpec.TryParse("1795772511.25", now, out var d));
        Assert.Equal(1795772511250, d.ToUnixTimeMilliseconds());
        Assert.False(TimeSpec.TryParse("yesterday-ish", now, out _));
        Assert.False(TimeSpec.TryParse("25:00", now, out _));
    }

    [Fact]
    public void Record_refuses_a_bad_interval()
    {
        CliResult r = CliRun.Run("record", "--db", Db(), "--interval", "soon");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--interval", r.Stderr);
    }
}
