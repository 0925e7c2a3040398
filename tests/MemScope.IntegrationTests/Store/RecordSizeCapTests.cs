using Microsoft.Data.Sqlite;

namespace MemScope.IntegrationTests.Store;

/// <summary>record --max-size: retention keeps the files under the cap, within one sample's writes.</summary>
public sealed class RecordSizeCapTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "memscope-cap-" + Guid.NewGuid().ToString("N"));

    public RecordSizeCapTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private string Db => Path.Combine(_dir, "rec.db");

    [Fact]
    public void Small_max_size_is_never_exceeded_by_more_than_one_sample()
    {
        // The first sample carries every process's identity (command line) and, while SQLite checkpoints it, sits in
        // both the WAL and the database file: that transient is about twice the first sample and belongs to no cap
        // smaller than that. So the cap is set from a real first sample taken just before (a process count would miss
        // long command lines and what the unit tests, run alongside by `dotnet test`, start), and the first sample's transient is
        // checked on its own.
        string calibration = Path.Combine(_dir, "first.db");
        using (var first = new RecorderProcess("--db", calibration, "--count", "1", "-v"))
            Assert.Equal(0, first.WaitForExit(TimeSpan.FromSeconds(60)));
        long firstSize = new FileInfo(calibration).Length + (File.Exists(calibration + "-wal") ? new FileInfo(calibration + "-wal").Length : 0);
        long max = Math.Max(300 * 1024L, (firstSize * 2 + 1023) / 1024 * 1024);

        using var rec = new RecorderProcess("--db", Db, "--interval", "100ms", "--max-size", $"{max / 1024}KB", "--count", "120", "-v");
        long firstPeak = 0, peak = 0;
        while (!rec.Process.HasExited)
        {
            bool firstCommitted = !rec.Lines.IsEmpty; // -v prints a sample's line after its commit and retention
            long size = (File.Exists(Db) ? new FileInfo(Db).Length : 0) + (File.Exists(Db + "-wal") ? new FileInfo(Db + "-wal").Length : 0);
            if (firstCommitted) peak = Math.Max(peak, size);
            else firstPeak = Math.Max(firstPeak, size);
            Thread.Sleep(2);
        }
        Assert.Equal(0, rec.WaitForExit(TimeSpan.FromSeconds(5)));
        var samples = rec.Samples;
        Assert.Equal(120, samples.Count);
        // One sample batch: the largest growth of the files between two consecutive commits.
        long batch = samples.Zip(samples.Skip(1)).Select(p => p.Second.Size - p.First.Size).Where(d => d > 0).DefaultIfEmpty(0).Max();
        Assert.True(samples.Max(s => s.Size) <= max, "after retention the files are under the cap");
        Assert.True(peak <= max + batch, $"peak {peak} > cap {max} + one batch {batch} (first sample {samples[0].Size})");
        Assert.True(firstPeak <= 2 * samples[0].Size, $"first sample's transient {firstPeak} > twice its size {samples[0].Size}");
        Assert.True(long.Parse(RecordReplayTests.Scalar(Db, "SELECT COUNT(*) FROM samples")) < 120, "old samples were deleted");
        Assert.Equal("ok", RecordReplayTests.Scalar(Db, "PRAGMA integrity_check"));
    }
}
