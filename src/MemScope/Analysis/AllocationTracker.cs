namespace MemScope.Analysis;

/// <summary>The allocator entry points MemScope probes. The order is stable: it indexes tables.</summary>
public enum AllocFunction
{
    Malloc, Calloc, Realloc, Free, PosixMemalign, AlignedAlloc, Valloc, Memalign, Pvalloc, Mmap, Munmap,
}

/// <summary>
/// Keeps the allocations a process still holds, from allocator entry and return events (uprobes), with the user stack
/// of each: the core of `memscope leak --trace`, free of any I/O so it is tested on synthetic event streams.
/// Events of one thread must arrive in the order they happened; threads may interleave.
/// </summary>
public sealed class AllocationTracker
{
    private readonly record struct Pending(ulong A0, ulong A1, ulong A2, ulong TimeNs);

    /// <summary>One live allocation.</summary>
    public record struct Allocation(ulong Size, int StackId, ulong TimeNs, AllocFunction Function);

    private readonly Dictionary<(int Tid, AllocFunction Fn), Pending> _pending = new();
    private readonly Dictionary<int, int> _inAllocator = new(); // tid → allocator calls in progress (to skip malloc's own mmaps)
    private readonly Dictionary<ulong, Allocation> _live = new();
    private readonly Dictionary<ulong, int> _pendingStacks = new(); // ptr → stack that arrived before its allocation
    private readonly StackTable _stacks = new();
    private readonly int _pageSize;

    public AllocationTracker(int pageSize = 4096) => _pageSize = pageSize;

    public StackTable Stacks => _stacks;

    public long Allocations { get; private set; }
    public long Frees { get; private set; }
    /// <summary>Frees of pointers we never saw allocated (allocated before tracing began, or lost events).</summary>
    public long UnknownFrees { get; private set; }
    /// <summary>Returns without a matching entry on that thread (the call began before tracing).</summary>
    public long Unpaired { get; private set; }
    /// <summary>Allocations at an address we still held live (a free we missed).</summary>
    public long Replaced { get; private set; }
    public long FailedAllocations { get; private set; }
    public int Resets { get; private set; }

    public int LiveCount => _live.Count;
    public ulong LiveBytes { get; private set; }

    /// <summary>A live allocation by address (tests and diagnostics).</summary>
    public Allocation? Find(ulong ptr) => _live.TryGetValue(ptr, out Allocation a) ? a : null;

    /// <summary>Forgets everything (after exec: the old address space is gone).</summary>
    public void Reset()
    {
        _pending.Clear();
        _inAllocator.Clear();
        _live.Clear();
        _pendingStacks.Clear();
        LiveBytes = 0;
        Resets++;
    }

    private static bool IsHeapAllocator(AllocFunction f) => f is not (AllocFunction.Mmap or AllocFunction.Munmap or AllocFunction.Free);

    /// <summary>
    /// An entry probe fired. Arguments are the first three integer arguments of the function. free and munmap act
    /// here (they have no return probe).
    /// </summary>
    public void OnEntry(AllocFunction fn, int tid, ulong timeNs, ulong a0, ulong a1 = 0, ulong a2 = 0)
    {
        switch (fn)
        {
            case AllocFunction.Free:
                if (a0 != 0) Release(a0);
                return;
            case AllocFunction.Munmap:
                // Only mmaps we tracked (not the ones malloc made for itself) can be released here.
                if (_live.TryGetValue(a0, out Allocation m) && m.Function == AllocFunction.Mmap) Release(a0);
                return;
        }
        _pending[(tid, fn)] = new Pending(a0, a1, a2, timeNs);
        if (IsHeapAllocator(fn)) _inAllocator[tid] = _inAllocator.GetValueOrDefault(tid) + 1;
    }

    /// <summary>
    /// A return probe fired with the function's return value. <paramref name="stackId"/> is the interned user stack
    /// (or -1 when this call's stack was not sampled). For posix_memalign, <paramref name="readPointer"/> reads the
    /// pointer the call stored at its first argument (null when it cannot).
    /// </summary>
    public void OnReturn(AllocFunction fn, int tid, ulong timeNs, ulong ret, int stackId, Func<ulong, ulong?>? readPointer = null)
    {
        if (!_pending.Remove((tid, fn), out Pending p))
        {
            Unpaired++;
            return;
        }
        if (IsHeapAllocator(fn) && _inAllocator.TryGetValue(tid, out int depth))
        {
            if (depth <= 1) _inAllocator.Remove(tid); else _inAllocator[tid] = depth - 1;
        }
        ulong size;
        ulong ptr = ret;
        switch (fn)
        {
            case AllocFunction.Malloc: size = p.A0; break;
            case AllocFunction.Calloc: size = p.A0 * p.A1; break;
            case AllocFunction.Realloc:
                // realloc(p, 0) frees p; a successful realloc releases the old block (moved or not).
                if (p.A0 != 0 && (ret != 0 || p.A1 == 0)) Release(p.A0);
                size = p.A1;
                break;
            case AllocFunction.AlignedAlloc:
            case AllocFunction.Memalign: size = p.A1; break;
            case AllocFunction.Valloc: size = p.A0; break;
            case AllocFunction.Pvalloc: size = (p.A0 + (ulong)_pageSize - 1) / (ulong)_pageSize * (ulong)_pageSize; break;
            case AllocFunction.PosixMemalign:
                if (ret != 0) { FailedAllocations++; return; } // returns an errno, 0 on success
                size = p.A2;
                ptr = readPointer?.Invoke(p.A0) ?? 0;
                break;
            case AllocFunction.Mmap:
                // Anonymous mappings only (MAP_ANONYMOUS = 0x20), and not the ones malloc makes for itself.
                if ((p.A2 & 0x20) == 0 || _inAllocator.ContainsKey(tid)) return;
                if (ret >= unchecked((ulong)-4095L)) { FailedAllocations++; return; } // MAP_FAILED / -errno
                size = p.A1;
                break;
            default: return;
        }
        if (ptr == 0)
        {
            if (size != 0) FailedAllocations++;
            return;
        }
        if (stackId < 0 && _pendingStacks.Remove(ptr, out int early)) stackId = early;
        Allocations++;
        if (_live.TryGetValue(ptr, out Allocation old))
        {
            Replaced++;
            LiveBytes -= old.Size;
        }
        _live[ptr] = new Allocation(size, stackId, timeNs, fn);
        LiveBytes += size;
    }

    /// <summary>
    /// A stack sampled separately (--sample-every N) for the allocation that returned <paramref name="ptr"/>; it may
    /// arrive just before or just after the return event.
    /// </summary>
    public void OnStack(ulong ptr, int stackId)
    {
        if (ptr == 0 || stackId < 0) return;
        if (_live.TryGetValue(ptr, out Allocation a) && a.StackId < 0) _live[ptr] = a with { StackId = stackId };
        else if (!_live.ContainsKey(ptr))
        {
            if (_pendingStacks.Count > 4096) _pendingStacks.Clear();
            _pendingStacks[ptr] = stackId;
        }
    }

    private void Release(ulong ptr)
    {
        if (_live.Remove(ptr, out Allocation a))
        {
            LiveBytes -= a.Size;
            Frees++;
        }
        else
        {
            UnknownFrees++;
        }
    }

    /// <summary>Outstanding allocations grouped by stack, largest first.</summary>
    public sealed record StackSummary(int StackId, ulong Bytes, long Count, ulong OldestTimeNs, AllocFunction Function);

    /// <summary>
    /// The stacks holding the most outstanding bytes, ignoring allocations younger than <paramref name="minAgeNs"/>
    /// at <paramref name="nowNs"/>. Allocations whose stack was not sampled are grouped under stack id -1.
    /// </summary>
    public List<StackSummary> Top(int n, ulong nowNs, ulong minAgeNs, out ulong bytes, out long count, bool includeUnsampled = true)
    {
        var groups = new Dictionary<int, (ulong Bytes, long Count, ulong Oldest, AllocFunction Fn)>();
        bytes = 0;
        count = 0;
        foreach (Allocation a in _live.Values)
        {
            if (minAgeNs > 0 && nowNs - Math.Min(nowNs, a.TimeNs) < minAgeNs) continue;
            bytes += a.Size;
            count++;
            groups[a.StackId] = groups.TryGetValue(a.StackId, out var g)
                ? (g.Bytes + a.Size, g.Count + 1, Math.Min(g.Oldest, a.TimeNs), g.Fn)
                : (a.Size, 1, a.TimeNs, a.Function);
        }
        if (!includeUnsampled) groups.Remove(-1);
        return [.. groups.Select(kv => new StackSummary(kv.Key, kv.Value.Bytes, kv.Value.Count, kv.Value.Oldest, kv.Value.Fn))
            .OrderByDescending(s => s.Bytes).ThenByDescending(s => s.Count).Take(n)];
    }
}

/// <summary>Interns user stacks (arrays of return addresses) to small ids.</summary>
public sealed class StackTable
{
    private readonly Dictionary<ulong[], int> _ids = new(new StackComparer());
    private readonly List<ulong[]> _stacks = [];

    public int Count => _stacks.Count;

    public int Intern(ReadOnlySpan<ulong> frames)
    {
        ulong[] key = frames.ToArray();
        if (_ids.TryGetValue(key, out int id)) return id;
        id = _stacks.Count;
        _stacks.Add(key);
        _ids[key] = id;
        return id;
    }

    public ulong[] Get(int id) => id >= 0 && id < _stacks.Count ? _stacks[id] : [];

    private sealed class StackComparer : IEqualityComparer<ulong[]>
    {
        public bool Equals(ulong[]? a, ulong[]? b) => a.AsSpan().SequenceEqual(b);
        public int GetHashCode(ulong[] s)
        {
            var h = new HashCode();
            foreach (ulong x in s) h.Add(x);
            return h.ToHashCode();
        }
    }
}
