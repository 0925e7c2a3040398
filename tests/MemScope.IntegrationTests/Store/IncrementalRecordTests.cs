using MemScope.Model;
using MemScope.Procfs;
using MemScope.Store;
using MemScope.Sysfs;
using Microsoft.Data.Sqlite;

namespace MemScope.IntegrationTests.Store;

/// <summary>
/// The recorder keeps unchanged processes' values between samples; a process that grows must still be recorded as
/// /proc shows it at every sample.
/// </summary>
public sealed class IncrementalRecordTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "memscope-incr-rec-" + Guid.NewGuid().ToString("N"));

    public IncrementalRecordTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [Fact]
    public async Task Recorded_rss_of_a_growing_process_follows_proc()
    {
        const double rate = 8 << 20; // bytes per second
        using var lab = new LabProcess("lab", "leak", "--rate", "8M/s", "--chunk", "64K", "--duration", "60s");
        var proc = new ProcFs();
        string db = Path.Combine(_dir, "rec.db");
        var seenByTest = new List<(long Id, ulong Rss, DateTimeOffset At, TimeSpan Took)>();
        int statFilesKept = 0;
        using (HistoryStore store = HistoryStore.OpenForWriting(db))
        {
            var recorder = new Recorder(new SnapshotCollector(proc, new SysFs()), store,
                new RecorderOptions
                {
                    Interval = TimeSpan.FromMilliseconds(500), TopN = 100, MaxSamples = 12, Retention = new RetentionPolicy(null, null),
                    // no CPU budget for smaps_rollup here (that is a unit test): on a busy machine the first read of 100
                    // processes would use it up, and this test is about re-reading what moved
                    Incremental = IncrementalReadOptions.ForInterval(TimeSpan.FromMilliseconds(500)) with { RollupCpuShare = null },
                });
            await recorder.RunAsync(CancellationToken.None, w =>
            {
                // right after the sample committed: what /proc says now (the lab grew a little since the read)
                ulong rss = ProcPidStatm.Read(proc.PidPath(lab.Pid, "statm")).ResidentPages * (ulong)Environment.SystemPageSize;
                seenByTest.Add((w.Id, rss, DateTimeOffset.UtcNow, w.CollectTime + w.WriteTime));
                statFilesKept = Math.Max(statFilesKept, recorder.StatFilesOpen);
            });
            // stat files are kept open while recording (live /proc) and closed when it stops
            Assert.True(statFilesKept > 0, "no /proc/PID/stat kept open between samples");
            Assert.Equal(0, recorder.StatFilesOpen);
        }

        using var read = HistoryStore.OpenForReading(db);
        var recorded = seenByTest.Select(s => (s.Id, s.Rss, s.Took, Lab: Assert.Single(read.Read(s.Id).Processes, p => p.Pid == lab.Pid))).ToList();
        Assert.Equal(12, recorded.Count);
        foreach (var (id, rssNow, took, p) in recorded)
        {
            // recorded before the test's read, so at most what /proc said a moment later, and not much less: the lab
            // grows while the sample is collected and written: 8 MiB (one second of growth), or more when the sample
            // itself took longer (a slow machine)
            Assert.True(p.RssBytes <= rssNow + (1UL << 20), $"sample {id}: recorded {p.RssBytes}, /proc {rssNow} just after");
            ulong stale = Math.Max(8UL << 20, (ulong)(rate * took.TotalSeconds) + (4UL << 20));
            Assert.True(p.RssBytes + stale >= rssNow, $"sample {id}: recorded {p.RssBytes} is stale against /proc {rssNow} (sample took {took.TotalMilliseconds:F0} ms)");
            Assert.NotNull(p.RssAnonBytes);
            Assert.NotNull(p.OomScore);
        }
        // it grew at about the lab's rate over the recording, sample after sample
        for (int i = 1; i < recorded.Count; i++) Assert.True(recorded[i].Lab.RssBytes >= recorded[i - 1].Lab.RssBytes);
        double seconds = (seenByTest[^1].At - seenByTest[0].At).TotalSeconds;
        double growth = recorded[^1].Lab.RssBytes - (double)recorded[0].Lab.RssBytes;
        Assert.InRange(growth, 0.5 * rate * seconds, 1.5 * rate * seconds + (4 << 20));
        // a growing process in the top N gets its PSS re-read as it grows
        Assert.NotNull(recorded[^1].Lab.PssBytes);
        Assert.True(recorded[^1].Lab.PssBytes > recorded[0].Lab.PssBytes, $"PSS {recorded[0].Lab.PssBytes} -> {recorded[^1].Lab.PssBytes}");
        // idle processes (pid 1) are recorded in every sample although rarely re-read
        Assert.All(recorded, r => Assert.Contains(read.Read(r.Id).Processes, p => p.Pid == 1));
    }
}
