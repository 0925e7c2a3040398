using System.Text.Json;
using MemScope.Procfs;

namespace MemScope.Tests.Fixtures.Handlers;

/// <summary>/proc/slabinfo: per cache name, the slabinfo(5) column names; record_count and record_order where given.</summary>
public sealed class SlabinfoHandler : IFixtureHandler
{
    public bool Handles(FixtureEntry e) => !e.IsDirectory && e.FileName == "slabinfo";

    public void Check(FixtureEntry e)
    {
        Slabinfo s = Slabinfo.Read(new ProcFs(e.ProcRoot!).PathOf("slabinfo"));
        foreach (var (cache, fields) in e.Fields(e.Values))
        {
            SlabCache? c = s.Caches.FirstOrDefault(x => x.Name == cache);
            if (c is null) { e.Fail(cache, "cache not found"); continue; }
            foreach (var (field, expected) in e.Fields(fields))
            {
                ulong? v = field switch
                {
                    "active_objs" => c.ActiveObjects, "num_objs" => c.TotalObjects, "objsize" => c.ObjectSizeBytes,
                    "objperslab" => c.ObjectsPerSlab, "pagesperslab" => c.PagesPerSlab, "limit" => c.Limit,
                    "batchcount" => c.BatchCount, "sharedfactor" => c.SharedFactor, "active_slabs" => c.ActiveSlabs,
                    "num_slabs" => c.TotalSlabs, "sharedavail" => c.SharedAvail, _ => null,
                };
                if (v is null) { e.NoMapping($"{cache}.{field}"); continue; }
                e.Number($"{cache}.{field}", v, expected);
            }
        }
        if (e.Json.TryGetProperty("record_count", out JsonElement count))
            e.Number("record_count", (ulong)s.Caches.Count, count);
        if (e.Json.TryGetProperty("record_order", out JsonElement order))
        {
            var want = order.EnumerateArray().Select(x => x.GetString()).ToList();
            e.True("record_order", s.Caches.Take(want.Count).Select(x => x.Name).SequenceEqual(want),
                $"first caches are [{string.Join(", ", s.Caches.Take(want.Count).Select(x => x.Name))}]");
        }
    }
}
