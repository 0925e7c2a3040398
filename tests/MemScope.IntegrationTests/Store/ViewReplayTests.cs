using System.Globalization;
using System.Text.Json;
using MemScope.Model;
using MemScope.Store;
using Microsoft.Data.Sqlite;

namespace MemScope.IntegrationTests.Store;

/// <summary>
/// Record a few seconds of the live machine with a lab process holding a known heap, then replay `ps --db --at` and
/// `vmstat --db --from --to`: ps shows the lab with exactly the RSS the database holds, vmstat one row per sample
/// after the first.
/// </summary>
public sealed class ViewReplayTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "memscope-view-replay-" + Guid.NewGuid().ToString("N"));

    public ViewReplayTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private static string Iso(DateTimeOffset t) => t.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);

    [Fact]
    public void Ps_and_vmstat_replay_a_live_recording_of_a_lab_process()
    {
        string db = Path.Combine(_dir, "rec.db");
        using var lab = new LabProcess("lab", "heap", "--small", "1000", "--large", "64M");
        using (var rec = new RecorderProcess("--db", db, "--interval", "1s", "--count", "4", "--top", "1", "-v"))
            Assert.Equal(0, rec.WaitForExit(TimeSpan.FromSeconds(90)));

        List<SampleInfo> samples;
        Snapshot last;
        int? topN;
        using (var store = HistoryStore.OpenForReading(db))
        {
            samples = store.ListSamples();
            last = store.Read(samples[^1].Id);
            topN = store.RecordedTopN(samples[^1].Id);
        }
        Assert.Equal(4, samples.Count);
        ProcessSnapshot recorded = Assert.Single(last.Processes, p => p.Pid == lab.Pid);
        Assert.True(recorded.RssBytes > 64UL << 20, $"lab RSS {recorded.RssBytes} should hold its 64 MiB heap");

        // ps --at the last sample's time: the lab's row carries exactly the recorded figures
        CliResult json = CliRun.Run("ps", "--db", db, "--at", Iso(samples[^1].Time), "--pid", lab.Pid.ToString(CultureInfo.InvariantCulture), "--json");
        Assert.True(json.ExitCode == 0, json.Stderr);
        using (var doc = JsonDocument.Parse(json.Stdout))
        {
            JsonElement row = Assert.Single(doc.RootElement.GetProperty("processes").EnumerateArray().ToList());
            Assert.Equal(recorded.RssBytes, row.GetProperty("rss_bytes").GetUInt64());
            Assert.Equal(recorded.VirtBytes, row.GetProperty("virt_bytes").GetUInt64());
            JsonElement pss = row.GetProperty("pss_bytes");
            if (recorded.PssBytes is ulong p) Assert.Equal(p, pss.GetUInt64());
            else Assert.Equal(JsonValueKind.Null, pss.ValueKind);
            Assert.Equal(topN, doc.RootElement.GetProperty("pss_recorded_for_top_n").GetInt32());
        }
        CliResult text = CliRun.Run("ps", "--db", db, "--at", Iso(samples[^1].Time), "--top", "500");
        string line = text.Stdout.Split('\n').Single(l => l.TrimStart().StartsWith(lab.Pid.ToString(CultureInfo.InvariantCulture) + " ", StringComparison.Ordinal));
        Assert.Equal((recorded.RssBytes / 1024).ToString(CultureInfo.InvariantCulture), line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3]);
        Assert.Contains($"recorded for the top {topN} by RSS only", text.Stdout);
        // processes outside the top N by RSS show PSS as unknown, never 0. --top 1 so that even a quiet CI box (the
        // test host, the lab and the recorder at least) has processes outside it.
        Assert.Equal(1, topN);
        int outside = last.Processes.Count(p => p.PssBytes is null && !p.SmapsDenied);
        Assert.True(outside >= 2, $"with --top 1, at least the test host or the recorder is outside the top N ({last.Processes.Count} processes recorded)");

        // vmstat over the whole recording: one row per sample after the first, each stamped with its sample's time
        CliResult series = CliRun.Run("vmstat", "--db", db, "--from", Iso(samples[0].Time), "--to", Iso(samples[^1].Time), "-n");
        Assert.True(series.ExitCode == 0, series.Stderr);
        string[] rows = series.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[2..];
        Assert.Equal(samples.Count - 1, rows.Length);
        for (int i = 0; i < rows.Length; i++)
            Assert.EndsWith(samples[i + 1].Time.ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), rows[i]);
        // free (KiB) in each row is the recorded MemFree
        using (var store = HistoryStore.OpenForReading(db))
            for (int i = 0; i < rows.Length; i++)
                Assert.Equal((store.Read(samples[i + 1].Id, processes: false).System.Meminfo.MemFree!.Value / 1024).ToString(CultureInfo.InvariantCulture),
                    rows[i].Split(' ', StringSplitOptions.RemoveEmptyEntries)[3]);
        CliResult arr = CliRun.Run("vmstat", "--db", db, "--json");
        Assert.Equal(0, arr.ExitCode);
        using (var doc = JsonDocument.Parse(arr.Stdout))
            Assert.Equal(JsonValueKind.Object, doc.RootElement.ValueKind); // --db alone: the latest sample, one object
    }
}
