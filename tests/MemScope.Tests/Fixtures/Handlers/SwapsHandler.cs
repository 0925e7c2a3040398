using System.Text.Json;
using MemScope.Procfs;

namespace MemScope.Tests.Fixtures.Handlers;

/// <summary>/proc/swaps: one record per area; Size/Used are kB in the file, bytes in our record.</summary>
public sealed class SwapsHandler : IFixtureHandler
{
    public bool Handles(FixtureEntry e) => !e.IsDirectory && e.FileName == "swaps";

    public void Check(FixtureEntry e)
    {
        Swaps s = Swaps.Read(new ProcFs(e.ProcRoot!).PathOf("swaps"));
        foreach (var (file, fields) in e.Fields(e.Values))
        {
            SwapArea? a = s.Areas.SingleOrDefault(x => x.Filename == file);
            if (a is null) { e.Fail(file, "area not found"); continue; }
            foreach (var (field, expected) in e.Fields(fields))
            {
                string name = $"{file}.{field}";
                switch (field)
                {
                    case "Type": e.Text(name, a.Type, expected); break;
                    case "Size": e.Number(name, a.SizeBytes, expected, 1024); break;
                    case "Used": e.Number(name, a.UsedBytes, expected, 1024); break;
                    case "Priority": e.Signed(name, a.Priority, expected); break;
                    default: e.NoMapping(name); break;
                }
            }
        }
        int want = e.Json.TryGetProperty("record_count", out JsonElement c) ? c.GetInt32() : e.Values!.Value.EnumerateObject().Count();
        e.True("record_count", s.Areas.Count == want, $"{s.Areas.Count} areas parsed, {want} expected");
    }
}
