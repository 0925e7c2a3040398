using System.Text.Json;
using MemScope.Analysis;
using MemScope.Analysis.Doctor;
using MemScope.Model;
using MemScope.Procfs;
using MemScope.Store;
using MemScope.Sysfs;
using Microsoft.Data.Sqlite;

namespace MemScope.Tests.Store;

/// <summary>
/// Schema v2 of the recording (zoneinfo, buddyinfo, swaps, vm sysctls, OOM kill events): migration of a v1 file,
/// exact round trips against the fixtures' asserted values, and the doctor and swap views replayed from a recording.
/// </summary>
public sealed class SystemRecordingTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "memscope-sysrec-" + Guid.NewGuid().ToString("N"));

    public SystemRecordingTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private string Db(string name = "rec.db") => Path.Combine(_dir, name);

    private static readonly string ProcfsRoot = Path.Combine(Paths.SharedFixtures, "procfs", "proc");
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);

    /// <summary>prometheus/procfs's root: zoneinfo, buddyinfo, swaps and 43 vm sysctls with values its tests assert.</summary>
    private static Snapshot ProcfsSnapshot()
    {
        var proc = new ProcFs(ProcfsRoot);
        Snapshot s = new SnapshotCollector(proc, new SysFs(Path.Combine(Paths.SharedFixtures, "procfs", "sys"))).Collect();
        return s with { Time = T0, System = s.System with { SysVm = proc.ReadSysVm() } };
    }

    // ------------------------------------------------------------------ v1 → v2

    /// <summary>Writes a schema-1 recording the way schema 1 did: its migration SQL, counter keys and varint blobs.</summary>
    private static void CreateV1Recording(string path, Meminfo meminfo, int samples) => LegacyRecording.Create(path, meminfo, samples, T0, 1);

    private static long SchemaVersionOf(string path) => LegacyRecording.SchemaVersionOf(path);

    [Fact]
    public void V1_recording_is_read_as_is_and_migrated_to_the_current_schema_by_a_writer_with_every_sample_intact()
    {
        Meminfo meminfo = Meminfo.Read(Path.Combine(ProcfsRoot, "meminfo"));
        CreateV1Recording(Db(), meminfo, samples: 3);
        Assert.Equal(1, SchemaVersionOf(Db()));

        // A reader reads the old file without changing it; the v2 sources are null.
        using (var r = HistoryStore.OpenForReading(Db()))
        {
            Assert.Equal(1, r.SchemaVersion);
            Snapshot s = r.Read(2);
            Assert.Equal(meminfo.Entries.ToList(), s.System.Meminfo.Entries.ToList());
            Assert.Null(s.System.Zoneinfo);
            Assert.Null(s.System.Buddyinfo);
            Assert.Null(s.System.Swaps);
            Assert.Null(s.System.SysVm);
            Assert.Empty(r.ReadOomKills());
            Assert.Equal(100_000_000UL + 4096, Assert.Single(s.Processes).RssBytes);
        }
        SqliteConnection.ClearAllPools();
        Assert.Equal(1, SchemaVersionOf(Db()));

        // A writer migrates it (1 → 2 → 3) and appends new samples next to the old ones.
        Snapshot fresh = ProcfsSnapshot() with { Time = T0.AddSeconds(15), MonotonicSeconds = 1015 };
        using (var w = HistoryStore.OpenForWriting(Db()))
        {
            Assert.Equal(StoreSchema.CurrentVersion, w.SchemaVersion);
            Assert.Equal(3, w.SampleCount);
            Assert.Equal(4, w.Append(fresh));
        }
        SqliteConnection.ClearAllPools();
        Assert.Equal(StoreSchema.CurrentVersion, SchemaVersionOf(Db()));
        using (var r = HistoryStore.OpenForReading(Db()))
        {
            Assert.Equal(StoreSchema.CurrentVersion, r.SchemaVersion);
            Assert.Equal(4, r.SampleCount);
            for (int id = 1; id <= 3; id++)
            {
                Snapshot old = r.Read(id);
                Assert.Equal(T0.AddSeconds(5 * (id - 1)), old.Time);
                Assert.Equal(meminfo.Entries.ToList(), old.System.Meminfo.Entries.ToList());
                ProcessSnapshot p = Assert.Single(old.Processes);
                Assert.Equal((4242, "hog", 100_000_000UL + (ulong)(id - 1) * 4096, 8192UL * (ulong)(id - 1)), (p.Pid, p.Comm, p.RssBytes, p.SwapBytes!.Value));
                Assert.Null(old.System.Zoneinfo);
                Assert.Null(old.System.SysVm); // no sysctls were stored before sample 4
            }
            Snapshot back = r.Read(4);
            Assert.Equal(3952UL, back.System.Zoneinfo!.Zone(0, "DMA")!.Free);
            Assert.Equal(67584L, back.System.SysVm!.MinFreeKbytes);
        }
        using var c = new SqliteConnection($"Data Source={Db()};Pooling=False");
        c.Open();
        using var check = c.CreateCommand();
        check.CommandText = "PRAGMA integrity_check";
        Assert.Equal("ok", check.ExecuteScalar());
    }

    [Fact]
    public void V2_recording_reads_without_cgroups_and_migrates_to_the_current_schema()
    {
        CreateV1Recording(Db(), Meminfo.Read(Path.Combine(ProcfsRoot, "meminfo")), samples: 2);
        using (var c = new SqliteConnection($"Data Source={Db()};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = StoreSchema.Migrations[1] + "UPDATE schema_version SET version = 2;";
            cmd.ExecuteNonQuery();
        }
        using (var r = HistoryStore.OpenForReading(Db()))
        {
            Assert.Equal(2, r.SchemaVersion);
            Assert.Null(r.Read(1).System.MemoryCgroups);
            Assert.Null(r.Read(1).System.Zoneinfo);
        }
        SqliteConnection.ClearAllPools();
        Assert.Equal(2, SchemaVersionOf(Db()));
        using (var w = HistoryStore.OpenForWriting(Db()))
        {
            Assert.Equal(StoreSchema.CurrentVersion, w.SchemaVersion);
            Snapshot s = ProcfsSnapshot();
            w.Append(s with { Time = T0.AddSeconds(10), System = s.System with { MemoryCgroups = [] } });
        }
        SqliteConnection.ClearAllPools();
        Assert.Equal(StoreSchema.CurrentVersion, SchemaVersionOf(Db()));
        using var again = HistoryStore.OpenForReading(Db());
        Assert.Null(again.Read(2).System.MemoryCgroups);
        Assert.Empty(again.Read(3).System.MemoryCgroups!);
        Assert.Equal(3, again.SampleCount);
    }

    // ------------------------------------------------------------------ round trips

    [Fact]
    public void Zoneinfo_buddyinfo_swaps_and_sysctls_round_trip_with_the_fixture_values()
    {
        Snapshot s = ProcfsSnapshot();
        Assert.NotNull(s.System.Zoneinfo);
        Assert.NotNull(s.System.Buddyinfo);
        Assert.NotNull(s.System.Swaps);
        long id;
        using (var w = HistoryStore.OpenForWriting(Db())) id = w.Append(s);
        using var r = HistoryStore.OpenForReading(Db());
        SystemSnapshot back = r.Read(id).System;

        // Values prometheus/procfs's own tests assert (fixtures/procfs/expected.json).
        Zoneinfo z = back.Zoneinfo!;
        ZoneinfoZone dma = z.Zone(0, "DMA")!;
        Assert.Equal((3952UL, 33UL, 41UL, 49UL, 4095UL, 3975UL, 3956UL), (dma.Free!.Value, dma.Min!.Value, dma.Low!.Value, dma.High!.Value, dma.Spanned!.Value, dma.Present!.Value, dma.Managed!.Value));
        Assert.Equal([0L, 2877, 7826, 7826, 7826], dma.Protection!);
        ZoneinfoZone dma32 = z.Zone(0, "DMA32")!;
        Assert.Equal((204252UL, 19510UL, 21059UL, 22608UL, 742806UL), (dma32.Free!.Value, dma32.Min!.Value, dma32.Low!.Value, dma32.High!.Value, dma32.Managed!.Value));
        Assert.Equal(113952967UL, dma32.Counters["numa_hit"]);
        Assert.Equal([0L, 0, 4949, 4949, 4949], dma32.Protection!);
        ZoneinfoZone normal = z.Zone(0, "Normal")!;
        Assert.Equal((18553UL, 11176UL, 13842UL, 16508UL, 1268711UL, 26812UL), (normal.Free!.Value, normal.Min!.Value, normal.Low!.Value, normal.High!.Value, normal.Managed!.Value, normal.Counters["numa_interleave"]!.Value));
        Assert.Equal(8007423UL, z.NodeCounter(0, "nr_dirtied"));
        Assert.Equal(547580UL, z.NodeCounter(0, "nr_active_anon"));

        // And everything else exactly as parsed: every zone's every field and counter, every node block.
        Zoneinfo orig = s.System.Zoneinfo!;
        Assert.Equal(orig.Zones.Count, z.Zones.Count);
        for (int i = 0; i < orig.Zones.Count; i++)
        {
            ZoneinfoZone a = orig.Zones[i], b = z.Zones[i];
            Assert.Equal((a.Node, a.Name, a.PagesFree, a.Boost, a.Min, a.Low, a.High, a.Promo, a.Scanned, a.Spanned, a.Present, a.Managed, a.Cma),
                (b.Node, b.Name, b.PagesFree, b.Boost, b.Min, b.Low, b.High, b.Promo, b.Scanned, b.Spanned, b.Present, b.Managed, b.Cma));
            Assert.Equal((a.NodeUnreclaimable, a.StartPfn, a.InactiveRatio), (b.NodeUnreclaimable, b.StartPfn, b.InactiveRatio));
            Assert.Equal(a.Protection, b.Protection);
            Assert.Equal(a.Counters.Entries.ToList(), b.Counters.Entries.ToList());
        }
        Assert.Equal(orig.Nodes.Select(n => (n.Node, n.Counters.Entries.ToList())).ToList().Count, z.Nodes.Count);
        for (int i = 0; i < orig.Nodes.Count; i++) Assert.Equal(orig.Nodes[i].Counters.Entries.ToList(), z.Nodes[i].Counters.Entries.ToList());

        Buddyinfo bi = back.Buddyinfo!;
        Assert.Equal("DMA", bi.Zones[0].Name);
        Assert.Equal("Normal", bi.Zones[2].Name);
        Assert.Equal(4381UL, bi.Zone(0, "Normal")!.FreeBlocks[0]);
        Assert.Equal(572UL, bi.Zone(0, "DMA32")!.FreeBlocks[1]);
        Assert.Equal(s.System.Buddyinfo!.Zones.Select(x => (x.Node, x.Name, string.Join(',', x.FreeBlocks))),
            bi.Zones.Select(x => (x.Node, x.Name, string.Join(',', x.FreeBlocks))));

        SwapArea area = Assert.Single(back.Swaps!.Areas);
        Assert.Equal(new SwapArea("/dev/dm-2", "partition", 131068UL * 1024, 176UL * 1024, -2), area);

        SysVm vm = back.SysVm!;
        Assert.Equal([256L, 256, 32, 0, 0], vm.All["lowmem_reserve_ratio"]);
        Assert.Equal((67584L, 8192L, 65530L, 10L, 20L), (vm.MinFreeKbytes!.Value, vm["admin_reserve_kbytes"]!.Value, vm["max_map_count"]!.Value, vm.DirtyBackgroundRatio!.Value, vm.DirtyRatio!.Value));
        Assert.Equal("Node", vm.Text("numa_zonelist_order"));
        SysVm origVm = s.System.SysVm!;
        Assert.Equal(origVm.All.Count, vm.All.Count);
        foreach (var kv in origVm.All) Assert.Equal(kv.Value, vm.All[kv.Key]);
        Assert.Equal(origVm.Texts.OrderBy(t => t.Key), vm.Texts.OrderBy(t => t.Key));
    }

    [Fact]
    public void Sysctls_are_stored_only_when_they_change_and_hold_until_the_next_change()
    {
        Snapshot s = ProcfsSnapshot();
        SysVm original = s.System.SysVm!;
        var changedValues = original.All.Select(kv => kv.Key == "swappiness" ? new KeyValuePair<string, long[]>(kv.Key, [10]) : kv);
        SysVm changed = SysVm.FromValues(changedValues, original.Texts);
        using (var w = HistoryStore.OpenForWriting(Db()))
        {
            w.Append(s with { Time = T0 });                                                          // 1: stored
            w.Append(s with { Time = T0.AddSeconds(5) });                                            // 2: same, not stored
            w.Append(s with { Time = T0.AddSeconds(10), System = s.System with { SysVm = null } });  // 3: not read this time
            w.Append(s with { Time = T0.AddSeconds(15), System = s.System with { SysVm = changed } }); // 4: changed, stored
            w.Append(s with { Time = T0.AddSeconds(20), System = s.System with { SysVm = changed } }); // 5: same
        }
        SqliteConnection.ClearAllPools();
        using (var c = new SqliteConnection($"Data Source={Db()};Pooling=False;Mode=ReadOnly"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT group_concat(first_sample_id) FROM (SELECT first_sample_id FROM sysctls ORDER BY 1)";
            Assert.Equal("1,4", cmd.ExecuteScalar());
        }
        using var r = HistoryStore.OpenForReading(Db());
        Assert.Equal([60L, 60, 60, 10, 10], Enumerable.Range(1, 5).Select(id => r.Read(id).System.SysVm!.Swappiness!.Value));
        Assert.Equal(60L, original["swappiness"]);
    }

    private static readonly string[] OomKmsg =
    [
        // As /dev/kmsg gives them (KERNEL-NOTES: an OOM kill in a v1 memory cgroup here).
        "4,2001,7000000000,-;hog invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
        "6,2002,7000000100,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/memscope_t,task_memcg=/memscope_t,task=hog,pid=10275,uid=0",
        "3,2003,7000000200,-;Memory cgroup out of memory: Killed process 10275 (hog) total-vm:309680kB, anon-rss:65152kB, file-rss:1228kB, shmem-rss:0kB, UID:0 pgtables:176kB oom_score_adj:0",
        "4,2010,7100000000,-;python3 invoked oom-killer: gfp_mask=0x140dca(GFP_HIGHUSER_MOVABLE|__GFP_COMP|__GFP_ZERO), order=0, oom_score_adj=500",
        "6,2011,7100000100,-;oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/user.slice,task=python3,pid=777,uid=1000",
        "3,2012,7100000200,-;Out of memory: Killed process 777 (python3) total-vm:4194304kB, anon-rss:3145728kB, file-rss:0kB, shmem-rss:0kB, UID:1000 pgtables:6200kB oom_score_adj:500",
    ];

    [Fact]
    public void Oom_kill_events_round_trip_exactly_and_are_stored_once()
    {
        DateTimeOffset boot = T0.AddSeconds(-7000);
        var kills = OomLog.Parse(OomKmsg, boot).Select(k => (k, Kmsg.KmsgStream.Sequence(k.Line)!.Value)).ToList();
        Assert.Equal([2003UL, 2012UL], kills.Select(k => k.Item2));
        using var w = HistoryStore.OpenForWriting(Db());
        Assert.Equal(2, w.AppendOomKills(kills, "boot-a"));
        Assert.Equal(0, w.AppendOomKills(kills, "boot-a"));   // the same records again: nothing new
        Assert.Equal(1, w.AppendOomKills(kills.Take(1), "boot-b")); // another boot: sequence numbers restart
        Assert.Equal(2012UL, w.LastKmsgSequence("boot-a"));
        Assert.Null(w.LastKmsgSequence("boot-c"));

        List<OomKill> back = w.ReadOomKills(T0, T0.AddSeconds(200));
        Assert.Equal(3, back.Count);
        OomKill hog = back[0];
        Assert.Equal((10275, "hog", 309680UL * 1024, 65152UL * 1024, 1228UL * 1024, 0UL, 176UL * 1024, 0U, 0L),
            (hog.Pid, hog.Command, hog.TotalVmBytes!.Value, hog.AnonRssBytes!.Value, hog.FileRssBytes!.Value, hog.ShmemRssBytes!.Value, hog.PageTablesBytes!.Value, hog.Uid!.Value, hog.OomScoreAdj!.Value));
        Assert.Equal((OomTrigger.MemoryCgroup, "/memscope_t", "/memscope_t", "hog", 0), (hog.Trigger, hog.OomCgroup, hog.TaskCgroup, hog.Invoker, hog.Order!.Value));
        Assert.Equal(T0, hog.Time); // boot + 7000.000200 s, stored to the millisecond
        Assert.Equal(OomKmsg[2], hog.Line);
        OomKill py = back.Single(k => k.Pid == 777);
        Assert.Equal((OomTrigger.Global, 500L, 3145728UL * 1024, "/user.slice", 1000U), (py.Trigger, py.OomScoreAdj!.Value, py.AnonRssBytes!.Value, py.TaskCgroup, py.Uid!.Value));
        Assert.Equal(T0.AddSeconds(100), py.Time);
        // The window filter: only the first kill falls before T0 + 50 s.
        Assert.Equal([10275, 10275], w.ReadOomKills(T0, T0.AddSeconds(50)).Select(k => k.Pid));
    }

    // ------------------------------------------------------------------ doctor and swap over a hand-built recording

    private static Vmstat WithCounters(Vmstat v, params (string Key, ulong Value)[] set) =>
        Vmstat.FromEntries(v.Entries.Select(kv => set.FirstOrDefault(x => x.Key == kv.Key) is { Key: not null } x ? new KeyValuePair<string, ulong>(kv.Key, x.Value) : kv));

    /// <summary>
    /// Seven samples 5 s apart on node_exporter's fixture root: a process "hog" (pid 4242) pushed into swap at
    /// 1000 pages/s (4 MB/s, pswpout), and in the middle an OOM kill of pid 10275 (oom_kill +1, kmsg event).
    /// </summary>
    private string SwapStormRecording()
    {
        string root = Path.Combine(Paths.SharedFixtures, "node_exporter");
        Snapshot baseSnap = new SnapshotCollector(new ProcFs(Path.Combine(root, "proc")), new SysFs(Path.Combine(root, "sys"))).Collect();
        Vmstat vm = baseSnap.System.Vmstat!;
        ulong pswpout = vm["pswpout"]!.Value, oomKills = vm["oom_kill"]!.Value;
        using var w = HistoryStore.OpenForWriting(Db("storm.db"));
        for (int i = 0; i < 7; i++)
        {
            var hog = new ProcessSnapshot
            {
                Pid = 4242, PPid = 1, StartTimeTicks = 1000, Comm = "hog", CommandLine = "hog --eat", State = 'R', Uid = 0, Threads = 1,
                RssBytes = 400_000_000 - (ulong)i * 20_480_000, RssAnonBytes = 390_000_000 - (ulong)i * 20_480_000, SwapBytes = (ulong)i * 20_480_000,
            };
            var idle = new ProcessSnapshot { Pid = 77, PPid = 1, StartTimeTicks = 50, Comm = "idle", CommandLine = "idle", State = 'S', RssBytes = 5_000_000, SwapBytes = 1_000_000, SwapPssBytes = 900_000 };
            var system = baseSnap.System with
            {
                Vmstat = WithCounters(vm, ("pswpout", pswpout + (ulong)i * 5000), ("oom_kill", oomKills + (i >= 4 ? 1UL : 0UL))),
                UptimeSeconds = 7000 + 5 * i,
            };
            w.Append(baseSnap with { Time = T0.AddSeconds(5 * i), MonotonicSeconds = 7000 + 5 * i, System = system, Processes = [hog, idle] });
        }
        var kills = OomLog.Parse(OomKmsg.Take(3), T0.AddSeconds(-7000 + 18)).Select(k => (k, Kmsg.KmsgStream.Sequence(k.Line)!.Value)).ToList();
        w.AppendOomKills(kills, "boot-a");
        w.SetMeta("oom_events", "followed /dev/kmsg");
        return w.Path;
    }

    [Fact]
    public void Doctor_over_a_recorded_swap_storm_names_it_and_the_oom_victim()
    {
        string db = SwapStormRecording();
        using var replay = SnapshotReplay.Open(db);
        DoctorContext c = DoctorReplay.Build(replay, T0.AddSeconds(30), TimeSpan.FromSeconds(30), "en");
        Assert.Equal(7, c.Samples.Count);
        Assert.Equal(30, c.WindowSeconds, 3);
        DoctorReport report = MemScope.Analysis.Doctor.Doctor.Examine(c);
        Finding swap = Assert.Single(report.Findings, f => f.Id == "swap-activity");
        Assert.Equal(Severity.Warning, swap.Severity); // 1000 pages/s × 4 KiB = 3.9 MiB/s: above 1 MiB/s, below 20 MiB/s
        Assert.Contains(swap.Evidence, e => e.Label == "swap out" && e.Value.Contains("1000 pages/s"));
        Assert.Contains(swap.Evidence, e => e.Label == "held by" && e.Value.StartsWith("hog (4242)", StringComparison.Ordinal));
        Finding oom = Assert.Single(report.Findings, f => f.Id == "oom-kill");
        Assert.Equal(Severity.Critical, oom.Severity);
        Assert.Contains(oom.Evidence, e => e.Label == "victim" && e.Value.Contains("hog (pid 10275)") && e.Value.Contains("memory cgroup /memscope_t"));
        Assert.Contains(oom.Evidence, e => e.Label == "during this run" && e.Value == "1");
        Assert.StartsWith($"replay of {db}: 7 sample(s)", report.Replay);

        // A window that ends before the kill: the event is outside it, the counter did not move.
        DoctorReport early = MemScope.Analysis.Doctor.Doctor.Examine(DoctorReplay.Build(replay, T0.AddSeconds(15), TimeSpan.FromSeconds(15), "en"));
        Assert.DoesNotContain(early.Findings, f => f.Id == "oom-kill" && f.Severity == Severity.Critical);
        Assert.DoesNotContain(early.Findings.SelectMany(f => f.Evidence), e => e.Label == "victim");
    }

    [Fact]
    public void Doctor_over_a_long_window_reads_a_bounded_even_spread_keeping_the_first_and_last_sample()
    {
        string db = SwapStormRecording();
        using var replay = SnapshotReplay.Open(db);
        DoctorContext c = DoctorReplay.Build(replay, T0.AddSeconds(30), TimeSpan.FromSeconds(30), "en", maxSamples: 4);
        // 7 samples at 0,5,..,30 s; 4 spread evenly: indices 0, 2, 4, 6.
        Assert.Equal([T0, T0.AddSeconds(10), T0.AddSeconds(20), T0.AddSeconds(30)], c.Samples.Select(s => s.Time));
        Assert.StartsWith($"replay of {db}: 4 sample(s) (spread evenly over the 7 recorded)", c.ReplayOf);
        Finding oom = Assert.Single(MemScope.Analysis.Doctor.Doctor.Examine(c).Findings, f => f.Id == "oom-kill");
        Assert.Equal(Severity.Critical, oom.Severity);
        Assert.Equal(Enumerable.Range(0, 120).Select(i => i * 1000), DoctorReplay.Spread(Enumerable.Range(0, 119_001).ToList(), 120));
        Assert.Equal([0, 1, 2], DoctorReplay.Spread([0, 1, 2], 120));
    }

    [Fact]
    public void Report_lists_each_recorded_oom_victim_in_json_text_and_markdown()
    {
        string db = SwapStormRecording();
        CliResult r = CliRun.Run("report", "--db", db, "--json", "--no-doctor");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        JsonElement v = Assert.Single(doc.RootElement.GetProperty("oom_victims").EnumerateArray().ToList());
        Assert.Equal((10275, "hog", 65152L * 1024, "/memscope_t", true), (v.GetProperty("pid").GetInt32(), v.GetProperty("command").GetString(),
            v.GetProperty("anon_rss_bytes").GetInt64(), v.GetProperty("cgroup").GetString(), v.GetProperty("cgroup_limit").GetBoolean()));
        Assert.Equal(T0.AddSeconds(18), v.GetProperty("time").GetDateTimeOffset(), TimeSpan.FromSeconds(1));
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("oom_victims_unavailable").ValueKind);
        Assert.Equal(1UL, doc.RootElement.GetProperty("oom_kills").GetUInt64());

        string text = CliRun.Run("report", "--db", db, "--no-doctor").Stdout;
        string oomText = text[text.IndexOf("OOM kills", StringComparison.Ordinal)..];
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(oomText, @"10275\s+hog\s+63\.\d+ ?MiB\s+/memscope_t \(its limit\)"), oomText);
        Assert.DoesNotContain("counter only", oomText);
        string md = CliRun.Run("report", "--db", db, "--markdown", "--no-doctor").Stdout;
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(md, @"\| 10275 \| hog \| 63\.\d+ ?MiB \| /memscope_t \(its limit\) \|"), md);
    }

    [Fact]
    public void Report_over_a_schema_1_recording_falls_back_to_the_counter_and_says_so()
    {
        CreateV1Recording(Db(), Meminfo.Read(Path.Combine(ProcfsRoot, "meminfo")), samples: 3);
        CliResult r = CliRun.Run("report", "--db", Db(), "--json", "--no-doctor");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("oom_victims").ValueKind);
        Assert.Contains("schema 1", doc.RootElement.GetProperty("oom_victims_unavailable").GetString());
        Assert.Contains("From the /proc/vmstat oom_kill counter only, victims unknown: OOM kill events are not in the recording (schema 1 recording)",
            CliRun.Run("report", "--db", Db(), "--no-doctor").Stdout);
    }

    [Fact]
    public void Report_runs_the_replay_doctor_over_its_window()
    {
        string db = SwapStormRecording();
        CliResult r = CliRun.Run("report", "--db", db, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        JsonElement oom = doc.RootElement.GetProperty("findings").EnumerateArray().Single(f => f.GetProperty("id").GetString() == "oom-kill");
        Assert.Equal("critical", oom.GetProperty("severity").GetString());
        // The victim comes from the recorded kernel-log event, which only DoctorReplay's context carries.
        Assert.Contains(oom.GetProperty("evidence").EnumerateArray(), e => e.GetString()!.Contains("hog (pid 10275)"));
    }

    [Fact]
    public void Unrecorded_sources_skip_their_rules_with_a_reason()
    {
        string db = SwapStormRecording();
        using var replay = SnapshotReplay.Open(db);
        DoctorReport report = MemScope.Analysis.Doctor.Doctor.Examine(DoctorReplay.Build(replay, T0.AddSeconds(30), TimeSpan.FromSeconds(30), "en"));
        var skipped = report.Skipped.ToDictionary(s => s.Id, s => s.Reason);
        Assert.Equal("memory cgroups are not in the recording", skipped["cgroup-limit"]);
        Assert.Contains("not in the recording", skipped["account-gap"]);
        Assert.StartsWith("per-cache figures (/proc/slabinfo) are not in the recording", skipped["slab"]);
        Assert.StartsWith("O_DIRECT readers (/proc/PID/fdinfo) are not in the recording", skipped["cache-thrash"]);
        // node_exporter's meminfo has a large Shmem: the shmem rule finds it from meminfo, and its finding says what it could not look at.
        Finding shmem = Assert.Single(report.Findings, f => f.Id == "shmem");
        Assert.Contains(shmem.Evidence, e => e.Label == "not recorded" && e.Value == "tmpfs mounts and SysV segments are not in the recording");
        Assert.False(skipped.ContainsKey("shmem"));
        // Recorded sources are examined, not skipped.
        Assert.False(skipped.ContainsKey("watermark"));
        Assert.False(skipped.ContainsKey("swap-activity"));
    }

    [Fact]
    public void Doctor_over_a_v1_recording_says_which_sources_it_lacks()
    {
        CreateV1Recording(Db(), Meminfo.Read(Path.Combine(ProcfsRoot, "meminfo")), samples: 4);
        using var replay = SnapshotReplay.Open(Db());
        DoctorReport report = MemScope.Analysis.Doctor.Doctor.Examine(DoctorReplay.Build(replay, T0.AddSeconds(15), TimeSpan.FromSeconds(15), "en"));
        var skipped = report.Skipped.ToDictionary(s => s.Id, s => s.Reason);
        Assert.Equal("/proc/zoneinfo is not in the recording (schema 1 recording)", skipped["watermark"]);
        Assert.Equal("vm sysctls (overcommit_memory) are not in the recording (schema 1 recording)", skipped["overcommit"]);
        Assert.Equal("/proc/zoneinfo is not in the recording (schema 1 recording)", skipped["numa-imbalance"]);
    }

    private static MemoryCgroup Cg(CgroupVersion v, string path, ulong usage, ulong? limit, ulong? swap, ulong? failcnt, CgroupMemoryEvents? events = null) => new()
    {
        Version = v, Path = path, Directory = "/sys/fs/cgroup/x", UsageBytes = usage, LimitBytes = limit, LimitIsMax = limit is null,
        SwapUsageBytes = swap, SwapLimitBytes = v == CgroupVersion.V2 ? null : 1UL << 30, SwapLimitIsMax = v == CgroupVersion.V2,
        Failcnt = failcnt, OomKills = events?.OomKill ?? (v == CgroupVersion.V1 ? 3UL : null), Events = events,
    };

    [Fact]
    public void Memory_cgroups_round_trip_and_feed_the_doctor_cgroup_rule()
    {
        Snapshot s = ProcfsSnapshot();
        var before = new List<MemoryCgroup>
        {
            Cg(CgroupVersion.V1, "/", 5_000_000_000, null, 0, 0),
            Cg(CgroupVersion.V1, "/memscope_t", 190_000_000, 200_000_000, 50_000_000, 10),
            Cg(CgroupVersion.V2, "/system.slice/db.service", 1_000_000_000, 4_000_000_000, null, null, new CgroupMemoryEvents(0, 5, 7, 0, 0, null)),
        };
        var after = new List<MemoryCgroup>
        {
            Cg(CgroupVersion.V1, "/", 5_100_000_000, null, 0, 0),
            Cg(CgroupVersion.V1, "/memscope_t", 198_000_000, 200_000_000, 80_000_000, 25),
            Cg(CgroupVersion.V2, "/system.slice/db.service", 1_000_000_000, 4_000_000_000, null, null, new CgroupMemoryEvents(0, 5, 7, 0, 0, null)),
        };
        using (var w = HistoryStore.OpenForWriting(Db()))
        {
            w.Append(s with { Time = T0, MonotonicSeconds = 100, System = s.System with { MemoryCgroups = before } });
            w.Append(s with { Time = T0.AddSeconds(10), MonotonicSeconds = 110, System = s.System with { MemoryCgroups = after } });
            w.Append(s with { Time = T0.AddSeconds(20), MonotonicSeconds = 120, System = s.System with { MemoryCgroups = [] } });
            w.Append(s with { Time = T0.AddSeconds(30), MonotonicSeconds = 130, System = s.System with { MemoryCgroups = null } });
        }
        using var replay = SnapshotReplay.Open(Db());
        HistoryStore r = replay.Store;
        IReadOnlyList<MemoryCgroup> back = r.Read(2).System.MemoryCgroups!;
        Assert.Equal(3, back.Count);
        foreach (MemoryCgroup a in after)
        {
            MemoryCgroup b = back.Single(x => x.Version == a.Version && x.Path == a.Path);
            Assert.Equal((a.UsageBytes, a.LimitBytes, a.LimitIsMax, a.SwapUsageBytes, a.SwapLimitBytes, a.SwapLimitIsMax, a.Failcnt, a.OomKills, a.Events),
                (b.UsageBytes, b.LimitBytes, b.LimitIsMax, b.SwapUsageBytes, b.SwapLimitBytes, b.SwapLimitIsMax, b.Failcnt, b.OomKills, b.Events));
        }
        Assert.Empty(r.Read(3).System.MemoryCgroups!);   // read, none there
        Assert.Null(r.Read(4).System.MemoryCgroups);      // not read: unknown, not "none"

        DoctorReport report = MemScope.Analysis.Doctor.Doctor.Examine(DoctorReplay.Build(replay, T0.AddSeconds(10), TimeSpan.FromSeconds(10), "en"));
        Finding cg = Assert.Single(report.Findings, f => f.Id == "cgroup-limit");
        Assert.Equal("Memory cgroup /memscope_t is at its limit", cg.Title.In("en"));
        Assert.Contains(cg.Evidence, e => e.Label == "limit hits in the window" && e.Value == "15");
        Assert.DoesNotContain(report.Skipped, x => x.Id == "cgroup-limit");
        // A window ending at the sample without cgroups: the rule says they were not recorded.
        DoctorReport later = MemScope.Analysis.Doctor.Doctor.Examine(DoctorReplay.Build(replay, T0.AddSeconds(30), TimeSpan.FromSeconds(10), "en"));
        Assert.Equal("memory cgroups are not in the recording", later.Skipped.Single(x => x.Id == "cgroup-limit").Reason);
    }

    [Fact]
    public void Retention_drops_the_cgroup_rows_and_events_of_deleted_samples_but_keeps_the_sysctls_in_effect()
    {
        Snapshot s = ProcfsSnapshot();
        SysVm changed = SysVm.FromValues(s.System.SysVm!.All.Select(kv => kv.Key == "swappiness" ? new KeyValuePair<string, long[]>(kv.Key, [1]) : kv), s.System.SysVm.Texts);
        using var w = HistoryStore.OpenForWriting(Db());
        for (int i = 0; i < 6; i++)
        {
            SysVm? vm = i == 0 ? s.System.SysVm : i == 4 ? changed : null; // stored at samples 1 and 5
            w.Append(s with { Time = T0.AddHours(i), System = s.System with { SysVm = vm, MemoryCgroups = [Cg(CgroupVersion.V1, "/a", 1000 + (ulong)i, 2000, 0, 0)] } });
        }
        // One kill at T0 + 30 min (sample 1's hour) and one at T0 + 3 h 30 min.
        var kills = OomLog.Parse(OomKmsg, T0.AddSeconds(-7000).AddMinutes(30)).Select(k => (k, Kmsg.KmsgStream.Sequence(k.Line)!.Value)).ToList();
        w.AppendOomKills([kills[0]], "boot-a");
        w.AppendOomKills(OomLog.Parse(OomKmsg, T0.AddSeconds(-7100).AddMinutes(210)).Skip(1).Select(k => (k, Kmsg.KmsgStream.Sequence(k.Line)!.Value)), "boot-a");
        Assert.Equal(2, w.ReadOomKills().Count);

        var result = w.EnforceRetention(new RetentionPolicy(TimeSpan.FromHours(2.5), null), T0.AddHours(5)); // keeps 03:00, 04:00, 05:00
        Assert.Equal(3, result.SamplesDeleted);
        Assert.Equal([777], w.ReadOomKills().Select(k => k.Pid));              // the 00:30 kill went with its samples
        List<SampleInfo> left = w.ListSamples();
        Assert.Equal([4L, 5, 6], left.Select(x => x.Id));
        Assert.Equal([60L, 1, 1], left.Select(x => w.Read(x.Id).System.SysVm!.Swappiness!.Value)); // sample 4 still has sample 1's sysctls
        Assert.Equal([1003UL, 1004, 1005], left.Select(x => w.Read(x.Id).System.MemoryCgroups!.Single().UsageBytes!.Value));
        using var c = new SqliteConnection($"Data Source={Db()};Pooling=False;Mode=ReadOnly");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT (SELECT COUNT(*) FROM cgroup_samples) || ',' || (SELECT group_concat(first_sample_id) FROM sysctls)";
        Assert.Equal("3,1,5", cmd.ExecuteScalar());
    }

    [Fact]
    public void Retention_forgets_cgroup_paths_no_kept_sample_refers_to()
    {
        Snapshot s = ProcfsSnapshot();
        using var w = HistoryStore.OpenForWriting(Db());
        for (int i = 0; i < 6; i++)
        {
            // a container's cgroup that lived for the first three hours, and one that stays
            MemoryCgroup[] groups = i < 3
                ? [Cg(CgroupVersion.V1, "/docker/gone", 10, null, 0, 0), Cg(CgroupVersion.V1, "/system.slice", 20, null, 0, 0)]
                : [Cg(CgroupVersion.V1, "/system.slice", 20 + (ulong)i, null, 0, 0)];
            w.Append(s with { Time = T0.AddHours(i), System = s.System with { MemoryCgroups = groups } });
        }
        Assert.Equal("/docker/gone,/system.slice", CgroupPaths());

        Assert.Equal(3, w.EnforceRetention(new RetentionPolicy(TimeSpan.FromHours(2.5), null), T0.AddHours(5)).SamplesDeleted);
        Assert.Equal("/system.slice", CgroupPaths());
        // a path seen again later gets a new row and reads back
        w.Append(s with { Time = T0.AddHours(6), System = s.System with { MemoryCgroups = [Cg(CgroupVersion.V1, "/docker/gone", 30, null, 0, 0)] } });
        Assert.Equal("/docker/gone,/system.slice", CgroupPaths());
        Assert.Equal(30UL, w.Read(w.ListSamples()[^1].Id).System.MemoryCgroups!.Single().UsageBytes);

        string CgroupPaths()
        {
            using var c = new SqliteConnection($"Data Source={Db()};Pooling=False;Mode=ReadOnly");
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "SELECT group_concat(path) FROM (SELECT path FROM cgroups ORDER BY path)";
            return (string)cmd.ExecuteScalar()!;
        }
    }

    [Fact]
    public void Cli_doctor_and_swap_replay_read_nothing_live()
    {
        string db = SwapStormRecording();
        string empty = Path.Combine(_dir, "empty-root");
        Directory.CreateDirectory(empty);
        string at = T0.AddSeconds(30).ToString("O");

        CliResult d = CliRun.Run("--proc-root", empty, "--sys-root", empty, "doctor", "--db", db, "--at", at, "--duration", "30s", "--json");
        Assert.True(d.ExitCode == 2, $"doctor exit {d.ExitCode}: {d.Stderr}");
        using (JsonDocument doc = JsonDocument.Parse(d.Stdout))
        {
            JsonElement root = doc.RootElement;
            Assert.Equal(7, root.GetProperty("samples").GetInt32());
            Assert.StartsWith($"replay of {db}", root.GetProperty("replay").GetString());
            var ids = root.GetProperty("findings").EnumerateArray().Select(f => f.GetProperty("id").GetString()).ToList();
            Assert.Contains("swap-activity", ids);
            Assert.Contains("oom-kill", ids);
            Assert.Contains(root.GetProperty("skipped").EnumerateArray(), s => s.GetProperty("id").GetString() == "cgroup-limit"
                && s.GetProperty("reason").GetString() == "memory cgroups are not in the recording");
        }
        CliResult text = CliRun.Run("--proc-root", empty, "--sys-root", empty, "doctor", "--db", db, "--at", at, "--duration", "30s");
        Assert.StartsWith($"Replay: {db}: 7 sample(s)", text.Stdout);
        Assert.Contains("[CRITICAL] oom-kill", text.Stdout);

        CliResult s = CliRun.Run("--proc-root", empty, "--sys-root", empty, "swap", "--db", db, "--at", at, "--json");
        Assert.True(s.ExitCode == 0, $"swap exit {s.ExitCode}: {s.Stderr}");
        using (JsonDocument doc = JsonDocument.Parse(s.Stdout))
        {
            JsonElement root = doc.RootElement;
            Assert.Equal(5.0, root.GetProperty("interval_seconds").GetDouble(), 3);
            Assert.Equal(1000.0 * 4096, root.GetProperty("reclaim").GetProperty("swap_out_bytes_per_sec").GetDouble(), 1);
            var procs = root.GetProperty("processes").EnumerateArray().ToList();
            Assert.Equal(4242, procs[0].GetProperty("pid").GetInt32());
            Assert.Equal(6 * 20_480_000L, procs[0].GetProperty("swap_bytes").GetInt64());
            Assert.Equal(JsonValueKind.Null, procs[0].GetProperty("swap_pss_bytes").ValueKind); // not recorded for hog: unknown, not 0
            Assert.Equal(4_096_000.0, procs[0].GetProperty("swap_growth_bytes_per_sec").GetDouble(), 1);
            Assert.Equal(900_000, procs[1].GetProperty("swap_pss_bytes").GetInt64());
            Assert.Equal("/dev/zram0", root.GetProperty("devices")[0].GetProperty("filename").GetString());
            Assert.Equal(8388604L * 1024, root.GetProperty("devices")[0].GetProperty("size_bytes").GetInt64());
        }
        CliResult watch = CliRun.Run("swap", "--db", db, "--watch");
        Assert.Equal(2, watch.ExitCode);
        Assert.Contains("--watch follows the live system", watch.Stderr);
    }
}
