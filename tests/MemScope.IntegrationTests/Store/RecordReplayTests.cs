using System.Diagnostics;
using MemScope.Store;
using Microsoft.Data.Sqlite;

namespace MemScope.IntegrationTests.Store;

public sealed class RecordReplayTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "memscope-rec-" + Guid.NewGuid().ToString("N"));

    public RecordReplayTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private string Db => Path.Combine(_dir, "rec.db");

    internal static string Scalar(string db, string sql)
    {
        using var c = new SqliteConnection($"Data Source={db};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToString(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture)!;
    }

    [Fact]
    public void Sigkill_mid_run_keeps_every_committed_sample()
    {
        using var rec = new RecorderProcess("--db", Db, "--interval", "200ms", "-v");
        rec.WaitForSamples(8, TimeSpan.FromSeconds(60));
        rec.Process.Kill(); // SIGKILL
        rec.Process.WaitForExit();
        var committed = rec.Samples;
        Assert.True(committed.Count >= 8);

        Assert.Equal("ok", Scalar(Db, "PRAGMA integrity_check"));
        using var store = HistoryStore.OpenForReading(Db);
        var stored = store.ListSamples().ToDictionary(s => s.Id, s => s.Time.ToUnixTimeMilliseconds());
        foreach (var (id, ms, _) in committed)
        {
            Assert.True(stored.TryGetValue(id, out long t), $"sample {id} was reported committed but is missing");
            Assert.Equal(ms, t);
        }
        // The samples hold real data: MemTotal as the kernel says now, and processes.
        var last = store.Read(committed[^1].Id);
        Assert.Equal(new MemScope.Procfs.ProcFs().ReadMeminfo().MemTotal, last.System.Meminfo.MemTotal);
        // the recorder itself: `dotnet memscope.dll`, or the native binary when MEMSCOPE_BIN is set
        Assert.Contains(last.Processes, p => p.Pid == rec.Process.Id && p.Comm is "dotnet" or "memscope");
        // A writer can carry on after the crash.
        using var again = new RecorderProcess("--db", Db, "--count", "1", "-v");
        Assert.Equal(0, again.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Equal(committed.Count + 1, int.Parse(Scalar(Db, "SELECT COUNT(*) FROM samples")) - (stored.Count - committed.Count));
    }

    [Fact]
    public void Sigterm_stops_cleanly()
    {
        using var rec = new RecorderProcess("--db", Db, "--interval", "300ms", "-v");
        rec.WaitForSamples(2, TimeSpan.FromSeconds(60));
        Process.Start("kill", ["-TERM", rec.Process.Id.ToString()])!.WaitForExit();
        Assert.Equal(0, rec.WaitForExit(TimeSpan.FromSeconds(20)));
        Assert.Contains(rec.ErrorLines, l => l.Contains("stopped after", StringComparison.Ordinal));
        Assert.False(File.Exists(Db + "-wal") && new FileInfo(Db + "-wal").Length > 0, "a clean stop checkpoints the WAL");
        Assert.Equal("ok", Scalar(Db, "PRAGMA integrity_check"));
    }
}
