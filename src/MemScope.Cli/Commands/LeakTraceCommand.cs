using System.Diagnostics;
using System.Text.Json.Serialization;
using MemScope.Analysis;
using MemScope.Procfs;
using MemScope.Symbols;
using MemScope.Tracing;

namespace MemScope.Cli.Commands;

internal sealed record LeakFrameDto(string Address, string? Function, ulong Offset, string Module, string Text);

internal sealed record LeakStackDto(ulong Bytes, long Count, double OldestAgeSeconds, string Allocator, List<LeakFrameDto> Frames);

internal sealed record LeakProbeDto(string Function, string Module, string ProbePath, ulong FileOffset);

/// <summary>One report of `memscope leak PID --trace --json` (one JSON object per line, per interval; the last has final = true).</summary>
internal sealed record LeakTraceDto
{
    public required int Pid { get; init; }
    public required double ElapsedSeconds { get; init; }
    public required bool Final { get; init; }
    public required ulong OutstandingBytes { get; init; }
    public required long OutstandingCount { get; init; }
    public ulong OutstandingBytesAllAges { get; init; }
    public long Allocations { get; init; }
    public long Frees { get; init; }
    public long UnknownFrees { get; init; }
    public long Unpaired { get; init; }
    public ulong LostSamples { get; init; }
    public long Samples { get; init; }
    public int Threads { get; init; }
    public int SampleEvery { get; init; }
    public double OlderThanSeconds { get; init; }
    public bool ShortStacks { get; init; }
    public List<LeakStackDto> Stacks { get; init; } = [];
    public List<LeakProbeDto> Probes { get; init; } = [];
    public List<string> Notes { get; init; } = [];
    public string? EndedEarly { get; init; }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = false)]
[JsonSerializable(typeof(LeakTraceDto))]
internal partial class LeakTraceJsonContext : JsonSerializerContext;

/// <summary>`memscope leak PID --trace`: uprobes on the allocator, outstanding allocations by stack, every interval.</summary>
internal static class LeakTraceCommand
{
    public static int Run(ProcFs proc, int pid, TimeSpan? duration, TimeSpan interval, int top, TimeSpan olderThan, int sampleEvery,
        bool json, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var notes = new List<string>();
        void Note(string s)
        {
            if (notes.Contains(s)) return;
            notes.Add(s);
            if (!json) stderr.WriteLine($"memscope: {s}");
        }
        ulong startTicks = ProcPidStat.Read(proc.PidPath(pid, "stat")).StartTimeTicks;
        // Borrowed kernel state must be returned on Ctrl-C, kill (SIGTERM) and a closed terminal (SIGHUP): turn them
        // into a cancellation of this loop instead of the runtime's default exit, so the finally below runs.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var signals = new List<System.Runtime.InteropServices.PosixSignalRegistration>();
        foreach (var sig in new[] { System.Runtime.InteropServices.PosixSignal.SIGINT, System.Runtime.InteropServices.PosixSignal.SIGTERM, System.Runtime.InteropServices.PosixSignal.SIGHUP })
            signals.Add(System.Runtime.InteropServices.PosixSignalRegistration.Create(sig, c => { c.Cancel = true; stop.Cancel(); }));
        try
        {
            return Trace(proc, pid, startTicks, duration, interval, top, olderThan, sampleEvery, json, stdout, stderr, stop.Token, notes, Note);
        }
        finally
        {
            foreach (var r in signals) r.Dispose();
        }
    }

    private static int Trace(ProcFs proc, int pid, ulong startTicks, TimeSpan? duration, TimeSpan interval, int top, TimeSpan olderThan, int sampleEvery,
        bool json, TextWriter stdout, TextWriter stderr, CancellationToken ct, List<string> notes, Action<string> Note)
    {
        UprobeAllocTracer tracer;
        try { tracer = UprobeAllocTracer.Start(proc, pid, sampleEvery, Note); }
        catch (AllocTraceException e)
        {
            throw new CliException(e.IsPermission ? ExitCodes.NoPermission : e.IsUnsupported ? ExitCodes.Unsupported : ExitCodes.Failure, e.Message);
        }
        using (tracer)
        {
            if (tracer.StaleRemoved.Count > 0) Note($"removed {tracer.StaleRemoved.Count} probe(s) left by a memscope that died: {string.Join(", ", tracer.StaleRemoved.Take(3))}");
            foreach ((string file, string why) in tracer.Symbols.Problems) Note($"no symbols for {file}: {why}");
            if (!json)
            {
                string modules = string.Join(", ", tracer.Targets.Select(t => Path.GetFileName(t.Module)).Distinct());
                stdout.WriteLine($"tracing pid {pid}: {tracer.Targets.Count} allocator functions in {modules}, {tracer.ThreadsAttached} threads, {tracer.EventCount} perf events" +
                    $"{(sampleEvery > 1 ? $", stacks of 1 in {sampleEvery} allocations" : "")}; {(duration is { } d ? $"for {d.TotalSeconds:0.#}s" : "Ctrl-C to stop")}");
                stdout.Flush();
            }
            var clock = Stopwatch.StartNew();
            TimeSpan nextReport = interval;
            string? ended = null;
            int exit = ExitCodes.Ok;
            while (true)
            {
                if (ct.WaitHandle.WaitOne(10)) { ended = "interrupted"; exit = ExitCodes.Interrupted; break; }
                tracer.Poll();
                if (duration is { } dur && clock.Elapsed >= dur) break;
                if (!Alive(proc, pid, startTicks))
                {
                    ended = $"pid {pid} exited after {clock.Elapsed.TotalSeconds:0.0}s; the report covers what was traced until then";
                    exit = ExitCodes.NotFound;
                    break;
                }
                if (clock.Elapsed >= nextReport)
                {
                    Report(stdout, tracer, pid, clock.Elapsed, top, olderThan, json, final: false, notes, null);
                    nextReport += interval;
                }
            }
            tracer.Poll(flush: true);
            if (ended is not null && exit != ExitCodes.Interrupted) stderr.WriteLine($"memscope: {ended}");
            if (tracer.StacksSampled >= 20 && tracer.ShortStacks * 2 > tracer.StacksSampled)
                Note($"{tracer.ShortStacks} of {tracer.StacksSampled} stacks have 2 frames or fewer: the target seems built without frame pointers (-fno-omit-frame-pointer), so stacks are short");
            foreach (AllocationTracker.StackSummary s in tracer.Tracker.Top(top, UprobeAllocTracer.NowNs(), 0, out _, out _)) Frames(tracer, s.StackId);
            if (tracer.Symbols.UnnamedJitFrames > 0)
                Note("some frames are JIT-compiled code without names: start the target with DOTNET_PerfMapEnabled=1 (.NET) or --perf-basic-prof (Node) to get a /tmp/perf-PID.map");
            if (tracer.Lost > 0) Note($"{tracer.Lost} samples were lost (ring full): outstanding figures may include allocations whose free was lost");
            if (tracer.Execs > 0) Note($"the target called exec {tracer.Execs} time(s): tracking restarted each time");
            Report(stdout, tracer, pid, clock.Elapsed, top, olderThan, json, final: true, notes, ended);
            return exit;
        }
    }

    private static bool Alive(ProcFs proc, int pid, ulong startTicks)
    {
        try { return ProcPidStat.Read(proc.PidPath(pid, "stat")) is { State: not ('Z' or 'X') } s && s.StartTimeTicks == startTicks; }
        catch (KernelFileException) { return false; }
    }

    private static void Report(TextWriter o, UprobeAllocTracer t, int pid, TimeSpan elapsed, int top, TimeSpan olderThan, bool json, bool final,
        List<string> notes, string? ended)
    {
        ulong now = UprobeAllocTracer.NowNs();
        var minAge = (ulong)(olderThan.TotalMilliseconds * 1_000_000);
        AllocationTracker tr = t.Tracker;
        List<AllocationTracker.StackSummary> stacks = tr.Top(top, now, minAge, out ulong bytes, out long count, includeUnsampled: t.SampleEvery == 1);
        if (json)
        {
            var dto = new LeakTraceDto
            {
                Pid = pid, ElapsedSeconds = elapsed.TotalSeconds, Final = final, OutstandingBytes = bytes, OutstandingCount = count,
                OutstandingBytesAllAges = tr.LiveBytes, Allocations = tr.Allocations, Frees = tr.Frees, UnknownFrees = tr.UnknownFrees,
                Unpaired = tr.Unpaired, LostSamples = t.Lost, Samples = t.Samples, Threads = t.ThreadsAttached, SampleEvery = t.SampleEvery,
                OlderThanSeconds = olderThan.TotalSeconds,
                ShortStacks = t.StacksSampled >= 20 && t.ShortStacks * 2 > t.StacksSampled,
                Stacks = [.. stacks.Select(s => new LeakStackDto(s.Bytes, s.Count, (now - Math.Min(now, s.OldestTimeNs)) / 1e9, Name(s.Function),
                    [.. Frames(t, s.StackId).Select(f => new LeakFrameDto($"0x{f.Address:x}", f.Function, f.Offset, f.Module, f.ToString()))]))],
                Probes = [.. t.Targets.Select(x => new LeakProbeDto(x.Symbol, x.Module, x.ProbePath, x.FileOffset))],
                Notes = [.. notes],
                EndedEarly = ended,
            };
            o.WriteLine(System.Text.Json.JsonSerializer.Serialize(dto, LeakTraceJsonContext.Default.LeakTraceDto));
            o.Flush();
            return;
        }
        o.WriteLine();
        o.WriteLine($"[{elapsed.TotalSeconds:0.0}s]{(final ? " final:" : "")} outstanding {LeakTrend.Size(bytes)} in {count} allocations" +
            $"{(minAge > 0 ? $" older than {olderThan.TotalSeconds:0.#}s" : "")}; traced {tr.Allocations} allocations, {tr.Frees} frees" +
            $" ({tr.UnknownFrees} of memory allocated before tracing), {t.Lost} lost");
        if (stacks.Count == 0) { o.WriteLine("  no outstanding allocations"); o.Flush(); return; }
        o.WriteLine($"  top {stacks.Count} stacks by outstanding bytes{(t.SampleEvery > 1 ? $" (stacks of 1 in {t.SampleEvery} allocations: per-stack figures cover the sampled ones only)" : "")}:");
        foreach (AllocationTracker.StackSummary s in stacks)
        {
            o.WriteLine($"  {LeakTrend.Size(s.Bytes)} in {s.Count} allocations from {Name(s.Function)}, oldest {(now - Math.Min(now, s.OldestTimeNs)) / 1e9:0.0}s:");
            List<SymbolizedFrame> frames = Frames(t, s.StackId);
            if (frames.Count == 0) o.WriteLine(s.StackId < 0 ? "      (stack not sampled: --sample-every)" : "      (no user frames)");
            foreach (SymbolizedFrame f in frames.Take(16)) o.WriteLine($"      {f}");
            if (frames.Count > 16) o.WriteLine($"      ... {frames.Count - 16} more");
        }
        o.Flush();
    }

    private static List<SymbolizedFrame> Frames(UprobeAllocTracer t, int stackId) =>
        stackId < 0 ? [] : [.. t.Tracker.Stacks.Get(stackId).Select(a => t.Symbols.Symbolize(a, isReturnAddress: true))];

    private static string Name(AllocFunction f) => AllocatorProbes.Functions.First(x => x.Fn == f).Symbol;
}
