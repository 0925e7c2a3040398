using System.Text;

namespace MemScope.Export.Explain;

/// <summary>
/// The one registry of every field and concept MemScope shows (DESIGN.md §10): `memscope explain`, the `--explain`
/// footers of the views and the doctor's finding ids all read it.
/// </summary>
public static class FieldRegistry
{
    public static IReadOnlyList<FieldEntry> All { get; } =
        ConceptEntries.All().Concat(ViewEntries.All()).Concat(KernelEntries.All()).Concat(DoctorEntries.All()).ToList();

    private static readonly Dictionary<string, FieldEntry> ById = All.ToDictionary(e => e.Id, StringComparer.OrdinalIgnoreCase);

    public static FieldEntry? Get(string id) => ById.GetValueOrDefault(id);

    /// <summary>
    /// Finds entries for what a person typed: exact id, then a normalised match of the title or an alias
    /// ("buff/cache", "Buffers", "RES", "oom_adj", "大页"), then a contains match, then a near miss (edit distance ≤ 2).
    /// </summary>
    public static IReadOnlyList<FieldEntry> Find(string term)
    {
        if (Get(term) is { } exact) return [exact];
        string key = Normalise(term);
        if (key.Length == 0) return [];
        var names = All.Select(e => (Entry: e, Names: Names(e).Select(Normalise).Where(n => n.Length > 0).ToList())).ToList();
        var hits = names.Where(x => x.Names.Contains(key)).Select(x => x.Entry).ToList();
        if (hits.Count > 0) return Ordered(hits);
        hits = names.Where(x => x.Names.Any(n => n.Contains(key) || (key.Length >= 4 && key.Contains(n) && n.Length >= 3))).Select(x => x.Entry).ToList();
        if (hits.Count > 0) return Ordered(hits);
        if (key.Length >= 4)
            hits = names.Where(x => x.Names.Any(n => Distance(n, key) <= 2)).Select(x => x.Entry).ToList();
        return Ordered(hits);
    }

    /// <summary>Concepts and view columns first: they are what people usually mean.</summary>
    private static IReadOnlyList<FieldEntry> Ordered(List<FieldEntry> hits) =>
        hits.Distinct().OrderBy(e => Array.IndexOf(Topics.Order, e.Topic)).ToList();

    private static IEnumerable<string> Names(FieldEntry e)
    {
        yield return e.Id;
        yield return e.Id[(e.Id.IndexOf('.') + 1)..];
        yield return e.Title.En;
        yield return e.Title.Zh;
        foreach (string a in e.Aliases) yield return a;
    }

    /// <summary>Lower case, letters and digits only ("buff/cache" → "buffcache", "Active(anon)" → "activeanon"); CJK kept.</summary>
    public static string Normalise(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char ch in s.Trim())
            if (char.IsLetterOrDigit(ch) || ch == '%') sb.Append(char.ToLowerInvariant(ch));
        return sb.ToString();
    }

    private static int Distance(string a, string b)
    {
        if (Math.Abs(a.Length - b.Length) > 2) return 3;
        var d = new int[a.Length + 1, b.Length + 1];
        for (int i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (int j = 0; j <= b.Length; j++) d[0, j] = j;
        for (int i = 1; i <= a.Length; i++)
            for (int j = 1; j <= b.Length; j++)
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
        return d[a.Length, b.Length];
    }
}
