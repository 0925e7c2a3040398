using System.Text.Json;
using MemScope.Procfs;

namespace MemScope.Tests.Fixtures.Handlers;

/// <summary>
/// /proc/buddyinfo: "node/zone" → free blocks per order (a list, or {order: count} for the elements procfs asserts),
/// and procfs's "record_zones" {index: zone name}.
/// </summary>
public sealed class BuddyinfoHandler : IFixtureHandler
{
    public bool Handles(FixtureEntry e) => !e.IsDirectory && e.FileName == "buddyinfo";

    public void Check(FixtureEntry e)
    {
        Buddyinfo b = Buddyinfo.Read(new ProcFs(e.ProcRoot!).PathOf("buddyinfo"));
        foreach (var (record, expected) in e.Fields(e.Values))
        {
            if (record == "record_zones")
            {
                foreach (var (index, name) in e.Fields(expected))
                {
                    int i = int.Parse(index);
                    e.Text($"record[{i}]", i < b.Zones.Count ? b.Zones[i].Name : null, name);
                }
                continue;
            }
            string[] p = record.Split('/');
            BuddyinfoZone? z = b.Zone(int.Parse(p[0]), p[1]);
            if (z is null) { e.Fail(record, "zone not found"); continue; }
            if (expected.ValueKind == JsonValueKind.Array)
                e.NumberList(record, z.FreeBlocks.Select(x => (long)x).ToList(), expected);
            else
                foreach (var (order, count) in e.Fields(expected))
                {
                    int o = int.Parse(order);
                    e.Number($"{record}[{o}]", o < z.FreeBlocks.Length ? z.FreeBlocks[o] : null, count);
                }
        }
        if (e.Json.TryGetProperty("exhaustive", out JsonElement ex) && ex.ValueKind == JsonValueKind.True)
            e.True("count", b.Zones.Count == e.Values!.Value.EnumerateObject().Count(), $"{b.Zones.Count} zones parsed");
    }
}
