using System.Text;
using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.Tests.Hostile;

/// <summary>
/// Every parser, fed hostile text (empty, binary junk, truncated real files, huge and negative numbers, short lines,
/// mutated bytes), must either return a value or throw <see cref="KernelFileException"/> with Error = Malformed naming
/// the file - never any other exception (IndexOutOfRange, Overflow, Format, NullReference...).
/// </summary>
public class HostileInputFuzzTests
{
    private const string FakePath = "/fake/proc/hostile";

    /// <summary>Each parser with a real sample from the shared fixtures to truncate and mutate.</summary>
    public static readonly (string Name, Func<string, object?> Parse, string Sample)[] Parsers =
    [
        ("meminfo", t => Meminfo.Parse(t, FakePath), "procfs/proc/meminfo"),
        ("node meminfo", t => Meminfo.Parse(t, FakePath), "node_exporter/sys/devices/system/node/node0/meminfo"),
        ("vmstat", t => Vmstat.Parse(t, FakePath), "node_exporter/proc/vmstat"),
        ("stat", t => ProcStat.Parse(t, FakePath), "procfs/proc/stat"),
        ("pid stat", t => ProcPidStat.Parse(t, FakePath), "procfs/proc/26231/stat"),
        ("pid statm", t => ProcPidStatm.Parse(t, FakePath), "procfs/proc/26231/statm"),
        ("pid status", t => ProcPidStatus.Parse(t, FakePath), "procfs/proc/26231/status"),
        ("status ParseAll", t => ProcPidStatus.ParseAll(t), "goprocinfo/linux/proc/3323/status"),
        ("smaps_rollup", t => ProcPidSmapsRollup.Parse(t, FakePath), "procfs/proc/26231/smaps_rollup"),
        ("smaps", t => ProcPidSmaps.Parse(t, FakePath), "procfs/proc/26231/smaps"),
        ("maps", t => ProcPidMaps.Parse(t, FakePath), "procfs/proc/26232/maps"),
        ("oom_score", t => SingleNumberFile.Parse(t, FakePath), "goprocinfo/linux/proc/3323/oom_score"),
        ("cmdline", t => ProcPidCmdline.Parse(t, FakePath), "procfs/proc/26231/cmdline"),
        ("io", t => ProcPidIo.Parse(t, FakePath), "procfs/proc/26231/stat"),
        ("pressure", t => Pressure.Parse(t, FakePath), "procfs/proc/pressure/memory"),
        ("limits", t => ProcPidLimits.Parse(t, FakePath), "procfs/proc/26231/limits"),
        ("numastat", t => NodeNumastat.Parse(t, FakePath), "node_exporter/sys/devices/system/node/node0/numastat"),
        ("zoneinfo", t => Zoneinfo.Parse(t, FakePath), "procfs/proc/zoneinfo"),
        ("buddyinfo", t => Buddyinfo.Parse(t, FakePath), "node_exporter/proc/buddyinfo"),
        ("swaps", t => Swaps.Parse(t, FakePath), "procfs/proc/swaps"),
        ("slabinfo", t => Slabinfo.Parse(t, FakePath), "node_exporter/proc/slabinfo"),
        ("cpulist", t => CpuList.Parse(t, FakePath), "node_exporter/sys/devices/system/node/node0/cpulist"),
    ];

    public static IEnumerable<object[]> ParserNames() => Parsers.Select(p => new object[] { p.Name });

    /// <summary>Inputs no kernel writes, but a broken file, a container shim or a bad copy can.</summary>
    private static IEnumerable<string> HostileTexts()
    {
        yield return "";
        yield return "\n";
        yield return "\n\n\n";
        yield return "\0\0\0\0";
        yield return ":";
        yield return "::::";
        yield return "MemTotal:";
        yield return "MemTotal";
        yield return "MemTotal: kB";
        yield return "MemTotal: -1 kB\nMemFree: -9223372036854775808 kB\n";
        yield return "MemTotal: 18446744073709551615 kB\n";
        yield return "MemTotal: 18446744073709551616 kB\n";
        yield return "MemTotal: 99999999999999999999999999999999 kB\n";
        yield return "MemTotal:1 kB\nMemTotal:2 kB\n";
        yield return "nr_free_pages\n";
        yield return "nr_free_pages 1 2 3\n";
        yield return "nr_free_pages -5\n";
        yield return "cpu\n";
        yield return "cpu 1 2\n";
        yield return "cpu 1 2 3 4 5 6 7 8 9 10 11 12 13\nintr\nsoftirq x\n";
        yield return "1 (";
        yield return "1 ()";
        yield return ") (";
        yield return "1 (a) ";
        yield return "1 (a) S";
        yield return "1 (a) SS 1 2 3";
        yield return "1 (a b) ( c) S " + string.Join(' ', Enumerable.Repeat("18446744073709551615", 60));
        yield return "1 (x) S " + string.Join(' ', Enumerable.Repeat("18446744073709551616", 49));
        yield return "1 (x) S " + string.Join(' ', Enumerable.Repeat("-1", 49));
        yield return "x (x) S 1 2 3";
        yield return "1 2 3 4 5 6";
        yield return "1 2 3 4 5 6 18446744073709551616";
        yield return "ffff-0000 rwxp 0 0:0 0\n";
        yield return "zzzz-0000 rwxp 0 0:0 0\n";
        yield return "00400000-00452000 r-xp 00000000 08:02 173521 /usr/bin/x\nRss: 18446744073709551615 kB\n";
        yield return "00400000-00452000 r-xp 00000000 08:02 173521 /usr/bin/x\nRss: 1 kB\nRss: x kB\n";
        yield return "Rss: 4 kB\n";
        yield return "some avg10=x avg60=0 avg300=0 total=1\n";
        yield return "some avg10=1\n";
        yield return "full total=18446744073709551616\n";
        yield return "Limit Soft Limit Hard Limit Units\nMax cpu time xyz unlimited seconds\n";
        yield return "Max cpu time\n";
        yield return "Node 0, zone Normal\n";
        yield return "Node x, zone DMA 1 2 3\n";
        yield return "Node 0, zone   Normal\n  pages free 1\n        min      18446744073709551616\n";
        yield return "Filename Type Size Used Priority\n/dev/x partition x 0 -1\n";
        yield return "slabinfo - version: 2.1\nfoo 1 2 3 4 5 : tunables 0 0 0 : slabdata 1 1\n";
        yield return "0-";
        yield return "5-3";
        yield return "0-999999999";
        yield return new string('9', 100_000);
        yield return new string('x', 70_000) + ": 1 kB\n";
        yield return string.Concat(Enumerable.Repeat("MemTotal: 1 kB\n", 10_000));
    }

    [Theory]
    [MemberData(nameof(ParserNames))]
    public void Hostile_text_gives_a_value_or_a_typed_error(string parser)
    {
        var p = Parsers.Single(x => x.Name == parser);
        foreach (string text in HostileTexts()) Survives(p.Name, p.Parse, text);
    }

    [Theory]
    [MemberData(nameof(ParserNames))]
    public void Binary_junk_gives_a_value_or_a_typed_error(string parser)
    {
        var p = Parsers.Single(x => x.Name == parser);
        var random = new Random(parser.GetHashCode(StringComparison.Ordinal) & 0x7fff);
        for (int i = 0; i < 200; i++)
        {
            byte[] junk = new byte[random.Next(0, 600)];
            random.NextBytes(junk);
            Survives(p.Name, p.Parse, Encoding.Latin1.GetString(junk));
        }
    }

    [Theory]
    [MemberData(nameof(ParserNames))]
    public void Truncated_and_mutated_real_files_give_a_value_or_a_typed_error(string parser)
    {
        var p = Parsers.Single(x => x.Name == parser);
        string sample = File.ReadAllText(Path.Combine(Paths.SharedFixtures, p.Sample), Encoding.Latin1);
        // The untouched sample parses (the fixture tests check its values).
        p.Parse(sample);
        // Truncated at many points: mid-number, mid-key, mid-line (a read racing an exit can do this).
        int step = Math.Max(1, sample.Length / 150);
        for (int cut = 0; cut < sample.Length; cut += step) Survives(p.Name, p.Parse, sample[..cut]);
        // Bytes flipped to digits, separators, minus signs, NULs and high bytes.
        var random = new Random(12345);
        char[] nasty = ['-', ':', ' ', '\n', '\0', '(', ')', '9', 'x', '\u00ff', '\t', '/'];
        for (int i = 0; i < 300; i++)
        {
            char[] chars = sample.ToCharArray();
            int flips = random.Next(1, 6);
            for (int f = 0; f < flips && chars.Length > 0; f++) chars[random.Next(chars.Length)] = nasty[random.Next(nasty.Length)];
            Survives(p.Name, p.Parse, new string(chars));
        }
        // Every line doubled (duplicated keys) and every line with its trailing part cut (short lines).
        string[] lines = sample.Split('\n');
        Survives(p.Name, p.Parse, string.Join('\n', lines.SelectMany(l => new[] { l, l })));
        Survives(p.Name, p.Parse, string.Join('\n', lines.Select(l => l[..(l.Length / 2)])));
    }

    private static void Survives(string parser, Func<string, object?> parse, string text)
    {
        try
        {
            parse(text);
        }
        catch (KernelFileException e)
        {
            Assert.True(e.Error == KernelFileError.Malformed, $"{parser}: {e.Error} for in-memory text: {e.Message}");
            Assert.Equal(FakePath, e.Path);
            Assert.StartsWith(FakePath, e.Message);
            if (e.Line > 0) Assert.StartsWith($"{FakePath}:{e.Line}: ", e.Message);
        }
        catch (Exception e)
        {
            string shown = text.Length > 200 ? text[..200] + "…" : text;
            Assert.Fail($"{parser} threw {e.GetType().Name} (not a KernelFileException) on input [{shown.Replace("\n", "\\n").Replace("\0", "\\0")}]: {e.Message}\n{e.StackTrace}");
        }
    }
}
