using System.Text.Json;
using MemScope.Procfs;

namespace MemScope.Tests.Fixtures.Handlers;

/// <summary>
/// /proc/zoneinfo, records "node/zone". Our parser keeps the 4.8+ "per-node stats" block at node level; the sources
/// attribute it to the node's first zone (DMA), so a counter the zone lacks is looked up in the node block there.
/// </summary>
public sealed class ZoneinfoHandler : IFixtureHandler
{
    public bool Handles(FixtureEntry e) => !e.IsDirectory && e.FileName == "zoneinfo";

    public void Check(FixtureEntry e)
    {
        Zoneinfo zi = Zoneinfo.Read(new ProcFs(e.ProcRoot!).PathOf("zoneinfo"));
        foreach (var (record, fields) in e.Fields(e.Values))
        {
            string[] p = record.Split('/');
            int node = int.Parse(p[0]);
            ZoneinfoZone? z = zi.Zone(node, p[1]);
            if (z is null) { e.Fail(record, "zone not found"); continue; }
            bool firstOfNode = zi.Zones.First(x => x.Node == node) == z;
            foreach (var (field, expected) in e.Fields(fields))
            {
                string name = $"{record}.{field}";
                switch (field)
                {
                    case "min": e.Number(name, z.Min, expected); break;
                    case "low": e.Number(name, z.Low, expected); break;
                    case "high": e.Number(name, z.High, expected); break;
                    case "spanned": e.Number(name, z.Spanned, expected); break;
                    case "present": e.Number(name, z.Present, expected); break;
                    case "managed": e.Number(name, z.Managed, expected); break;
                    case "protection": e.NumberList(name, z.Protection, expected); break;
                    case "nr_free_pages": e.Number(name, z.Counters["nr_free_pages"] ?? z.PagesFree, expected); break;
                    default:
                        ulong? v = z.Counters[field] ?? (firstOfNode ? zi.Node(node)?.Counters[field] : null);
                        e.Number(name, v, expected);
                        break;
                }
            }
        }
        if (e.Json.TryGetProperty("record_order", out JsonElement order))
        {
            var want = order.EnumerateArray().Select(x => x.GetString()).ToList();
            var got = zi.Zones.Select(z => $"{z.Node}/{z.Name}").ToList();
            e.True("record_order", got.SequenceEqual(want), $"got [{string.Join(", ", got)}]");
        }
        if (e.Json.TryGetProperty("record_count", out JsonElement count))
            e.Number("record_count", (ulong)zi.Zones.Count, count);
    }
}
