namespace MemScope.Analysis.Doctor.Rules;

/// <summary>watermark: a zone whose free pages are below its low (kswapd) or min (direct reclaim) watermark.</summary>
public sealed class WatermarkRule : IDoctorRule
{
    public string Id => "watermark";

    public IEnumerable<Finding> Evaluate(DoctorContext c)
    {
        var zoneinfo = c.Last.System.Zoneinfo ?? throw new RuleSkipped("/proc/zoneinfo unreadable");
        foreach (var zone in zoneinfo.Zones)
        {
            if (!zone.IsPopulated || zone.Free is not ulong free || zone.Low is not ulong low || zone.Min is not ulong min) continue;
            if (free >= low) continue;
            bool belowMin = free < min;
            double page = c.Last.PageSize;
            yield return new Finding
            {
                Id = Id,
                Severity = belowMin ? Severity.Critical : Severity.Warning,
                Title = ($"Node {zone.Node} zone {zone.Name} is below its {(belowMin ? "min" : "low")} watermark",
                         $"节点 {zone.Node} 的 {zone.Name} 区低于 {(belowMin ? "min" : "low")} 水位线"),
                Evidence =
                [
                    new("free", $"{free} pages ({Format.Bytes(free * page)})", $"/proc/zoneinfo node {zone.Node} {zone.Name} pages free"),
                    new("min / low / high", $"{min} / {low} / {zone.High?.ToString() ?? "?"} pages", "/proc/zoneinfo watermarks"),
                ],
                Explanation = ("Each zone has three watermarks. Below low, kswapd wakes and reclaims in the background until free passes high; below min, every allocation must reclaim directly (a stall), and only atomic allocations may dip further.",
                               "每个 zone 有三条水位线。低于 low 时 kswapd 被唤醒，在后台回收直到空闲页超过 high；低于 min 时，每次分配都必须直接回收（停顿），只有原子分配可以继续使用更低的部分。"),
                Cause = ("Allocations outpace background reclaim.", "分配速度超过了后台回收速度。"),
                Next = ["memscope swap --watch", "memscope vmstat 1 5"],
                Fixes =
                [
                    ("Raise vm.min_free_kbytes or vm.watermark_scale_factor to give kswapd more headroom.", "调高 vm.min_free_kbytes 或 vm.watermark_scale_factor，给 kswapd 更多余量。"),
                    ("Reduce memory demand (see the other findings).", "降低内存需求（见其他发现）。"),
                ],
            };
        }
    }
}
