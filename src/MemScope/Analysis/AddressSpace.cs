using MemScope.Procfs;

namespace MemScope.Analysis;

/// <summary>The part of the classic user address-space layout a mapping belongs to, low to high.</summary>
public enum Segment
{
    /// <summary>Read-only segment of the main binary: code, constants, RELRO.</summary>
    Code,
    /// <summary>Data segment of the main binary: .data and .bss.</summary>
    Data,
    /// <summary>The brk heap ([heap]): small mallocs of the main arena.</summary>
    Heap,
    /// <summary>The file-mapping segment: libraries, mmap'ed files, shared memory, anonymous mmaps, arenas, thread stacks.</summary>
    Mapping,
    /// <summary>The main thread's stack ([stack]).</summary>
    Stack,
    /// <summary>Pages the kernel maps into every process: [vdso], [vvar], [vsyscall], [uprobes].</summary>
    Kernel,
}

/// <summary>What one mapping is, finer than <see cref="Segment"/>.</summary>
public enum MappingKind
{
    Code, Data, Heap,
    SharedLibrary, MappedFile, AnonymousMmap, MallocArena, ThreadStack, SysVShm, PosixShm, SharedAnonymous, Reserved,
    Stack, Vdso, Vvar, Vsyscall, OtherKernel,
}

/// <summary>One smaps block with its classification and the rule that decided it.</summary>
public sealed record ClassifiedMapping(SmapsMapping Smaps, MappingKind Kind, string Group, bool Heuristic, string Rule)
{
    public MemoryMapping Mapping => Smaps.Mapping;
    public SmapsFields Fields => Smaps.Fields;
    public Segment Segment => AddressSpace.SegmentOf(Kind);
}

/// <summary>Sums over the mappings of one group (a library, a file, the heap, all thread stacks...).</summary>
public sealed record MappingGroup
{
    public required Segment Segment { get; init; }
    public required MappingKind Kind { get; init; }
    /// <summary>Library or file path, or a fixed name such as "[heap]", "anonymous", "thread stacks".</summary>
    public required string Name { get; init; }
    public required int Maps { get; init; }
    /// <summary>Number of distinct instances where that means something (arenas, thread stacks); else null.</summary>
    public int? Instances { get; init; }
    public ulong Start { get; init; }
    public ulong VirtBytes { get; init; }
    public ulong? RssBytes { get; init; }
    public ulong? PssBytes { get; init; }
    public ulong? PrivateDirtyBytes { get; init; }
    public ulong? SwapBytes { get; init; }
    /// <summary>True when a heuristic (not a name the kernel printed) put any mapping in this group.</summary>
    public bool Heuristic { get; init; }
}

/// <summary>
/// Classifies the mappings of one process into the classic layout. Rules, in order (docs/segments.md):
/// <list type="number">
/// <item>Kernel names: [heap] → heap; [stack] → stack; [stack:TID] (kernels up to 4.4) → thread stack; [vdso], [vvar],
///   [vvar_vclock], [vsyscall], [uprobes] → kernel; [anon:NAME] (5.17+) → anonymous mmap named NAME;
///   [anon_shmem:NAME] → shared anonymous.</item>
/// <item>The main binary (path equal to /proc/PID/exe, else the lowest file mapped at offset 0 that is not a
///   library): writable mappings → data, the others → code (read-only segment: text, rodata, RELRO).</item>
/// <item>/SYSV* → SysV shm; /dev/shm/* → POSIX shm; /dev/zero (deleted) or an anonymous shared mapping → shared
///   anonymous; a file named *.so or *.so.N... or ld-linux* → shared library (grouped per library); any other file
///   (including memfd:) → mmap'ed file (grouped per file).</item>
/// <item>HEURISTIC bss: an anonymous rw-p mapping that starts exactly where the binary's (or a library's) last
///   writable mapping ends is its .bss tail → data (or that library).</item>
/// <item>HEURISTIC glibc arena: an anonymous rw-p mapping aligned to HEAP_MAX_SIZE (64 MiB on 64-bit, 1 MiB on
///   32-bit) that is either exactly that size or followed contiguously by an anonymous ---p mapping completing it →
///   malloc arena (both mappings).</item>
/// <item>Thread stack: an anonymous rw-p mapping containing a thread's stack pointer (from /proc/PID/task/*/syscall,
///   when readable) is a thread stack (not a heuristic). HEURISTIC otherwise: an anonymous private rw-p mapping
///   whose contiguous lower neighbour is an anonymous ---p guard of at most 64 KiB → thread stack (guard included).</item>
/// <item>Remaining anonymous ---p mappings → reserved (PROT_NONE reservations and guards); remaining anonymous
///   mappings → anonymous mmaps (large mallocs, runtimes' heaps, JIT code).</item>
/// </list>
/// </summary>
public static class AddressSpace
{
    public const ulong MaxGuardBytes = 64 * 1024;
    /// <summary>Group of stacks recognised by the guard-page layout alone (no live thread's stack pointer inside:
    /// unreadable task files, stacks glibc keeps cached after a thread exits, or look-alikes).</summary>
    public const string LayoutStacks = "thread stacks (by layout)";

    public static Segment SegmentOf(MappingKind kind) => kind switch
    {
        MappingKind.Code => Segment.Code,
        MappingKind.Data => Segment.Data,
        MappingKind.Heap => Segment.Heap,
        MappingKind.Stack => Segment.Stack,
        MappingKind.Vdso or MappingKind.Vvar or MappingKind.Vsyscall or MappingKind.OtherKernel => Segment.Kernel,
        _ => Segment.Mapping,
    };

    public static string KindName(MappingKind kind) => kind switch
    {
        MappingKind.Code => "code",
        MappingKind.Data => "data",
        MappingKind.Heap => "heap",
        MappingKind.SharedLibrary => "shared library",
        MappingKind.MappedFile => "mmap'ed file",
        MappingKind.AnonymousMmap => "anonymous mmap",
        MappingKind.MallocArena => "malloc arena",
        MappingKind.ThreadStack => "thread stack",
        MappingKind.SysVShm => "SysV shm",
        MappingKind.PosixShm => "POSIX shm",
        MappingKind.SharedAnonymous => "shared anonymous",
        MappingKind.Reserved => "reserved (no access)",
        MappingKind.Stack => "stack",
        MappingKind.Vdso => "vdso",
        MappingKind.Vvar => "vvar",
        MappingKind.Vsyscall => "vsyscall",
        _ => "kernel",
    };

    public static string SegmentName(Segment s) => s switch
    {
        Segment.Code => "code",
        Segment.Data => "data",
        Segment.Heap => "heap",
        Segment.Mapping => "mmap",
        Segment.Stack => "stack",
        _ => "kernel",
    };

    /// <summary>True for names like libc.so.6, libfoo.so, libssl.so.3.0.2, ld-linux-x86-64.so.2.</summary>
    public static bool IsSharedLibraryPath(string path)
    {
        ReadOnlySpan<char> name = Path.GetFileName(path.AsSpan());
        if (name.StartsWith("ld-linux") || name.StartsWith("ld-")) return name.Contains(".so", StringComparison.Ordinal);
        int i = name.IndexOf(".so", StringComparison.Ordinal);
        while (i >= 0)
        {
            int after = i + 3;
            if (after == name.Length || name[after] == '.') return true;
            int next = name[after..].IndexOf(".so", StringComparison.Ordinal);
            i = next < 0 ? -1 : after + next;
        }
        return false;
    }

    /// <summary>The arena reservation size glibc uses (HEAP_MAX_SIZE = 2 * DEFAULT_MMAP_THRESHOLD_MAX).</summary>
    public static ulong ArenaSize(IReadOnlyList<SmapsMapping> maps)
    {
        foreach (var m in maps)
            if (m.Mapping.End > 0x1_0000_0000UL && m.Mapping.Path != "[vsyscall]") return 64UL << 20;
        return 1UL << 20;
    }

    /// <summary>
    /// Classifies every mapping. <paramref name="exePath"/> is /proc/PID/exe (null: inferred);
    /// <paramref name="stackPointers"/> are the threads' stack pointers when known.
    /// </summary>
    public static List<ClassifiedMapping> Classify(IReadOnlyList<SmapsMapping> maps, string? exePath = null,
        IReadOnlyCollection<ulong>? stackPointers = null)
    {
        exePath = exePath is null ? InferExe(maps) : StripDeleted(exePath);
        ulong arena = ArenaSize(maps);
        var kinds = new MappingKind?[maps.Count];
        var groups = new string[maps.Count];
        var heuristic = new bool[maps.Count];
        var rules = new string[maps.Count];

        void Set(int i, MappingKind k, string group, string rule, bool h = false)
        {
            kinds[i] = k; groups[i] = group; rules[i] = rule; heuristic[i] = h;
        }

        // Pass 1: what the kernel's names say.
        for (int i = 0; i < maps.Count; i++)
        {
            MemoryMapping m = maps[i].Mapping;
            string p = m.Path;
            string file = m.FilePath;
            if (p.Length == 0) continue;
            if (p == "[heap]") Set(i, MappingKind.Heap, "[heap]", "named [heap]");
            else if (p == "[stack]") Set(i, MappingKind.Stack, "[stack]", "named [stack]");
            else if (p.StartsWith("[stack:", StringComparison.Ordinal)) Set(i, MappingKind.ThreadStack, "thread stacks", "named [stack:TID]");
            else if (p == "[vdso]") Set(i, MappingKind.Vdso, "[vdso]", "named [vdso]");
            else if (p.StartsWith("[vvar", StringComparison.Ordinal)) Set(i, MappingKind.Vvar, p, "named [vvar]");
            else if (p == "[vsyscall]") Set(i, MappingKind.Vsyscall, "[vsyscall]", "named [vsyscall]");
            else if (p.StartsWith("[anon:", StringComparison.Ordinal)) Set(i, MappingKind.AnonymousMmap, p, "named anonymous mapping (prctl PR_SET_VMA_ANON_NAME)");
            else if (p.StartsWith("[anon_shmem:", StringComparison.Ordinal)) Set(i, MappingKind.SharedAnonymous, p, "named shared anonymous mapping");
            else if (p[0] == '[') Set(i, MappingKind.OtherKernel, p, "other kernel pseudo mapping");
            else if (exePath is not null && file == exePath)
                Set(i, m.CanWrite ? MappingKind.Data : MappingKind.Code, file, m.CanWrite ? "main binary, writable" : "main binary, not writable");
            else if (file.StartsWith("/SYSV", StringComparison.Ordinal)) Set(i, MappingKind.SysVShm, file, "path /SYSVkey: SysV shared memory");
            else if (file.StartsWith("/dev/shm/", StringComparison.Ordinal)) Set(i, MappingKind.PosixShm, file, "path under /dev/shm: POSIX shared memory");
            else if (file == "/dev/zero" && m.IsShared) Set(i, MappingKind.SharedAnonymous, "shared anonymous", "/dev/zero (deleted): mmap(MAP_SHARED|MAP_ANONYMOUS)");
            else if (IsSharedLibraryPath(file)) Set(i, MappingKind.SharedLibrary, file, "file named *.so*");
            else Set(i, MappingKind.MappedFile, file, "other mapped file");
        }

        // Thread stacks by stack pointer: a fact, when /proc/PID/task/*/syscall was readable.
        if (stackPointers is { Count: > 0 })
            for (int i = 0; i < maps.Count; i++)
            {
                MemoryMapping m = maps[i].Mapping;
                if (kinds[i] is not null || !m.IsAnonymous || !m.CanWrite) continue;
                foreach (ulong sp in stackPointers)
                    if (m.Contains(sp))
                    {
                        Set(i, MappingKind.ThreadStack, "thread stacks", "holds a thread's stack pointer");
                        if (i > 0 && kinds[i - 1] is null && IsGuard(maps[i - 1].Mapping, m))
                            Set(i - 1, MappingKind.ThreadStack, "thread stacks", "guard below a thread stack");
                        break;
                    }
            }

        // Pass 2: anonymous mappings by layout (heuristics).
        for (int i = 0; i < maps.Count; i++)
        {
            if (kinds[i] is not null) continue;
            MemoryMapping m = maps[i].Mapping;
            if (!m.IsAnonymous) continue;
            MemoryMapping? prev = i > 0 ? maps[i - 1].Mapping : null;
            MemoryMapping? next = i + 1 < maps.Count ? maps[i + 1].Mapping : null;
            bool rwPrivate = m.CanRead && m.CanWrite && m.IsPrivate;

            if (rwPrivate && prev is not null && prev.End == m.Start && kinds[i - 1] is MappingKind.Data or MappingKind.SharedLibrary
                && prev.CanWrite && !prev.IsAnonymous)
            {
                Set(i, kinds[i - 1]!.Value, groups[i - 1], ".bss: anonymous rw-p right after a binary's writable mapping", true);
                continue;
            }
            if (rwPrivate && m.Start % arena == 0 && (m.SizeBytes == arena ||
                next is not null && next.IsAnonymous && next.IsNoAccess && next.Start == m.End && m.SizeBytes + next.SizeBytes == arena))
            {
                Set(i, MappingKind.MallocArena, "malloc arenas", "rw-p + ---p reservation aligned to HEAP_MAX_SIZE", true);
                if (m.SizeBytes != arena) Set(i + 1, MappingKind.MallocArena, "malloc arenas", "unused tail of an arena reservation", true);
                continue;
            }
            if (rwPrivate && prev is not null && kinds[i - 1] is null && IsGuard(prev, m))
            {
                Set(i, MappingKind.ThreadStack, LayoutStacks, "anonymous rw-p above a small ---p guard", true);
                Set(i - 1, MappingKind.ThreadStack, LayoutStacks, "guard below a thread stack", true);
                continue;
            }
        }
        for (int i = 0; i < maps.Count; i++)
        {
            if (kinds[i] is not null) continue;
            MemoryMapping m = maps[i].Mapping;
            if (m.IsNoAccess) Set(i, MappingKind.Reserved, "reserved (no access)", "anonymous ---p: reservation or guard");
            else if (m.IsShared) Set(i, MappingKind.SharedAnonymous, "shared anonymous", "anonymous shared mapping");
            else Set(i, MappingKind.AnonymousMmap, "anonymous", "anonymous private mapping");
        }

        var result = new List<ClassifiedMapping>(maps.Count);
        for (int i = 0; i < maps.Count; i++) result.Add(new ClassifiedMapping(maps[i], kinds[i]!.Value, groups[i], heuristic[i], rules[i]));
        return result;
    }

    private static bool IsGuard(MemoryMapping guard, MemoryMapping above) =>
        guard.IsAnonymous && guard.IsNoAccess && guard.End == above.Start && guard.SizeBytes <= MaxGuardBytes;

    private static string StripDeleted(string p) =>
        p.EndsWith(MemoryMapping.DeletedSuffix, StringComparison.Ordinal) ? p[..^MemoryMapping.DeletedSuffix.Length] : p;

    /// <summary>Without /proc/PID/exe: the lowest file mapped at offset 0 that is not a library or special file.</summary>
    public static string? InferExe(IReadOnlyList<SmapsMapping> maps)
    {
        foreach (var s in maps)
        {
            MemoryMapping m = s.Mapping;
            if (m.IsFileBacked && m.Offset == 0 && !IsSharedLibraryPath(m.FilePath) && !m.FilePath.StartsWith("/SYSV", StringComparison.Ordinal)
                && !m.FilePath.StartsWith("/dev/", StringComparison.Ordinal))
                return m.FilePath;
        }
        return null;
    }

    /// <summary>Groups classified mappings (per library, per file, per kind), in address order of each group's first mapping.</summary>
    public static List<MappingGroup> Group(IReadOnlyList<ClassifiedMapping> mappings)
    {
        var order = new List<(MappingKind, string)>();
        var members = new Dictionary<(MappingKind, string), List<ClassifiedMapping>>();
        foreach (var c in mappings)
        {
            var key = (c.Kind, c.Group);
            if (!members.TryGetValue(key, out var list))
            {
                members[key] = list = new List<ClassifiedMapping>();
                order.Add(key);
            }
            list.Add(c);
        }
        var groups = new List<MappingGroup>(order.Count);
        foreach (var key in order)
        {
            var list = members[key];
            int? instances = key.Item1 switch
            {
                MappingKind.ThreadStack => list.Count(c => !c.Mapping.IsNoAccess),
                MappingKind.MallocArena => list.Count(c => !c.Mapping.IsNoAccess),
                _ => null,
            };
            var sum = ProcPidSmaps.SumFields(list.Select(c => c.Fields));
            groups.Add(new MappingGroup
            {
                Segment = SegmentOf(key.Item1),
                Kind = key.Item1,
                Name = key.Item2,
                Maps = list.Count,
                Instances = instances,
                Start = list[0].Mapping.Start,
                VirtBytes = (ulong)list.Sum(c => (decimal)c.Mapping.SizeBytes),
                RssBytes = sum.Rss,
                PssBytes = sum.Pss,
                PrivateDirtyBytes = sum.PrivateDirty,
                SwapBytes = sum.Swap,
                Heuristic = list.Any(c => c.Heuristic),
            });
        }
        return groups;
    }

    /// <summary>
    /// Reads the threads' stack pointers from /proc/PID/task/*/syscall (needs ptrace access: root or the owner);
    /// threads that are running or unreadable are skipped, so the set may be partial or empty.
    /// </summary>
    public static List<ulong> ReadStackPointers(ProcFs proc, int pid)
    {
        var sps = new List<ulong>();
        string taskDir = proc.PidPath(pid, "task");
        IEnumerable<string> tasks;
        try { tasks = Directory.EnumerateDirectories(taskDir).ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return sps; }
        foreach (string t in tasks)
        {
            string? text;
            try { text = KernelFile.ReadAllText(Path.Combine(t, "syscall")); }
            catch (KernelFileException) { continue; }
            // "nr a1 a2 a3 a4 a5 a6 sp pc", "-1 sp pc" (blocked outside a syscall) or "running".
            var tokens = text.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (tokens.Length < 3) continue;
            string sp = tokens[^2];
            if (sp.StartsWith("0x", StringComparison.Ordinal) && SpanParsing.TryParseHex(sp.AsSpan(2), out ulong v) && v != 0) sps.Add(v);
        }
        return sps;
    }
}
