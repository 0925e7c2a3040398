using System.Globalization;
using System.Text;

namespace MemScope.TestSupport;

/// <summary>One sample of a Prometheus text exposition.</summary>
public sealed record PromSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>A small, strict reader of the Prometheus text format for tests (HELP/TYPE lines and samples).</summary>
public static class PromText
{
    public static List<PromSample> Parse(string text)
    {
        var samples = new List<PromSample>();
        foreach (string raw in text.Split('\n'))
        {
            if (raw.Length == 0 || raw.StartsWith('#')) continue;
            int i = 0;
            while (i < raw.Length && raw[i] != '{' && raw[i] != ' ') i++;
            string name = raw[..i];
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (i < raw.Length && raw[i] == '{')
            {
                i++;
                while (raw[i] != '}')
                {
                    int eq = raw.IndexOf('=', i);
                    string ln = raw[i..eq];
                    i = eq + 2; // ="
                    var sb = new StringBuilder();
                    while (raw[i] != '"')
                    {
                        if (raw[i] == '\\')
                        {
                            i++;
                            sb.Append(raw[i] switch { 'n' => '\n', '\\' => '\\', '"' => '"', _ => throw new FormatException($"bad escape in: {raw}") });
                        }
                        else sb.Append(raw[i]);
                        i++;
                    }
                    i++; // closing quote
                    labels[ln] = sb.ToString();
                    if (raw[i] == ',') i++;
                }
                i++;
            }
            string valueText = raw[(i + 1)..].Split(' ')[0];
            double v = valueText switch
            {
                "NaN" => double.NaN,
                "+Inf" => double.PositiveInfinity,
                "-Inf" => double.NegativeInfinity,
                _ => double.Parse(valueText, NumberStyles.Float, CultureInfo.InvariantCulture),
            };
            samples.Add(new PromSample(name, labels, v));
        }
        return samples;
    }

    /// <summary>The value of the only sample named <paramref name="name"/>, or null when absent.</summary>
    public static double? Single(IEnumerable<PromSample> samples, string name)
    {
        var found = samples.Where(s => s.Name == name).ToList();
        if (found.Count > 1) throw new InvalidOperationException($"{name} has {found.Count} samples");
        return found.Count == 1 ? found[0].Value : null;
    }
}
