using System.Globalization;
using System.Text.Json;
using MemScope.Model;
using MemScope.Procfs;
using MemScope.Store;
using Microsoft.Data.Sqlite;

namespace MemScope.Tests.Store;

/// <summary>
/// vmstat/ps/cache --db: a recording of hand-made snapshots with known counters, replayed through the CLI; every
/// figure checked is computed here by hand from those counters.
/// </summary>
public sealed class ReplayCommandTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "memscope-replay-" + Guid.NewGuid().ToString("N"));
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);
    private const ulong KiB = 1024;

    public ReplayCommandTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private static string Iso(DateTimeOffset t) => t.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
    private static string Local(DateTimeOffset t) => t.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>Sample k (k = 0, 1, 2) at T0 + 5k s; every counter moves by a fixed step per sample.</summary>
    internal static Snapshot Sample(int k)
    {
        ulong u = (ulong)k;
        var meminfo = Meminfo.FromEntries(new Dictionary<string, ulong>
        {
            ["MemTotal"] = 8_000_000 * KiB,
            ["MemFree"] = (4_000_000 - 10_000 * u) * KiB,
            ["MemAvailable"] = 6_000_000 * KiB,
            ["Buffers"] = (100_000 + 1_000 * u) * KiB,
            ["Cached"] = 2_000_000 * KiB,
            ["SwapCached"] = 0,
            ["Active"] = 3_000_000 * KiB,
            ["Inactive"] = 1_500_000 * KiB,
            ["Active(file)"] = 900_000 * KiB,
            ["Inactive(file)"] = 800_000 * KiB,
            ["Unevictable"] = 1_000 * KiB,
            ["Mlocked"] = 1_000 * KiB,
            ["SwapTotal"] = 1_000_000 * KiB,
            ["SwapFree"] = (1_000_000 - 4_000 * u) * KiB,
            ["Dirty"] = 2_000 * KiB,
            ["Writeback"] = 0,
            ["Mapped"] = 300_000 * KiB,
            ["Shmem"] = 200_000 * KiB,
            ["SReclaimable"] = 50_000 * KiB,
            ["SUnreclaim"] = 20_000 * KiB,
        });
        var vmstat = Vmstat.FromEntries(new Dictionary<string, ulong>
        {
            ["pswpin"] = 100 + 250 * u,
            ["pswpout"] = 200 + 500 * u,
            ["pgpgin"] = 1_000 + 5_000 * u,
            ["pgpgout"] = 3_000 + 12_345 * u,
        });
        var cpu = new CpuTicks(User: 1_000 + 400 * u, Nice: 0, System: 500 + 100 * u, Idle: 10_000 + 500 * u, IoWait: 10, Irq: 0, SoftIrq: 0, Steal: 0, Guest: 0, GuestNice: 0);
        var stat = new ProcStat(cpu, [cpu], InterruptsTotal: 50_000 + 5_000 * u, ContextSwitches: 90_000 + 7_500 * u,
            BootTimeUnixSeconds: 1_795_000_000, ProcessesCreated: 4_000 + u, ProcsRunning: 3, ProcsBlocked: 1);
        return new Snapshot
        {
            Time = T0.AddSeconds(5 * k),
            MonotonicSeconds = 1_000 + 5 * k,
            PageSize = 4096,
            System = new SystemSnapshot { Meminfo = meminfo, Vmstat = vmstat, Stat = stat, UptimeSeconds = 100 + 5 * k },
            Processes =
            [
                // recorded with top_n = 2: the two largest by RSS got smaps_rollup (pid 1's was denied), pid 500 did not
                new ProcessSnapshot
                {
                    Pid = 4242, PPid = 1, Comm = "postgres", CommandLine = "postgres: walwriter", State = 'S', Uid = 0, Threads = 3,
                    VirtBytes = 1_000_000_000, RssBytes = 300_000_000 + 4096 * u, SharedBytes = 200_000_000, SwapBytes = 8192,
                    PssBytes = 123_456_789, UssBytes = 99_999_999, SwapPssBytes = 2048, MinorFaults = 10, OomScore = 666,
                },
                new ProcessSnapshot
                {
                    Pid = 1, Comm = "systemd", CommandLine = "/sbin/init", State = 'S', Uid = 0, Threads = 1,
                    VirtBytes = 170_000_000, RssBytes = 12_000_000, SharedBytes = 8_000_000, SwapBytes = 0, SmapsDenied = true,
                },
                new ProcessSnapshot
                {
                    Pid = 500, PPid = 1, Comm = "bash", CommandLine = "-bash", State = 'S', Uid = 0, Threads = 1,
                    VirtBytes = 9_000_000, RssBytes = 5_000_000 + 4096 * u, SharedBytes = 3_000_000, SwapBytes = 0,
                },
            ],
        };
    }

    private string Recording()
    {
        string db = Path.Combine(_dir, "rec.db");
        using var w = HistoryStore.OpenForWriting(db);
        for (int k = 0; k < 3; k++) w.Append(Sample(k), topN: 2);
        return db;
    }

    private static string[] Tokens(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void Vmstat_at_prints_the_rates_between_the_sample_and_the_one_before()
    {
        string db = Recording();
        // 10:00:12 picks the sample at 10:00:10 (k = 2) and rates against 10:00:05 (k = 1), 5 s apart
        CliResult r = CliRun.Run("vmstat", "--db", db, "--at", Iso(T0.AddSeconds(12)));
        Assert.True(r.ExitCode == 0, r.Stderr);
        string[] lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("procs -----------memory----------", lines[0]);
        Assert.Contains("-----timestamp-----", lines[0]);
        // r b swpd free buff cache | si so: 250 and 500 pages of 4 KiB in 5 s | bi bo: (5000+2)/5, (12345+2)/5 |
        // in cs: 5000/5, 7500/5 | us sy id wa st: 400, 100, 500, 0, 0 ticks of 1000
        Assert.Equal(
            ["3", "1", "8000", "3980000", "102000", "2050000", "200", "400", "1000", "2469", "1000", "1500", "40", "10", "50", "0", "0",
             .. Local(T0.AddSeconds(10)).Split(' ')],
            Tokens(lines[2]));

        // -S M -w -a: the same sample in MiB, active/inactive instead of buff/cache, the guest column
        string[] wide = Tokens(CliRun.Run("vmstat", "--db", db, "--at", Iso(T0.AddSeconds(10)), "-w", "-a", "-S", "M").Stdout.Split('\n')[2]);
        Assert.Equal(["3", "1", "7", "3886", "1464", "2929", "0", "0", "1000", "2469", "1000", "1500", "40", "10", "50", "0", "0", "0"], wide[..18]);

        // JSON: bytes per second over the measured interval
        CliResult j = CliRun.Run("vmstat", "--db", db, "--at", Iso(T0.AddSeconds(10)), "--json");
        using var doc = JsonDocument.Parse(j.Stdout);
        JsonElement o = doc.RootElement;
        Assert.False(o.GetProperty("since_boot").GetBoolean());
        Assert.Equal(5.0, o.GetProperty("interval_seconds").GetDouble());
        Assert.Equal(250 * 4096 / 5.0, o.GetProperty("swap_in_bytes_per_sec").GetDouble());
        Assert.Equal(500 * 4096 / 5.0, o.GetProperty("swap_out_bytes_per_sec").GetDouble());
        Assert.Equal(12_345 * 1024 / 5.0, o.GetProperty("block_out_bytes_per_sec").GetDouble());
        Assert.Equal(3_980_000UL * 1024, o.GetProperty("free_bytes").GetUInt64());
        Assert.Equal(T0.AddSeconds(10), o.GetProperty("time").GetDateTimeOffset());

        // -s: the event counters of that sample
        Assert.Contains("         4002 forks", CliRun.Run("vmstat", "--db", db, "--at", Iso(T0.AddSeconds(10)), "-s").Stdout);
    }

    [Fact]
    public void Vmstat_at_the_first_sample_prints_the_since_boot_line()
    {
        string db = Recording();
        CliResult j = CliRun.Run("vmstat", "--db", db, "--at", Iso(T0), "--json");
        Assert.True(j.ExitCode == 0, j.Stderr);
        using var doc = JsonDocument.Parse(j.Stdout);
        Assert.True(doc.RootElement.GetProperty("since_boot").GetBoolean());
        // since boot as procps: 100 pages in 11510 ticks at HZ 100 → 100*4*100/11510 ≈ 3 KiB/s
        string[] t = Tokens(CliRun.Run("vmstat", "--db", db, "--at", Iso(T0)).Stdout.Split('\n')[2]);
        Assert.Equal(["3", "1", "0", "4000000", "100000", "2050000", "3", "7"], t[..8]);
        // -y skips the since-boot line: nothing to print there
        CliResult y = CliRun.Run("vmstat", "--db", db, "--at", Iso(T0), "-y");
        Assert.Equal(3, y.ExitCode);
        Assert.Contains("no earlier sample", y.Stderr);
    }

    [Fact]
    public void Vmstat_from_to_prints_one_line_per_sample_after_the_first()
    {
        string db = Recording();
        CliResult r = CliRun.Run("vmstat", "--db", db, "--from", Iso(T0), "--to", Iso(T0.AddSeconds(10)));
        Assert.True(r.ExitCode == 0, r.Stderr);
        string[] lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length); // two header lines, 3 samples → 2 rows
        Assert.Equal([.. Local(T0.AddSeconds(5)).Split(' ')], Tokens(lines[2])[^2..]);
        Assert.Equal([.. Local(T0.AddSeconds(10)).Split(' ')], Tokens(lines[3])[^2..]);
        Assert.Equal("3990000", Tokens(lines[2])[3]);
        Assert.Equal("3980000", Tokens(lines[3])[3]);
        Assert.Equal("200", Tokens(lines[2])[6]);

        // open-ended: from 10:00:04 → the samples at :05 and :10 → one row
        CliResult open = CliRun.Run("vmstat", "--db", db, "--from", Iso(T0.AddSeconds(4)));
        Assert.Equal(3, open.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        CliResult toOnly = CliRun.Run("vmstat", "--db", db, "--to", Iso(T0.AddSeconds(7)));
        Assert.Equal(3, toOnly.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        // --json: one array
        CliResult j = CliRun.Run("vmstat", "--db", db, "--from", Iso(T0), "--json");
        using var doc = JsonDocument.Parse(j.Stdout);
        Assert.Equal(JsonValueKind.Array, doc.RootElement.ValueKind);
        Assert.Equal(2, doc.RootElement.GetArrayLength());
        Assert.Equal(T0.AddSeconds(5), doc.RootElement[0].GetProperty("time").GetDateTimeOffset());
        Assert.Equal(5_000 * 1024 / 5.0, doc.RootElement[1].GetProperty("block_in_bytes_per_sec").GetDouble());
    }

    [Fact]
    public void Vmstat_series_rates_use_the_recorded_interval()
    {
        // 2.5 s between samples (a recorder at --interval 2.5s): rates divide by 2.5, not by a whole number of seconds
        string db = Path.Combine(_dir, "half.db");
        using (var w = HistoryStore.OpenForWriting(db))
            for (int k = 0; k < 2; k++) w.Append(Sample(k) with { Time = T0.AddSeconds(2.5 * k), MonotonicSeconds = 1_000 + 2.5 * k }, topN: 2);
        string[] t = Tokens(CliRun.Run("vmstat", "--db", db, "--from", Iso(T0)).Stdout.Split('\n')[2]);
        // si = 1000 KiB / 2.5 s = 400; bi = 5000 / 2.5 = 2000; bo = 12345 / 2.5 = 4938; in = 2000; cs = 3000
        Assert.Equal(["400", "800", "2000", "4938", "2000", "3000"], t[6..12]);
    }

    [Fact]
    public void Vmstat_replay_errors_are_one_line_with_the_right_exit_code()
    {
        string db = Recording();
        // a window with no samples names the recorded range
        CliResult empty = CliRun.Run("vmstat", "--db", db, "--from", Iso(T0.AddSeconds(6)), "--to", Iso(T0.AddSeconds(9)));
        Assert.Equal(3, empty.ExitCode);
        Assert.Equal("", empty.Stdout);
        Assert.Single(empty.Stderr.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("memscope: vmstat: no samples from ", empty.Stderr);
        Assert.Contains($"3 samples from {SnapshotReplay.Format(T0)} to {SnapshotReplay.Format(T0.AddSeconds(10))}", empty.Stderr);
        // one sample is not a line either
        CliResult one = CliRun.Run("vmstat", "--db", db, "--from", Iso(T0.AddSeconds(9)));
        Assert.Equal(3, one.ExitCode);
        Assert.Contains("only one sample", one.Stderr);

        CliResult before = CliRun.Run("vmstat", "--db", db, "--at", "2000-01-01T00:00:00Z");
        Assert.Equal(3, before.ExitCode);
        Assert.Contains("no sample at or before", before.Stderr);
        Assert.Contains("3 samples from", before.Stderr);

        CliResult bad = CliRun.Run("vmstat", "--db", db, "--at", "yesterday-ish");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("--at 'yesterday-ish': not a time", bad.Stderr);
        Assert.Equal(2, CliRun.Run("vmstat", "--db", db, "--from", "soon").ExitCode);

        CliResult delay = CliRun.Run("vmstat", "--db", db, "--at", Iso(T0), "1", "5");
        Assert.Equal(2, delay.ExitCode);
        Assert.Contains("delay and count", delay.Stderr);
        Assert.Equal(2, CliRun.Run("vmstat", "--db", db, "--at", Iso(T0), "--from", Iso(T0)).ExitCode);
        Assert.Equal(2, CliRun.Run("vmstat", "--db", db, "--from", Iso(T0.AddSeconds(10)), "--to", Iso(T0)).ExitCode);

        CliResult missing = CliRun.Run("vmstat", "--db", Path.Combine(_dir, "none.db"), "--at", "now");
        Assert.Equal(3, missing.ExitCode);
        Assert.Contains("no recording there", missing.Stderr);
        Assert.False(File.Exists(Path.Combine(_dir, "none.db")));

        string foreign = Path.Combine(_dir, "foreign.db");
        using (var c = new SqliteConnection($"Data Source={foreign};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "CREATE TABLE orders(id INTEGER PRIMARY KEY)";
            cmd.ExecuteNonQuery();
        }
        foreach (string view in new[] { "vmstat", "ps", "cache" })
        {
            CliResult f = CliRun.Run(view, "--db", foreign, "--at", "now");
            Assert.Equal(65, f.ExitCode);
            Assert.Contains("not a MemScope recording", f.Stderr);
            Assert.DoesNotContain("   at ", f.Stderr);
        }
    }

    [Fact]
    public void Ps_at_prints_the_recorded_table_with_unknown_pss_outside_the_top_n()
    {
        string db = Recording();
        CliResult r = CliRun.Run("ps", "--db", db, "--at", Iso(T0.AddSeconds(10)), "-w");
        Assert.True(r.ExitCode == 0, r.Stderr);
        string[] lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["PID", "USER", "VIRT", "RES", "SHR", "SWAP", "PSS", "USS", "%MEM", "MINFLT", "MAJFLT", "OOM", "COMMAND"], Tokens(lines[0]));
        string[] pg = Tokens(lines.Single(l => l.TrimStart().StartsWith("4242 ", StringComparison.Ordinal)));
        Assert.Equal(((300_000_000 + 4096 * 2) / 1024).ToString(CultureInfo.InvariantCulture), pg[3]);
        Assert.Equal((123_456_789 / 1024).ToString(CultureInfo.InvariantCulture), pg[6]);
        string[] bash = Tokens(lines.Single(l => l.TrimStart().StartsWith("500 ", StringComparison.Ordinal)));
        Assert.Equal(((5_000_000 + 4096 * 2) / 1024).ToString(CultureInfo.InvariantCulture), bash[3]);
        Assert.Equal("-", bash[6]); // PSS
        Assert.Equal("-", bash[7]); // USS
        Assert.Equal("0", bash[5]); // SWAP (status) is known: 0
        Assert.Contains("PSS/USS/SWAPPSS were recorded for the top 2 by RSS only", lines[^1]);
        Assert.Contains("1 of those had smaps_rollup denied", lines[^1]);
        Assert.Contains($"recorded at {SnapshotReplay.Format(T0.AddSeconds(10))}", lines[^1]);

        // --sort pss: known first (only 4242), the unknowns last by pid
        CliResult j = CliRun.Run("ps", "--db", db, "--at", Iso(T0.AddSeconds(10)), "--sort", "pss", "--json");
        using var doc = JsonDocument.Parse(j.Stdout);
        var procs = doc.RootElement.GetProperty("processes").EnumerateArray().ToList();
        Assert.Equal([4242, 1, 500], procs.Select(p => p.GetProperty("pid").GetInt32()));
        Assert.Equal(123_456_789UL, procs[0].GetProperty("pss_bytes").GetUInt64());
        Assert.Equal(JsonValueKind.Null, procs[2].GetProperty("pss_bytes").ValueKind);
        Assert.Equal(5_000_000UL + 4096 * 2, procs[2].GetProperty("rss_bytes").GetUInt64());
        Assert.True(procs[1].GetProperty("smaps_denied").GetBoolean());
        Assert.Equal(2, doc.RootElement.GetProperty("pss_recorded_for_top_n").GetInt32());
        Assert.Equal(T0.AddSeconds(10), doc.RootElement.GetProperty("time").GetDateTimeOffset());

        // --pid/--top/--csv on an earlier sample: the RSS recorded then
        CliResult csv = CliRun.Run("ps", "--db", db, "--at", Iso(T0.AddSeconds(5)), "--pid", "500", "--csv", "-o", "pid,rss,pss");
        Assert.Equal(0, csv.ExitCode);
        Assert.Equal("pid,rss_bytes,pss_bytes\n500,5004096,\n", csv.Stdout);
        Assert.Equal("4242", Tokens(CliRun.Run("ps", "--db", db, "--top", "1").Stdout.Split('\n')[1])[0]);

        CliResult gone = CliRun.Run("ps", "--db", db, "--at", Iso(T0), "--pid", "31337");
        Assert.Equal(3, gone.ExitCode);
        Assert.Contains("no process with PID 31337 in the sample recorded at", gone.Stderr);
        Assert.Equal(3, CliRun.Run("ps", "--db", db, "--at", "2000-01-01T00:00:00Z").ExitCode);
    }

    [Fact]
    public void Cache_at_prints_the_recorded_meminfo_and_says_files_are_not_recorded()
    {
        string db = Recording();
        CliResult r = CliRun.Run("cache", "--db", db, "--at", Iso(T0.AddSeconds(10)));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains($"/proc/meminfo recorded at {SnapshotReplay.Format(T0.AddSeconds(10))}", r.Stdout);
        Assert.Matches(@"Buffers\s+99\.6\s", r.Stdout); // 102000 KiB
        // buff/cache = 102000 + 2000000 + 50000 KiB = 2101.6 MiB
        Assert.Matches(@"buff/cache\s+2101\.6", r.Stdout);
        // clean = 102000 + 2000000 - 200000 (shmem) - 2000 (dirty) - 1000 (unevictable) = 1899000 KiB;
        // reclaimable = clean + dirty + SReclaimable = 1951000 KiB = 1905.3 MiB
        Assert.Matches(@"=> reclaimable \(estimate\)\s+1905\.3", r.Stdout);
        Assert.Contains("Files in the page cache: not listed (file residency is not recorded", r.Stdout);
        Assert.DoesNotContain("candidates from process mappings", r.Stdout);

        CliResult j = CliRun.Run("cache", "--db", db, "--at", Iso(T0.AddSeconds(10)), "--json");
        using var doc = JsonDocument.Parse(j.Stdout);
        Assert.Equal(0, doc.RootElement.GetProperty("files").GetArrayLength());
        Assert.Contains("not recorded", doc.RootElement.GetProperty("files_not_listed").GetString());
        Assert.Equal(102_000UL * 1024, doc.RootElement.GetProperty("meminfo").GetProperty("buffers_bytes").GetUInt64());
        Assert.Equal(1_951_000UL * 1024, doc.RootElement.GetProperty("reclaim").GetProperty("reclaimable_estimate_bytes").GetUInt64());
        Assert.Equal(T0.AddSeconds(10), doc.RootElement.GetProperty("time").GetDateTimeOffset());

        CliResult paths = CliRun.Run("cache", "--db", db, "--at", Iso(T0), "/etc/hostname");
        Assert.Equal(2, paths.ExitCode);
        Assert.Contains("only the recorded meminfo", paths.Stderr);
    }

    [Fact]
    public void Free_explain_over_a_recording_explains_the_columns_without_measuring_the_live_machine()
    {
        string db = Recording();
        CliResult r = CliRun.Run("free", "--db", db, "--at", Iso(T0.AddSeconds(10)), "--explain", "--proc-root", "/nonexistent-proc");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("", r.Stderr);
        Assert.Contains("available", r.Stdout);
        // 3,980,000 KiB free in the sample at 10:00:10, as recorded (kibibytes, free's default unit)
        Assert.Contains("3980000", r.Stdout);
    }
}
