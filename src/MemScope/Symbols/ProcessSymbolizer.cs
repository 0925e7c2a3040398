using System.Globalization;
using MemScope.Procfs;

namespace MemScope.Symbols;

/// <summary>A named code address: "leaky_function+0x1c (leaky)" or, without a symbol, "libfoo.so+0x1234".</summary>
public readonly record struct SymbolizedFrame(ulong Address, string? Function, ulong Offset, string Module)
{
    public override string ToString() =>
        Function is not null ? $"{Function}+0x{Offset:x} ({Module})" : $"{Module}+0x{Offset:x}";
}

/// <summary>
/// Names the code addresses of one process from the ELF symbol tables of its binary and libraries, read through
/// /proc/PID/root (so containers work) or /proc/PID/map_files (deleted files). The load bias of PIE binaries and
/// shared objects comes from /proc/PID/maps: file offset = address − mapping start + mapping offset, then the PT_LOAD
/// that holds that offset gives the link-time address the symbol table uses. JIT code (anonymous executable memory)
/// is named from /tmp/perf-PID.map when the runtime writes one.
/// </summary>
public sealed class ProcessSymbolizer
{
    private readonly ProcFs _proc;
    private readonly int _pid;
    private readonly Dictionary<string, ElfImage?> _images = new(StringComparer.Ordinal);
    private readonly Dictionary<ulong, SymbolizedFrame> _cache = new();
    private List<MemScope.Procfs.MemoryMapping> _maps = [];
    private ulong[] _mapStarts = [];
    private (ulong Start, ulong End, string Name)[]? _perfMap;
    private DateTime _mapsReadAt;

    public ProcessSymbolizer(ProcFs proc, int pid)
    {
        _proc = proc;
        _pid = pid;
        Refresh();
    }

    /// <summary>Files that could not be read or parsed, with why (shown once to the user).</summary>
    public Dictionary<string, string> Problems { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<MemScope.Procfs.MemoryMapping> Mappings => _maps;

    /// <summary>Frames in anonymous executable memory (JIT code) that no perf map named.</summary>
    public long UnnamedJitFrames { get; private set; }

    /// <summary>Re-reads /proc/PID/maps (after dlopen, exec) and forgets cached names.</summary>
    public void Refresh()
    {
        try
        {
            _maps = ProcPidMaps.Read(_proc.PidPath(_pid, "maps"));
        }
        catch (KernelFileException e) when (e.Error == KernelFileError.Gone) { }
        _maps.Sort((a, b) => a.Start.CompareTo(b.Start));
        _mapStarts = [.. _maps.Select(m => m.Start)];
        _cache.Clear();
        _perfMap = null;
        _mapsReadAt = DateTime.UtcNow;
    }

    /// <summary>After an exec the old images are meaningless: drop them too.</summary>
    public void Reset()
    {
        _images.Clear();
        Refresh();
    }

    /// <summary>The mapping holding an address, or null.</summary>
    public MemScope.Procfs.MemoryMapping? MappingOf(ulong address)
    {
        int i = Array.BinarySearch(_mapStarts, address);
        if (i < 0) i = ~i - 1;
        return i >= 0 && _maps[i].Contains(address) ? _maps[i] : null;
    }

    /// <summary>
    /// Names a code address. <paramref name="isReturnAddress"/>: the address follows a call (every frame but the first
    /// of a stack), so the call instruction at address−1 is looked up, which keeps tail calls in the right function.
    /// </summary>
    public SymbolizedFrame Symbolize(ulong address, bool isReturnAddress = true)
    {
        if (_cache.TryGetValue(address, out SymbolizedFrame cached)) return cached;
        ulong probe = isReturnAddress && address > 0 ? address - 1 : address;
        MemScope.Procfs.MemoryMapping? m = MappingOf(probe);
        if (m is null && DateTime.UtcNow - _mapsReadAt > TimeSpan.FromMilliseconds(200))
        {
            Refresh(); // a library loaded since we last looked
            m = MappingOf(probe);
        }
        SymbolizedFrame frame;
        if (m is null)
        {
            frame = new SymbolizedFrame(address, null, address, "[unknown]");
        }
        else if (m.IsFileBacked && !m.Path.StartsWith("/memfd:", StringComparison.Ordinal))
        {
            string module = System.IO.Path.GetFileName(m.FilePath);
            ElfImage? image = ImageFor(m);
            ulong fileOffset = probe - m.Start + m.Offset;
            if (image?.VirtualAddressOf(fileOffset) is ulong vaddr && image.Lookup(vaddr) is { } hit)
                frame = new SymbolizedFrame(address, hit.Symbol.Name, hit.Offset + (address - probe), module);
            else
                frame = new SymbolizedFrame(address, null, fileOffset + (address - probe), module);
        }
        else
        {
            (ulong Start, ulong End, string Name)? jit = PerfMapLookup(probe);
            frame = jit is { } j
                ? new SymbolizedFrame(address, j.Name, address - j.Start, "jit")
                : new SymbolizedFrame(address, null, address - m.Start, m.Path.Length == 0 || m.Path.StartsWith("/memfd:", StringComparison.Ordinal) ? "[jit/anon]" : m.Path);
            if (jit is null) UnnamedJitFrames++;
        }
        _cache[address] = frame;
        return frame;
    }

    /// <summary>The ELF image behind a file mapping, loaded once per path (null when unreadable: noted in <see cref="Problems"/>).</summary>
    public ElfImage? ImageFor(MemScope.Procfs.MemoryMapping m)
    {
        string key = m.FilePath;
        if (_images.TryGetValue(key, out ElfImage? img)) return img;
        img = null;
        foreach (string candidate in CandidatePaths(m))
        {
            try
            {
                img = ElfImage.Load(candidate);
                img = WithDebugFile(img);
                break;
            }
            catch (ElfFormatException e)
            {
                // Data files, fonts and .NET's PE assemblies are mapped too: not being ELF is not a problem worth a line.
                if (!e.Message.EndsWith("not an ELF file", StringComparison.Ordinal)) Problems[key] = e.Message;
                break;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { Problems[key] = $"{key}: {e.Message}"; }
        }
        if (img is not null) Problems.Remove(key);
        _images[key] = img;
        return img;
    }

    /// <summary>The file as the process sees it: through its root, else through map_files (works for deleted files).</summary>
    private IEnumerable<string> CandidatePaths(MemScope.Procfs.MemoryMapping m)
    {
        if (!m.IsDeleted) yield return _proc.PidPath(_pid, "root") + m.FilePath;
        yield return _proc.PidPath(_pid, $"map_files/{m.Start:x}-{m.End:x}");
        if (!m.IsDeleted) yield return m.FilePath;
    }

    /// <summary>Debian's -dbg/-dbgsym packages put full symbol tables under /usr/lib/debug/.build-id/xx/rest.debug.</summary>
    private ElfImage WithDebugFile(ElfImage img)
    {
        if (img.HasSymtab || img.BuildId is not { Length: > 2 } id) return img;
        string rel = $"/usr/lib/debug/.build-id/{id[..2]}/{id[2..]}.debug";
        foreach (string p in new[] { _proc.PidPath(_pid, "root") + rel, rel })
        {
            try { if (File.Exists(p)) return img.WithSymbolsFrom(ElfImage.Load(p)); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ElfFormatException) { }
        }
        return img;
    }

    /// <summary>perf map files (one "START SIZE name" line per JIT-compiled method), e.g. .NET with DOTNET_PerfMapEnabled=1.</summary>
    private (ulong Start, ulong End, string Name)? PerfMapLookup(ulong address)
    {
        (ulong Start, ulong End, string Name)? hit = FindInPerfMap(address);
        if (hit is null)
        {
            // The runtime appends as it compiles: reload when the file grew.
            long length = PerfMapLength();
            if (length != _perfMapLength) { _perfMap = null; hit = FindInPerfMap(address); }
        }
        return hit;
    }

    private string PerfMapPath => _proc.PidPath(_pid, "root") + $"/tmp/perf-{_pid}.map";
    private long _perfMapLength = -1;

    private long PerfMapLength()
    {
        try { return new FileInfo(PerfMapPath).Exists ? new FileInfo(PerfMapPath).Length : -1; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return -1; }
    }

    private static bool TryHex(string s, out ulong v) =>
        ulong.TryParse(s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? s.AsSpan(2) : s, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out v);

    private (ulong Start, ulong End, string Name)? FindInPerfMap(ulong address)
    {
        if (_perfMap is null)
        {
            var list = new List<(ulong, ulong, string)>();
            string path = PerfMapPath;
            _perfMapLength = PerfMapLength();
            try
            {
                if (_perfMapLength >= 0)
                    foreach (string line in File.ReadLines(path))
                    {
                        string[] parts = line.Split(' ', 3);
                        if (parts.Length == 3 && TryHex(parts[0], out ulong s) && TryHex(parts[1], out ulong len))
                            list.Add((s, s + len, parts[2]));
                    }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
            list.Sort((a, b) => a.Item1.CompareTo(b.Item1));
            _perfMap = [.. list];
        }
        int lo = 0, hi = _perfMap.Length - 1, found = -1;
        while (lo <= hi)
        {
            int mid = (lo + hi) / 2;
            if (_perfMap[mid].Start <= address) { found = mid; lo = mid + 1; } else hi = mid - 1;
        }
        return found >= 0 && address < _perfMap[found].End ? _perfMap[found] : null;
    }
}
