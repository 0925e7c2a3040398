using System.CommandLine;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using MemScope.Units;

namespace MemScope.Cli.Commands;

/// <summary>
/// `memscope lab leak`: leaks native memory (NativeMemory.Alloc → glibc malloc) at a chosen rate through a call path
/// with clear names (LeakLab.RunLeaking → LeakyCache.Remember → LeakyCache.AllocateRecord), touching every byte so
/// the leak shows in RSS. `--no-leak` allocates and frees the same bytes at the same rate (keeping one second's worth
/// alive, so its footprint is flat).
/// </summary>
internal static class LabLeakCommand
{
    private static readonly Option<double> Rate = LeakArgs.RateOption("--rate", 1024 * 1024, "Bytes per second to allocate (e.g. 1M/s, 256K/s)");
    private static readonly Option<bool> NoLeak = new("--no-leak") { Description = "Allocate and free at the same rate: the twin that does not leak" };
    private static readonly Option<TimeSpan> Duration = LeakArgs.DurationOption("--duration", TimeSpan.FromMinutes(10), "Stop after this long (default 10m); Ctrl-C stops earlier");
    private static readonly Option<string> Chunk = new("--chunk") { Description = "Size of each allocation (default 16K: below malloc's mmap threshold, so it lands in the heap)", DefaultValueFactory = _ => "16K" };

    public static Command Create()
    {
        var cmd = new Command("leak", "Leak native memory at a known rate through a recognisable call path (or, with --no-leak, allocate and free at that rate)");
        foreach (Option o in new Option[] { Rate, NoLeak, Duration, Chunk }) cmd.Options.Add(o);
        cmd.SetAction((parse, ct) =>
        {
            double rate = parse.GetValue(Rate);
            if (!SizeText.TryParse(parse.GetValue(Chunk) ?? "16K", out double chunkD) || chunkD < 16 || chunkD > 1 << 30)
                throw new CliException(ExitCodes.Usage, "--chunk must be a size between 16 bytes and 1G");
            if (rate <= 0 || rate > 4.0 * (1 << 30)) throw new CliException(ExitCodes.Usage, "--rate must be more than 0 and at most 4G/s");
            TextWriter o = parse.InvocationConfiguration.Output;
            bool leak = !parse.GetValue(NoLeak);
            o.WriteLine($"pid {Environment.ProcessId}: {(leak ? "leaking" : "allocating and freeing")} {LeakArgsFormat.Rate(rate)} in {LeakArgsFormat.Size(chunkD)} chunks " +
                $"({(leak ? "LeakyCache.AllocateRecord" : "TidyCache.AllocateRecord")} via NativeMemory.Alloc) for {parse.GetValue(Duration).TotalSeconds:0}s; Ctrl-C stops");
            o.Flush();
            var lab = new LeakLab((nuint)chunkD, rate);
            long bytes = leak ? lab.RunLeaking(parse.GetValue(Duration), ct) : lab.RunTidy(parse.GetValue(Duration), ct);
            o.WriteLine($"{(leak ? "leaked" : "allocated and freed")} {bytes} bytes in {lab.Elapsed.TotalSeconds:0.0}s ({LeakArgsFormat.Rate(bytes / Math.Max(lab.Elapsed.TotalSeconds, 1e-9))})");
            return Task.FromResult(ExitCodes.Ok);
        });
        return cmd;
    }
}

internal static class LeakArgsFormat
{
    public static string Size(double b) => MemScope.Analysis.LeakTrend.Size(b);
    public static string Rate(double b) => MemScope.Analysis.LeakTrend.Rate(b);
}

/// <summary>The workload. Method names are the "recognisable call path" the trace mode should show.</summary>
internal sealed unsafe class LeakLab(nuint chunk, double rate)
{
    private readonly Stopwatch _clock = new();
    public TimeSpan Elapsed => _clock.Elapsed;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public long RunLeaking(TimeSpan duration, CancellationToken ct)
    {
        var cache = new LeakyCache(chunk);
        return Pace(duration, ct, () => cache.Remember());
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    public long RunTidy(TimeSpan duration, CancellationToken ct)
    {
        // Keep about one second of allocations alive (a ring), freeing the oldest: same rate, flat footprint.
        int ring = (int)Math.Clamp(rate / chunk, 1, 1 << 20);
        var cache = new TidyCache(chunk, ring);
        try { return Pace(duration, ct, () => cache.AllocateAndRecycle()); }
        finally { cache.FreeAll(); }
    }

    /// <summary>Calls <paramref name="allocate"/> often enough that bytes = rate × elapsed, in ~20 ms steps.</summary>
    private long Pace(TimeSpan duration, CancellationToken ct, Action allocate)
    {
        long count = 0;
        _clock.Restart();
        while (_clock.Elapsed < duration && !ct.IsCancellationRequested)
        {
            double due = rate * _clock.Elapsed.TotalSeconds;
            while (count * (double)chunk < due) { allocate(); count++; }
            ct.WaitHandle.WaitOne(20);
        }
        _clock.Stop();
        return count * (long)chunk;
    }
}

internal sealed unsafe class LeakyCache(nuint chunk)
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public void Remember() => AllocateRecord();

    /// <summary>Allocates, fills, and forgets the pointer: the leak.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void AllocateRecord()
    {
        void* p = NativeMemory.Alloc(chunk);
        new Span<byte>(p, (int)chunk).Fill(0x5A);
    }
}

internal sealed unsafe class TidyCache(nuint chunk, int ring)
{
    private readonly nint[] _live = new nint[ring];
    private int _next;

    [MethodImpl(MethodImplOptions.NoInlining)]
    public void AllocateAndRecycle()
    {
        if (_live[_next] != 0) FreeRecord(_live[_next]);
        _live[_next] = AllocateRecord();
        _next = (_next + 1) % _live.Length;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private nint AllocateRecord()
    {
        void* p = NativeMemory.Alloc(chunk);
        new Span<byte>(p, (int)chunk).Fill(0x5A);
        return (nint)p;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void FreeRecord(nint p) => NativeMemory.Free((void*)p);

    public void FreeAll()
    {
        for (int i = 0; i < _live.Length; i++) if (_live[i] != 0) { FreeRecord(_live[i]); _live[i] = 0; }
    }
}
