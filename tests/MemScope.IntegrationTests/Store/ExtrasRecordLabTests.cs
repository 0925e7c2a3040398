using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using MemScope.Analysis;
using MemScope.Procfs;
using MemScope.Store;
using MemScope.Sysfs;
using Microsoft.Data.Sqlite;

namespace MemScope.IntegrationTests.Store;

/// <summary>
/// Recording schema 4 on the live machine: `memscope record` runs while the tmpfs lab holds a file in /dev/shm and the
/// test holds a SysV segment; the recording must hold that segment exactly, the lab's tmpfs usage, /proc/slabinfo's
/// caches (root) and this test process's memory cgroup, and the replayed `slab` and `ps --cgroup` must show them with
/// nothing live readable. Root only (slabinfo is 0400); a few seconds, a 32 MiB file and an 8 MiB segment.
/// </summary>
public sealed class ExtrasRecordLabTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "memscope-extras-lab-" + Guid.NewGuid().ToString("N"));

    public ExtrasRecordLabTests() => Directory.CreateDirectory(Path.Combine(_dir, "empty"));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int shmget(int key, nuint size, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int shmctl(int id, int cmd, IntPtr buf);

    private const int IpcCreat = 0x200, IpcExcl = 0x400, IpcRmid = 0;

    /// <summary>
    /// SysV segments have no names, so ours is marked by its key: "MS" (0x4d53) and the low 16 bits of our pid. A
    /// segment left with that key by a crashed run of this test is removed first.
    /// </summary>
    private static int SegmentKey => 0x4d530000 | (Environment.ProcessId & 0xffff);

    private static void RemoveSegment(int key)
    {
        int stale = shmget(key, 0, 0);
        if (stale >= 0) shmctl(stale, IpcRmid, IntPtr.Zero);
    }

    [SkippableFact]
    public void Record_during_a_tmpfs_lab_and_a_sysv_segment_stores_them_slabinfo_and_cgroups_exactly()
    {
        TestEnv.RequireRoot("reads /proc/slabinfo (0400) and writes /dev/shm");
        TestEnv.Require(File.Exists("/proc/sysvipc/shm"), "SysV IPC (/proc/sysvipc/shm)");
        string db = Path.Combine(_dir, "rec.db");
        string empty = Path.Combine(_dir, "empty");
        int key = SegmentKey;
        RemoveSegment(key);
        const uint segmentBytes = 8u << 20;
        int shmId = shmget(key, segmentBytes, IpcCreat | IpcExcl | 0x180); // 0600
        Assert.True(shmId >= 0, $"shmget failed: errno {Marshal.GetLastPInvokeError()}");
        long lastSampleMs;
        try
        {
            using (var lab = new LabProcess("lab", "shmem", "--size", "32M", "--hold", "120"))
            {
                using var rec = new RecorderProcess("--db", db, "--interval", "1s", "--top", "3", "-v");
                rec.WaitForSamples(2, TimeSpan.FromSeconds(60));
                TestEnv.Run("kill", "-TERM", rec.Process.Id.ToString(CultureInfo.InvariantCulture));
                Assert.Equal(0, rec.WaitForExit(TimeSpan.FromSeconds(30)));
                lastSampleMs = rec.Samples[^1].UnixMs;
                Assert.Equal(0, lab.Stop());
            }
        }
        finally
        {
            shmctl(shmId, IpcRmid, IntPtr.Zero);
        }
        Assert.Empty(Directory.GetFiles("/dev/shm", "memscope_lab_shmem_*"));

        Slabinfo live = Slabinfo.Read("/proc/slabinfo");
        (int Version, string Path)? ourCgroup = MemoryCgroups.Discover(new ProcFs("/proc"), new SysFs("/sys")).ForProcess(new ProcFs("/proc"), Environment.ProcessId) is var (v, p) ? ((int)v, p) : null;
        using (var store = HistoryStore.OpenForReading(db))
        {
            Assert.Equal(StoreSchema.CurrentVersion, store.SchemaVersion);
            SampleInfo last = store.ListSamples()[^1];

            // The segment exactly as the kernel listed it: our key and id, 8 MiB, created by us, never attached.
            var (_, shm) = store.SharedMemoryAt(last.Id)!.Value;
            SysvShmSegment seg = Assert.Single(shm.SysvSegments!, s => s.Key == key);
            Assert.Equal((shmId, (ulong)segmentBytes, Environment.ProcessId, 0UL, 0u), (seg.ShmId, seg.SizeBytes, seg.CreatorPid, seg.Attached, seg.Uid));
            // /dev/shm held at least the lab's 32 MiB while recording (others' files may add to it).
            TmpfsUsage devShm = Assert.Single(shm.Tmpfs!, t => t.MountPoint == "/dev/shm");
            Assert.InRange(devShm.UsedBytes, 32L << 20, long.MaxValue);

            // slabinfo: the same caches the kernel lists now (a cache may come or go in between), figures that add up.
            var (_, slab) = store.SlabinfoAt(last.Id)!.Value;
            Assert.Equal(live.Version, slab.Version);
            var recordedNames = slab.Caches.Select(c => c.Name).ToHashSet();
            Assert.True(live.Caches.Count(c => recordedNames.Contains(c.Name)) >= live.Caches.Count * 9 / 10,
                $"{slab.Caches.Count} caches recorded, {live.Caches.Count} live");
            Assert.All(slab.Caches, c => Assert.True(c.ActiveObjects <= c.TotalObjects && c.ActiveSlabs <= c.TotalSlabs, c.Name));
            SlabCache kmemCache = slab.Caches.Single(c => c.Name == "kmem_cache");
            Assert.Equal(live.Caches.Single(c => c.Name == "kmem_cache").ObjectSizeBytes, kmemCache.ObjectSizeBytes);
            Assert.StartsWith("recorded every 10 s", store.GetMeta(HistoryStore.SlabinfoMeta));

            // This test process's memory cgroup, read when the recorder first saw it.
            Model.ProcessSnapshot us = store.Read(last.Id).Processes.Single(x => x.Pid == Environment.ProcessId);
            Assert.Equal(ourCgroup?.Path, us.MemoryCgroup);
        }

        string at = DateTimeOffset.FromUnixTimeMilliseconds(lastSampleMs).ToString("O", CultureInfo.InvariantCulture);
        CliResult slabReplay = CliRun.Run("--proc-root", empty, "--sys-root", empty, "slab", "--db", db, "--at", at, "--json", "--top", "500");
        Assert.True(slabReplay.ExitCode == 0, slabReplay.Stderr);
        using (JsonDocument doc = JsonDocument.Parse(slabReplay.Stdout))
        {
            Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("unavailable").ValueKind);
            Assert.Contains(doc.RootElement.GetProperty("caches").EnumerateArray(), c => c.GetProperty("name").GetString() == "kmem_cache");
        }
        if (ourCgroup is { } cg)
        {
            CliResult ps = CliRun.Run("--proc-root", empty, "--sys-root", empty, "ps", "--db", db, "--at", at, "--cgroup", "--pid",
                Environment.ProcessId.ToString(CultureInfo.InvariantCulture), "--json");
            Assert.True(ps.ExitCode == 0, ps.Stderr);
            Assert.Contains($"\"memory_cgroup\": {JsonSerializer.Serialize(cg.Path)}", ps.Stdout);
        }
    }
}
