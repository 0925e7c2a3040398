using System.Buffers.Binary;
using System.Text;
using MemScope.Symbols;

namespace MemScope.Tests.Symbols;

public class ElfImageTests
{
    /// <summary>
    /// A minimal ELF64 shared object: one PT_LOAD mapping file offset 0x1000 at vaddr 0x401000 (so the load bias
    /// matters), a .symtab with leaky_function (0x401100, 0x40) and tidy_function (0x401140, 0x20), and a local
    /// alias at the same address as leaky_function.
    /// </summary>
    private static byte[] BuildElf()
    {
        var strtab = new List<byte> { 0 };
        int Name(string s) { int at = strtab.Count; strtab.AddRange(Encoding.ASCII.GetBytes(s)); strtab.Add(0); return at; }
        int nLeaky = Name("leaky_function"), nTidy = Name("tidy_function"), nAlias = Name("__leaky_alias"), nData = Name("some_data");
        var shstr = new List<byte> { 0 };
        int Sh(string s) { int at = shstr.Count; shstr.AddRange(Encoding.ASCII.GetBytes(s)); shstr.Add(0); return at; }
        int sSym = Sh(".symtab"), sStr = Sh(".strtab"), sShstr = Sh(".shstrtab");

        var buf = new byte[0x3000];
        Span<byte> b = buf;
        "\u007fELF"u8.CopyTo(b); b[4] = 2; b[5] = 1; b[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(b[16..], 3);   // ET_DYN
        BinaryPrimitives.WriteUInt16LittleEndian(b[18..], 62);  // x86_64
        BinaryPrimitives.WriteUInt64LittleEndian(b[32..], 64);  // phoff
        BinaryPrimitives.WriteUInt64LittleEndian(b[40..], 0x2000); // shoff
        BinaryPrimitives.WriteUInt16LittleEndian(b[54..], 56);
        BinaryPrimitives.WriteUInt16LittleEndian(b[56..], 1);
        BinaryPrimitives.WriteUInt16LittleEndian(b[58..], 64);
        BinaryPrimitives.WriteUInt16LittleEndian(b[60..], 4);
        BinaryPrimitives.WriteUInt16LittleEndian(b[62..], 3);
        Span<byte> ph = b[64..];
        BinaryPrimitives.WriteUInt32LittleEndian(ph, 1);          // PT_LOAD
        BinaryPrimitives.WriteUInt32LittleEndian(ph[4..], 5);     // R+X
        BinaryPrimitives.WriteUInt64LittleEndian(ph[8..], 0x1000);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[16..], 0x401000);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[32..], 0x1000);
        BinaryPrimitives.WriteUInt64LittleEndian(ph[40..], 0x1000);

        // symbols at 0x2800, strings at 0x2900, shstr at 0x2a00
        void Sym(int i, int name, byte info, ulong value, ulong size)
        {
            Span<byte> s = buf.AsSpan(0x2800 + i * 24);
            BinaryPrimitives.WriteUInt32LittleEndian(s, (uint)name);
            s[4] = info;
            BinaryPrimitives.WriteUInt16LittleEndian(s[6..], 1);
            BinaryPrimitives.WriteUInt64LittleEndian(s[8..], value);
            BinaryPrimitives.WriteUInt64LittleEndian(s[16..], size);
        }
        Sym(1, nLeaky, 0x12, 0x401100, 0x40);  // GLOBAL FUNC
        Sym(2, nTidy, 0x12, 0x401140, 0x20);
        Sym(3, nAlias, 0x02, 0x401100, 0x40);  // LOCAL FUNC alias
        Sym(4, nData, 0x11, 0x401200, 8);      // GLOBAL OBJECT: not a function
        strtab.ToArray().CopyTo(b[0x2900..]);
        shstr.ToArray().CopyTo(b[0x2a00..]);
        void Shdr(int i, int name, uint type, ulong off, ulong size, uint link, ulong entsize)
        {
            Span<byte> s = buf.AsSpan(0x2000 + i * 64);
            BinaryPrimitives.WriteUInt32LittleEndian(s, (uint)name);
            BinaryPrimitives.WriteUInt32LittleEndian(s[4..], type);
            BinaryPrimitives.WriteUInt64LittleEndian(s[24..], off);
            BinaryPrimitives.WriteUInt64LittleEndian(s[32..], size);
            BinaryPrimitives.WriteUInt32LittleEndian(s[40..], link);
            BinaryPrimitives.WriteUInt64LittleEndian(s[56..], entsize);
        }
        Shdr(1, sSym, 2, 0x2800, 5 * 24, 2, 24);
        Shdr(2, sStr, 3, 0x2900, (ulong)strtab.Count, 0, 0);
        Shdr(3, sShstr, 3, 0x2a00, (ulong)shstr.Count, 0, 0);
        return buf;
    }

    private static string Write(byte[] bytes)
    {
        string path = Path.Combine(Path.GetTempPath(), $"memscope-elf-{Guid.NewGuid():N}.so");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Fact]
    public void Reads_loads_and_function_symbols_and_maps_addresses_both_ways()
    {
        string path = Write(BuildElf());
        try
        {
            ElfImage elf = ElfImage.Load(path);
            Assert.Equal(ElfImage.EtDyn, elf.Type);
            Assert.True(elf.HasSymtab);
            ElfLoadSegment load = Assert.Single(elf.Loads);
            Assert.True(load.IsExecutable);
            ElfSymbol leaky = elf.FindFunction("leaky_function")!.Value;
            Assert.Equal(0x401100UL, leaky.Value);
            // the uprobe offset: vaddr − p_vaddr + p_offset
            Assert.Equal(0x1100UL, elf.FileOffsetOf(leaky.Value));
            Assert.Equal(0x401140UL, elf.VirtualAddressOf(0x1140));
            Assert.Null(elf.FindFunction("some_data"));
            // the global name wins over the local alias at the same address
            var hit = elf.Lookup(0x401110)!.Value;
            Assert.Equal("leaky_function", hit.Symbol.Name);
            Assert.Equal(0x10UL, hit.Offset);
            Assert.Equal("tidy_function", elf.Lookup(0x401140)!.Value.Symbol.Name);
            Assert.Null(elf.Lookup(0x401160)); // past tidy_function's size
            Assert.Null(elf.Lookup(0x400000));
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Hostile_files_give_a_typed_error()
    {
        byte[] good = BuildElf();
        foreach (byte[] bad in new[] { "hello"u8.ToArray(), good[..40], good[..0x2010], Elf32() })
        {
            string path = Write(bad);
            try { Assert.Throws<ElfFormatException>(() => ElfImage.Load(path)); }
            finally { File.Delete(path); }
        }

        static byte[] Elf32()
        {
            byte[] b = new byte[64];
            "\u007fELF"u8.CopyTo(b);
            b[4] = 1;
            return b;
        }
    }

    [Fact]
    public void Symbol_table_pointing_past_the_end_is_rejected_not_crashing()
    {
        byte[] b = BuildElf();
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(0x2000 + 64 + 24), 0x7fff_0000); // .symtab offset
        string path = Write(b);
        try { Assert.Throws<ElfFormatException>(() => ElfImage.Load(path)); }
        finally { File.Delete(path); }
    }
}
