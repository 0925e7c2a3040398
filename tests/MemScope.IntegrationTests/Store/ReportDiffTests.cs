using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace MemScope.IntegrationTests.Store;

/// <summary>A process grows while the recorder runs; report and diff must name it.</summary>
public sealed class ReportDiffTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "memscope-report-" + Guid.NewGuid().ToString("N"));

    public ReportDiffTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [Fact]
    public void Report_and_diff_name_the_process_that_grew()
    {
        string perl = TestEnv.RequireTool("perl");
        string db = Path.Combine(_dir, "rec.db");
        // Waits for a go file, then grows by 30 MiB of touched memory every 0.4 s up to 180 MiB, then holds.
        string go = Path.Combine(_dir, "go");
        var psi = new ProcessStartInfo(perl) { UseShellExecute = false };
        psi.ArgumentList.Add("-e");
        psi.ArgumentList.Add($"$0='memscope_grower'; select(undef,undef,undef,0.05) until -e '{go}'; my @a; for (1..6) {{ push @a, 'x' x (30<<20); select(undef,undef,undef,0.4) }} sleep 30");
        using var grower = Process.Start(psi)!;
        try
        {
            Thread.Sleep(300);
            using var rec = new RecorderProcess("--db", db, "--interval", "500ms", "-v");
            rec.WaitForSamples(2, TimeSpan.FromSeconds(60));
            File.WriteAllText(go, "");
            Thread.Sleep(3500);
            int before = rec.Samples.Count;
            rec.WaitForSamples(before + 2, TimeSpan.FromSeconds(60));
            Process.Start("kill", ["-TERM", rec.Process.Id.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
            Assert.Equal(0, rec.WaitForExit(TimeSpan.FromSeconds(20)));
            var samples = rec.Samples;
            string first = (samples[0].UnixMs / 1000.0).ToString("F3", CultureInfo.InvariantCulture);
            string last = (samples[^1].UnixMs / 1000.0).ToString("F3", CultureInfo.InvariantCulture);

            CliResult json = CliRun.Run("report", "--db", db, "--from", first, "--to", last, "--top", "50", "--json");
            Assert.True(json.ExitCode == 0, json.Stderr);
            using var doc = JsonDocument.Parse(json.Stdout);
            Assert.Equal(samples.Count, doc.RootElement.GetProperty("samples").GetInt32());
            JsonElement g = doc.RootElement.GetProperty("growers").EnumerateArray().First(e => e.GetProperty("pid").GetInt32() == grower.Id);
            long growth = g.GetProperty("last_rss_bytes").GetInt64() - g.GetProperty("first_rss_bytes").GetInt64();
            Assert.InRange(growth, 150L << 20, 250L << 20);
            Assert.Contains(doc.RootElement.GetProperty("extremes").EnumerateArray(), e => e.GetProperty("name").GetString() == "mem_available" && e.GetProperty("min").GetDouble() > 0);

            CliResult text = CliRun.Run("report", "--db", db, "--from", first, "--to", last, "--top", "50");
            Assert.Contains("memscope_grower", text.Stdout);
            Assert.Contains("Swap and reclaim activity", text.Stdout);
            Assert.Contains("OOM kills", text.Stdout);
            CliResult md = CliRun.Run("report", "--db", db, "--markdown", "--top", "50", "--no-doctor");
            Assert.Contains("# Memory report", md.Stdout);
            Assert.Contains("| memscope_grower |", md.Stdout.Replace("  ", " "));

            CliResult diff = CliRun.Run("diff", "--db", db, first, last, "--top", "50", "--json");
            Assert.True(diff.ExitCode == 0, diff.Stderr);
            using var d = JsonDocument.Parse(diff.Stdout);
            JsonElement grew = d.RootElement.GetProperty("grew").EnumerateArray().First(e => e.GetProperty("pid").GetInt32() == grower.Id);
            Assert.True(grew.GetProperty("rss_after").GetInt64() - grew.GetProperty("rss_before").GetInt64() >= 150L << 20);
            Assert.Contains(d.RootElement.GetProperty("meminfo").EnumerateArray(), e => e.GetProperty("name").GetString() == "MemAvailable");
            // The recorder itself is new in neither list: it was there at both ends.
            Assert.DoesNotContain(d.RootElement.GetProperty("new").EnumerateArray(), e => e.GetProperty("pid").GetInt32() == rec.Process.Id);
            Assert.Contains("memscope_grower", CliRun.Run("diff", "--db", db, first, last, "--top", "50").Stdout);

            // The same moment twice is an error, not an empty diff.
            Assert.Equal(3, CliRun.Run("diff", "--db", db, first, first).ExitCode);
        }
        finally
        {
            if (!grower.HasExited) grower.Kill();
        }
    }
}
