using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace MemScope.Tracing;

/// <summary>Page-cache tracing cannot run here; the message is one line saying what is missing.</summary>
public sealed class PageCacheTracingUnavailableException(string message, bool permission) : Exception(message)
{
    public bool IsPermission { get; } = permission;
}

/// <summary>Cumulative system-wide figures since the tracer started (pages of PAGE_SIZE unless named Calls).</summary>
public readonly record struct PageCacheTotals(
    long AccessPages, long ReadAccessPages, long MmapAccessPages, long MissPages, long MissCalls,
    long UnknownOrderCalls, long LostSamples);

/// <summary>Per-process figures for one interval (thread ids folded into their process).</summary>
public sealed class ProcessCacheCounters
{
    public required int Pid { get; init; }
    public string? Comm { get; set; }
    public uint? Uid { get; set; }
    /// <summary>Pages looked up by read() (filemap_get_pages ranges, continuations of one read counted once).</summary>
    public long ReadAccessPages { get; set; }
    /// <summary>Pages reached through mmap faults (filemap_fault + map_pages fault-around ranges).</summary>
    public long MmapAccessPages { get; set; }
    /// <summary>Pages this process added to the page cache (Σ 2^order of mm_filemap_add_to_page_cache).</summary>
    public long MissPages { get; set; }
    /// <summary>Folios this process dirtied (writeback_dirty_folio events; folio size unknown to the tracepoint).</summary>
    public long DirtiedFolios { get; set; }
    public long AccessPages => ReadAccessPages + MmapAccessPages;
}

/// <summary>
/// Page-cache hits and misses from the kernel's static tracepoints through perf_event_open (no eBPF, no kprobes).
/// System mode: misses are counted in the kernel, one counter per CPU and per <c>order == k</c> filter (k = 0..10)
/// weighted by 2^k, plus an unfiltered counter to detect larger orders; accesses need the ranges of
/// filemap:mm_filemap_get_pages (and mm_filemap_fault / mm_filemap_map_pages for mmap), so those are sampled with
/// PERF_SAMPLE_RAW into one ring per CPU. Per-process mode samples everything (add_to_page_cache and
/// writeback_dirty_folio too) with the thread id and aggregates in user space. On kernels without these tracepoints
/// but with kprobes, falls back to BCC's per-call kprobe counters and says so.
/// </summary>
public sealed class PageCacheTracer : IDisposable
{
    public const int MaxCountedOrder = 10;
    private const int RingPagesLog2 = 7; // 512 KiB per CPU with 4 KiB pages

    private readonly object _gate = new();
    private readonly List<PerfEvent> _events = new();
    private readonly List<PerfEvent> _rings = new();
    private readonly List<(PerfEvent Ev, long Weight, bool Total)> _missCounters = new();
    private readonly List<(PerfEvent Ev, string Func)> _kprobeCounters = new();
    private readonly bool _perProcess;
    private readonly string _procRoot;
    private Thread? _drainer;
    private volatile bool _stop;

    // decoded layouts
    private ulong _idGetPages, _idFault, _idMapPages, _idAdd, _idDirty;
    private TracepointField? _gpIno, _gpDev, _gpIndex, _gpLast, _mpIndex, _mpLast, _addOrder;

    // aggregates (under _gate)
    private long _readAccess, _mmapAccess, _sampledMissPages, _sampledMissCalls;
    private readonly Dictionary<int, (ulong Dev, ulong Ino, ulong Last, ulong Index)> _lastRead = new();
    private Dictionary<int, ProcessCacheCounters> _procs = new();
    private readonly Dictionary<int, string> _comms = new();
    private readonly List<Sample> _batch = new();

    private PageCacheTracer(bool perProcess, string procRoot)
    {
        _perProcess = perProcess;
        _procRoot = procRoot;
    }

    /// <summary>"tracepoint" or "kprobe".</summary>
    public string MethodId { get; private set; } = "tracepoint";

    /// <summary>One line naming the sources of the figures.</summary>
    public string Method { get; private set; } = "";

    /// <summary>Notes on known limits of this kernel's data (e.g. no order field: large folios counted as one page).</summary>
    public List<string> Caveats { get; } = new();

    public bool PerProcess => _perProcess;
    public int EventCount => _events.Count;

    /// <summary>Sets up and enables the events. Throws <see cref="PageCacheTracingUnavailableException"/>.</summary>
    public static PageCacheTracer Start(bool perProcess, string procRoot = "/proc", string sysRoot = "/sys")
    {
        var tracer = new PageCacheTracer(perProcess, procRoot);
        try
        {
            tracer.Setup(sysRoot);
            foreach (PerfEvent e in tracer._events) e.Enable();
            tracer._drainer = new Thread(tracer.DrainLoop) { IsBackground = true, Name = "memscope-cache-drain" };
            tracer._drainer.Start();
            return tracer;
        }
        catch
        {
            tracer.Dispose();
            throw;
        }
    }

    private void Setup(string sysRoot)
    {
        if (PerfEventNative.PerfEventOpenNr is null)
            throw new PageCacheTracingUnavailableException("perf_event_open: syscall number unknown on this architecture", false);
        TracepointFormat? add, getPages, fault, mapPages, dirty;
        try
        {
            using Tracefs t = Tracefs.Open(_procRoot);
            BorrowedState.CleanupStale(t, _procRoot);
            add = t.EventFormat("filemap", "mm_filemap_add_to_page_cache");
            getPages = t.EventFormat("filemap", "mm_filemap_get_pages");
            fault = t.EventFormat("filemap", "mm_filemap_fault");
            mapPages = t.EventFormat("filemap", "mm_filemap_map_pages");
            dirty = t.EventFormat("writeback", "writeback_dirty_folio") ?? t.EventFormat("writeback", "writeback_dirty_page");
        }
        catch (TracefsUnavailableException e)
        {
            throw new PageCacheTracingUnavailableException(e.Message, !Procfs.Privilege.IsRoot);
        }
        catch (UnauthorizedAccessException)
        {
            throw new PageCacheTracingUnavailableException("tracefs event formats are readable by root only (run as root)", true);
        }

        int[] cpus = PerfEventNative.OnlineCpus(sysRoot);
        try
        {
            if (add?.Id is not null && getPages?.Id is not null) SetupTracepoints(cpus, add, getPages, fault, mapPages, dirty);
            else if (!_perProcess && PerfPmu.TypeOf("kprobe", sysRoot) is uint kprobeType) SetupKprobes(cpus, kprobeType);
            else
                throw new PageCacheTracingUnavailableException(
                    $"this kernel has no filemap:{(add is null ? "mm_filemap_add_to_page_cache" : "mm_filemap_get_pages")} tracepoint" +
                    (_perProcess ? "" : " and no kprobes") + " (needs Linux 6.x page-cache tracepoints)", false);
        }
        catch (PerfEventException e)
        {
            throw new PageCacheTracingUnavailableException(e.Message, e.IsPermission);
        }
    }

    private void SetupTracepoints(int[] cpus, TracepointFormat add, TracepointFormat getPages, TracepointFormat? fault,
        TracepointFormat? mapPages, TracepointFormat? dirty)
    {
        _idAdd = add.Id!.Value;
        _idGetPages = getPages.Id!.Value;
        _idFault = fault?.Id ?? ulong.MaxValue;
        _idMapPages = mapPages?.Id ?? ulong.MaxValue;
        _idDirty = dirty?.Id ?? ulong.MaxValue;
        _gpIno = getPages["i_ino"];
        _gpDev = getPages["s_dev"];
        _gpIndex = getPages["index"];
        _gpLast = getPages["last_index"];
        _mpIndex = mapPages?["index"] ?? mapPages?["start_pgoff"];
        _mpLast = mapPages?["last_index"] ?? mapPages?["end_pgoff"];
        _addOrder = add["order"];
        if (_gpIndex is null || _gpLast is null)
            throw new PageCacheTracingUnavailableException("filemap:mm_filemap_get_pages has no index/last_index fields on this kernel", false);
        if (_addOrder is null) Caveats.Add("mm_filemap_add_to_page_cache has no 'order' field here: each added folio counts as one page (large folios under-counted)");
        if (fault is null || mapPages is null) Caveats.Add("no mm_filemap_fault/mm_filemap_map_pages: accesses through mmap are not counted");
        if (_perProcess && dirty is null) Caveats.Add("no writeback:writeback_dirty_folio: per-process dirties unknown");

        const PerfSample sampleType = PerfSample.Tid | PerfSample.Time | PerfSample.Raw;
        foreach (int cpu in cpus)
        {
            // the ring owner: get_pages on this CPU
            PerfEventAttr attr = PerfEvent.TracepointAttr(_idGetPages, sampleType);
            if (_perProcess) attr.Flags |= (ulong)(PerfAttrFlags.Comm | PerfAttrFlags.CommExec);
            PerfEvent leader = Add(PerfEvent.Open(attr, -1, cpu, "filemap:mm_filemap_get_pages"));
            leader.MapRing(RingPagesLog2);
            _rings.Add(leader);
            if (fault?.Id is ulong fid) Add(PerfEvent.Open(PerfEvent.TracepointAttr(fid, sampleType), -1, cpu, "filemap:mm_filemap_fault")).SetOutput(leader);
            if (mapPages?.Id is ulong mid) Add(PerfEvent.Open(PerfEvent.TracepointAttr(mid, sampleType), -1, cpu, "filemap:mm_filemap_map_pages")).SetOutput(leader);
            if (_perProcess)
            {
                Add(PerfEvent.Open(PerfEvent.TracepointAttr(_idAdd, sampleType), -1, cpu, "filemap:mm_filemap_add_to_page_cache")).SetOutput(leader);
                if (dirty?.Id is ulong did) Add(PerfEvent.Open(PerfEvent.TracepointAttr(did, sampleType), -1, cpu, dirty.Name)).SetOutput(leader);
                continue;
            }
            // misses counted in the kernel: one counter per order, and one unfiltered to catch larger orders
            PerfEvent total = Add(PerfEvent.Open(PerfEvent.TracepointAttr(_idAdd), -1, cpu, "filemap:mm_filemap_add_to_page_cache"));
            _missCounters.Add((total, _addOrder is null ? 1 : 0, true));
            if (_addOrder is null) continue;
            for (int k = 0; k <= MaxCountedOrder; k++)
            {
                PerfEvent ev = Add(PerfEvent.Open(PerfEvent.TracepointAttr(_idAdd), -1, cpu, $"filemap:mm_filemap_add_to_page_cache order=={k}"));
                ev.SetFilter($"order == {k}");
                _missCounters.Add((ev, 1L << k, false));
            }
        }
        Method = _perProcess
            ? "tracepoints filemap:mm_filemap_{get_pages,fault,map_pages,add_to_page_cache} and writeback:writeback_dirty_folio sampled per CPU with thread id and raw fields (perf_event_open), aggregated per process; misses = Σ 2^order"
            : "tracepoints via perf_event_open: misses = Σ 2^order of filemap:mm_filemap_add_to_page_cache (in-kernel counters per order), accesses = pages of filemap:mm_filemap_get_pages ranges + mm_filemap_fault + mm_filemap_map_pages (sampled), dirties = /proc/vmstat nr_dirtied";
    }

    private PerfEvent Add(PerfEvent e)
    {
        _events.Add(e);
        return e;
    }

    // BCC cachestat's functions, old and new names; counted per call (no folio sizes available this way).
    private static readonly string[][] KprobeFuncs =
    [
        ["folio_mark_accessed", "mark_page_accessed"],
        ["filemap_add_folio", "add_to_page_cache_lru"],
        ["folio_account_dirtied", "account_page_dirtied"],
        ["mark_buffer_dirty"],
    ];

    private unsafe void SetupKprobes(int[] cpus, uint kprobeType)
    {
        foreach (string[] names in KprobeFuncs)
        {
            string? chosen = null;
            foreach (string name in names)
            {
                try
                {
                    foreach (int cpu in cpus) _kprobeCounters.Add((Add(OpenKprobe(kprobeType, name, cpu)), names[0]));
                    chosen = name;
                    break;
                }
                catch (PerfEventException e) when (!e.IsPermission) { }
            }
            if (chosen is null) Caveats.Add($"kprobe on {string.Join('/', names)} unavailable");
        }
        if (_kprobeCounters.Count == 0)
            throw new PageCacheTracingUnavailableException("no page-cache tracepoints, and kprobes on the page-cache functions failed", false);
        MethodId = "kprobe";
        Method = "kprobes via perf_event_open (BCC cachestat formula, per call: large folios count as one page)";
    }

    private static unsafe PerfEvent OpenKprobe(uint type, string func, int cpu)
    {
        byte[] name = Encoding.ASCII.GetBytes(func + "\0");
        fixed (byte* p = name)
        {
            var attr = new PerfEventAttr
            {
                Type = type, Size = PerfEventAttr.CurrentSize, Config1 = (ulong)p, Config2 = 0,
                Flags = (ulong)PerfAttrFlags.Disabled,
            };
            return PerfEvent.Open(attr, -1, cpu, $"kprobe:{func}");
        }
    }

    /// <summary>Cumulative totals since start (drains the rings first).</summary>
    public PageCacheTotals ReadTotals()
    {
        lock (_gate)
        {
            DrainLocked();
            long missPages = _sampledMissPages, missCalls = _sampledMissCalls, unknown = 0, lost = 0;
            if (_missCounters.Count > 0)
            {
                long weightedCalls = 0;
                foreach (var (ev, weight, total) in _missCounters)
                {
                    long v = (long)ev.ReadCounter();
                    if (total)
                    {
                        missCalls += v;
                        if (weight == 1) missPages += v; // no order field: one page per call
                    }
                    else
                    {
                        missPages += v * weight;
                        weightedCalls += v;
                    }
                }
                if (_addOrder is not null) unknown = Math.Max(0, missCalls - weightedCalls);
            }
            long access = _readAccess + _mmapAccess;
            if (_kprobeCounters.Count > 0)
            {
                long mpa = 0, apcl = 0, mbd = 0;
                foreach (var (ev, func) in _kprobeCounters)
                {
                    long v = (long)ev.ReadCounter();
                    if (func == "folio_mark_accessed") mpa += v;
                    else if (func == "filemap_add_folio") apcl += v;
                    else if (func == "mark_buffer_dirty") mbd += v;
                }
                // BCC: total = mpa - mbd, misses = apcl - mbd
                access = Math.Max(0, mpa - mbd);
                missPages = Math.Max(0, apcl - mbd);
                missCalls = apcl;
            }
            foreach (PerfEvent r in _rings) lost += (long)(r.Ring?.Lost ?? 0);
            return new PageCacheTotals(access, _readAccess, _mmapAccess, missPages, missCalls, unknown, lost);
        }
    }

    /// <summary>Per-process counters accumulated since the last call (drains first), then starts a new interval.</summary>
    public Dictionary<int, ProcessCacheCounters> TakeProcesses()
    {
        lock (_gate)
        {
            DrainLocked();
            Dictionary<int, ProcessCacheCounters> result = _procs;
            _procs = new Dictionary<int, ProcessCacheCounters>();
            foreach (ProcessCacheCounters p in result.Values)
                if (_comms.TryGetValue(p.Pid, out string? c)) p.Comm ??= c;
            return result;
        }
    }

    private void DrainLoop()
    {
        while (!_stop)
        {
            Thread.Sleep(50);
            if (_stop) break;
            try
            {
                lock (_gate) DrainLocked();
            }
            catch (ObjectDisposedException) { break; }
        }
    }

    private struct Sample
    {
        public int Pid, Tid;
        public ulong Time;
        public ulong Type;
        public ulong Dev, Ino, Index, Last;
        public int Order;
    }

    private void DrainLocked()
    {
        if (_rings.Count == 0) return;
        _batch.Clear();
        foreach (PerfEvent r in _rings)
            if (!r.IsClosed) r.Ring?.Drain(OnRecord);
        if (_batch.Count == 0) return;
        // rings are per CPU; a thread that migrated has its events in two rings: order by time
        _batch.Sort(static (a, b) => a.Time.CompareTo(b.Time));
        foreach (Sample s in _batch) Account(s);
        _batch.Clear();
    }

    private void OnRecord(int type, ReadOnlySpan<byte> rec)
    {
        if (type == 3 /* PERF_RECORD_COMM */ && rec.Length > 16)
        {
            int pid = BinaryPrimitives.ReadInt32LittleEndian(rec[8..]);
            int tid = BinaryPrimitives.ReadInt32LittleEndian(rec[12..]);
            if (pid != tid) return;
            ReadOnlySpan<byte> name = rec[16..];
            int nul = name.IndexOf((byte)0);
            if (nul >= 0) name = name[..nul];
            _comms[pid] = Encoding.UTF8.GetString(name);
            return;
        }
        if (type != PerfEventNative.PerfRecordSample || rec.Length < 28) return;
        // TID: u32 pid, u32 tid; TIME: u64; RAW: u32 size + data
        var s = new Sample
        {
            Pid = BinaryPrimitives.ReadInt32LittleEndian(rec[8..]),
            Tid = BinaryPrimitives.ReadInt32LittleEndian(rec[12..]),
            Time = BinaryPrimitives.ReadUInt64LittleEndian(rec[16..]),
        };
        int rawSize = BinaryPrimitives.ReadInt32LittleEndian(rec[24..]);
        if (rawSize < 8 || 28 + rawSize > rec.Length) return;
        ReadOnlySpan<byte> raw = rec.Slice(28, rawSize);
        s.Type = BinaryPrimitives.ReadUInt16LittleEndian(raw);
        if (s.Type == _idGetPages)
        {
            s.Index = TracepointFormat.ReadUnsigned(raw, _gpIndex!);
            s.Last = TracepointFormat.ReadUnsigned(raw, _gpLast!);
            if (_gpIno is not null) s.Ino = TracepointFormat.ReadUnsigned(raw, _gpIno);
            if (_gpDev is not null) s.Dev = TracepointFormat.ReadUnsigned(raw, _gpDev);
        }
        else if (s.Type == _idMapPages && _mpIndex is not null && _mpLast is not null)
        {
            s.Index = TracepointFormat.ReadUnsigned(raw, _mpIndex);
            s.Last = TracepointFormat.ReadUnsigned(raw, _mpLast);
        }
        else if (s.Type == _idAdd)
        {
            s.Order = _addOrder is null ? 0 : (int)TracepointFormat.ReadUnsigned(raw, _addOrder);
        }
        _batch.Add(s);
    }

    private static long Range(ulong first, ulong last) => last >= first && last - first < (1UL << 32) ? (long)(last - first + 1) : 0;

    private void Account(in Sample s)
    {
        long read = 0, mmap = 0, miss = 0, dirtied = 0;
        if (s.Type == _idGetPages)
        {
            // One read() that needs several batches reports index..last_index at each batch, last_index unchanged:
            // the later ones are continuations whose pages the first event already counted.
            bool continuation = _lastRead.TryGetValue(s.Tid, out var prev)
                && prev.Dev == s.Dev && prev.Ino == s.Ino && prev.Last == s.Last && s.Index > prev.Index && s.Index <= prev.Last;
            _lastRead[s.Tid] = (s.Dev, s.Ino, s.Last, s.Index);
            if (!continuation) read = Range(s.Index, s.Last);
        }
        else if (s.Type == _idFault) mmap = 1;
        else if (s.Type == _idMapPages) mmap = Range(s.Index, s.Last);
        else if (s.Type == _idAdd) miss = s.Order is >= 0 and < 31 ? 1L << s.Order : 1;
        else if (s.Type == _idDirty) dirtied = 1;
        else return;

        _readAccess += read;
        _mmapAccess += mmap;
        if (miss > 0)
        {
            _sampledMissPages += miss;
            _sampledMissCalls++;
        }
        if (!_perProcess) return;
        if (!_procs.TryGetValue(s.Pid, out ProcessCacheCounters? p))
        {
            p = new ProcessCacheCounters { Pid = s.Pid };
            if (_comms.TryGetValue(s.Pid, out string? c)) p.Comm = c;
            else
            {
                // capture the name now: short readers exit before the report
                p.Comm = ReadComm(s.Pid);
                if (p.Comm is not null) _comms[s.Pid] = p.Comm;
            }
            p.Uid = ReadUid(s.Pid);
            _procs[s.Pid] = p;
        }
        p.ReadAccessPages += read;
        p.MmapAccessPages += mmap;
        p.MissPages += miss;
        p.DirtiedFolios += dirtied;
    }

    private string? ReadComm(int pid)
    {
        try { return File.ReadAllText($"{_procRoot}/{pid}/comm").TrimEnd('\n'); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    private uint? ReadUid(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"{_procRoot}/{pid}/status"))
                if (line.StartsWith("Uid:", StringComparison.Ordinal))
                {
                    ReadOnlySpan<char> rest = line.AsSpan(4);
                    ReadOnlySpan<char> first = MemScope.Procfs.SpanParsing.NextToken(ref rest);
                    return uint.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out uint u) ? u : null;
                }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return null;
    }

    public void Dispose()
    {
        _stop = true;
        _drainer?.Join(1000);
        lock (_gate)
        {
            foreach (PerfEvent e in _events)
            {
                try { e.Disable(); } catch (PerfEventException) { }
            }
            foreach (PerfEvent e in _events) e.Dispose();
            _events.Clear();
            _rings.Clear();
            _missCounters.Clear();
            _kprobeCounters.Clear();
        }
    }
}
