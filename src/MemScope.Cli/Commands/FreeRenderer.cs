using System.Text;
using MemScope.Model;

namespace MemScope.Cli.Commands;

/// <summary>What `free` was asked to show: procps-ng flags.</summary>
internal sealed record FreeOptions
{
    /// <summary>0 default (KiB, kB with --si), 1 bytes, 2 kilo/kibi, 3 mega/mebi, 4 giga/gibi, 5 tera/tebi, 6 peta/pebi.</summary>
    public int Exponent { get; init; }
    public bool Si { get; init; }
    public bool Human { get; init; }
    public bool Wide { get; init; }
    public bool Total { get; init; }
    public bool LowHigh { get; init; }
    public bool Committed { get; init; }
}

/// <summary>
/// Renders <see cref="FreeFigures"/> exactly as procps-ng 4.0.2 `free` does (free.c): a 9-column row label, then
/// 11-wide right-aligned numbers separated by one space. A figure the kernel does not provide prints as "-" where
/// procps would print a silent 0 (for example "shared" on kernels without Shmem).
/// </summary>
internal static class FreeRenderer
{
    private const string Header = "               total        used        free      shared  buff/cache   available";
    private const string WideHeader = "               total        used        free      shared     buffers       cache   available";

    public static string Render(FreeFigures f, FreeOptions o)
    {
        var sb = new StringBuilder(512);
        sb.Append(o.Wide ? WideHeader : Header).Append('\n');
        Row(sb, "Mem:", o, f.TotalBytes, f.UsedBytes, f.FreeBytes, f.SharedBytes);
        if (o.Wide) { Cell(sb, o, f.BuffersBytes); Cell(sb, o, f.CacheBytes); }
        else Cell(sb, o, f.BuffCacheBytes);
        Cell(sb, o, f.AvailableBytes);
        sb.Append('\n');
        if (o.LowHigh)
        {
            Row(sb, "Low:", o, f.LowTotalBytes, f.LowUsedBytes, f.LowFreeBytes);
            sb.Append('\n');
            Row(sb, "High:", o, f.HighTotalBytes, f.HighUsedBytes, f.HighFreeBytes);
            sb.Append('\n');
        }
        Row(sb, "Swap:", o, f.SwapTotalBytes, f.SwapUsedBytes, f.SwapFreeBytes);
        sb.Append('\n');
        if (o.Total)
        {
            Row(sb, "Total:", o, Add(f.TotalBytes, f.SwapTotalBytes), Add(f.UsedBytes, f.SwapUsedBytes), Add(f.FreeBytes, f.SwapFreeBytes));
            sb.Append('\n');
        }
        if (o.Committed)
        {
            Row(sb, "Comm:", o, f.CommitLimitBytes, f.CommittedBytes);
            Cell(sb, o, f.CommitFreeBytes);
            sb.Append('\n');
        }
        return sb.ToString();
    }

    private static ulong? Add(ulong? a, ulong? b) => a is ulong x && b is ulong y ? unchecked(x + y) : null;

    private static void Row(StringBuilder sb, string label, FreeOptions o, params ulong?[] values)
    {
        // print_head_col(): the label padded to 9 columns.
        sb.Append(label);
        if (label.Length < 9) sb.Append(' ', 9 - label.Length);
        for (int i = 0; i < values.Length; i++)
        {
            string text = Format(values[i], o);
            if (i > 0) sb.Append(' ');
            sb.Append(text.PadLeft(11));
        }
    }

    private static void Cell(StringBuilder sb, FreeOptions o, ulong? value) => sb.Append(' ').Append(Format(value, o).PadLeft(11));

    private static void Cell(StringBuilder sb, FreeOptions o, long? value) =>
        sb.Append(' ').Append((value is long v ? ProcpsFormat.ScaleSize(v, o.Exponent, o.Si, o.Human) : "-").PadLeft(11));

    private static string Format(ulong? value, FreeOptions o) =>
        value is ulong v ? ProcpsFormat.ScaleSize(unchecked((long)v), o.Exponent, o.Si, o.Human) : "-";
}
