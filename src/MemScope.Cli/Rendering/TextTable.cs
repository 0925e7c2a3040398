using System.Text;

namespace MemScope.Cli.Rendering;

/// <summary>
/// A plain aligned text table. Widths are measured in terminal columns, so Chinese text (East Asian wide
/// characters, two columns each) stays aligned. Numbers are right-aligned, text left-aligned.
/// </summary>
public sealed class TextTable
{
    private readonly List<string> _headers;
    private readonly bool[] _rightAlign;
    private readonly List<string[]> _rows = [];

    /// <param name="headers">Column titles; prefix a title with '>' to right-align the column.</param>
    public TextTable(params string[] headers)
    {
        _rightAlign = headers.Select(h => h.StartsWith('>')).ToArray();
        _headers = headers.Select(h => h.TrimStart('>')).ToList();
    }

    public int RowCount => _rows.Count;

    public void Add(params string[] cells)
    {
        if (cells.Length != _headers.Count) throw new ArgumentException($"expected {_headers.Count} cells, got {cells.Length}");
        _rows.Add(cells);
    }

    public void Write(TextWriter output, string indent = "", int? lastColumnMaxWidth = null)
    {
        int n = _headers.Count;
        var widths = new int[n];
        for (int c = 0; c < n; c++)
        {
            widths[c] = DisplayWidth.Of(_headers[c]);
            foreach (string[] row in _rows) widths[c] = Math.Max(widths[c], DisplayWidth.Of(row[c]));
        }
        WriteRow(output, indent, _headers.ToArray(), widths);
        foreach (string[] row in _rows) WriteRow(output, indent, row, widths);
    }

    private void WriteRow(TextWriter output, string indent, string[] cells, int[] widths)
    {
        var sb = new StringBuilder(indent);
        for (int c = 0; c < cells.Length; c++)
        {
            bool last = c == cells.Length - 1;
            int pad = widths[c] - DisplayWidth.Of(cells[c]);
            if (_rightAlign[c]) sb.Append(' ', pad).Append(cells[c]);
            else
            {
                sb.Append(cells[c]);
                if (!last) sb.Append(' ', pad);
            }
            if (!last) sb.Append("  ");
        }
        output.WriteLine(sb.ToString().TrimEnd());
    }
}

/// <summary>Terminal column width of text (wcwidth for the ranges that matter: CJK and full-width forms are 2).</summary>
public static class DisplayWidth
{
    public static int Of(string s)
    {
        int width = 0;
        foreach (Rune r in s.EnumerateRunes()) width += Of(r);
        return width;
    }

    public static int Of(Rune r)
    {
        int c = r.Value;
        if (c == 0 || Rune.GetUnicodeCategory(r) is System.Globalization.UnicodeCategory.NonSpacingMark
            or System.Globalization.UnicodeCategory.EnclosingMark or System.Globalization.UnicodeCategory.Format) return 0;
        bool wide =
            (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) || (c >= 0x3041 && c <= 0x33FF) ||
            (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
            (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0xFE30 && c <= 0xFE4F) ||
            (c >= 0xFF00 && c <= 0xFF60) || (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
            (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD);
        return wide ? 2 : 1;
    }

    /// <summary>Pads on the right to <paramref name="width"/> columns.</summary>
    public static string PadRight(string s, int width) => s + new string(' ', Math.Max(0, width - Of(s)));
    public static string PadLeft(string s, int width) => new string(' ', Math.Max(0, width - Of(s))) + s;
}
