using MemScope.Analysis;

namespace MemScope.Tests.Analysis;

public class AllocationTrackerTests
{
    private static readonly ulong[] LeakStack = [0x401000, 0x402000, 0x403000];
    private static readonly ulong[] TidyStack = [0x405000, 0x402000, 0x403000];

    [Fact]
    public void Pairs_entries_and_returns_per_thread_and_frees_release()
    {
        var t = new AllocationTracker();
        int leak = t.Stacks.Intern(LeakStack), tidy = t.Stacks.Intern(TidyStack);
        Assert.Equal(leak, t.Stacks.Intern(LeakStack.AsSpan()));
        ulong time = 0;
        for (ulong i = 0; i < 100; i++)
        {
            // two threads interleaving: thread 1 leaks 100 bytes, thread 2 allocates 50 and frees them
            t.OnEntry(AllocFunction.Malloc, 1, time++, 100);
            t.OnEntry(AllocFunction.Malloc, 2, time++, 50);
            t.OnReturn(AllocFunction.Malloc, 2, time++, 0x20000 + i * 64, tidy);
            t.OnReturn(AllocFunction.Malloc, 1, time++, 0x10000 + i * 128, leak);
            t.OnEntry(AllocFunction.Free, 2, time++, 0x20000 + i * 64);
        }
        Assert.Equal(100, t.LiveCount);
        Assert.Equal(10_000UL, t.LiveBytes);
        var top = t.Top(5, time, 0, out ulong bytes, out long count);
        Assert.Equal(10_000UL, bytes);
        Assert.Equal(100, count);
        Assert.Single(top);
        Assert.Equal(leak, top[0].StackId);
        Assert.Equal(200, t.Allocations);
        Assert.Equal(100, t.Frees);
    }

    [Fact]
    public void Calloc_realloc_memalign_posix_memalign_sizes()
    {
        var t = new AllocationTracker(4096);
        t.OnEntry(AllocFunction.Calloc, 1, 1, 10, 24);
        t.OnReturn(AllocFunction.Calloc, 1, 2, 0x1000, -1);
        Assert.Equal(240UL, t.Find(0x1000)!.Value.Size);

        t.OnEntry(AllocFunction.Realloc, 1, 3, 0x1000, 1000);
        t.OnReturn(AllocFunction.Realloc, 1, 4, 0x2000, -1); // moved
        Assert.Null(t.Find(0x1000));
        Assert.Equal(1000UL, t.Find(0x2000)!.Value.Size);

        t.OnEntry(AllocFunction.Realloc, 1, 5, 0x2000, 2000);
        t.OnReturn(AllocFunction.Realloc, 1, 6, 0x2000, -1); // in place
        Assert.Equal(2000UL, t.Find(0x2000)!.Value.Size);
        Assert.Equal(1, t.LiveCount);

        t.OnEntry(AllocFunction.Realloc, 1, 7, 0x2000, 0);
        t.OnReturn(AllocFunction.Realloc, 1, 8, 0, -1); // realloc(p, 0) frees
        Assert.Equal(0, t.LiveCount);

        t.OnEntry(AllocFunction.Memalign, 1, 9, 64, 300);
        t.OnReturn(AllocFunction.Memalign, 1, 10, 0x3000, -1);
        Assert.Equal(300UL, t.Find(0x3000)!.Value.Size);

        t.OnEntry(AllocFunction.PosixMemalign, 1, 11, 0x7ffe0000, 64, 500);
        t.OnReturn(AllocFunction.PosixMemalign, 1, 12, 0, -1, addr => addr == 0x7ffe0000 ? 0x4000UL : null);
        Assert.Equal(500UL, t.Find(0x4000)!.Value.Size);

        t.OnEntry(AllocFunction.PosixMemalign, 1, 13, 0x7ffe0000, 64, 1 << 40);
        t.OnReturn(AllocFunction.PosixMemalign, 1, 14, 12 /* ENOMEM */, -1);
        Assert.Equal(1, t.FailedAllocations);

        t.OnEntry(AllocFunction.Pvalloc, 1, 15, 10);
        t.OnReturn(AllocFunction.Pvalloc, 1, 16, 0x8000, -1);
        Assert.Equal(4096UL, t.Find(0x8000)!.Value.Size);
    }

    [Fact]
    public void Mmaps_made_inside_malloc_are_not_counted_twice_and_file_mmaps_are_ignored()
    {
        var t = new AllocationTracker();
        t.OnEntry(AllocFunction.Malloc, 1, 1, 1 << 20);
        t.OnEntry(AllocFunction.Mmap, 1, 2, 0, (1 << 20) + 4096, 0x22);
        t.OnReturn(AllocFunction.Mmap, 1, 3, 0x7f0000000000, -1);
        t.OnReturn(AllocFunction.Malloc, 1, 4, 0x7f0000000010, -1);
        Assert.Equal(1, t.LiveCount);
        Assert.Equal(1UL << 20, t.LiveBytes);

        // an application's own anonymous mmap counts; its munmap releases it
        t.OnEntry(AllocFunction.Mmap, 1, 5, 0, 8192, 0x22);
        t.OnReturn(AllocFunction.Mmap, 1, 6, 0x7f1000000000, -1);
        Assert.Equal(8192UL, t.Find(0x7f1000000000)!.Value.Size);
        t.OnEntry(AllocFunction.Munmap, 1, 7, 0x7f1000000000, 8192);
        Assert.Null(t.Find(0x7f1000000000));

        // file mapping (no MAP_ANONYMOUS) and a failed mmap are not allocations
        t.OnEntry(AllocFunction.Mmap, 1, 8, 0, 8192, 0x02);
        t.OnReturn(AllocFunction.Mmap, 1, 9, 0x7f2000000000, -1);
        t.OnEntry(AllocFunction.Mmap, 1, 10, 0, 8192, 0x22);
        t.OnReturn(AllocFunction.Mmap, 1, 11, unchecked((ulong)-12L), -1);
        Assert.Equal(1, t.LiveCount);
    }

    [Fact]
    public void Unknown_frees_unpaired_returns_and_reset()
    {
        var t = new AllocationTracker();
        t.OnEntry(AllocFunction.Free, 1, 1, 0xdead);
        t.OnEntry(AllocFunction.Free, 1, 2, 0); // free(NULL) is nothing
        t.OnReturn(AllocFunction.Malloc, 1, 3, 0x1000, -1); // the entry happened before tracing
        Assert.Equal(1, t.UnknownFrees);
        Assert.Equal(1, t.Unpaired);
        Assert.Equal(0, t.LiveCount);

        t.OnEntry(AllocFunction.Malloc, 1, 4, 10);
        t.OnReturn(AllocFunction.Malloc, 1, 5, 0x1000, -1);
        t.Reset();
        Assert.Equal(0, t.LiveCount);
        Assert.Equal(0UL, t.LiveBytes);
        Assert.Equal(1, t.Resets);
    }

    [Fact]
    public void Separately_sampled_stacks_attach_in_either_order_and_older_than_filters()
    {
        var t = new AllocationTracker();
        int s = t.Stacks.Intern(LeakStack);
        t.OnEntry(AllocFunction.Malloc, 1, 1_000, 10);
        t.OnReturn(AllocFunction.Malloc, 1, 1_000, 0x1000, -1);
        t.OnStack(0x1000, s); // after
        t.OnStack(0x2000, s); // before
        t.OnEntry(AllocFunction.Malloc, 1, 5_000_000_000, 20);
        t.OnReturn(AllocFunction.Malloc, 1, 5_000_000_000, 0x2000, -1);
        t.OnEntry(AllocFunction.Malloc, 1, 5_000_000_000, 40);
        t.OnReturn(AllocFunction.Malloc, 1, 5_000_000_000, 0x3000, -1); // never sampled
        Assert.Equal(s, t.Find(0x1000)!.Value.StackId);
        Assert.Equal(s, t.Find(0x2000)!.Value.StackId);

        var all = t.Top(10, 6_000_000_000, 0, out ulong bytes, out _, includeUnsampled: false);
        Assert.Equal(70UL, bytes); // totals stay exact
        Assert.Equal(30UL, Assert.Single(all).Bytes);
        var old = t.Top(10, 6_000_000_000, 2_000_000_000, out ulong oldBytes, out long oldCount);
        Assert.Equal(10UL, oldBytes);
        Assert.Equal(1, oldCount);
        Assert.Single(old);
    }
}
