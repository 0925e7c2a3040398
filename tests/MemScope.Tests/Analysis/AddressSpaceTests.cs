using MemScope.Analysis;
using MemScope.Procfs;

namespace MemScope.Tests.Analysis;

public class AddressSpaceTests
{
    private static List<SmapsMapping> FromMaps(string text) =>
        ProcPidMaps.Parse(text, "t").Select(m => new SmapsMapping { Mapping = m, Fields = new SmapsFields { Size = m.SizeBytes, Rss = 4096 } }).ToList();

    [Fact]
    public void Procfs_64bit_fixture_is_classified()
    {
        var maps = ProcPidMaps.Read(Path.Combine(Paths.SharedFixtures, "procfs", "proc/26232/maps"))
            .Select(m => new SmapsMapping { Mapping = m, Fields = new SmapsFields() }).ToList();
        var c = AddressSpace.Classify(maps);
        Assert.Equal([MappingKind.Code, MappingKind.Data, MappingKind.Heap, MappingKind.MappedFile, MappingKind.SharedLibrary,
            MappingKind.Stack, MappingKind.Vvar, MappingKind.Vdso, MappingKind.Vsyscall], c.Select(x => x.Kind));
        Assert.All(c, x => Assert.False(x.Heuristic));
    }

    [Fact]
    public void Old_32bit_layout_with_bss_and_libraries()
    {
        var maps = ProcPidMaps.Read(Path.Combine(Paths.SharedFixtures, "procfs", "proc/26234/maps"))
            .Select(m => new SmapsMapping { Mapping = m, Fields = new SmapsFields() }).ToList();
        var c = AddressSpace.Classify(maps);
        Assert.Equal([MappingKind.Code, MappingKind.Data, MappingKind.Data, MappingKind.SharedLibrary], c.Select(x => x.Kind));
        Assert.True(c[2].Heuristic); // the anonymous rwxp right after tcsh's data is its bss
    }

    [Fact]
    public void Arenas_stacks_shm_and_reservations()
    {
        const string text =
            "555555554000-555555556000 r-xp 00000000 08:01 10  /usr/bin/app\n" +
            "555555556000-555555557000 rw-p 00002000 08:01 10  /usr/bin/app\n" +
            "555555557000-555555560000 rw-p 00000000 00:00 0   [heap]\n" +
            "7f0000000000-7f0000021000 rw-p 00000000 00:00 0\n" +      // arena: 64 MiB aligned rw + ---p tail
            "7f0000021000-7f0004000000 ---p 00000000 00:00 0\n" +
            "7f1000000000-7f1000001000 ---p 00000000 00:00 0\n" +      // guard + 8 MiB stack
            "7f1000001000-7f1000801000 rw-p 00000000 00:00 0\n" +
            "7f2000000000-7f2010000000 rw-p 00000000 00:00 0\n" +      // large malloc
            "7f3000000000-7f3000100000 rw-s 00000000 00:01 32768 /SYSV00000000 (deleted)\n" +
            "7f3000100000-7f3000200000 rw-s 00000000 00:19 77    /dev/shm/pulse shm\n" +
            "7f3000200000-7f3000300000 rw-s 00000000 00:01 88    /dev/zero (deleted)\n" +
            "7f3000300000-7f3000400000 r--p 00000000 08:01 99    /var/lib/data file.bin\n" +
            "7f4000000000-7f4040000000 ---p 00000000 00:00 0\n" +      // a big PROT_NONE reservation
            "7f5000000000-7f5000200000 r-xp 00000000 08:01 20    /usr/lib/libfoo.so.1.2\n" +
            "7f5000200000-7f5000201000 rw-p 00200000 08:01 20    /usr/lib/libfoo.so.1.2\n" +
            "7f5000201000-7f5000203000 rw-p 00000000 00:00 0\n" +      // libfoo's bss
            "7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0     [stack]\n" +
            "7ffc00100000-7ffc00101000 rw-p 00000000 00:00 0     [stack:4242]\n";
        var c = AddressSpace.Classify(FromMaps(text), "/usr/bin/app");
        MappingKind[] expected =
        [
            MappingKind.Code, MappingKind.Data, MappingKind.Heap, MappingKind.MallocArena, MappingKind.MallocArena,
            MappingKind.ThreadStack, MappingKind.ThreadStack, MappingKind.AnonymousMmap, MappingKind.SysVShm, MappingKind.PosixShm,
            MappingKind.SharedAnonymous, MappingKind.MappedFile, MappingKind.Reserved, MappingKind.SharedLibrary, MappingKind.SharedLibrary,
            MappingKind.SharedLibrary, MappingKind.Stack, MappingKind.ThreadStack,
        ];
        Assert.Equal(expected, c.Select(x => x.Kind));
        Assert.Equal("/usr/lib/libfoo.so.1.2", c[15].Group);
        Assert.Equal("/dev/shm/pulse shm", c[9].Group);
        Assert.True(c[3].Heuristic && c[5].Heuristic && c[15].Heuristic);
        Assert.False(c[17].Heuristic);

        // With the thread's stack pointer known, the stack is a fact, not a heuristic.
        var withSp = AddressSpace.Classify(FromMaps(text), "/usr/bin/app", [0x7f1000700000UL]);
        Assert.Equal(MappingKind.ThreadStack, withSp[6].Kind);
        Assert.False(withSp[6].Heuristic);
        Assert.Equal("thread stacks", withSp[6].Group);

        var groups = AddressSpace.Group(c);
        var arenas = groups.Single(g => g.Kind == MappingKind.MallocArena);
        Assert.Equal(1, arenas.Instances);
        Assert.Equal(64UL << 20, arenas.VirtBytes);
        Assert.Equal(8192UL, arenas.RssBytes);
        Assert.Equal(Segment.Mapping, arenas.Segment);
    }

    [Theory]
    [InlineData("/usr/lib/x86_64-linux-gnu/libc.so.6", true)]
    [InlineData("/usr/lib/libfoo.so", true)]
    [InlineData("/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", true)]
    [InlineData("/lib/ld-2.3.2.so", true)]
    [InlineData("/usr/lib/libstdc++.so.6.0.30", true)]
    [InlineData("/usr/lib/locale/locale-archive", false)]
    [InlineData("/data/my.sock", false)]
    [InlineData("/data/x.solution", false)]
    public void Shared_library_names(string path, bool expected) => Assert.Equal(expected, AddressSpace.IsSharedLibraryPath(path));
}
