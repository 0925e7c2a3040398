using System.Text.Json;
using MemScope.Procfs;

namespace MemScope.Tests.Procfs;

public class ProcPidMapsTests
{
    private static JsonElement Expected(string source, string key) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Paths.SharedFixtures, source, "expected.json"))).RootElement
            .EnumerateObject().SelectMany(Flatten).First(p => p.Name == key).Value;

    private static IEnumerable<JsonProperty> Flatten(JsonProperty p)
    {
        yield return p;
        if (p.Value.ValueKind == JsonValueKind.Object)
            foreach (var c in p.Value.EnumerateObject().SelectMany(Flatten)) yield return c;
    }

    [Theory]
    [InlineData("proc/26232/maps")]
    [InlineData("proc/26234/maps")]
    public void Procfs_maps_match_expected_json(string rel)
    {
        var maps = ProcPidMaps.Read(Path.Combine(Paths.SharedFixtures, "procfs", rel));
        var exp = Expected("procfs", rel).GetProperty("values").EnumerateArray().ToList();
        Assert.Equal(exp.Count, maps.Count);
        for (int i = 0; i < exp.Count; i++)
        {
            var e = exp[i];
            var m = maps[i];
            Assert.Equal(e.GetProperty("start").GetUInt64(), m.Start);
            Assert.Equal(e.GetProperty("end").GetUInt64(), m.End);
            Assert.Equal(e.GetProperty("perms").GetString(), m.Perms);
            Assert.Equal(e.GetProperty("offset").GetUInt64(), m.Offset);
            Assert.Equal(e.GetProperty("dev_major").GetUInt32(), m.DevMajor);
            Assert.Equal(e.GetProperty("dev_minor").GetUInt32(), m.DevMinor);
            Assert.Equal(e.GetProperty("inode").GetUInt64(), m.Inode);
            Assert.Equal(e.GetProperty("pathname").GetString(), m.Path);
        }
    }

    [Fact]
    public void Vsyscall_end_needs_ulong_and_shared_perms_are_seen()
    {
        var maps = ProcPidMaps.Read(Path.Combine(Paths.SharedFixtures, "procfs", "proc/26232/maps"));
        Assert.Equal(0xffffffffff601000UL, maps[^1].End);
        Assert.True(maps[1].IsShared && maps[1].CanExecute);
        Assert.Equal(40960UL, maps[1].Offset);
    }

    [Fact]
    public void Old_32bit_maps_with_trailing_space_after_inode_parse()
    {
        var maps = ProcPidMaps.Read(Path.Combine(Paths.SharedFixtures, "goprocinfo", "linux/proc/3323/maps"));
        Assert.True(maps.Count > 50);
        var anon = maps[3];
        Assert.Equal(0x080fe000UL, anon.Start);
        Assert.Equal("", anon.Path);
        Assert.True(anon.IsAnonymous);
        Assert.Equal("[heap]", maps[4].Path);
        Assert.All(maps, m => Assert.True(m.End > m.Start && m.End <= uint.MaxValue + 1UL));
        Assert.Equal(0xcaU, maps[0].DevMajor);
    }

    [Fact]
    public void Paths_with_spaces_deleted_and_absent()
    {
        const string text =
            "55d0c0a00000-55d0c0a02000 r--p 00000000 08:01 1234                       /opt/my app/bin/a b\n" +
            "7f0000000000-7f0000100000 rw-s 00000000 00:01 5678                       /dev/shm/x (deleted)\n" +
            "7f0000100000-7f0000200000 rw-s 00000000 00:01 32768                      /SYSV00000000 (deleted)\n" +
            "7f0000200000-7f0000300000 rw-p 00000000 00:00 0\n" +
            "7f0000300000-7f0000301000 rw-p 00000000 00:00 0                          [stack:1234]\n" +
            "7f0000301000-7f0000302000 r--p 00000000 103:02 99                        /trailing space \n";
        var maps = ProcPidMaps.Parse(text, "test");
        Assert.Equal("/opt/my app/bin/a b", maps[0].Path);
        Assert.True(maps[1].IsDeleted && maps[1].IsShared);
        Assert.Equal("/dev/shm/x", maps[1].FilePath);
        Assert.Equal("/SYSV00000000", maps[2].FilePath);
        Assert.True(maps[3].IsAnonymous);
        Assert.Equal(0x100000UL, maps[3].SizeBytes);
        Assert.Equal("[stack:1234]", maps[4].Path);
        Assert.Equal(0x103U, maps[5].DevMajor);
        Assert.Equal("/trailing space ", maps[5].Path);
    }

    [Theory]
    [InlineData("zzzz-0000 r--p 0 00:00 0", "address range")]
    [InlineData("1000-2000 r--pX 0 00:00 0", "permissions")]
    [InlineData("1000-2000 r--p 0 0000 0", "device")]
    [InlineData("1000-2000 r--p 0 00:00 x", "inode")]
    [InlineData("1000-2000 r--p", "offset")]
    public void Malformed_lines_name_the_problem(string line, string why)
    {
        var e = Assert.Throws<KernelFileException>(() => ProcPidMaps.Parse("1000-2000 r--p 0 00:00 0\n" + line + "\n", "f"));
        Assert.Equal(KernelFileError.Malformed, e.Error);
        Assert.Equal(2, e.Line);
        Assert.Contains(why, e.Message);
    }
}
