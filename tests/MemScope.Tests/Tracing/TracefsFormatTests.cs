using MemScope.Tracing;

namespace MemScope.Tests.Tracing;

public class TracefsFormatTests
{
    private const string GetPagesFormat = """
        name: mm_filemap_get_pages
        ID: 599
        format:
        	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
        	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
        	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
        	field:int common_pid;	offset:4;	size:4;	signed:1;

        	field:unsigned long i_ino;	offset:8;	size:8;	signed:0;
        	field:dev_t s_dev;	offset:16;	size:4;	signed:0;
        	field:unsigned long index;	offset:24;	size:8;	signed:0;
        	field:unsigned long last_index;	offset:32;	size:8;	signed:0;
        	field:char name[32];	offset:40;	size:32;	signed:0;

        print fmt: "dev=%d:%d ino=%lx ofs=%lld-%lld", REC->i_ino
        """;

    [Fact]
    public void ParsesFieldsOffsetsAndId()
    {
        TracepointFormat f = TracepointFormat.Parse(GetPagesFormat, "filemap:mm_filemap_get_pages");
        Assert.Equal(599UL, f.Id);
        Assert.Equal(24, f["index"]!.Offset);
        Assert.Equal(8, f["last_index"]!.Size);
        Assert.True(f["common_pid"]!.Signed);
        Assert.Equal(40, f["name"]!.Offset);
        Assert.Equal(32, f["name"]!.Size);
        Assert.Null(f["order"]);
    }

    [Fact]
    public void ReadsFieldsFromRawRecord()
    {
        TracepointFormat f = TracepointFormat.Parse(GetPagesFormat, "x");
        byte[] raw = new byte[72];
        BitConverter.TryWriteBytes(raw.AsSpan(4), -1234);
        BitConverter.TryWriteBytes(raw.AsSpan(24), 100UL);
        BitConverter.TryWriteBytes(raw.AsSpan(32), 163UL);
        Assert.Equal(-1234, TracepointFormat.ReadSigned(raw, f["common_pid"]!));
        Assert.Equal(64UL, TracepointFormat.ReadUnsigned(raw, f["last_index"]!) - TracepointFormat.ReadUnsigned(raw, f["index"]!) + 1);
        Assert.Equal(0UL, TracepointFormat.ReadUnsigned(raw.AsSpan(0, 30), f["last_index"]!)); // truncated record: no garbage
    }

    [Fact]
    public void MalformedFieldLineNamesTheFile()
    {
        var e = Assert.Throws<MemScope.Procfs.KernelFileException>(() =>
            TracepointFormat.Parse("format:\n\tfield:int x;\toffset:abc;\tsize:4;\n", "x", "/t/format"));
        Assert.Contains("/t/format:2", e.Message);
    }

    [Theory]
    [InlineData("0-3,5", new[] { 0, 1, 2, 3, 5 })]
    [InlineData("0", new[] { 0 })]
    [InlineData("1,3-4\n", new[] { 1, 3, 4 })]
    public void ParsesCpuLists(string text, int[] expected) => Assert.Equal(expected, PerfEventNative.ParseCpuList(text.Trim()));

    [Theory]
    [InlineData("p:memscope_123/malloc /lib/libc.so.6:0x9a0f0 size=%di:u64", "memscope_123/malloc")]
    [InlineData("r:uprobes/free /x:0x10", "uprobes/free")]
    [InlineData("garbage", null)]
    public void ProbeNames(string line, string? expected) => Assert.Equal(expected, BorrowedState.ProbeName(line));

    [Theory]
    [InlineData("memscope_123", 123)]
    [InlineData("memscope_77_leak", 77)]
    [InlineData("memscope_leak", null)]
    [InlineData("other_1", null)]
    public void OwnerPids(string name, int? pid) => Assert.Equal(pid, BorrowedState.OwnerPid(name));

    [Fact]
    public void UnescapesMountPoints() => Assert.Equal("/a b\\c", Tracefs.UnescapeMount("/a\\040b\\134c"));

    [Fact]
    public void AttrIs136Bytes() => Assert.Equal(136, System.Runtime.InteropServices.Marshal.SizeOf<PerfEventAttr>());
}
