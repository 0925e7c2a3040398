using System.Text.Json;
using MemScope.Procfs;

namespace MemScope.Tests.Procfs;

public class ProcPidSmapsTests
{
    private static string F(params string[] parts) => Path.Combine([Paths.SharedFixtures, .. parts]);

    private static JsonElement Expected(string source, string key)
    {
        var root = JsonDocument.Parse(File.ReadAllText(F(source, "expected.json"))).RootElement;
        return Find(root, key) ?? throw new KeyNotFoundException(key);
    }

    private static JsonElement? Find(JsonElement e, string key)
    {
        if (e.ValueKind != JsonValueKind.Object) return null;
        foreach (var p in e.EnumerateObject())
        {
            if (p.Name == key) return p.Value;
            if (Find(p.Value, key) is { } x) return x;
        }
        return null;
    }

    [Fact]
    public void Procfs_26231_sums_equal_expected_and_rollup()
    {
        var smaps = ProcPidSmaps.Read(F("procfs", "proc/26231/smaps"));
        var sum = ProcPidSmaps.Sum(smaps);
        var exp = Expected("procfs", "proc/26231/smaps").GetProperty("values_bytes");
        Assert.Equal(exp.GetProperty("Rss").GetUInt64(), sum.Rss);
        Assert.Equal(exp.GetProperty("Pss").GetUInt64(), sum.Pss);
        Assert.Equal(exp.GetProperty("Shared_Clean").GetUInt64(), sum.SharedClean);
        Assert.Equal(exp.GetProperty("Shared_Dirty").GetUInt64(), sum.SharedDirty);
        Assert.Equal(exp.GetProperty("Private_Clean").GetUInt64(), sum.PrivateClean);
        Assert.Equal(exp.GetProperty("Private_Dirty").GetUInt64(), sum.PrivateDirty);
        Assert.Equal(exp.GetProperty("Referenced").GetUInt64(), sum.Referenced);
        Assert.Equal(exp.GetProperty("Anonymous").GetUInt64(), sum.Anonymous);
        Assert.Equal(exp.GetProperty("Swap").GetUInt64(), sum.Swap);
        Assert.Equal(exp.GetProperty("SwapPss").GetUInt64(), sum.SwapPss);

        var rollup = ProcPidSmapsRollup.Read(F("procfs", "proc/26231/smaps_rollup"));
        Assert.Equal(rollup.Rss, sum.Rss);
        Assert.Equal(rollup.Pss, sum.Pss);
        Assert.Equal("/bin/alertmanager", smaps[0].Mapping.Path);
        Assert.Equal(8900UL * 1024, smaps[0].Fields.Size);
        Assert.Equal(["rd", "ex", "mr", "mw", "me", "dw", "sd"], smaps[0].VmFlags!);
        Assert.All(smaps, s => Assert.Equal(s.Mapping.SizeBytes, s.Fields.Size));
    }

    [Fact]
    public void Old_format_smaps_without_vmflags_parse_and_agree_with_maps()
    {
        var smaps = ProcPidSmaps.Read(F("goprocinfo", "linux/proc/3323/smaps"));
        var maps = ProcPidMaps.Read(F("goprocinfo", "linux/proc/3323/maps"));
        Assert.Equal(maps.Count, smaps.Count);
        for (int i = 0; i < maps.Count; i++)
        {
            Assert.Equal(maps[i].Start, smaps[i].Mapping.Start);
            Assert.Equal(maps[i].Path, smaps[i].Mapping.Path);
            // Kernels before 4.x counted the stack guard page in [stack]'s smaps Size (272 kB vs a 268 kB range here).
            if (maps[i].Path == "[stack]") Assert.Equal(maps[i].SizeBytes + 4096, smaps[i].Fields.Size);
            else Assert.Equal(maps[i].SizeBytes, smaps[i].Fields.Size);
            Assert.Null(smaps[i].VmFlags);
            Assert.Null(smaps[i].Fields.SwapPss); // the old format has no SwapPss: unknown, not 0
            Assert.NotNull(smaps[i].Fields.Locked);
        }
        Assert.Equal(232UL * 1024, smaps[0].Fields.Rss);
        Assert.Equal(4UL * 1024, smaps[1].Fields.PrivateDirty);
    }

    [Fact]
    public void Gopsutil_synthetic_blocks_keep_dropped_fields_null()
    {
        var smaps = ProcPidSmaps.Read(F("gopsutil", "process/testdata/linux/1/smaps"));
        var exp = Expected("gopsutil", "process/testdata/linux/1/smaps").GetProperty("values").EnumerateArray().ToList();
        Assert.Equal(exp.Count, smaps.Count);
        string[] keys = ["Rss", "Size", "Pss", "Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty", "Referenced", "Anonymous", "Swap"];
        int nulls = 0;
        for (int i = 0; i < exp.Count; i++)
        {
            Assert.Equal(exp[i].GetProperty("path").GetString(), smaps[i].Mapping.Path);
            ulong?[] row = smaps[i].Fields.ToArray();
            foreach (string k in keys)
            {
                SmapsFields.Keys.TryGetIndex(k, out int idx);
                ulong expected = exp[i].GetProperty(k).GetUInt64() * 1024;
                if (row[idx] is null) { nulls++; Assert.Equal(0UL, expected); } // gopsutil reports a dropped field as 0
                else Assert.Equal(expected, row[idx]);
            }
        }
        Assert.Equal(4, nulls); // one field dropped per mapping
        Assert.Null(smaps[0].Fields.Pss);
        Assert.Null(smaps[1].Fields.PrivateClean);
        Assert.Null(smaps[2].Fields.PrivateDirty);
        Assert.Null(smaps[3].Fields.Anonymous);
        Assert.False(smaps[3].ThpEligible);
        Assert.Equal("", smaps[1].Mapping.Path);
    }

    [Fact]
    public void Psutil_inline_smaps_uss_pss_swap()
    {
        var smaps = ProcPidSmaps.Read(F("psutil", "inline/TestProcess.test_parse_smaps_mocked/proc/self/smaps"));
        var exp = Expected("psutil", "inline/TestProcess.test_parse_smaps_mocked/proc/self/smaps").GetProperty("values");
        var sum = ProcPidSmaps.Sum(smaps);
        Assert.Single(smaps);
        Assert.Equal(exp.GetProperty("uss").GetUInt64(), sum.Uss);
        Assert.Equal(exp.GetProperty("pss").GetUInt64(), sum.Pss);
        Assert.Equal(exp.GetProperty("swap").GetUInt64(), sum.Swap);
        Assert.Equal("[vsyscall]", smaps[0].Mapping.Path);
        Assert.Equal(0xfffff0UL, smaps[0].Mapping.Start);
        Assert.Equal(["rd", "ex"], smaps[0].VmFlags!);
        Assert.Equal(19UL * 1024, smaps[0].Fields.Locked);
    }

    [Fact]
    public void Hostile_input_gives_typed_errors()
    {
        var e = Assert.Throws<KernelFileException>(() => ProcPidSmaps.Parse("Rss: 4 kB\n", "s"));
        Assert.Equal(KernelFileError.Malformed, e.Error);
        e = Assert.Throws<KernelFileException>(() => ProcPidSmaps.Parse("1000-2000 r--p 0 00:00 0\nRss: lots kB\n", "s"));
        Assert.Equal(2, e.Line);
        e = Assert.Throws<KernelFileException>(() => ProcPidSmaps.Parse("1000-2000 r--p 0 00:00 0\ngarbage\n", "s"));
        Assert.Equal(2, e.Line);
        Assert.Empty(ProcPidSmaps.Parse("", "s"));
        // A key starting with hex letters is not a header.
        var ok = ProcPidSmaps.Parse("1000-2000 r--p 0 00:00 0\nAnonymous: 4 kB\nFilePmdMapped: 0 kB\nFutureKey: 9 kB\n", "s");
        Assert.Single(ok);
        Assert.Equal(4096UL, ok[0].Fields.Anonymous);
    }
}
