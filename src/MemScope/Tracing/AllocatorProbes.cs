using System.Runtime.InteropServices;
using MemScope.Analysis;
using MemScope.Procfs;
using MemScope.Symbols;

namespace MemScope.Tracing;

/// <summary>Where one allocator function lives in the target: the file (as we open it) and the probe's file offset.</summary>
public sealed record AllocatorTarget(AllocFunction Function, string Symbol, string Module, string ProbePath, ulong FileOffset);

/// <summary>
/// Finds the allocator functions a process actually uses, from the ELF symbol tables of what it has mapped: its own
/// binary first (static binaries, programs with their own malloc), then preloaded/other allocator libraries (jemalloc,
/// tcmalloc interpose libc's by symbol preemption), then libc. The dynamic loader's private malloc is never probed.
/// </summary>
public static class AllocatorProbes
{
    public static readonly (AllocFunction Fn, string Symbol)[] Functions =
    [
        (AllocFunction.Malloc, "malloc"), (AllocFunction.Calloc, "calloc"), (AllocFunction.Realloc, "realloc"),
        (AllocFunction.Free, "free"), (AllocFunction.PosixMemalign, "posix_memalign"),
        (AllocFunction.AlignedAlloc, "aligned_alloc"), (AllocFunction.Valloc, "valloc"), (AllocFunction.Memalign, "memalign"),
        (AllocFunction.Pvalloc, "pvalloc"), (AllocFunction.Mmap, "mmap"), (AllocFunction.Munmap, "munmap"),
    ];

    public static bool IsLibc(string fileName) =>
        fileName.StartsWith("libc.so", StringComparison.Ordinal) || fileName.StartsWith("libc-", StringComparison.Ordinal)
        || fileName.StartsWith("ld-musl", StringComparison.Ordinal) || fileName.StartsWith("libc.musl", StringComparison.Ordinal);

    private static bool IsDynamicLoader(string fileName) =>
        fileName.StartsWith("ld-linux", StringComparison.Ordinal) || fileName.StartsWith("ld64.so", StringComparison.Ordinal)
        || fileName.StartsWith("ld.so", StringComparison.Ordinal);

    /// <summary>
    /// Resolves every allocator function the process has. Functions that share an address (glibc's aligned_alloc
    /// and memalign) are probed once. Empty when the process maps no allocator with symbols.
    /// </summary>
    public static List<AllocatorTarget> Resolve(ProcFs proc, int pid, ProcessSymbolizer symbols)
    {
        string? exe = null;
        try { exe = new FileInfo(proc.PidPath(pid, "exe")).LinkTarget; } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        if (exe is not null && exe.EndsWith(MemoryMapping.DeletedSuffix, StringComparison.Ordinal)) exe = exe[..^MemoryMapping.DeletedSuffix.Length];

        // One executable mapping per file, ranked: main binary 0, other libraries 1, libc 2.
        var files = new List<(int Rank, MemoryMapping Map)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (MemoryMapping m in symbols.Mappings)
        {
            if (!m.IsFileBacked || !m.CanExecute || !seen.Add(m.FilePath)) continue;
            string name = Path.GetFileName(m.FilePath);
            if (IsDynamicLoader(name)) continue;
            int rank = m.FilePath == exe ? 0 : IsLibc(name) ? 2 : 1;
            files.Add((rank, m));
        }
        files.Sort((a, b) => a.Rank.CompareTo(b.Rank));

        // A library other than libc counts only when it is an allocator itself (defines malloc and free).
        files.RemoveAll(f => f.Rank == 1 && (symbols.ImageFor(f.Map) is not { } img || img.FindFunction("malloc") is null || img.FindFunction("free") is null));
        var targets = new List<AllocatorTarget>();
        var usedOffsets = new HashSet<(string, ulong)>();
        foreach ((AllocFunction fn, string symbol) in Functions)
        {
            foreach ((int _, MemoryMapping m) in files)
            {
                ElfImage? image = symbols.ImageFor(m);
                if (image?.FindFunction(symbol) is not ElfSymbol s) continue;
                if (image.FileOffsetOf(s.Value) is not ulong off) continue;
                if (usedOffsets.Add((m.FilePath, off)))
                    targets.Add(new AllocatorTarget(fn, symbol, m.FilePath, ProbePath(proc, pid, m), off));
                break;
            }
        }
        return targets;
    }

    /// <summary>The path to give uprobe_events: the file as the target sees it, through its root (containers).</summary>
    private static string ProbePath(ProcFs proc, int pid, MemoryMapping m)
    {
        string viaRoot = proc.PidPath(pid, "root") + m.FilePath;
        if (!m.IsDeleted && !viaRoot.Contains(' ') && File.Exists(viaRoot)) return viaRoot;
        return proc.PidPath(pid, $"map_files/{m.Start:x}-{m.End:x}");
    }

    /// <summary>Fetch-argument registers of the first integer arguments, per architecture (uprobetracer.rst).</summary>
    public static string[]? ArgumentRegisters => RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => ["%di", "%si", "%dx", "%cx", "%r8"],
        Architecture.Arm64 => ["%x0", "%x1", "%x2", "%x3", "%x4"],
        _ => null,
    };

    /// <summary>The fetch args of the entry probe: a0..a2 carry what <see cref="AllocationTracker.OnEntry"/> expects.</summary>
    public static string EntryFetchArgs(AllocFunction fn, string[] regs) => fn switch
    {
        AllocFunction.Malloc or AllocFunction.Free or AllocFunction.Valloc or AllocFunction.Pvalloc => $"a0={regs[0]}:u64",
        AllocFunction.Calloc or AllocFunction.Realloc or AllocFunction.AlignedAlloc or AllocFunction.Memalign or AllocFunction.Munmap
            => $"a0={regs[0]}:u64 a1={regs[1]}:u64",
        AllocFunction.PosixMemalign => $"a0={regs[0]}:u64 a1={regs[1]}:u64 a2={regs[2]}:u64",
        // mmap(addr, len, prot, flags, fd, off): a2 = flags (the 4th argument) for the MAP_ANONYMOUS test
        AllocFunction.Mmap => $"a0={regs[0]}:u64 a1={regs[1]}:u64 a2={regs[3]}:u64",
        _ => $"a0={regs[0]}:u64",
    };

    public static bool HasReturnProbe(AllocFunction fn) => fn is not (AllocFunction.Free or AllocFunction.Munmap);
}
