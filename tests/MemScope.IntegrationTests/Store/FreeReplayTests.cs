using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;

namespace MemScope.IntegrationTests.Store;

/// <summary>Record for a few seconds, then `free --db --at` a recorded time must print exactly what free printed then.</summary>
public sealed class FreeReplayTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "memscope-free-replay-" + Guid.NewGuid().ToString("N"));

    public FreeReplayTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [Fact]
    public void Free_at_a_recorded_time_prints_exactly_what_free_printed_then()
    {
        // A proc root whose meminfo the test changes between samples, so every sample has known, distinct values.
        string proc = Path.Combine(_dir, "proc");
        Directory.CreateDirectory(proc);
        string fixture = Path.Combine(Paths.SharedFixtures, "node_exporter", "proc");
        foreach (string f in new[] { "vmstat", "stat" }) File.Copy(Path.Combine(fixture, f), Path.Combine(proc, f));
        string meminfo = File.ReadAllText(Path.Combine(fixture, "meminfo"));
        string db = Path.Combine(_dir, "rec.db");

        void WriteMeminfo(int k)
        {
            string text = Regex.Replace(meminfo, @"^(MemFree:\s+)(\d+)", m => m.Groups[1].Value + (long.Parse(m.Groups[2].Value) - 1000 * k), RegexOptions.Multiline);
            text = Regex.Replace(text, @"^(Cached:\s+)(\d+)", m => m.Groups[1].Value + (long.Parse(m.Groups[2].Value) + 700 * k), RegexOptions.Multiline);
            string tmp = Path.Combine(_dir, "meminfo.tmp");
            File.WriteAllText(tmp, text);
            File.Move(tmp, Path.Combine(proc, "meminfo"), overwrite: true);
        }

        WriteMeminfo(0);
        using var rec = new RecorderProcess("--db", db, "--proc-root", proc, "--interval", "1s", "-v");
        var expected = new List<(long UnixMs, string Text, string Wide)>();
        for (int k = 1; k <= 4; k++)
        {
            WriteMeminfo(k);
            long written = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            string text = CliRun.Run("free", "-b", "--proc-root", proc).Stdout;
            string wide = CliRun.Run("free", "-w", "-h", "-t", "-v", "--proc-root", proc).Stdout;
            var sw = Stopwatch.StartNew();
            // the first sample whose time is after the write read this version (the time is taken before the files are read)
            while (!rec.Samples.Any(s => s.UnixMs > written + 5))
            {
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), "recorder produced no sample");
                Thread.Sleep(20);
            }
            expected.Add((rec.Samples.First(s => s.UnixMs > written + 5).UnixMs, text, wide));
        }
        Process.Start("kill", ["-TERM", rec.Process.Id.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
        Assert.Equal(0, rec.WaitForExit(TimeSpan.FromSeconds(20)));

        Assert.Equal(4, expected.Select(e => e.Text).Distinct().Count());
        foreach (var (ms, text, wide) in expected)
        {
            string at = (ms / 1000.0).ToString("F3", CultureInfo.InvariantCulture);
            CliResult r = CliRun.Run("free", "-b", "--db", db, "--at", at);
            Assert.True(r.ExitCode == 0, r.Stderr);
            Assert.Equal(text, r.Stdout);
            Assert.Equal(wide, CliRun.Run("free", "-w", "-h", "-t", "-v", "--db", db, "--at", at).Stdout);
            // ISO 8601 and a time just after the sample (before the next one) pick the same sample
            string iso = DateTimeOffset.FromUnixTimeMilliseconds(ms + 300).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
            Assert.Equal(text, CliRun.Run("free", "-b", "--db", db, "--at", iso).Stdout);
        }
        // JSON carries the recorded time
        CliResult json = CliRun.Run("free", "--json", "--db", db, "--at", (expected[0].UnixMs / 1000.0).ToString("F3", CultureInfo.InvariantCulture));
        Assert.Contains(DateTimeOffset.FromUnixTimeMilliseconds(expected[0].UnixMs).ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture), json.Stdout);

        // Before the first sample: a clear NotFound naming the recorded range.
        CliResult early = CliRun.Run("free", "--db", db, "--at", "2000-01-01T00:00:00Z");
        Assert.Equal(3, early.ExitCode);
        Assert.Contains("no sample at or before", early.Stderr);
        // -s with --at makes no sense
        Assert.Equal(2, CliRun.Run("free", "--db", db, "--at", "now", "-s", "1").ExitCode);
    }

    [Fact]
    public void Free_replays_a_live_recording()
    {
        string db = Path.Combine(_dir, "live.db");
        using var rec = new RecorderProcess("--db", db, "--interval", "1s", "--count", "3", "-v");
        Assert.Equal(0, rec.WaitForExit(TimeSpan.FromSeconds(60)));
        var samples = rec.Samples;
        Assert.Equal(3, samples.Count);
        CliResult r = CliRun.Run("free", "-b", "--db", db, "--at", (samples[1].UnixMs / 1000.0).ToString("F3", CultureInfo.InvariantCulture));
        Assert.Equal(0, r.ExitCode);
        ulong total = new MemScope.Procfs.ProcFs().ReadMeminfo().MemTotal!.Value;
        Assert.Contains(total.ToString(CultureInfo.InvariantCulture), r.Stdout);
    }
}
