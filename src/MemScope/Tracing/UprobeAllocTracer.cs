using System.Buffers.Binary;
using System.Diagnostics;
using MemScope.Analysis;
using MemScope.Procfs;
using MemScope.Symbols;
using Microsoft.Win32.SafeHandles;

namespace MemScope.Tracing;

/// <summary>Tracing could not start; the message is one line for the user.</summary>
public sealed class AllocTraceException(string message, bool permission = false, bool unsupported = false) : Exception(message)
{
    public bool IsPermission { get; } = permission;
    public bool IsUnsupported { get; } = unsupported;
}

/// <summary>
/// Traces the allocator of one process with uprobes and feeds an <see cref="AllocationTracker"/>.
/// Following KERNEL-NOTES: probes are defined once in tracefs (uprobe_events, named memscope_PID/...) and opened as
/// PERF_TYPE_TRACEPOINT events on each existing thread of the target (pid = TID) with inherit for threads created later
/// (inherit_thread where the kernel has it, so forked children are not traced), one event per CPU because an inherited
/// per-task event cannot be mmapped; all events of a CPU share one ring. Other processes pay nothing: the breakpoints
/// are installed only in the target. Samples carry the thread, a CLOCK_MONOTONIC time, the probe's raw arguments, and
/// for return probes the user call chain (a frame-pointer walk).
/// </summary>
public sealed class UprobeAllocTracer : IDisposable
{
    private const ulong ExcludeCallchainKernel = 1UL << 21;
    private const int RecordComm = 3, RecordSample = 9, MiscCommExec = 0x2000;
    private const ulong ContextMax = unchecked((ulong)-4095L);

    private sealed record ProbeInfo(AllocFunction Function, bool IsReturn, bool IsStackOnly, bool HasCallchain, TracefsProbe Probe,
        TracepointField? A0, TracepointField? A1, TracepointField? A2, TracepointField? Ret);

    private readonly record struct Decoded(ProbeInfo Probe, int Pid, int Tid, ulong Time, ulong A0, ulong A1, ulong A2, ulong Ret, ulong[]? Stack);

    private readonly ProcFs _proc;
    private readonly List<TracefsProbe> _probes = [];
    private readonly List<PerfEvent> _events = [];
    private readonly Dictionary<int, PerfEvent> _ringLeaders = new(); // cpu → event holding the ring
    private readonly Dictionary<ulong, ProbeInfo> _byId = new();
    private readonly HashSet<int> _attachedTids = [];
    private readonly List<Decoded> _pending = [];
    private readonly Action<string> _note;
    private SafeFileHandle? _mem;
    private ulong _maxTime;
    private bool _inheritThread = true;
    private bool _execSeen;
    private int[] _cpus = [];

    private UprobeAllocTracer(ProcFs proc, int pid, int sampleEvery, Action<string> note)
    {
        _proc = proc;
        Pid = pid;
        SampleEvery = sampleEvery;
        _note = note;
        Symbols = new ProcessSymbolizer(proc, pid);
    }

    public int Pid { get; }
    public int SampleEvery { get; }
    public AllocationTracker Tracker { get; } = new(Environment.SystemPageSize);
    public ProcessSymbolizer Symbols { get; }
    public IReadOnlyList<AllocatorTarget> Targets { get; private set; } = [];
    public int ThreadsAttached => _attachedTids.Count;
    public int EventCount => _events.Count;
    public long Samples { get; private set; }
    public long Execs { get; private set; }
    /// <summary>Samples the kernel dropped because a ring was full.</summary>
    public ulong Lost => (ulong)_ringLeaders.Values.Sum(e => (long)(e.Ring?.Lost ?? 0));
    /// <summary>Depths of sampled stacks, to tell whether frame-pointer walks work in this target.</summary>
    public long StacksSampled { get; private set; }
    public long ShortStacks { get; private set; }
    /// <summary>The probe definitions removed at start because a crashed memscope left them.</summary>
    public List<string> StaleRemoved { get; } = [];

    /// <summary>Resolves the allocator, defines the probes and attaches to every thread. Cleans up on failure.</summary>
    public static UprobeAllocTracer Start(ProcFs proc, int pid, int sampleEvery, Action<string> note)
    {
        var t = new UprobeAllocTracer(proc, pid, sampleEvery, note);
        try
        {
            t.Attach();
            return t;
        }
        catch
        {
            t.Dispose();
            throw;
        }
    }

    private void Attach()
    {
        if (!Procfs.Privilege.IsRoot)
            throw new AllocTraceException("--trace needs root (it defines uprobes in tracefs and opens perf events)", permission: true);
        string[] regs = AllocatorProbes.ArgumentRegisters
            ?? throw new AllocTraceException($"--trace supports x86_64 and arm64, not {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}", unsupported: true);
        if (PerfPmu.TypeOf("uprobe") is null && !File.Exists("/sys/bus/event_source/devices/tracepoint/type"))
            throw new AllocTraceException("this kernel has no uprobes (CONFIG_UPROBE_EVENTS off)", unsupported: true);

        Targets = AllocatorProbes.Resolve(_proc, Pid, Symbols);
        if (!Targets.Any(t => t.Function == AllocFunction.Malloc))
        {
            string why = Symbols.Problems.Count > 0 ? $" ({Symbols.Problems.Values.First()})" : "";
            throw new AllocTraceException($"pid {Pid} maps no malloc with a symbol (not a native process with a libc, or a stripped static binary){why}", unsupported: true);
        }

        using Tracefs tracefs = OpenTracefs();
        StaleRemoved.AddRange(BorrowedState.CleanupStale(tracefs, _proc.Root));
        foreach (AllocatorTarget target in Targets)
        {
            string where = $"{target.ProbePath}:0x{target.FileOffset:x}";
            string name = target.Symbol;
            DefineProbe(tracefs, target.Function, false, 'p', $"{name}_entry", $"{where} {AllocatorProbes.EntryFetchArgs(target.Function, regs)}");
            if (AllocatorProbes.HasReturnProbe(target.Function))
                DefineProbe(tracefs, target.Function, true, 'r', $"{name}_return", $"{where} ret=$retval:u64");
        }

        _cpus = PerfEventNative.OnlineCpus();
        // Attach to every thread; threads born meanwhile from unattached threads are caught by the next pass.
        for (int pass = 0; pass < 5; pass++)
        {
            List<int> tids = ListThreads();
            if (tids.Count == 0) throw new AllocTraceException($"pid {Pid} exited before tracing began");
            bool any = false;
            foreach (int tid in tids)
                if (!_attachedTids.Contains(tid)) { AttachThread(tid); any = true; }
            if (!any) break;
        }
        try { _mem = File.OpenHandle(_proc.PidPath(Pid, "mem"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { _mem = null; }
    }

    private static Tracefs OpenTracefs()
    {
        try { return Tracefs.Open(); }
        catch (TracefsUnavailableException e) { throw new AllocTraceException(e.Message, unsupported: true); }
    }

    private void DefineProbe(Tracefs tracefs, AllocFunction fn, bool isReturn, char kind, string eventName, string definition)
    {
        TracefsProbe probe;
        try { probe = BorrowedState.DefineProbe(tracefs, "uprobe_events", kind, eventName, definition); }
        catch (TracefsUnavailableException e) { throw new AllocTraceException(e.Message, unsupported: true); }
        _probes.Add(probe);
        if (probe.TracepointId is null || probe.Format is null)
            throw new AllocTraceException($"{probe.FullName} was defined but tracefs shows no id/format for it", unsupported: true);
        TracepointFormat f = probe.Format;
        var info = new ProbeInfo(fn, isReturn, false, isReturn && SampleEvery == 1, probe, f["a0"], f["a1"], f["a2"], f["ret"]);
        _probeInfos.Add(info);
        if (isReturn && SampleEvery > 1) _probeInfos.Add(info with { IsStackOnly = true, HasCallchain = true });
    }

    private readonly List<ProbeInfo> _probeInfos = [];

    private List<int> ListThreads()
    {
        var tids = new List<int>();
        try
        {
            foreach (string dir in Directory.EnumerateDirectories(_proc.PidPath(Pid, "task")))
                if (int.TryParse(Path.GetFileName(dir), out int tid)) tids.Add(tid);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return tids;
    }

    private void AttachThread(int tid)
    {
        foreach (int cpu in _cpus)
        {
            foreach (ProbeInfo info in _probeInfos)
            {
                PerfEventAttr attr = PerfEvent.TracepointAttr(info.Probe.TracepointId!.Value,
                    PerfSample.Identifier | PerfSample.Tid | PerfSample.Time | PerfSample.Raw | (info.HasCallchain ? PerfSample.Callchain : 0),
                    disabled: false);
                attr.SamplePeriod = info.IsStackOnly ? (ulong)SampleEvery : 1;
                attr.WakeupEvents = 0;
                attr.Flags |= (ulong)(PerfAttrFlags.Inherit | PerfAttrFlags.UseClockId) | ExcludeCallchainKernel
                    | (_inheritThread ? (ulong)PerfAttrFlags.InheritThread : 0);
                attr.ClockId = 1; // CLOCK_MONOTONIC: comparable with Stopwatch
                attr.SampleMaxStack = 64;
                bool leader = !_ringLeaders.ContainsKey(cpu);
                if (leader) attr.Flags |= (ulong)(PerfAttrFlags.Comm | PerfAttrFlags.CommExec);
                PerfEvent ev;
                try
                {
                    ev = PerfEvent.Open(attr, tid, cpu, $"{info.Probe.FullName} tid {tid}");
                }
                catch (PerfEventException e) when (e.Errno == PerfEventNative.EINVAL && _inheritThread)
                {
                    _inheritThread = false; // before 5.13: plain inherit (forked children are traced too, and filtered out)
                    _note("this kernel has no inherit_thread: forked children of the target pay for the probes too (their samples are ignored)");
                    attr.Flags &= ~(ulong)PerfAttrFlags.InheritThread;
                    ev = PerfEvent.Open(attr, tid, cpu, $"{info.Probe.FullName} tid {tid}");
                }
                catch (PerfEventException e) when (e.Errno == PerfEventNative.ESRCH)
                {
                    _attachedTids.Add(tid); // the thread exited meanwhile
                    return;
                }
                catch (PerfEventException e)
                {
                    throw new AllocTraceException(e.Message, permission: e.IsPermission, unsupported: e.IsUnsupported);
                }
                _events.Add(ev);
                _byId[ev.Id] = info;
                if (leader)
                {
                    _ringLeaders[cpu] = ev;
                    try { ev.MapRing(10); }
                    catch (PerfEventException) { ev.MapRing(6); }
                }
                else
                {
                    ev.SetOutput(_ringLeaders[cpu]);
                }
            }
        }
        _attachedTids.Add(tid);
    }

    /// <summary>Drains the rings and feeds the tracker with the events older than a short hold-back (to order threads that migrated between CPUs). Returns samples read.</summary>
    public int Poll(bool flush = false)
    {
        int n = 0;
        foreach (PerfEvent leader in _ringLeaders.Values)
            n += leader.Ring!.Drain(OnRecord);
        _pending.Sort((a, b) => a.Time.CompareTo(b.Time));
        if (_execSeen)
        {
            // Process what came before, then start over with the new image.
            foreach (Decoded d in _pending) Process(d);
            _pending.Clear();
            Tracker.Reset();
            Symbols.Reset();
            _execSeen = false;
        }
        ulong horizon = flush ? ulong.MaxValue : _maxTime > 20_000_000 ? _maxTime - 20_000_000 : 0;
        int done = 0;
        while (done < _pending.Count && _pending[done].Time <= horizon)
        {
            Process(_pending[done]);
            done++;
        }
        _pending.RemoveRange(0, done);
        return n;
    }

    private void OnRecord(int type, ReadOnlySpan<byte> record)
    {
        if (type == RecordComm)
        {
            ushort misc = BinaryPrimitives.ReadUInt16LittleEndian(record[4..]);
            int pid = BinaryPrimitives.ReadInt32LittleEndian(record[8..]);
            if ((misc & MiscCommExec) != 0 && pid == Pid)
            {
                _execSeen = true; // handled after the drain: the old address space is gone
                Execs++;
            }
            return;
        }
        if (type != RecordSample || record.Length < 8 + 8 + 8 + 8) return;
        int at = 8;
        ulong id = BinaryPrimitives.ReadUInt64LittleEndian(record[at..]); at += 8;
        if (!_byId.TryGetValue(id, out ProbeInfo? info)) return;
        int spid = BinaryPrimitives.ReadInt32LittleEndian(record[at..]);
        int stid = BinaryPrimitives.ReadInt32LittleEndian(record[(at + 4)..]); at += 8;
        ulong time = BinaryPrimitives.ReadUInt64LittleEndian(record[at..]); at += 8;
        Samples++;
        ulong[]? stack = null;
        if (info.HasCallchain)
        {
            if (at + 8 > record.Length) return;
            ulong nr = BinaryPrimitives.ReadUInt64LittleEndian(record[at..]); at += 8;
            if (nr > 1024 || at + (int)nr * 8 > record.Length) return;
            var frames = new List<ulong>((int)nr);
            for (int i = 0; i < (int)nr; i++)
            {
                ulong ip = BinaryPrimitives.ReadUInt64LittleEndian(record[(at + i * 8)..]);
                if (ip < ContextMax && ip != 0) frames.Add(ip);
            }
            at += (int)nr * 8;
            stack = [.. frames];
        }
        if (at + 4 > record.Length) return;
        int rawSize = BinaryPrimitives.ReadInt32LittleEndian(record[at..]); at += 4;
        if (rawSize < 0 || at + rawSize > record.Length) return;
        ReadOnlySpan<byte> raw = record.Slice(at, rawSize);
        if (spid != Pid) return; // a forked child on kernels without inherit_thread
        if (time > _maxTime) _maxTime = time;
        _pending.Add(new Decoded(info, spid, stid, time, Field(raw, info.A0), Field(raw, info.A1), Field(raw, info.A2), Field(raw, info.Ret), stack));
    }

    private static ulong Field(ReadOnlySpan<byte> raw, TracepointField? f) => f is null ? 0 : TracepointFormat.ReadUnsigned(raw, f);

    private void Process(in Decoded d)
    {
        if (!d.Probe.IsReturn)
        {
            Tracker.OnEntry(d.Probe.Function, d.Tid, d.Time, d.A0, d.A1, d.A2);
            return;
        }
        int stackId = -1;
        if (d.Stack is { } frames)
        {
            stackId = Tracker.Stacks.Intern(frames);
            StacksSampled++;
            if (frames.Length <= 2) ShortStacks++;
        }
        if (d.Probe.IsStackOnly)
        {
            if (d.Probe.Function != AllocFunction.PosixMemalign) Tracker.OnStack(d.Ret, stackId);
            return;
        }
        Tracker.OnReturn(d.Probe.Function, d.Tid, d.Time, d.Ret, stackId, ReadPointer);
    }

    /// <summary>Reads a pointer from the target's memory (posix_memalign's out-parameter).</summary>
    private ulong? ReadPointer(ulong address)
    {
        if (_mem is null || address == 0 || address > long.MaxValue) return null;
        Span<byte> b = stackalloc byte[8];
        try { return RandomAccess.Read(_mem, b, (long)address) == 8 ? BinaryPrimitives.ReadUInt64LittleEndian(b) : null; }
        catch (IOException) { return null; }
    }

    /// <summary>Now on the samples' clock (CLOCK_MONOTONIC, ns).</summary>
    public static ulong NowNs() => (ulong)(Stopwatch.GetTimestamp() * (1_000_000_000.0 / Stopwatch.Frequency));

    /// <summary>Closes every perf event, then removes the probes (the kernel refuses while events hold them).</summary>
    public void Dispose()
    {
        foreach (PerfEvent e in _events)
        {
            try { e.Dispose(); } catch (Exception) { }
        }
        _events.Clear();
        _ringLeaders.Clear();
        foreach (TracefsProbe p in _probes)
        {
            try { p.Dispose(); } catch (Exception) { }
        }
        _probes.Clear();
        _mem?.Dispose();
        _mem = null;
    }
}
