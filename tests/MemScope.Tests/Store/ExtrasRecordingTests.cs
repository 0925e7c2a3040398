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
/// Schema v4 of the recording: /proc/slabinfo per-cache counters, tmpfs and SysV shared memory, each process's memory
/// cgroup. Exact round trips against the fixtures, the v3 → v4 migration, and the replayed doctor's slab and shmem rules.
/// </summary>
public sealed class ExtrasRecordingTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "memscope-extras-" + Guid.NewGuid().ToString("N"));

    public ExtrasRecordingTests() => Directory.CreateDirectory(_dir);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private string Db(string name = "rec.db") => Path.Combine(_dir, name);

    private static readonly string ProcfsRoot = Path.Combine(Paths.SharedFixtures, "procfs", "proc");
    private static readonly string ShmCapture = Path.Combine(Paths.Captures, "sysvipc", "shm");
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);
    private const ulong GiB = 1UL << 30;

    /// <summary>A fake /proc: every entry of prometheus/procfs's fixture root, plus our capture of /proc/sysvipc/shm.</summary>
    private string FakeProc()
    {
        string root = Path.Combine(_dir, "proc");
        Directory.CreateDirectory(root);
        foreach (string entry in Directory.EnumerateFileSystemEntries(ProcfsRoot))
            File.CreateSymbolicLink(Path.Combine(root, Path.GetFileName(entry)), entry);
        Directory.CreateDirectory(Path.Combine(root, "sysvipc"));
        File.Copy(ShmCapture, Path.Combine(root, "sysvipc", "shm"));
        return root;
    }

    private static Snapshot Base()
    {
        Snapshot s = new SnapshotCollector(new ProcFs(ProcfsRoot), new SysFs(Path.Combine(Paths.SharedFixtures, "procfs", "sys"))).Collect();
        return s with { Time = T0 };
    }

    private static Meminfo With(Meminfo m, params (string Key, ulong Bytes)[] set) =>
        Meminfo.FromEntries(m.Entries.Select(kv => set.FirstOrDefault(x => x.Key == kv.Key) is { Key: not null } x ? new KeyValuePair<string, ulong>(kv.Key, x.Bytes) : kv));

    private static Slabinfo Slab(params (string Name, ulong Slabs)[] caches) => Slabinfo.Parse(
        "slabinfo - version: 2.1\n" + string.Concat(caches.Select(c => $"{c.Name} {c.Slabs * 16} {c.Slabs * 16} 2048 16 8 : tunables 0 0 0 : slabdata {c.Slabs} {c.Slabs} 0\n")),
        "test");

    [Fact]
    public async Task Recorder_on_a_fake_proc_stores_slabinfo_and_sysv_segments_exactly()
    {
        var proc = new ProcFs(FakeProc());
        var sys = new SysFs(Path.Combine(Paths.SharedFixtures, "procfs", "sys"));
        using (var w = HistoryStore.OpenForWriting(Db()))
        {
            var recorder = new Recorder(new SnapshotCollector(proc, sys), w,
                new RecorderOptions { Interval = TimeSpan.FromMilliseconds(100), MaxSamples = 3, ExtrasInterval = TimeSpan.FromHours(1) });
            await recorder.RunAsync(CancellationToken.None);
        }
        Slabinfo expected = Slabinfo.Read(Path.Combine(ProcfsRoot, "slabinfo"));
        using var r = HistoryStore.OpenForReading(Db());
        Assert.Equal(4, r.SchemaVersion);
        Assert.Equal(3, r.SampleCount);
        List<SampleInfo> samples = r.ListSamples();
        // Read once (the extras interval is an hour): the first sample's reading holds for the later ones.
        var (at, slab) = r.SlabinfoAt(samples[2].Id)!.Value;
        Assert.Equal(samples[0].Id, at.Id);
        Assert.Null(r.FirstSlabinfoIn(samples[1].Id, samples[2].Id));
        Assert.Equal("2.1", slab.Version);
        Assert.Equal(300, slab.Caches.Count);
        Assert.Equal(expected.Caches, slab.Caches); // every field of every cache, in order
        // The values prometheus/procfs's slab_test.go asserts for the first cache.
        Assert.Equal(new SlabCache("pid_3", 375, 532, 576, 28, 4, 0, 0, 0, 19, 19, 0), slab.Caches[0]);
        Assert.Contains(slab.Caches, c => c.Name == "iwl_cmd_pool:0000:04:00.0");
        Assert.StartsWith("recorded every 3600 s", r.GetMeta(HistoryStore.SlabinfoMeta));

        var (since, shm) = r.SharedMemoryAt(samples[2].Id)!.Value;
        Assert.Equal(samples[0].Id, since.Id);
        IReadOnlyList<SysvShmSegment> sysv = shm.SysvSegments!;
        Assert.Equal(2, sysv.Count);
        // Our capture (ipcmk-style: an 8 MiB segment with 3 MiB touched and attached once, a 2 MiB one never attached).
        Assert.Equal(new SysvShmSegment(1835363633, 65560, 8388608, 30182, 30182, 1, 0, 3145728, 0), sysv[0]);
        Assert.Equal(new SysvShmSegment(0, 65561, 2097152, 30182, 0, 0, 0, 0, 0), sysv[1]);
        Assert.Equal(SysvShm.Read(ShmCapture), sysv);
    }

    [Fact]
    public async Task A_slabinfo_read_error_is_noted_and_a_later_good_reading_notes_it_recorded_again()
    {
        string root = FakeProc();
        string slabinfo = Path.Combine(root, "slabinfo");
        File.Delete(slabinfo); // the fixture's symlink: a copy we can spoil
        File.Copy(Path.Combine(ProcfsRoot, "slabinfo"), slabinfo);
        var metas = new List<string?>();
        using (var w = HistoryStore.OpenForWriting(Db()))
        {
            var recorder = new Recorder(new SnapshotCollector(new ProcFs(root), new SysFs(Path.Combine(Paths.SharedFixtures, "procfs", "sys"))), w,
                new RecorderOptions { Interval = TimeSpan.FromMilliseconds(100), MaxSamples = 3, ExtrasInterval = TimeSpan.FromMilliseconds(100) });
            await recorder.RunAsync(CancellationToken.None, _ =>
            {
                metas.Add(w.GetMeta(HistoryStore.SlabinfoMeta));
                if (metas.Count == 1) File.WriteAllText(slabinfo, "slabinfo - version: 9.9\nnot a cache line\n"); // a format this reader does not know
                else File.Copy(Path.Combine(ProcfsRoot, "slabinfo"), slabinfo, overwrite: true);
            });
        }
        Assert.Equal(3, metas.Count);
        Assert.Equal("recorded every 0.1 s", metas[0]);
        Assert.StartsWith("unavailable: ", metas[1]);
        Assert.Equal("recorded every 0.1 s", metas[2]); // one bad read does not mark slabinfo unavailable for good
        using var r = HistoryStore.OpenForReading(Db());
        List<SampleInfo> samples = r.ListSamples();
        Assert.Equal(samples[0].Id, r.SlabinfoAt(samples[1].Id)!.Value.At.Id); // sample 2 had no reading of its own
        Assert.Equal(samples[2].Id, r.SlabinfoAt(samples[2].Id)!.Value.At.Id);
    }

    [Fact]
    public void After_a_failed_append_the_next_one_stores_everything_the_rolled_back_one_had_written()
    {
        // The first append writes new counter keys (slab cache names), a cgroup, the shm reading and a process identity,
        // then fails at the process's cgroup lookup: its transaction rolls back. The same sample appended again must be
        // stored whole, not with ids and "unchanged" blobs remembered from the rolled-back transaction.
        Snapshot s = Base() with
        {
            Processes = [new ProcessSnapshot { Pid = 4242, Comm = "worker", StartTimeTicks = 77, CommandLine = "worker --x", State = 'S', RssBytes = 8 << 20 }],
        };
        s = s with { System = s.System with { MemoryCgroups = [new MemoryCgroup { Version = CgroupVersion.V2, Path = "/memscope_t", Directory = "", UsageBytes = 5 << 20 }] } };
        var shm = new SharedMemoryUsage([new TmpfsUsage("/dev/shm", 3 << 20)], []);
        var extras = new SampleExtras { Slabinfo = Slab(("memscope_cache_a", 7)), SharedMemory = shm };
        long id;
        using (var w = HistoryStore.OpenForWriting(Db()))
        {
            Assert.Throws<IOException>(() => w.Append(s, extras: extras with { CgroupOf = _ => throw new IOException("cgroup file vanished") }));
            id = w.Append(s with { Time = T0.AddSeconds(1) }, extras: extras with { CgroupOf = _ => (2, "/memscope_t") });
        }
        using var r = HistoryStore.OpenForReading(Db());
        Assert.Equal(1, r.SampleCount);
        Assert.Equal(shm.Tmpfs, r.SharedMemoryAt(id)!.Value.Usage.Tmpfs);                    // not skipped as "unchanged"
        Assert.Equal("memscope_cache_a", r.SlabinfoAt(id)!.Value.Slab.Caches.Single().Name); // the key exists
        Snapshot back = r.Read(id);
        Assert.Equal("/memscope_t", back.System.MemoryCgroups!.Single().Path);                // the cgroup row exists
        ProcessSnapshot p = Assert.Single(back.Processes);                                   // the identity row exists
        Assert.Equal((4242, "worker --x", "/memscope_t"), (p.Pid, p.CommandLine, p.MemoryCgroup));
    }

    [Fact]
    public void Tmpfs_usage_of_another_root_is_unknown_not_this_machines_statfs()
    {
        // A tree (a container's /host/proc, a capture) whose mounts name /dev/shm: statfs("/dev/shm") would measure
        // THIS machine's /dev/shm and record it as the tree's. The SysV segments come from the tree's own file.
        string root = FakeProc();
        File.WriteAllText(Path.Combine(root, "mounts"), "tmpfs /dev/shm tmpfs rw,nosuid,nodev 0 0\nproc /proc proc rw 0 0\n");
        Assert.True(Directory.Exists("/dev/shm")); // the trap is only there when the path exists here
        SharedMemoryUsage shm = MemScope.Analysis.AccountExtrasReader.ReadSharedMemory(new ProcFs(root));
        Assert.Null(shm.Tmpfs);
        Assert.Equal(SysvShm.Read(ShmCapture), shm.SysvSegments);

        // the live /proc still measures its own mounts
        SharedMemoryUsage live = MemScope.Analysis.AccountExtrasReader.ReadSharedMemory(new ProcFs("/proc"));
        Assert.NotNull(live.Tmpfs);
    }

    [Fact]
    public void Tmpfs_sysv_and_unknown_parts_round_trip_and_are_stored_only_when_changed()
    {
        Snapshot s = Base();
        var a = new SharedMemoryUsage([new TmpfsUsage("/dev/shm", 1_610_612_736), new TmpfsUsage("/run/user/1000 x", 0)],
            [new SysvShmSegment(-1325426745, 7, 2 * GiB, 42, 0, 0, 1000, null, null)]);
        var b = new SharedMemoryUsage(null, []);
        using (var w = HistoryStore.OpenForWriting(Db()))
        {
            w.Append(s, extras: new SampleExtras { SharedMemory = a });
            w.Append(s with { Time = T0.AddSeconds(1) }, extras: new SampleExtras { SharedMemory = a });
            w.Append(s with { Time = T0.AddSeconds(2) }, extras: new SampleExtras { SharedMemory = b });
            w.Append(s with { Time = T0.AddSeconds(3) });
        }
        using var r = HistoryStore.OpenForReading(Db());
        var one = r.SharedMemoryAt(2)!.Value;
        Assert.Equal(1, one.Since.Id); // unchanged at sample 2: not stored again
        Assert.Equal(a.Tmpfs, one.Usage.Tmpfs);
        Assert.Equal(a.SysvSegments, one.Usage.SysvSegments);
        var two = r.SharedMemoryAt(4)!.Value;
        Assert.Equal(3, two.Since.Id);
        Assert.Null(two.Usage.Tmpfs);       // unreadable: unknown, not "none"
        Assert.Empty(two.Usage.SysvSegments!);
        using var c = new SqliteConnection($"Data Source={Db()};Mode=ReadOnly;Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = "SELECT COUNT(*) FROM shm";
        Assert.Equal(2L, cmd.ExecuteScalar());
    }

    [Fact]
    public void A_process_memory_cgroup_is_read_once_per_identity_and_replayed()
    {
        Snapshot s = Base();
        var calls = new List<int>();
        (int, string)? CgroupOf(int pid)
        {
            calls.Add(pid);
            return pid == 4242 ? (1, "/memscope_t") : null;
        }
        ProcessSnapshot P(int pid, string comm) => new() { Pid = pid, StartTimeTicks = 100, Comm = comm, CommandLine = comm, RssBytes = 1_000_000, SwapBytes = 4096 };
        using (var w = HistoryStore.OpenForWriting(Db()))
        {
            for (int i = 0; i < 3; i++)
                w.Append(s with { Time = T0.AddSeconds(i), Processes = [P(4242, "hog"), P(77, "idle")] }, extras: new SampleExtras { CgroupOf = CgroupOf });
        }
        Assert.Equal([4242, 77], calls); // once per identity, not per sample
        using var r = HistoryStore.OpenForReading(Db());
        List<ProcessSnapshot> back = r.Read(3).Processes.ToList();
        Assert.Equal("/memscope_t", back.Single(p => p.Pid == 4242).MemoryCgroup);
        Assert.Null(back.Single(p => p.Pid == 77).MemoryCgroup);
    }

    /// <summary>Three samples 10 s apart: unreclaimable slab at 30% of RAM with kmalloc-2048 growing 2 → 3 → 4 GiB, and 2 GiB of Shmem held by a SysV segment no process maps.</summary>
    private string SlabAndShmRecording(bool withExtras, int slabReadings = 3)
    {
        Snapshot s = Base();
        ulong total = s.System.Meminfo.MemTotal!.Value;
        Meminfo m = With(s.System.Meminfo, ("SUnreclaim", total * 3 / 10), ("Shmem", 2 * GiB), ("MemAvailable", total / 2));
        var shm = new SharedMemoryUsage([new TmpfsUsage("/dev/shm", 1_610_612_736)],
            [new SysvShmSegment(1835363633, 65560, 2 * GiB, 30182, 30182, 0, 0, 2 * GiB, 0)]);
        using var w = HistoryStore.OpenForWriting(Db());
        for (int i = 0; i < 3; i++)
        {
            SampleExtras? extras = withExtras
                ? new SampleExtras { Slabinfo = i < slabReadings ? Slab(("kmalloc-2048", 65536UL * (ulong)(2 + i) / 2), ("dentry", 1000)) : null, SharedMemory = shm }
                : null;
            w.Append(s with { Time = T0.AddSeconds(10 * i), MonotonicSeconds = 100 + 10 * i, System = s.System with { Meminfo = m } }, extras: extras);
        }
        if (withExtras) w.SetMeta(HistoryStore.SlabinfoMeta, "recorded every 10 s");
        return w.Path;
    }

    [Fact]
    public void Doctor_over_a_recording_with_slabinfo_and_shm_names_the_cache_and_the_segment()
    {
        using var replay = SnapshotReplay.Open(SlabAndShmRecording(withExtras: true));
        DoctorContext ctx = DoctorReplay.Build(replay, T0.AddSeconds(20), TimeSpan.FromSeconds(20), "en");
        Assert.False(ctx.PartlyRecorded!.ContainsKey("slab"));
        Assert.False(ctx.PartlyRecorded!.ContainsKey("shmem"));
        DoctorReport report = MemScope.Analysis.Doctor.Doctor.Examine(ctx);
        Finding slab = Assert.Single(report.Findings, f => f.Id == "slab");
        Assert.Equal(Severity.Critical, slab.Severity);
        // 131072 slabs × 8 pages × 4 KiB = 4 GiB, 16 objects per slab; grew 2 GiB over the 20 s window.
        Assert.Contains(slab.Evidence, e => e.Label == "cache kmalloc-2048" && e.Value == "4.0 GiB, 2097152 objects, 102 MiB/s" && e.Source == "/proc/slabinfo");
        Assert.DoesNotContain(slab.Evidence, e => e.Label == "per-cache figures");

        Finding shmem = Assert.Single(report.Findings, f => f.Id == "shmem");
        Assert.Contains(shmem.Evidence, e => e.Label == "SysV segments" && e.Value == "1, 2.0 GiB, 1 unattached");
        Assert.Contains(shmem.Evidence, e => e.Label == "tmpfs /dev/shm" && e.Value == "1.5 GiB");
        Assert.DoesNotContain(shmem.Evidence, e => e.Label == "not recorded");
        Assert.DoesNotContain(report.Skipped, x => x.Id is "slab" or "shmem");
    }

    [Fact]
    public void Slab_growth_is_over_the_time_between_the_readings_not_the_window()
    {
        // Readings at 0 s and 10 s only (2 → 3 GiB); the window ends at 20 s: 1 GiB in 10 s, not in 20 s.
        using var replay = SnapshotReplay.Open(SlabAndShmRecording(withExtras: true, slabReadings: 2));
        DoctorReport report = MemScope.Analysis.Doctor.Doctor.Examine(DoctorReplay.Build(replay, T0.AddSeconds(20), TimeSpan.FromSeconds(20), "en"));
        Finding slab = Assert.Single(report.Findings, f => f.Id == "slab");
        Assert.Contains(slab.Evidence, e => e.Label == "cache kmalloc-2048" && e.Value == "3.0 GiB, 1572864 objects, 102 MiB/s");
    }

    [Fact]
    public void Doctor_without_recorded_slabinfo_says_why()
    {
        string db = SlabAndShmRecording(withExtras: false);
        using (var w = HistoryStore.OpenForWriting(db))
            w.SetMeta(HistoryStore.SlabinfoMeta, "unavailable: the recorder was not root (/proc/slabinfo is readable by root only)");
        using var replay = SnapshotReplay.Open(db);
        DoctorReport report = MemScope.Analysis.Doctor.Doctor.Examine(DoctorReplay.Build(replay, T0.AddSeconds(20), TimeSpan.FromSeconds(20), "en"));
        Finding slab = Assert.Single(report.Findings, f => f.Id == "slab");
        Assert.Contains(slab.Evidence, e => e.Value == "per-cache figures (/proc/slabinfo) were not recorded: the recorder was not root (/proc/slabinfo is readable by root only)");
        Finding shmem = Assert.Single(report.Findings, f => f.Id == "shmem");
        Assert.Contains(shmem.Evidence, e => e.Label == "not recorded" && e.Value == "tmpfs mounts and SysV segments are not in the recording");
    }

    [Fact]
    public void Cli_swap_ps_and_slab_replay_show_the_recorded_cgroup_and_caches_reading_nothing_live()
    {
        Snapshot s = Base();
        ProcessSnapshot Hog(int i) => new()
        {
            Pid = 4242, PPid = 1, StartTimeTicks = 100, Comm = "hog", CommandLine = "hog", State = 'S', Uid = 0,
            RssBytes = 300_000_000, RssAnonBytes = 290_000_000, SwapBytes = 10_000_000 + (ulong)i * 4096,
        };
        using (var w = HistoryStore.OpenForWriting(Db()))
        {
            for (int i = 0; i < 3; i++)
                w.Append(s with { Time = T0.AddSeconds(10 * i), MonotonicSeconds = 100 + 10 * i, Processes = [Hog(i)] }, extras: new SampleExtras
                {
                    Slabinfo = i == 1 ? null : Slab(("kmalloc-2048", i == 0 ? 1000UL : 1500UL), ("dentry", 10)),
                    CgroupOf = pid => pid == 4242 ? (1, "/memscope_t") : null,
                });
        }
        string empty = Path.Combine(_dir, "empty-root");
        Directory.CreateDirectory(empty);
        string at = T0.AddSeconds(20).ToString("O");

        CliResult swap = CliRun.Run("--proc-root", empty, "--sys-root", empty, "swap", "--db", Db(), "--at", at, "--json");
        Assert.True(swap.ExitCode == 0, $"swap exit {swap.ExitCode}: {swap.Stderr}");
        using (JsonDocument doc = JsonDocument.Parse(swap.Stdout))
        {
            JsonElement hog = doc.RootElement.GetProperty("processes")[0];
            Assert.Equal(4242, hog.GetProperty("pid").GetInt32());
            Assert.Equal("/memscope_t", hog.GetProperty("cgroup").GetString());
            Assert.DoesNotContain("cgroup is not recorded", doc.RootElement.GetProperty("replay").GetString());
        }

        CliResult ps = CliRun.Run("--proc-root", empty, "--sys-root", empty, "ps", "--db", Db(), "--at", at, "--cgroup", "--json");
        Assert.True(ps.ExitCode == 0, $"ps exit {ps.ExitCode}: {ps.Stderr}");
        Assert.Contains("\"memory_cgroup\": \"/memscope_t\"", ps.Stdout);

        CliResult slab = CliRun.Run("--proc-root", empty, "--sys-root", empty, "slab", "--db", Db(), "--at", at, "--json");
        Assert.True(slab.ExitCode == 0, $"slab exit {slab.ExitCode}: {slab.Stderr}");
        using (JsonDocument doc = JsonDocument.Parse(slab.Stdout))
        {
            JsonElement first = doc.RootElement.GetProperty("caches")[0];
            Assert.Equal("kmalloc-2048", first.GetProperty("name").GetString());
            Assert.Equal(1500L * 8 * 4096, first.GetProperty("memory_bytes").GetInt64());
            Assert.Equal(24_000L, first.GetProperty("active_objects").GetInt64());
            // 500 slabs × 8 pages × 4 KiB more than the reading 20 s before (the middle sample has none).
            Assert.Equal(500.0 * 8 * 4096 / 20, first.GetProperty("growth_bytes_per_sec").GetDouble(), 1);
            Assert.Equal(JsonValueKind.Null, first.GetProperty("reclaimable").ValueKind);
        }
        CliResult text = CliRun.Run("--proc-root", empty, "--sys-root", empty, "slab", "--db", Db(), "--at", T0.AddSeconds(10).ToString("O"));
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.StartsWith($"Replay: {Db()} at ", text.Stdout);
        Assert.Contains("kmalloc-2048", text.Stdout);
        Assert.Contains("per-cache figures read at", text.Stdout);
    }

    [Fact]
    public void Retention_drops_the_slab_readings_of_deleted_samples_but_keeps_the_shared_memory_reading_in_effect()
    {
        Snapshot s = Base();
        var shm = new SharedMemoryUsage([new TmpfsUsage("/dev/shm", 4096)], []);
        using var w = HistoryStore.OpenForWriting(Db());
        for (int i = 0; i < 6; i++)
            w.Append(s with { Time = T0.AddHours(i) }, extras: new SampleExtras
            {
                Slabinfo = i % 2 == 0 ? Slab(("dentry", 100 + (ulong)i)) : null, // readings at samples 1, 3, 5
                SharedMemory = shm,                                               // stored once, at sample 1
            });
        var result = w.EnforceRetention(new RetentionPolicy(TimeSpan.FromHours(2.5), null), T0.AddHours(5)); // keeps samples 4, 5, 6
        Assert.Equal(3, result.SamplesDeleted);
        Assert.Equal(5, w.SlabinfoAt(6)!.Value.At.Id);
        Assert.Null(w.SlabinfoAt(4));                              // sample 3's reading went with its sample
        Assert.Equal(1, w.SharedMemoryAt(4)!.Value.Since.Id);      // still in effect for the samples left
        Assert.Equal(shm.Tmpfs, w.SharedMemoryAt(6)!.Value.Usage.Tmpfs);
    }

    [Fact]
    public void A_damaged_slab_blob_is_a_clear_store_error()
    {
        Snapshot s = Base();
        using (var w = HistoryStore.OpenForWriting(Db()))
            w.Append(s, extras: new SampleExtras { Slabinfo = Slab(("dentry", 100)) });
        using (var c = new SqliteConnection($"Data Source={Db()};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "UPDATE slabinfo SET caches = substr(caches, 1, length(caches) - 3)";
            cmd.ExecuteNonQuery();
        }
        using var r = HistoryStore.OpenForReading(Db());
        var e = Assert.Throws<StoreException>(() => r.SlabinfoAt(1));
        Assert.Equal(StoreError.Corrupt, e.Error);
        Assert.Contains("damaged counter data", e.Message);
    }

    [Theory]
    // "1.0", then a cache count of 2^32 (an int overflow) / 2^31 - 1 / 100 million, with no caches after it
    [InlineData("03312E30" + "8080808010")]
    [InlineData("03312E30" + "FFFFFFFF07")]
    [InlineData("03312E30" + "80C2D72F")]
    public void A_damaged_count_in_a_slab_blob_is_a_clear_store_error_not_a_huge_allocation(string hex)
    {
        using (var w = HistoryStore.OpenForWriting(Db()))
            w.Append(Base(), extras: new SampleExtras { Slabinfo = Slab(("dentry", 100)) });
        SetBlob("UPDATE slabinfo SET caches = $b", Convert.FromHexString(hex));
        using var r = HistoryStore.OpenForReading(Db());
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<StoreException>(() => r.SlabinfoAt(1));
        Assert.Equal(StoreError.Corrupt, e.Error);
        Assert.Contains("damaged counter data", e.Message);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "allocated a list of the damaged count's size");
    }

    [Fact]
    public void A_damaged_sysv_count_is_a_clear_store_error_and_an_empty_list_is_not_damage()
    {
        var empty = new SharedMemoryUsage([new TmpfsUsage("/dev/shm", 4096)], []);
        using (var w = HistoryStore.OpenForWriting(Db()))
            w.Append(Base(), extras: new SampleExtras { SharedMemory = empty });
        using (var r = HistoryStore.OpenForReading(Db()))
        {
            // an empty SysV list is stored as count + 1 = 1 at the very end of the blob: no byte follows it
            SharedMemoryUsage back = r.SharedMemoryAt(1)!.Value.Usage;
            Assert.Equal(empty.Tmpfs, back.Tmpfs);
            Assert.NotNull(back.SysvSegments);
            Assert.Empty(back.SysvSegments);
        }
        // no tmpfs list, then a SysV count of 2^40
        SetBlob("UPDATE shm SET extras = $b", Convert.FromHexString("00" + "808080808020"));
        using (var again = HistoryStore.OpenForReading(Db()))
            Assert.Equal(StoreError.Corrupt, Assert.Throws<StoreException>(() => again.SharedMemoryAt(1)).Error);
        // one segment whose shmid (zigzag 2^33) does not fit an int
        SetBlob("UPDATE shm SET extras = $b", Convert.FromHexString("00" + "02" + "00" + "8080808040" + "00000000000000"));
        using var third = HistoryStore.OpenForReading(Db());
        var e = Assert.Throws<StoreException>(() => third.SharedMemoryAt(1));
        Assert.Equal(StoreError.Corrupt, e.Error);
        Assert.Contains("damaged counter data", e.Message);
    }

    private void SetBlob(string sql, byte[] blob)
    {
        using var c = new SqliteConnection($"Data Source={Db()};Pooling=False");
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.Parameters.AddWithValue("$b", blob);
        Assert.Equal(1, cmd.ExecuteNonQuery());
    }

    // ------------------------------------------------------------------ v3 → v4

    [Fact]
    public void V3_recording_reads_as_is_and_migrates_to_v4_keeping_every_sample()
    {
        Assert.Equal(4, StoreSchema.CurrentVersion);
        Meminfo meminfo = Meminfo.Read(Path.Combine(ProcfsRoot, "meminfo"));
        LegacyRecording.Create(Db(), meminfo, samples: 4, T0, version: 3);
        using (var replay = SnapshotReplay.Open(Db()))
        {
            HistoryStore r = replay.Store;
            Assert.Equal(3, r.SchemaVersion);
            Assert.Null(r.SlabinfoAt(4));
            Assert.Null(r.SharedMemoryAt(4));
            Assert.Null(r.Read(4).Processes.Single().MemoryCgroup);
            DoctorContext ctx = DoctorReplay.Build(replay, T0.AddSeconds(15), TimeSpan.FromSeconds(15), "en");
            Assert.Equal("per-cache figures (/proc/slabinfo) are not in the recording (schema 3 recording)", ctx.PartlyRecorded!["slab"]);
            Assert.Equal("tmpfs mounts and SysV segments are not in the recording (schema 3 recording)", ctx.PartlyRecorded!["shmem"]);
        }
        SqliteConnection.ClearAllPools();
        Assert.Equal(3, LegacyRecording.SchemaVersionOf(Db())); // a reader leaves the file as it is

        Snapshot s = Base();
        using (var w = HistoryStore.OpenForWriting(Db()))
        {
            Assert.Equal(4, w.SchemaVersion);
            w.Append(s with
            {
                Time = T0.AddSeconds(20),
                Processes = [new ProcessSnapshot { Pid = 4243, StartTimeTicks = 900, Comm = "new", CommandLine = "new", RssBytes = 1 }],
            }, extras: new SampleExtras { Slabinfo = Slab(("dentry", 10)), CgroupOf = _ => (1, "/memscope_t") });
        }
        SqliteConnection.ClearAllPools();
        Assert.Equal(4, LegacyRecording.SchemaVersionOf(Db()));
        using var again = HistoryStore.OpenForReading(Db());
        Assert.Equal(5, again.SampleCount);
        for (int i = 1; i <= 4; i++)
        {
            Snapshot old = again.Read(i);
            Assert.Equal(meminfo.Entries, old.System.Meminfo.Entries);
            ProcessSnapshot hog = old.Processes.Single();
            Assert.Equal(("hog", 100_000_000UL + (ulong)(i - 1) * 4096, 8192UL * (ulong)(i - 1)), (hog.Comm, hog.RssBytes, hog.SwapBytes!.Value));
            Assert.Null(hog.MemoryCgroup); // identities from before v4 have no cgroup
            Assert.Equal(100_000_000UL + (ulong)(i - 1) * 4096, old.System.MemoryCgroups!.Single().UsageBytes);
        }
        // The new identity refers to the cgroup row schema 3 already had.
        Assert.Equal("/memscope_t", again.Read(5).Processes.Single().MemoryCgroup);
        Assert.Equal(5, again.SlabinfoAt(5)!.Value.At.Id);
        Assert.Null(again.SlabinfoAt(4));
    }
}
