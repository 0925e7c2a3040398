using System.Globalization;
using System.Text;

namespace MemScope.Export;

/// <summary>Prometheus metric type as written on a <c># TYPE</c> line.</summary>
public enum MetricType { Gauge, Counter, Untyped }

/// <summary>
/// Writes the Prometheus text exposition format 0.0.4 (what Prometheus, promtool and node_exporter speak):
/// one <c># HELP</c> and <c># TYPE</c> line per family, then its samples. HELP text escapes <c>\</c> and newline;
/// label values escape <c>\</c>, <c>"</c> and newline. Values are integers where exact, shortest round-trip doubles
/// otherwise, and <c>NaN</c>/<c>+Inf</c>/<c>-Inf</c> as the format spells them. Each family must be written in one
/// block (the format forbids a family appearing twice); <see cref="BeginFamily"/> enforces it.
/// </summary>
public sealed class PrometheusTextWriter
{
    /// <summary>The Content-Type a scrape response carries.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly StringBuilder _sb;
    private readonly HashSet<string> _families = new(StringComparer.Ordinal);
    private string? _current;

    public PrometheusTextWriter(StringBuilder? sb = null) => _sb = sb ?? new StringBuilder(16 * 1024);

    public void BeginFamily(string name, MetricType type, string help)
    {
        if (!IsValidMetricName(name)) throw new ArgumentException($"invalid metric name '{name}'", nameof(name));
        if (!_families.Add(name)) throw new InvalidOperationException($"metric family '{name}' written twice");
        _current = name;
        _sb.Append("# HELP ").Append(name).Append(' ');
        AppendEscaped(_sb, help, escapeQuote: false);
        _sb.Append('\n');
        _sb.Append("# TYPE ").Append(name).Append(' ').Append(type switch
        {
            MetricType.Gauge => "gauge",
            MetricType.Counter => "counter",
            _ => "untyped",
        }).Append('\n');
    }

    /// <summary>A sample of the current family. Labels are (name, value) pairs; names must be valid label names.</summary>
    public void Sample(double value, params ReadOnlySpan<(string Name, string Value)> labels) => SampleCore(value, null, labels);

    public void Sample(ulong value, params ReadOnlySpan<(string Name, string Value)> labels) => SampleCore(null, value, labels);

    private void SampleCore(double? d, ulong? u, ReadOnlySpan<(string Name, string Value)> labels)
    {
        if (_current is null) throw new InvalidOperationException("Sample before BeginFamily");
        _sb.Append(_current);
        if (labels.Length > 0)
        {
            _sb.Append('{');
            for (int i = 0; i < labels.Length; i++)
            {
                if (!IsValidLabelName(labels[i].Name)) throw new ArgumentException($"invalid label name '{labels[i].Name}'");
                if (i > 0) _sb.Append(',');
                _sb.Append(labels[i].Name).Append("=\"");
                AppendEscaped(_sb, labels[i].Value, escapeQuote: true);
                _sb.Append('"');
            }
            _sb.Append('}');
        }
        _sb.Append(' ');
        if (u is ulong uv) _sb.Append(uv.ToString(CultureInfo.InvariantCulture));
        else _sb.Append(FormatDouble(d!.Value));
        _sb.Append('\n');
    }

    public override string ToString() => _sb.ToString();

    public static string FormatDouble(double v)
    {
        if (double.IsNaN(v)) return "NaN";
        if (double.IsPositiveInfinity(v)) return "+Inf";
        if (double.IsNegativeInfinity(v)) return "-Inf";
        if (v == Math.Floor(v) && Math.Abs(v) < 9.007199254740992e15) return ((long)v).ToString(CultureInfo.InvariantCulture);
        return v.ToString("R", CultureInfo.InvariantCulture);
    }

    private static void AppendEscaped(StringBuilder sb, string s, bool escapeQuote)
    {
        foreach (char c in s)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '"' when escapeQuote: sb.Append("\\\""); break;
                default:
                    // Other control characters are legal but unreadable; a label from argv must not break a line.
                    if (char.IsControl(c)) sb.Append(' ');
                    else sb.Append(c);
                    break;
            }
        }
    }

    /// <summary>[a-zA-Z_:][a-zA-Z0-9_:]*</summary>
    public static bool IsValidMetricName(string name)
    {
        if (name.Length == 0) return false;
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            bool ok = char.IsAsciiLetter(c) || c == '_' || c == ':' || (i > 0 && char.IsAsciiDigit(c));
            if (!ok) return false;
        }
        return true;
    }

    /// <summary>[a-zA-Z_][a-zA-Z0-9_]*, not starting with __ (reserved).</summary>
    public static bool IsValidLabelName(string name)
    {
        if (name.Length == 0 || name.StartsWith("__", StringComparison.Ordinal)) return false;
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            bool ok = char.IsAsciiLetter(c) || c == '_' || (i > 0 && char.IsAsciiDigit(c));
            if (!ok) return false;
        }
        return true;
    }

    /// <summary>Replaces every character a metric name cannot hold by '_' (as node_exporter does for odd keys).</summary>
    public static string SanitizeMetricName(ReadOnlySpan<char> s)
    {
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            sb.Append(char.IsAsciiLetterOrDigit(c) || c == '_' || c == ':' ? c : '_');
        }
        if (sb.Length > 0 && char.IsAsciiDigit(sb[0])) sb.Insert(0, '_');
        return sb.ToString();
    }
}
