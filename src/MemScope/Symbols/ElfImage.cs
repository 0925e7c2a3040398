using System.Buffers.Binary;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace MemScope.Symbols;

/// <summary>The file is not an ELF image MemScope can read (not ELF, 32-bit, big-endian, truncated).</summary>
public sealed class ElfFormatException(string path, string message) : Exception($"{path}: {message}")
{
    public string Path { get; } = path;
}

/// <summary>One PT_LOAD segment: where file bytes [Offset, Offset+FileSize) land in the image's virtual addresses.</summary>
public readonly record struct ElfLoadSegment(ulong Offset, ulong VirtualAddress, ulong FileSize, ulong MemorySize, uint Flags)
{
    public bool IsExecutable => (Flags & 1) != 0;
}

/// <summary>A function symbol: its link-time address, size (0 when the table does not say) and name.</summary>
public readonly record struct ElfSymbol(ulong Value, ulong Size, string Name, bool IsGlobal);

/// <summary>
/// A small reader of 64-bit little-endian ELF files (x86_64, aarch64): the PT_LOAD segments and the function symbols of
/// .symtab and .dynsym. Enough to place a uprobe (<see cref="FileOffsetOf"/>) and to name an address
/// (<see cref="Lookup"/>). Reads only the headers and the symbol/string tables, never the whole file.
/// </summary>
public sealed class ElfImage
{
    public const ushort EtExec = 2, EtDyn = 3;
    private const uint PtLoad = 1, ShtSymtab = 2, ShtNote = 7, ShtDynsym = 11;
    private const byte SttFunc = 2, SttGnuIfunc = 10, StbGlobal = 1, StbWeak = 2;

    private readonly ulong[] _starts;
    private readonly ElfSymbol[] _sorted;
    private readonly Dictionary<string, ElfSymbol> _byName;

    private ElfImage(string path, ushort type, ushort machine, List<ElfLoadSegment> loads, List<ElfSymbol> symbols, bool hasSymtab, string? buildId)
    {
        Path = path;
        Type = type;
        Machine = machine;
        Loads = loads;
        HasSymtab = hasSymtab;
        BuildId = buildId;
        // Sorted by address; at one address keep the global name (malloc over __libc_malloc).
        symbols.Sort((a, b) => a.Value != b.Value ? a.Value.CompareTo(b.Value) : b.IsGlobal.CompareTo(a.IsGlobal));
        var dedup = new List<ElfSymbol>(symbols.Count);
        foreach (ElfSymbol s in symbols)
            if (dedup.Count == 0 || dedup[^1].Value != s.Value) dedup.Add(s);
            else if (dedup[^1].Size == 0 && s.Size > 0) dedup[^1] = dedup[^1] with { Size = s.Size };
        _sorted = [.. dedup];
        _starts = [.. dedup.Select(s => s.Value)];
        _byName = new Dictionary<string, ElfSymbol>(StringComparer.Ordinal);
        foreach (ElfSymbol s in symbols)
            if (!_byName.TryGetValue(s.Name, out ElfSymbol old) || (!old.IsGlobal && s.IsGlobal)) _byName[s.Name] = s;
    }

    public string Path { get; }
    /// <summary>ET_EXEC (2): fixed addresses; ET_DYN (3): shared object or PIE, loaded at a bias.</summary>
    public ushort Type { get; }
    public ushort Machine { get; }
    public IReadOnlyList<ElfLoadSegment> Loads { get; }
    /// <summary>True when the file kept its full .symtab (not stripped): local functions have names too.</summary>
    public bool HasSymtab { get; }
    public string? BuildId { get; }
    public int SymbolCount => _sorted.Length;

    /// <summary>A defined function symbol by exact name (from .symtab or .dynsym; global preferred).</summary>
    public ElfSymbol? FindFunction(string name) => _byName.TryGetValue(name, out ElfSymbol s) ? s : null;

    /// <summary>Virtual address → file offset through the PT_LOAD that holds it: vaddr − p_vaddr + p_offset.</summary>
    public ulong? FileOffsetOf(ulong vaddr)
    {
        foreach (ElfLoadSegment l in Loads)
            if (vaddr >= l.VirtualAddress && vaddr < l.VirtualAddress + Math.Max(l.FileSize, 1))
                return vaddr - l.VirtualAddress + l.Offset;
        return null;
    }

    /// <summary>File offset → link-time virtual address (the inverse, for addresses read from a mapping).</summary>
    public ulong? VirtualAddressOf(ulong fileOffset)
    {
        foreach (ElfLoadSegment l in Loads)
            if (fileOffset >= l.Offset && fileOffset < l.Offset + Math.Max(l.FileSize, 1))
                return fileOffset - l.Offset + l.VirtualAddress;
        return null;
    }

    /// <summary>
    /// The function holding <paramref name="vaddr"/> and the offset into it; null when no symbol covers it (past the
    /// end of a sized symbol, or before the first).
    /// </summary>
    public (ElfSymbol Symbol, ulong Offset)? Lookup(ulong vaddr)
    {
        int i = Array.BinarySearch(_starts, vaddr);
        if (i < 0) i = ~i - 1;
        if (i < 0) return null;
        ElfSymbol s = _sorted[i];
        ulong off = vaddr - s.Value;
        if (s.Size > 0 ? off >= s.Size : (i + 1 < _sorted.Length && vaddr >= _sorted[i + 1].Value) || off > 1 << 20) return null;
        return (s, off);
    }

    /// <summary>Adds the symbols of a separate debug file (same build id) to this image's.</summary>
    public ElfImage WithSymbolsFrom(ElfImage debug)
    {
        var all = new List<ElfSymbol>(_sorted.Length + debug._sorted.Length);
        all.AddRange(_byName.Values);
        all.AddRange(debug._byName.Values);
        return new ElfImage(Path, Type, Machine, [.. Loads], all, true, BuildId);
    }

    /// <summary>Reads the headers and symbol tables of an ELF64 file.</summary>
    public static ElfImage Load(string path)
    {
        using SafeFileHandle h = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        long length = RandomAccess.GetLength(h);
        byte[] eh = ReadAt(h, 0, 64, path, length);
        if (eh[0] != 0x7f || eh[1] != 'E' || eh[2] != 'L' || eh[3] != 'F') throw new ElfFormatException(path, "not an ELF file");
        if (eh[4] != 2) throw new ElfFormatException(path, "32-bit ELF is not supported");
        if (eh[5] != 1) throw new ElfFormatException(path, "big-endian ELF is not supported");
        ReadOnlySpan<byte> e = eh;
        ushort type = U16(e, 16), machine = U16(e, 18);
        ulong phoff = U64(e, 32), shoff = U64(e, 40);
        ushort phentsize = U16(e, 54), phnum = U16(e, 56), shentsize = U16(e, 58);
        uint shnum = U16(e, 60), shstrndx = U16(e, 62);

        var loads = new List<ElfLoadSegment>();
        if (phoff != 0 && phnum > 0)
        {
            if (phentsize < 56) throw new ElfFormatException(path, $"program header entry size {phentsize} < 56");
            byte[] ph = ReadAt(h, phoff, (long)phentsize * phnum, path, length);
            for (int i = 0; i < phnum; i++)
            {
                ReadOnlySpan<byte> p = ph.AsSpan(i * phentsize, 56);
                if (U32(p, 0) == PtLoad) loads.Add(new ElfLoadSegment(U64(p, 8), U64(p, 16), U64(p, 32), U64(p, 40), U32(p, 4)));
            }
        }

        var symbols = new List<ElfSymbol>();
        bool hasSymtab = false;
        string? buildId = null;
        if (shoff != 0 && shentsize >= 64)
        {
            if (shnum == 0) shnum = (uint)Math.Min(U64(ReadAt(h, shoff, 64, path, length), 32), 65536); // extended numbering
            if (shstrndx == 0xffff) shstrndx = U32(ReadAt(h, shoff, 64, path, length), 40);
            byte[] sh = ReadAt(h, shoff, (long)shentsize * shnum, path, length);
            ReadOnlySpan<byte> Sec(int i) => sh.AsSpan(i * shentsize, 64);
            for (int i = 0; i < shnum; i++)
            {
                ReadOnlySpan<byte> s = Sec(i);
                uint shType = U32(s, 4);
                if (shType == ShtNote && buildId is null)
                {
                    ulong size = U64(s, 32);
                    if (size is > 0 and < 4096) buildId = ParseBuildId(ReadAt(h, U64(s, 24), (long)size, path, length));
                    continue;
                }
                if (shType is not (ShtSymtab or ShtDynsym)) continue;
                hasSymtab |= shType == ShtSymtab;
                ulong symOff = U64(s, 24), symSize = U64(s, 32), entsize = U64(s, 56);
                uint link = U32(s, 40);
                if (entsize < 24 || link >= shnum || symSize > 512L << 20) continue;
                ReadOnlySpan<byte> strSec = Sec((int)link);
                ulong strOff = U64(strSec, 24), strSize = U64(strSec, 32);
                if (strSize > 512L << 20) continue;
                byte[] syms = ReadAt(h, symOff, (long)symSize, path, length);
                byte[] strs = ReadAt(h, strOff, (long)strSize, path, length);
                int count = (int)(symSize / entsize);
                for (int k = 1; k < count; k++)
                {
                    ReadOnlySpan<byte> sym = syms.AsSpan((int)((ulong)k * entsize), 24);
                    byte info = sym[4];
                    int stType = info & 0xf, bind = info >> 4;
                    ushort shndx = U16(sym, 6);
                    ulong value = U64(sym, 8);
                    if ((stType != SttFunc && stType != SttGnuIfunc) || shndx == 0 || value == 0) continue;
                    uint nameOff = U32(sym, 0);
                    if (nameOff >= strs.Length) continue;
                    int end = Array.IndexOf(strs, (byte)0, (int)nameOff);
                    if (end < 0) end = strs.Length;
                    if (end == nameOff) continue;
                    string name = Encoding.UTF8.GetString(strs, (int)nameOff, end - (int)nameOff);
                    symbols.Add(new ElfSymbol(value, U64(sym, 16), name, bind is StbGlobal or StbWeak));
                }
            }
        }
        return new ElfImage(path, type, machine, loads, symbols, hasSymtab, buildId);
    }

    /// <summary>The NT_GNU_BUILD_ID note's hex digits, if this note section holds one.</summary>
    private static string? ParseBuildId(ReadOnlySpan<byte> notes)
    {
        int at = 0;
        while (at + 12 <= notes.Length)
        {
            uint namesz = U32(notes, at), descsz = U32(notes, at + 4), type = U32(notes, at + 8);
            int name = at + 12, desc = name + (int)((namesz + 3) & ~3u);
            if (namesz > 256 || descsz > 256 || desc + descsz > notes.Length) return null;
            if (type == 3 && namesz == 4 && notes.Slice(name, 3).SequenceEqual("GNU"u8))
                return Convert.ToHexStringLower(notes.Slice(desc, (int)descsz));
            at = desc + (int)((descsz + 3) & ~3u);
        }
        return null;
    }

    private static byte[] ReadAt(SafeFileHandle h, ulong offset, long count, string path, long length)
    {
        if (count < 0 || offset > (ulong)length || (ulong)count > (ulong)length - offset)
            throw new ElfFormatException(path, $"truncated: wants {count} bytes at {offset} of {length}");
        byte[] buf = new byte[count];
        int done = 0;
        while (done < count)
        {
            int n = RandomAccess.Read(h, buf.AsSpan(done), (long)offset + done);
            if (n <= 0) throw new ElfFormatException(path, "truncated while reading");
            done += n;
        }
        return buf;
    }

    private static ushort U16(ReadOnlySpan<byte> s, int o) => BinaryPrimitives.ReadUInt16LittleEndian(s[o..]);
    private static uint U32(ReadOnlySpan<byte> s, int o) => BinaryPrimitives.ReadUInt32LittleEndian(s[o..]);
    private static ulong U64(ReadOnlySpan<byte> s, int o) => BinaryPrimitives.ReadUInt64LittleEndian(s[o..]);
}
