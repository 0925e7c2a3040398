using MemScope.Model;
using MemScope.Procfs;
using MemScope.Store;
using MemScope.Sysfs;
using Microsoft.Data.Sqlite;
using SkiaSharp;

namespace MemScope.Tests.Store;

public sealed class PlotTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "memscope-plot-" + Guid.NewGuid().ToString("N"));

    public PlotTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [Fact]
    public void Every_chart_renders_to_a_png_that_decodes_and_is_not_blank()
    {
        var system = new SnapshotCollector(new ProcFs(Path.Combine(Paths.SharedFixtures, "node_exporter", "proc")), new SysFs("/nonexistent"));
        Snapshot s = system.Collect() with { Processes = HistoryStoreTests.Processes() };
        string db = Path.Combine(_dir, "rec.db");
        var t0 = new DateTimeOffset(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);
        using (var w = HistoryStore.OpenForWriting(db))
            for (int i = 0; i < 30; i++)
                w.Append(s with
                {
                    Time = t0.AddSeconds(5 * i),
                    MonotonicSeconds = 5 * i,
                    Processes = s.Processes.Select(p => p with { RssBytes = p.RssBytes + (ulong)i * (1 << 20) }).ToList(),
                });
        string outDir = Path.Combine(_dir, "out");
        CliResult r = CliRun.Run("plot", "--db", db, "--out", outDir, "--format", "png", "--width", "800", "--height", "400");
        Assert.True(r.ExitCode == 0, r.Stderr);
        string[] files = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, files.Length);
        foreach (string name in new[] { "memory", "swap", "psi", "processes" })
        {
            string path = Path.Combine(outDir, $"memscope-{name}.png");
            Assert.Contains(path, files);
            using SKBitmap bmp = SKBitmap.Decode(path);
            Assert.NotNull(bmp);
            Assert.Equal((800, 400), (bmp.Width, bmp.Height));
            var colours = new HashSet<uint>();
            for (int y = 0; y < bmp.Height; y += 2)
                for (int x = 0; x < bmp.Width; x += 2)
                    colours.Add((uint)bmp.GetPixel(x, y));
            Assert.True(colours.Count > 20, $"{name}: only {colours.Count} colours (blank?)");
        }
        // The stacked memory chart really shows its layers: the anon red and the free green are both present.
        using (SKBitmap mem = SKBitmap.Decode(Path.Combine(outDir, "memscope-memory.png")))
        {
            bool Near(SKColor c, byte r0, byte g0, byte b0) => Math.Abs(c.Red - r0) < 12 && Math.Abs(c.Green - g0) < 12 && Math.Abs(c.Blue - b0) < 12;
            var pixels = Enumerable.Range(0, mem.Height / 2).SelectMany(y => Enumerable.Range(0, mem.Width / 2).Select(x => mem.GetPixel(2 * x, 2 * y))).ToList();
            Assert.Contains(pixels, c => Near(c, 0x2c, 0xa0, 0x2c));
            Assert.Contains(pixels, c => Near(c, 0xd6, 0x27, 0x28));
        }
        CliResult svg = CliRun.Run("plot", "--db", db, "--out", outDir, "--format", "svg");
        Assert.Equal(0, svg.ExitCode);
        Assert.Contains("<svg", File.ReadAllText(Path.Combine(outDir, "memscope-memory.svg")));
        // An empty window is a clear error.
        Assert.Equal(3, CliRun.Run("plot", "--db", db, "--from", "2000-01-01T00:00:00Z", "--to", "2000-01-02T00:00:00Z", "--out", outDir).ExitCode);
    }
}
