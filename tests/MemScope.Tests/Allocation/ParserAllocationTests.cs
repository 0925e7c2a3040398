using System.Text;
using MemScope.Procfs;

namespace MemScope.Tests.Allocation;

/// <summary>
/// Issue 11: parsing the hot files allocates only the result, and per-process reads allocate a bounded amount that
/// does not grow with the number of lines. Measured with GC.GetAllocatedBytesForCurrentThread around one call
/// (after a warm-up call, so JIT and first-use pool allocations are not counted).
/// </summary>
public class ParserAllocationTests
{
    private static long Allocated(Action action)
    {
        action(); // warm-up: JIT, static initialisers, the array pool's first buffers
        action();
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    private static string Fixture(string relative) => File.ReadAllText(Path.Combine(Paths.SharedFixtures, relative));

    /// <summary>Object header + method table on 64-bit, and an array's length word.</summary>
    private const int ObjectOverhead = 16, ArrayOverhead = 24;

    [Fact]
    public void Meminfo_parse_allocates_only_the_result()
    {
        string text = Fixture("procfs/proc/meminfo");
        long bytes = Allocated(() => Meminfo.Parse(text, "/proc/meminfo"));
        // The result: the Meminfo, its CounterTable, one ulong and one bool per known key (rounded up to 8 bytes).
        int keys = Meminfo.Keys.Count;
        long result = ObjectOverhead + 8 // Meminfo
            + ObjectOverhead + 32 // CounterTable fields
            + ArrayOverhead + 8L * keys
            + ArrayOverhead + ((keys + 7) / 8 * 8);
        Assert.True(bytes <= result, $"Meminfo.Parse allocated {bytes} B; the result alone is {result} B");
        Assert.True(bytes > 0);
    }

    [Fact]
    public void Meminfo_allocation_does_not_grow_with_lines()
    {
        string small = "MemTotal: 1 kB\nMemFree: 2 kB\n";
        string large = Fixture("procfs/proc/meminfo") + string.Concat(Enumerable.Repeat("MemFree: 2 kB\n", 2000));
        long a = Allocated(() => Meminfo.Parse(small, "m"));
        long b = Allocated(() => Meminfo.Parse(large, "m"));
        Assert.Equal(a, b);
    }

    [Fact]
    public void Meminfo_read_from_disk_adds_nothing_per_line()
    {
        // Through KernelFile: pooled byte and char buffers, so a longer file costs no more managed memory.
        string dir = Path.Combine(Path.GetTempPath(), $"memscope_alloc_{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        try
        {
            string small = Path.Combine(dir, "small"), large = Path.Combine(dir, "large");
            File.WriteAllText(small, Fixture("procfs/proc/meminfo"));
            File.WriteAllText(large, Fixture("procfs/proc/meminfo") + string.Concat(Enumerable.Repeat("Cached: 1 kB\n", 1500)));
            long a = Allocated(() => Meminfo.Read(small));
            long b = Allocated(() => Meminfo.Read(large));
            long parseOnly = Allocated(() => Meminfo.Parse(Fixture("procfs/proc/meminfo"), small)) ;
            Assert.True(b - a <= 256, $"small file {a} B, 20 KB file {b} B");
            // The I/O adds at most the path strings, not the text (plain open/read/close into pooled buffers).
            Assert.True(a - parseOnly <= 512, $"Read allocated {a} B against {parseOnly} B for the parse alone");
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Live_meminfo_and_vmstat_parse_without_per_line_strings()
    {
        string meminfo = File.ReadAllText("/proc/meminfo");
        string vmstat = File.ReadAllText("/proc/vmstat");
        long m = Allocated(() => Meminfo.Parse(meminfo, "/proc/meminfo"));
        long v = Allocated(() => Vmstat.Parse(vmstat, "/proc/vmstat"));
        int lines = vmstat.Count(c => c == '\n');
        // Every key this kernel prints is known: no string per line. (A key a newer kernel adds costs one string.)
        Assert.True(m <= 1024, $"meminfo: {m} B");
        long vmstatResult = ObjectOverhead + 8 + ObjectOverhead + 32 + ArrayOverhead + 8L * Vmstat.Keys.Count + ArrayOverhead + Vmstat.Keys.Count + 8;
        Assert.True(v <= vmstatResult + 512, $"vmstat: {v} B for {lines} lines; the result is {vmstatResult} B");
    }

    public static IEnumerable<object[]> PerProcessParsers() =>
    [
        ["status", "procfs/proc/26231/status", "Foo_unknown:\t1 kB\n"],
        ["smaps_rollup", "procfs/proc/26231/smaps_rollup", "Unknown_counter:      4 kB\n"],
        ["stat", "procfs/proc/26231/stat", "junk line the kernel never prints\n"],
        ["statm", "procfs/proc/26231/statm", "extra\n"],
        ["io", null!, "unknown_io: 1\n"],
    ];

    [Theory]
    [MemberData(nameof(PerProcessParsers))]
    public void Per_process_parse_allocation_is_independent_of_the_number_of_lines(string file, string? fixture, string extraLine)
    {
        Func<string, object> parse = file switch
        {
            "status" => t => ProcPidStatus.Parse(t, "status"),
            "smaps_rollup" => t => ProcPidSmapsRollup.Parse(t, "smaps_rollup"),
            "stat" => t => ProcPidStat.Parse(t, "stat"),
            "statm" => t => ProcPidStatm.Parse(t, "statm"),
            "io" => t => ProcPidIo.Parse(t, "io"),
            _ => throw new ArgumentException(file),
        };
        string text = fixture is null
            ? "rchar: 1\nwchar: 2\nsyscr: 3\nsyscw: 4\nread_bytes: 5\nwrite_bytes: 6\ncancelled_write_bytes: 7\n"
            : Fixture(fixture);
        string longer = text + string.Concat(Enumerable.Repeat(extraLine, 1000));
        long a = Allocated(() => parse(text));
        long b = Allocated(() => parse(longer));
        Assert.Equal(a, b);
        Assert.True(a <= 2048, $"{file}: {a} B per parse");
    }

    [Fact]
    public void Per_process_reads_through_KernelFile_are_bounded()
    {
        // Our own status and smaps_rollup, read the way a scan reads every process.
        string self = $"/proc/{Environment.ProcessId}";
        long status = Allocated(() => ProcPidStatus.Read($"{self}/status"));
        long stat = Allocated(() => ProcPidStat.Read($"{self}/stat"));
        long statm = Allocated(() => ProcPidStatm.Read($"{self}/statm"));
        long rollup = Allocated(() => ProcPidSmapsRollup.Read($"{self}/smaps_rollup"));
        Assert.True(status <= 2048, $"status read: {status} B");
        Assert.True(stat <= 1024, $"stat read: {stat} B");
        Assert.True(statm <= 512, $"statm read: {statm} B");
        Assert.True(rollup <= 1536, $"smaps_rollup read: {rollup} B");
    }
}
