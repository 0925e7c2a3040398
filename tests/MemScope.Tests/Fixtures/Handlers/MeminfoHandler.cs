using System.Text.Json;
using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.Tests.Fixtures.Handlers;

/// <summary>
/// /proc/meminfo (and renamed samples meminfo_1, meminfo_2) and sysfs node meminfo. Our model holds bytes; expected
/// values are converted by each entry's unit (kB × 1024, bytes as is, HugePages_* counts). psutil entries assert
/// psutil's API names (total, cached = Cached + SReclaimable, ...), mapped below; psutil reports a missing field as 0
/// with a warning, where we must report it unknown (null).
/// </summary>
public sealed class MeminfoHandler : IFixtureHandler
{
    public bool Handles(FixtureEntry e) => !e.IsDirectory && e.FileName.StartsWith("meminfo", StringComparison.Ordinal);

    public void Check(FixtureEntry e)
    {
        Meminfo m = Read(e);
        if (e.Source == "psutil")
        {
            CheckPsutil(e, m);
            return;
        }
        foreach (var (field, expected) in e.Fields(e.Values))
            e.Number(field, m[field], expected, e.BytesFactor(field));
        foreach (var (field, expected) in e.Fields(e.ValuesBytes))
            e.Number(field + " (bytes)", m[field], expected);
        foreach (string field in e.Absent)
            e.Missing(field, m[field]);
        foreach (var (name, expected) in e.Fields(e.Derived))
        {
            switch (name)
            {
                case "Cached_plus_SReclaimable":
                    e.Number(name, m.Cached + m.SReclaimable, expected);
                    break;
                case "Used": // gopsutil: Total - Available (MemAvailable when the kernel has it)
                    e.Number(name, m.MemTotal - m.MemAvailable, expected);
                    break;
                case "UsedPercent":
                    e.Real(name, m.MemTotal is ulong t && m.MemAvailable is ulong a ? (double)(t - a) / t * 100 : null, expected);
                    break;
                default:
                    e.NoMapping("derived." + name);
                    break;
            }
        }
    }

    private static Meminfo Read(FixtureEntry e)
    {
        // Through the injected roots where the file sits at its kernel path.
        if (e.SysRoot is { } sysRoot && e.Segments is [.., "node", var nodeDir, "meminfo"] && nodeDir.StartsWith("node"))
            return NumaNodes.ReadMeminfo(new SysFs(sysRoot), int.Parse(nodeDir[4..]));
        if (e.FileName == "meminfo" && e.ProcRoot is { } procRoot && e.AfterProc == "meminfo")
            return new ProcFs(procRoot).ReadMeminfo();
        return Meminfo.Read(e.FullPath);
    }

    private static void CheckPsutil(FixtureEntry e, Meminfo m)
    {
        foreach (var (field, expected) in e.Fields(e.Values))
        {
            ulong? ours = field switch
            {
                "total" => m.MemTotal,
                "free" => m.MemFree,
                "buffers" => m.Buffers,
                "cached" => m.Cached is ulong c ? c + (m.SReclaimable ?? 0) : null, // psutil: Cached + SReclaimable
                "shared" => m.Shmem,
                "active" => m.Active,
                "inactive" => m.Inactive,
                "slab" => m.Slab,
                // psutil: MemAvailable, else (no zoneinfo / missing fields) MemFree + Cached.
                "available" => m.MemAvailable ?? (e.Key.Contains("test_avail_old_missing") ? m.MemFree + m.Cached : null),
                "SwapTotal" => m.SwapTotal,
                "SwapFree" => m.SwapFree,
                _ => null,
            };
            bool known = field is "total" or "free" or "buffers" or "cached" or "shared" or "active" or "inactive" or "slab"
                or "available" or "SwapTotal" or "SwapFree";
            if (!known) { e.NoMapping(field); continue; }
            if (ours is null && expected.ValueKind == JsonValueKind.Number && expected.GetDouble() == 0)
            {
                // psutil's 0-with-warning for a missing (or negative) field: we must say "unknown", which we did.
                e.Missing(field, ours);
                continue;
            }
            e.Number(field, ours, expected);
        }
    }
}
