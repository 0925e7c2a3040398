using MemScope.Cli.Rendering;
using MemScope.Export.Explain;

namespace MemScope.Tests.Explain;

public class ExplainRegistryTests
{
    [Fact]
    public void Every_entry_has_both_languages_and_a_source()
    {
        Assert.True(FieldRegistry.All.Count >= 140, $"only {FieldRegistry.All.Count} entries");
        foreach (FieldEntry e in FieldRegistry.All)
        {
            Assert.False(string.IsNullOrWhiteSpace(e.Title.En), e.Id);
            Assert.False(string.IsNullOrWhiteSpace(e.Title.Zh), e.Id);
            Assert.False(string.IsNullOrWhiteSpace(e.Explanation.En), e.Id);
            Assert.False(string.IsNullOrWhiteSpace(e.Explanation.Zh), e.Id);
            Assert.Contains(e.Explanation.Zh, c => c >= 0x4E00 && c <= 0x9FFF); // really Chinese, not a copy of the English
            Assert.False(string.IsNullOrWhiteSpace(e.Source), e.Id);
            Assert.Contains(e.Topic, Topics.Order);
        }
        Assert.Equal(FieldRegistry.All.Count, FieldRegistry.All.Select(e => e.Id).Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    [Fact]
    public void Every_doctor_finding_id_has_an_entry()
    {
        foreach (string id in MemScope.Analysis.Doctor.Doctor.RuleIds)
            Assert.NotNull(FieldRegistry.Get($"doctor.{id}"));
    }

    public static TheoryData<string[]> ViewHeaders => new()
    {
        new[] { "free", "-w", "-l", "-t", "-v" },
        new[] { "free" },
        new[] { "vmstat", "-a", "-w" },
        new[] { "vmstat" },
    };

    [Theory]
    [MemberData(nameof(ViewHeaders))]
    public void Every_column_header_of_the_procps_views_has_an_explanation(string[] args)
    {
        // A fixture root, so the header is the same wherever the test runs.
        string root = Path.Combine(Paths.SharedFixtures, "node_exporter", "proc");
        CliResult r = CliRun.Run([.. args, "--proc-root", root]);
        Assert.Equal(0, r.ExitCode);
        string[] lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var headers = new List<string>();
        if (args[0] == "free")
        {
            headers.AddRange(lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries));
            headers.AddRange(lines.Skip(1).Select(l => l.Split(':')[0]));
        }
        else headers.AddRange(lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        Assert.NotEmpty(headers);
        foreach (string h in headers)
        {
            string term = h switch { "Mem" => "total", "Comm" => "commit", _ => h };
            IReadOnlyList<FieldEntry> hits = FieldRegistry.Find(term);
            Assert.True(hits.Count > 0, $"no explanation for column '{h}' of {string.Join(' ', args)}");
        }
    }

    [Fact]
    public void Explain_buff_cache_in_Chinese_gives_the_formula()
    {
        CliResult r = CliRun.Run("explain", "buff/cache", "--lang", "zh");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("Buffers + Cached + SReclaimable", r.Stdout);
        Assert.Contains("公式", r.Stdout);
        Assert.Contains("缓存", r.Stdout);
    }

    [Fact]
    public void Explain_oom_adj_says_it_is_deprecated_with_both_ranges()
    {
        CliResult r = CliRun.Run("explain", "oom_adj", "--lang", "en");
        Assert.Equal(0, r.ExitCode);
        string first = r.Stdout.Split("\n\n\n")[0];
        Assert.Contains("[-17, 15]", first);
        Assert.Contains("[-1000, 1000]", first);
        Assert.Contains("Deprecated", first);
        Assert.Contains("oom_score_adj", first);
    }

    [Theory]
    [InlineData("buff/cache", "free.buff-cache")]
    [InlineData("Buffers", "page-cache-vs-buffers")]
    [InlineData("RES", "process.res")]
    [InlineData("rss", "process.res")]
    [InlineData("oom_adj", "oom_adj")]
    [InlineData("大页", "huge-pages")]
    [InlineData("Active(anon)", "meminfo.Active(anon)")]
    [InlineData("swapiness", "vm.swappiness")]   // a typo still finds it
    public void Loose_matching_finds_what_people_type(string term, string expectedFirst)
    {
        Assert.Equal(expectedFirst, FieldRegistry.Find(term)[0].Id);
    }

    [Fact]
    public void Unknown_term_is_one_clear_line_and_not_found()
    {
        CliResult r = CliRun.Run("explain", "no-such-thing-at-all");
        Assert.Equal(3, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void Chinese_text_stays_aligned_in_tables()
    {
        var table = new TextTable("ID", "名称", ">大小");
        table.Add("free.total", "total（总量）", "1");
        table.Add("x", "可用内存", "22");
        table.Add("vmstat.si", "si（换入）", "333");
        var w = new StringWriter();
        table.Write(w);
        string[] lines = w.ToString().TrimEnd().Split('\n');
        // The third column ends at the same terminal column on every line (wide characters count twice).
        int[] ends = lines.Select(l => DisplayWidth.Of(l.TrimEnd())).ToArray();
        Assert.All(ends, e => Assert.Equal(ends[0], e));
        // The second column starts at the same terminal column everywhere: after the widest ID and two spaces.
        Assert.All(lines, l => Assert.NotEqual(' ', l["free.total  ".Length]));
        Assert.Equal(8, DisplayWidth.Of("可用内存"));
    }
}

public class ExplainFooterTests
{
    [Theory]
    [InlineData("maps", "SELF", "--explain")]
    [InlineData("cache", "--no-files", "--explain")]
    [InlineData("swap", "-d", "0.1", "--explain")]
    [InlineData("vmstat", "--explain")]
    [InlineData("free", "--explain")]
    public void Views_print_every_column_meaning_in_both_languages(params string[] args)
    {
        string[] a = args.Select(x => x == "SELF" ? Environment.ProcessId.ToString() : x).ToArray();
        foreach (string lang in new[] { "en", "zh" })
        {
            CliResult r = CliRun.Run([.. a, "--lang", lang]);
            Assert.True(r.ExitCode == 0, r.Stderr);
            string footer = r.Stdout[r.Stdout.LastIndexOf("\n\n", StringComparison.Ordinal)..];
            Assert.Contains("[/proc/", r.Stdout);
            if (lang == "zh") Assert.Contains(footer, c => c >= 0x4E00 && c <= 0x9FFF);
        }
    }
}
