using MemScope.Procfs;

namespace MemScope.Sysfs;

/// <summary>ECC error counts of one chip-select row and its channels (csrowN/chM_*_count, chM_dimm_label).</summary>
public sealed record EdacCsrow(int Index, ulong? CorrectableErrors, ulong? UncorrectableErrors,
    IReadOnlyList<EdacChannel> Channels);

/// <summary>One channel of a csrow; the per-channel UE count exists only on some drivers, so it may be null.</summary>
public sealed record EdacChannel(int Index, ulong? CorrectableErrors, ulong? UncorrectableErrors, string? DimmLabel);

/// <summary>
/// A memory controller's ECC error counters from /sys/devices/system/edac/mc/mcN (Documentation/admin-guide/ras.rst):
/// ce_count/ue_count (corrected/uncorrected), *_noinfo_count (errors not attributable to a row), and per csrow and
/// channel counts. Files a driver does not provide are null.
/// </summary>
public sealed record EdacMemoryController(int Index, ulong? CorrectableErrors, ulong? UncorrectableErrors,
    ulong? CorrectableNoInfo, ulong? UncorrectableNoInfo, IReadOnlyList<EdacCsrow> Csrows)
{
    public static string DirectoryOf(SysFs sys) => sys.PathOf("devices/system/edac/mc");

    /// <summary>Every mcN under the EDAC directory, sorted; empty when EDAC is absent.</summary>
    public static List<EdacMemoryController> ReadAll(SysFs sys)
    {
        var list = new List<EdacMemoryController>();
        string dir = DirectoryOf(sys);
        if (!Directory.Exists(dir)) return list;
        foreach (string d in Directory.EnumerateDirectories(dir, "mc*"))
            if (TryIndex(Path.GetFileName(d), "mc", out int i)) list.Add(Read(d, i));
        list.Sort((a, b) => a.Index.CompareTo(b.Index));
        return list;
    }

    public static EdacMemoryController Read(string directory, int index)
    {
        var rows = new List<EdacCsrow>();
        foreach (string d in Directory.EnumerateDirectories(directory, "csrow*"))
        {
            if (!TryIndex(Path.GetFileName(d), "csrow", out int r)) continue;
            var channels = new List<EdacChannel>();
            for (int ch = 0; ; ch++)
            {
                ulong? ce = Count($"{d}/ch{ch}_ce_count"), ue = Count($"{d}/ch{ch}_ue_count");
                string? label = Text($"{d}/ch{ch}_dimm_label");
                if (ce is null && ue is null && label is null) break;
                channels.Add(new EdacChannel(ch, ce, ue, label));
            }
            rows.Add(new EdacCsrow(r, Count($"{d}/ce_count"), Count($"{d}/ue_count"), channels));
        }
        rows.Sort((a, b) => a.Index.CompareTo(b.Index));
        return new EdacMemoryController(index, Count($"{directory}/ce_count"), Count($"{directory}/ue_count"),
            Count($"{directory}/ce_noinfo_count"), Count($"{directory}/ue_noinfo_count"), rows);
    }

    private static bool TryIndex(string name, string prefix, out int index)
    {
        index = 0;
        return name.StartsWith(prefix, StringComparison.Ordinal) && name.Length > prefix.Length
            && int.TryParse(name.AsSpan(prefix.Length), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out index);
    }

    private static ulong? Count(string path)
    {
        try
        {
            long v = SingleNumberFile.Read(path);
            return v < 0 ? null : (ulong)v;
        }
        catch (KernelFileException e) when (e.Error is KernelFileError.Gone or KernelFileError.Denied) { return null; }
    }

    private static string? Text(string path)
    {
        try { return KernelFile.ReadAllText(path).Trim(); }
        catch (KernelFileException e) when (e.Error is KernelFileError.Gone or KernelFileError.Denied) { return null; }
    }
}
