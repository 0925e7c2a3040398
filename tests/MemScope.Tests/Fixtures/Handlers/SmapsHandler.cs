using System.Text.Json;
using MemScope.Procfs;

namespace MemScope.Tests.Fixtures.Handlers;

/// <summary>
/// /proc/PID/smaps. procfs asserts the sums over all mappings (= smaps_rollup); gopsutil asserts each mapping (kB, a
/// field dropped from a block is reported 0 there and must be null here); psutil asserts uss/pss/swap sums in bytes.
/// </summary>
public sealed class SmapsHandler : IFixtureHandler
{
    public bool Handles(FixtureEntry e) => !e.IsDirectory && e.FileName == "smaps";

    public void Check(FixtureEntry e)
    {
        List<SmapsMapping> maps = ProcPidSmaps.Read(e.FullPath);
        if (e.ParseOnlyOrUnasserted)
        {
            int headers = File.ReadAllLines(e.FullPath).Count(l => System.Text.RegularExpressions.Regex.IsMatch(l, "^[0-9a-f]+-[0-9a-f]+ "));
            e.True("count", maps.Count == headers, $"{maps.Count} mappings from {headers} header lines");
            e.True("rss", maps.All(m => m.Fields.Rss is not null && m.Fields.Size is not null), "a mapping without Size/Rss");
            return;
        }
        if (e.Values is { ValueKind: JsonValueKind.Array } list)
        {
            var want = list.EnumerateArray().ToList();
            e.True("count", maps.Count == want.Count, $"{maps.Count} mappings, {want.Count} expected");
            for (int i = 0; i < Math.Min(maps.Count, want.Count); i++)
            {
                foreach (var (field, expected) in e.Fields(want[i]))
                {
                    string name = $"[{i}].{field}";
                    if (field == "path") { e.Text(name, maps[i].Mapping.Path, expected); continue; }
                    ulong? ours = SmapsRollupHandler.Get(maps[i].Fields, field, e);
                    if (ours is null && expected.GetDouble() == 0) e.Missing(name, ours); // dropped line: unknown, not 0
                    else e.Number(name, ours, expected, e.BytesFactor(field));
                }
            }
            return;
        }
        SmapsFields sum = ProcPidSmaps.Sum(maps);
        if (e.Source == "psutil")
        {
            foreach (var (field, expected) in e.Fields(e.Values))
            {
                ulong? ours = field switch { "uss" => sum.Uss, "pss" => sum.Pss, "swap" => sum.Swap, _ => null };
                if (ours is null && field is not ("uss" or "pss" or "swap")) { e.NoMapping(field); continue; }
                e.Number(field, ours, expected);
            }
            return;
        }
        foreach (var (field, expected) in e.Fields(e.Values))
            e.Number($"sum.{field}", SmapsRollupHandler.Get(sum, field, e), expected, e.BytesFactor(field));
        foreach (var (field, expected) in e.Fields(e.ValuesBytes))
            e.Number($"sum.{field} (bytes)", SmapsRollupHandler.Get(sum, field, e), expected);
    }
}
