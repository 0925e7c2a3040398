using MemScope.Sysfs;

namespace MemScope.Tests.Fixtures.Handlers;

/// <summary>
/// /sys/devices/system/edac/mc/mcN/: controller and csrow/channel ECC counts by their path under mcN. The derived
/// DIMM labels are node_exporter's rewrite of the label file ("mc0csrow0channel0" → "mc0_csrow0_channel0").
/// </summary>
public sealed class EdacHandler : IFixtureHandler
{
    public bool Handles(FixtureEntry e) => e.IsDirectory && e.Segments is [.., "edac", "mc", _];

    public void Check(FixtureEntry e)
    {
        var all = EdacMemoryController.ReadAll(new SysFs(e.SysRoot!));
        int index = int.Parse(e.Segments[^1][2..]);
        EdacMemoryController? mc = all.SingleOrDefault(m => m.Index == index);
        e.True("mc", mc is not null, $"mc{index} not found");
        if (mc is null) return;
        foreach (var (field, expected) in e.Fields(e.Values))
        {
            string[] p = field.Split('/');
            ulong? ours = p switch
            {
                ["ce_count"] => mc.CorrectableErrors,
                ["ue_count"] => mc.UncorrectableErrors,
                ["ce_noinfo_count"] => mc.CorrectableNoInfo,
                ["ue_noinfo_count"] => mc.UncorrectableNoInfo,
                [var row, "ce_count"] => Row(mc, row)?.CorrectableErrors,
                [var row, "ue_count"] => Row(mc, row)?.UncorrectableErrors,
                [var row, var ch] when ch.EndsWith("_ce_count") => Channel(mc, row, ch)?.CorrectableErrors,
                [var row, var ch] when ch.EndsWith("_ue_count") => Channel(mc, row, ch)?.UncorrectableErrors,
                _ => null,
            };
            if (p.Length > 2 || !field.EndsWith("_count")) { e.NoMapping(field); continue; }
            e.Number(field, ours, expected);
        }
        // csrow2 has no chN_ue_count files: those counts must be unknown, not 0.
        foreach (EdacCsrow row in mc.Csrows)
            foreach (EdacChannel ch in row.Channels)
                if (!File.Exists($"{e.FullPath}/csrow{row.Index}/ch{ch.Index}_ue_count"))
                    e.Missing($"csrow{row.Index}/ch{ch.Index}_ue_count", ch.UncorrectableErrors);
        foreach (var (name, expected) in e.Fields(e.Derived))
        {
            if (name != "dimm_label_after_node_exporter_rewrite") { e.NoMapping("derived." + name); continue; }
            foreach (var (path, want) in e.Fields(expected))
            {
                string[] p = path.Split('/');
                string? label = Channel(mc, p[0], p[1])?.DimmLabel;
                e.Text(path, label?.Replace("csrow", "_csrow").Replace("channel", "_channel").Replace("#", ""), want);
            }
        }
    }

    private static EdacCsrow? Row(EdacMemoryController mc, string row) =>
        mc.Csrows.SingleOrDefault(r => $"csrow{r.Index}" == row);

    private static EdacChannel? Channel(EdacMemoryController mc, string row, string file) =>
        Row(mc, row)?.Channels.SingleOrDefault(c => file.StartsWith($"ch{c.Index}_", StringComparison.Ordinal));
}
