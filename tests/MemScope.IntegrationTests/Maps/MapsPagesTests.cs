using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace MemScope.IntegrationTests.Maps;

/// <summary>memscope maps/pages on real processes started here, checked against what they did and against procps pmap.</summary>
public class MapsPagesTests
{
    private static JsonElement Json(params string[] args)
    {
        var r = CliRun.Run(args);
        Assert.True(r.ExitCode == 0, $"memscope {string.Join(' ', args)} exited {r.ExitCode}: {r.Stderr}");
        return JsonDocument.Parse(r.Stdout).RootElement;
    }

    [Fact]
    public void Pages_counts_touched_and_never_touched_pages_of_an_mmap()
    {
        using var lab = new LabProcess("mmap", "--size", "64M", "--touch", "25%");
        string line = lab.ReadLine();
        var m = Regex.Match(line, @"at ([0-9a-f]+)-([0-9a-f]+) .*touched (\d+) of (\d+) pages");
        Assert.True(m.Success, line);
        string range = $"{m.Groups[1].Value}-{m.Groups[2].Value}";
        ulong touched = ulong.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
        ulong pages = ulong.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture);
        Assert.Equal(16384UL * 4096 / (ulong)Environment.SystemPageSize, pages);

        var json = Json("pages", lab.Pid.ToString(CultureInfo.InvariantCulture), "--mapping", range, "--json");
        var total = json.GetProperty("total");
        Assert.Equal(pages, total.GetProperty("pages").GetUInt64());
        ulong present = total.GetProperty("present").GetUInt64();
        ulong notPresent = total.GetProperty("not_present").GetUInt64();
        Assert.InRange((long)present - (long)touched, -4, 4);
        Assert.InRange((long)notPresent - (long)(pages - touched), -4, 4);
        Assert.Equal(present, total.GetProperty("anon").GetUInt64());
        Assert.Equal(0UL, total.GetProperty("file").GetUInt64());
        Assert.Contains("never touched", json.GetProperty("explanation").GetString());
        // Root sees PFNs and kpageflags: the THP count is known (0: the lab asked for no THP).
        if (TestEnv.IsRoot) Assert.Equal(0UL, total.GetProperty("thp").GetUInt64());

        var text = CliRun.Run("pages", lab.Pid.ToString(CultureInfo.InvariantCulture), "--mapping", range);
        Assert.Equal(0, text.ExitCode);
        Assert.Contains("64.0MiB mapped, 16.0MiB backed by RAM: the rest (48.0MiB) was never touched.", text.Stdout);
        Assert.Contains("[OOOOOOOOOOOOOOOO      ", text.Stdout);
    }

    private static JsonElement? MappingAt(JsonElement maps, ulong address)
    {
        foreach (var m in maps.GetProperty("mappings").EnumerateArray())
            if (m.GetProperty("start").GetUInt64() <= address && address < m.GetProperty("end").GetUInt64()) return m;
        return null;
    }

    private static ulong HeapBytes(JsonElement maps) =>
        maps.GetProperty("mappings").EnumerateArray().Where(m => m.GetProperty("path").GetString() == "[heap]")
            .Aggregate(0UL, (a, m) => a + m.GetProperty("end").GetUInt64() - m.GetProperty("start").GetUInt64());

    private static ulong KindBytes(JsonElement maps, string kind) =>
        maps.GetProperty("groups").EnumerateArray().Where(g => g.GetProperty("kind").GetString() == kind)
            .Aggregate(0UL, (a, g) => a + g.GetProperty("virt_bytes").GetUInt64());

    [Fact]
    public void Small_mallocs_grow_the_heap_and_a_large_malloc_is_a_new_anonymous_mapping()
    {
        const int small = 200_000;
        using var lab = new LabProcess("heap", "--small", small.ToString(CultureInfo.InvariantCulture), "--small-size", "64", "--large", "64M", "--step");
        Assert.Contains("ready", lab.ReadLine());
        string pid = lab.Pid.ToString(CultureInfo.InvariantCulture);
        var before = Json("maps", pid, "--json");

        lab.Continue();
        string smallLine = lab.ReadLine();
        ulong first = LabProcess.Hex(smallLine, @"at ([0-9a-f]+)\.\.");
        ulong last = LabProcess.Hex(smallLine, @"\.\.([0-9a-f]+)");
        var afterSmall = Json("maps", pid, "--json");
        Assert.True(HeapBytes(afterSmall) >= HeapBytes(before) + small * 64UL,
            $"heap {HeapBytes(before)} -> {HeapBytes(afterSmall)} after {small} mallocs of 64 bytes");
        foreach (ulong a in new[] { first, last })
        {
            var m = MappingAt(afterSmall, a) ?? throw new Xunit.Sdk.XunitException($"{a:x} is not mapped");
            Assert.Equal("heap", m.GetProperty("kind").GetString());
            Assert.Equal("heap", m.GetProperty("segment").GetString());
        }

        lab.Continue();
        ulong big = LabProcess.Hex(lab.ReadLine(), @"at ([0-9a-f]+);");
        Assert.Null(MappingAt(afterSmall, big)); // the address was not mapped before: a new mapping
        var afterLarge = Json("maps", pid, "--json");
        var large = MappingAt(afterLarge, big) ?? throw new Xunit.Sdk.XunitException($"{big:x} is not mapped");
        Assert.Equal("anonymous mmap", large.GetProperty("kind").GetString());
        Assert.Equal("mmap", large.GetProperty("segment").GetString());
        Assert.Equal("", large.GetProperty("path").GetString());
        Assert.True(large.GetProperty("end").GetUInt64() - large.GetProperty("start").GetUInt64() >= 64UL << 20);
        Assert.True(KindBytes(afterLarge, "anonymous mmap") >= KindBytes(afterSmall, "anonymous mmap") + (64UL << 20));
        // The heap did not take the large allocation.
        Assert.InRange((long)HeapBytes(afterLarge) - (long)HeapBytes(afterSmall), -(1L << 20), 1L << 20);
        // The segment view names them too.
        var text = CliRun.Run("maps", pid);
        Assert.Equal(0, text.ExitCode);
        Assert.Matches(@"(?m)^heap\s+heap\s+\[heap\]", text.Stdout);
        Assert.Matches(@"(?m)^mmap\s+anonymous mmap\s+anonymous", text.Stdout);
    }

    private static (long Size, long Rss, long Dirty) TotalLine(string output)
    {
        var m = Regex.Match(output, @"(?m)^total kB\s+(\d+)\s+(\d+)\s+(\d+)\s*$");
        Assert.True(m.Success, output);
        return (long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), long.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture),
            long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Waits until sleep(1) is blocked in nanosleep: from then on its mappings and pages do not move. (A fixed delay is
    /// not enough on a loaded machine, where the dynamic loader may still be mapping and faulting in libc.)
    /// </summary>
    private static void WaitUntilAsleep(int pid)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            try
            {
                string wchan = File.ReadAllText($"/proc/{pid}/wchan");
                if (wchan.Contains("nanosleep", StringComparison.Ordinal)) return;
                // a kernel without symbols shows 0: then sleeping (S) as sleep, not as the runtime that forked it
                string stat = File.ReadAllText($"/proc/{pid}/stat");
                if (wchan == "0" && stat.Contains("(sleep) S ", StringComparison.Ordinal)) return;
            }
            catch (IOException) { }
            Thread.Sleep(20);
        }
        throw new Xunit.Sdk.XunitException($"sleep (pid {pid}) did not reach nanosleep within 30 s");
    }

    [SkippableFact]
    public void Maps_x_totals_equal_pmap_x_for_a_quiet_process()
    {
        string pmap = TestEnv.RequireTool("pmap");
        using var sleeper = Process.Start("sleep", "120");
        try
        {
            WaitUntilAsleep(sleeper.Id);
            var ours = TotalLine(CliRun.Run("maps", "-x", sleeper.Id.ToString(CultureInfo.InvariantCulture)).Stdout);
            var theirs = TotalLine(TestEnv.Run(pmap, "-x", sleeper.Id.ToString(CultureInfo.InvariantCulture)));
            Assert.Equal(theirs, ours); // a sleeping process does not move: exactly equal
        }
        finally { sleeper.Kill(); }
    }

    [SkippableFact]
    public void Maps_x_totals_match_pmap_x_for_a_runtime_process_within_moved_pages()
    {
        string pmap = TestEnv.RequireTool("pmap");
        using var lab = new LabProcess("mmap", "--size", "32M", "--touch", "50%");
        lab.ReadLine();
        string pid = lab.Pid.ToString(CultureInfo.InvariantCulture);
        Thread.Sleep(500);
        var p1 = TotalLine(TestEnv.Run(pmap, "-x", pid));
        var ours = TotalLine(CliRun.Run("maps", "-x", pid).Stdout);
        var p2 = TotalLine(TestEnv.Run(pmap, "-x", pid));
        // Between the two pmap reads a runtime may fault in or map a few pages: ours must lie within that window.
        const long slack = 256; // kB
        Assert.InRange(ours.Size, Math.Min(p1.Size, p2.Size) - slack, Math.Max(p1.Size, p2.Size) + slack);
        Assert.InRange(ours.Rss, Math.Min(p1.Rss, p2.Rss) - slack, Math.Max(p1.Rss, p2.Rss) + slack);
        Assert.InRange(ours.Dirty, Math.Min(p1.Dirty, p2.Dirty) - slack, Math.Max(p1.Dirty, p2.Dirty) + slack);
        Assert.True(ours.Rss >= 16 * 1024, $"the 16 MiB touched must be in RSS: {ours.Rss} kB");
    }

    [Fact]
    public void Unknown_and_vanished_pids_give_one_line_and_exit_3()
    {
        using var p = Process.Start("true")!;
        p.WaitForExit();
        foreach (string pid in new[] { "999999999", p.Id.ToString(CultureInfo.InvariantCulture) })
            foreach (string cmd in new[] { "maps", "pages" })
            {
                var r = CliRun.Run(cmd, pid);
                Assert.Equal(3, r.ExitCode);
                Assert.Equal("", r.Stdout);
                Assert.Equal($"memscope: no process with PID {pid} (it does not exist or has exited)", r.Stderr.TrimEnd());
            }
        var bad = CliRun.Run("maps", "0");
        Assert.Equal(2, bad.ExitCode);
        Assert.Single(bad.Stderr.TrimEnd().Split('\n'));
    }

    [SkippableFact]
    public void Unreadable_pid_gives_one_line_and_exit_4()
    {
        // PID 1's smaps is denied even to root on this kind of machine; otherwise run as nobody against a root process.
        bool denied;
        try { File.ReadAllText("/proc/1/smaps"); denied = false; }
        catch (UnauthorizedAccessException) { denied = true; }
        catch (IOException) { denied = true; }
        if (denied)
        {
            foreach (string cmd in new[] { "maps", "pages" })
            {
                var r = CliRun.Run(cmd, "1");
                Assert.Equal(4, r.ExitCode);
                Assert.Equal("", r.Stdout);
                Assert.Matches(@"^memscope: PID 1: cannot read /proc/1/smaps: permission denied \(run as root or as the process owner\)$", r.Stderr.TrimEnd());
            }
            return;
        }
        TestEnv.RequireRoot("to run memscope as nobody against a root process");
        string setpriv = TestEnv.RequireTool("setpriv");
        using var sleeper = Process.Start("sleep", "60")!;
        try
        {
            var psi = new ProcessStartInfo(setpriv) { RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (string a in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", Path.Combine(AppContext.BaseDirectory, "memscope"), "maps", sleeper.Id.ToString(CultureInfo.InvariantCulture) })
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.Equal(4, p.ExitCode);
            Assert.Single(err.TrimEnd().Split('\n'));
            Assert.Contains("permission denied", err);
        }
        finally { sleeper.Kill(); }
    }
}
