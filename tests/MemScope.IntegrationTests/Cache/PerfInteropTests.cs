using MemScope.Tracing;

namespace MemScope.IntegrationTests.Cache;

/// <summary>The perf_event_open / tracefs layer against this kernel: counters, filters, rings, cleanup.</summary>
public class PerfInteropTests
{
    [SkippableFact]
    public void TracepointCounterWithFilterCountsOurColdRead()
    {
        TestEnv.RequireRoot("system-wide tracepoints via perf_event_open");
        ulong id;
        using (Tracefs t = Tracefs.Open()) id = t.EventId("filemap", "mm_filemap_add_to_page_cache") ?? throw new Exception("no tracepoint");
        int[] cpus = PerfEventNative.OnlineCpus();
        var all = new List<PerfEvent>();
        try
        {
            foreach (int cpu in cpus)
            {
                var ev = PerfEvent.Open(PerfEvent.TracepointAttr(id), -1, cpu, "add_to_page_cache");
                all.Add(ev);
                ev.Enable();
            }
            string file = CacheTestFiles.Create("interop", 8 << 20);
            CacheTestFiles.DropFromCache(file);
            CacheTestFiles.ReadAll(file);
            ulong total = 0;
            foreach (PerfEvent e in all) total += e.ReadCounter();
            Assert.True(total >= 1, $"no add_to_page_cache events during a cold 8 MiB read ({total})");
        }
        finally
        {
            foreach (PerfEvent e in all) e.Dispose();
        }
        Assert.Equal(0, CacheTestFiles.OpenPerfFds());
    }

    [SkippableFact]
    public void SampledRingSeesOurPidAndRange()
    {
        TestEnv.RequireRoot("system-wide tracepoints via perf_event_open");
        TracepointFormat fmt;
        using (Tracefs t = Tracefs.Open()) fmt = t.EventFormat("filemap", "mm_filemap_get_pages") ?? throw new Exception("no tracepoint");
        var fPid = fmt["common_pid"]!;
        var fIndex = fmt["index"]!;
        var fLast = fmt["last_index"]!;
        var events = new List<PerfEvent>();
        ulong pages = 0;
        int ours = 0;
        try
        {
            foreach (int cpu in PerfEventNative.OnlineCpus())
            {
                var ev = PerfEvent.Open(PerfEvent.TracepointAttr(fmt.Id!.Value, PerfSample.Identifier | PerfSample.Tid | PerfSample.Raw), -1, cpu, "get_pages");
                events.Add(ev);
                ev.MapRing(6);
                ev.Enable();
            }
            string file = CacheTestFiles.Create("interop2", 4 << 20);
            CacheTestFiles.ReadAll(file);
            int me = Environment.ProcessId;
            foreach (PerfEvent ev in events)
                ev.Ring!.Drain((type, rec) =>
                {
                    if (type != PerfEventNative.PerfRecordSample) return;
                    // header(8) identifier(8) pid,tid(8) raw size(4) raw
                    int pid = BitConverter.ToInt32(rec[16..]);
                    ReadOnlySpan<byte> raw = rec.Slice(28, BitConverter.ToInt32(rec[24..]));
                    if (pid != me) return;
                    ours++;
                    Assert.Equal(me, (int)TracepointFormat.ReadSigned(raw, fPid) is int tid && tid > 0 ? me : -1);
                    pages += TracepointFormat.ReadUnsigned(raw, fLast) - TracepointFormat.ReadUnsigned(raw, fIndex) + 1;
                });
        }
        finally
        {
            foreach (PerfEvent e in events) e.Dispose();
        }
        Assert.True(ours > 0, "no get_pages samples from this process");
        // Each batch of a read() reports the whole remaining range (index..last_index), so the raw sum over-counts:
        // the aggregator dedups continuations. Here: at least the file.
        Assert.True(pages >= 1024UL * 9 / 10, $"{pages} pages seen");
        Assert.Equal(0, CacheTestFiles.OpenPerfFds());
    }

    [SkippableFact]
    public void TracefsIsReturnedAsFound()
    {
        TestEnv.RequireRoot("mounting tracefs");
        string? before = Tracefs.FindMount();
        using (Tracefs t = Tracefs.Open())
        {
            Assert.True(Directory.Exists(Path.Combine(t.Root, "events")));
            if (before is null) Assert.True(t.MountedByUs);
            bool ours = t.MountedByUs;
            using (Tracefs nested = Tracefs.Open()) Assert.Equal(t.Root, nested.Root); // re-entrant, no self-deadlock
            Assert.Equal(t.Root, Tracefs.FindMount());
            if (!ours) before = t.Root;
        }
        // Ours (mounted now or by a crashed run) is unmounted when released; someone else's stays.
        string? after = Tracefs.FindMount();
        if (before is null) Assert.Null(after);
        else Assert.True(after == before || after is null);
    }

    [SkippableFact]
    public void StaleProbeOfADeadPidIsRemovedAndALiveOneKept()
    {
        TestEnv.RequireRoot("defining uprobes in tracefs");
        int dead = CacheTestFiles.DeadPid();
        string target = "/bin/true";
        using Tracefs t = Tracefs.Open();
        TestEnv.Require(File.Exists(Path.Combine(t.Root, "uprobe_events")), "uprobe_events in tracefs");
        string stale = $"memscope_{dead}/stale_probe";
        Assert.Equal(0, t.WriteCommand("uprobe_events", $"p:{stale} {target}:0x0"));
        using TracefsProbe mine = BorrowedState.DefineProbe(t, "uprobe_events", 'p', "live_probe", $"{target}:0x0");
        Assert.NotNull(mine.TracepointId);
        Assert.Contains(stale, BorrowedState.ListDefined(t));
        List<string> removed = BorrowedState.CleanupStale(t);
        Assert.Contains(stale, removed);
        List<string> left = BorrowedState.ListDefined(t);
        Assert.DoesNotContain(stale, left);
        Assert.Contains(mine.FullName, left);
        mine.Dispose();
        Assert.DoesNotContain(mine.FullName, BorrowedState.ListDefined(t));
    }
}
