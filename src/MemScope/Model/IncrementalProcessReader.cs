using System.Globalization;
using System.IO.Enumeration;
using MemScope.Procfs;

namespace MemScope.Model;

/// <summary>How often the incremental reader re-reads what /proc/PID/stat cannot show to have changed.</summary>
public sealed record IncrementalReadOptions
{
    /// <summary>
    /// Re-read the cheap files of an unchanged process at least every this many samples (staggered by pid, so the
    /// cost is spread); null never does. Covers what can change without stat moving (see the class remarks).
    /// </summary>
    public int? RefreshEvery { get; init; } = 20;
    /// <summary>A top process's smaps_rollup is due again after this many samples even when its memory did not move; null: only when it moved.</summary>
    public int? RollupRefreshEvery { get; init; } = 10;
    /// <summary>A top process's smaps_rollup is due again when its RSS or swap moved by more than this fraction since the last read (0: any move).</summary>
    public double RollupChange { get; init; } = 0.01;
    /// <summary>
    /// Share of one core that re-reading smaps_rollup may take on average (thread CPU time against the interval);
    /// due processes beyond it keep their last known PSS until the budget allows. null: no budget (every due read).
    /// </summary>
    public double? RollupCpuShare { get; init; } = 0.004;
    /// <summary>
    /// Keep /proc/PID/stat of up to this many processes open between samples and pread it (no path walk, open or close
    /// per process per sample; 4 KiB of kernel memory per kept file, see <see cref="PidStatReader"/>). Only on a real
    /// procfs, and at most half of RLIMIT_NOFILE (whose soft limit is raised towards the hard one). 0: open each time.
    /// </summary>
    public int KeepStatFilesOpen { get; init; } = 4096;

    /// <summary>
    /// The recorder's defaults for a sampling interval: unchanged processes re-read about every 60 s, PSS due again
    /// after about 30 s without movement (both at least every sample for intervals above that).
    /// </summary>
    public static IncrementalReadOptions ForInterval(TimeSpan interval) => new()
    {
        RefreshEvery = Samples(TimeSpan.FromSeconds(60), interval),
        RollupRefreshEvery = Samples(TimeSpan.FromSeconds(30), interval),
    };

    private static int Samples(TimeSpan span, TimeSpan interval) =>
        interval <= TimeSpan.Zero ? 1 : (int)Math.Clamp(Math.Ceiling(span / interval), 1, 1_000_000);
}

/// <summary>What the last <see cref="IncrementalProcessReader.Read"/> did (for -v output, tests and benchmarks).</summary>
public readonly record struct IncrementalReadCounts(int Listed, int New, int Reread, int Kept, int Gone, int Denied, int RollupsRead, int RollupsKept);

/// <summary>
/// The recorder's per-process reader: the same <see cref="ProcessSnapshot"/> values as <see cref="ProcessReader"/>,
/// but it keeps the previous sample's snapshot of every process, keyed by (pid, start time), and re-reads only what
/// may have changed. Every sample reads /proc/PID/stat of every process (one open/read/close, no allocation;
/// <see cref="PidStatReader"/>); the other cheap files (statm, status, cmdline, oom_score, oom_score_adj) are read
/// through <see cref="ProcessReader"/> only for a new identity, when stat moved, or on the periodic refresh.
/// </summary>
/// <remarks>
/// Why stat is a sufficient change detector (between refreshes):
/// - RSS and VIRT are stat's rss and vsize (the same mm counters statm prints). Anything that maps, unmaps, faults
///   in, reclaims or swaps out a page moves rss, vsize or the fault counters — including kswapd swapping the process
///   out while it sleeps (rss drops) and swap-in (a fault). RssAnon/RssFile/RssShmem sum to rss; VmSwap moves with
///   rss on swap-out and with a fault on swap-in; VmData/VmStk move with vsize; VmPTE grows with faults.
/// - cpu ticks, state, threads, ppid (reparenting) and comm (prctl, exec) are in stat. exec also replaces the
///   address space (vsize moves), so cmdline is re-read with the rest.
/// What stat does not show, hence the periodic refresh every <see cref="IncrementalReadOptions.RefreshEvery"/>
/// samples: oom_score_adj written by another process (systemd, oomd), oom_score changing because the machine's
///   total RAM+swap changed (swapon/swapoff) or the adj changed; setuid() by a process that used less than a tick;
///   mlock of pages already resident (VmLck); a process rewriting its argv in place (setproctitle) without touching
///   memory or CPU; a page moving between file and shmem counters with no fault.
/// PSS of the top N (smaps_rollup, costly: the kernel walks the page tables) also changes when OTHER processes map or
/// unmap pages this one shares, which its own stat never shows: it is re-read when the process's RSS or swap moved
/// by more than <see cref="IncrementalReadOptions.RollupChange"/>, when it enters the top N, and at least every
/// <see cref="IncrementalReadOptions.RollupRefreshEvery"/> samples; between reads the last known values stand.
/// Unknown stays unknown: a denied file leaves its field null exactly as <see cref="ProcessReader"/> does.
/// Not thread-safe.
/// </remarks>
public sealed unsafe partial class IncrementalProcessReader
{
    private sealed class Entry
    {
        public required ulong Start;
        public required ProcessSnapshot Snapshot;
        public PidStatFields Stat;
        public string Comm = "";
        public long Seen;
        // smaps_rollup state: what was read, when, and the memory it was read at
        public SmapsFields? Rollup;
        public bool RollupDenied;
        public long RollupAt = long.MinValue;
        public ulong RollupRss;
        public ulong? RollupSwap;
    }

    /// <summary>A top process whose smaps_rollup is due, with its priority (higher first).</summary>
    private readonly record struct Due(int Index, Entry Entry, double Priority);

    private readonly Dictionary<int, Entry> _entries = new(1024);
    private readonly ProcessReader _reader;
    private readonly PidStatReader _stat;
    private readonly ulong _pageSize = (ulong)Environment.SystemPageSize;
    private long _sample;
    private int _rollupsRead, _rollupsKept;
    private double _rollupTokensNs; // CPU time smaps_rollup may still spend (may go below 0 by one read)

    public IncrementalProcessReader(ProcFs proc, IncrementalReadOptions? options = null)
    {
        Proc = proc;
        Options = options ?? new IncrementalReadOptions();
        _reader = new ProcessReader(proc);
        _stat = new PidStatReader(proc, PidStatReader.IsProcfs(proc.Root) ? PidStatReader.FileBudget(Options.KeepStatFilesOpen) : 0);
    }

    public ProcFs Proc { get; }
    public IncrementalReadOptions Options { get; }
    public IncrementalReadCounts LastCounts { get; private set; }

    /// <summary>How many /proc/PID/stat files stay open between samples now (see <see cref="IncrementalReadOptions.KeepStatFilesOpen"/>).</summary>
    public int StatFilesOpen => _stat.OpenCount;

    /// <summary>Closes the kept stat files (a later <see cref="Read"/> opens them again).</summary>
    public void CloseFiles() => _stat.CloseAll();

    /// <summary>Test hook: called before the full read of a process (lets a test remove it between stat and status).</summary>
    internal Action<int>? BeforeFullRead { get; set; }

    /// <summary>
    /// Reads every process (kernel threads only with <paramref name="includeKernelThreads"/>). Gone: exited before or
    /// during the read (skipped quietly); denied: stat unreadable or malformed (the process is left out).
    /// </summary>
    public List<ProcessSnapshot> Read(bool includeKernelThreads, out int gone, out int denied)
    {
        long sample = ++_sample;
        List<int> pids = ListPids();
        var result = new List<ProcessSnapshot>(pids.Count);
        int fresh = 0, reread = 0, kept = 0;
        gone = denied = 0;
        _rollupsRead = _rollupsKept = 0;
        foreach (int pid in pids)
        {
            PidStatFields f;
            try { f = _stat.Read(pid); }
            catch (KernelFileException e) when (e.Error is KernelFileError.Gone)
            {
                gone++;
                _entries.Remove(pid);
                continue;
            }
            catch (KernelFileException e) when (e.Error is KernelFileError.Denied or KernelFileError.Malformed or KernelFileError.Io)
            {
                denied++;
                _entries.Remove(pid);
                continue;
            }
            if (f.IsKernelThread && !includeKernelThreads)
            {
                _entries.Remove(pid);
                continue;
            }

            bool known = _entries.TryGetValue(pid, out Entry? e0) && e0.Start == f.StartTimeTicks;
            if (known && Same(e0!, f) && !RefreshDue(pid, sample))
            {
                e0!.Seen = sample;
                result.Add(e0.Snapshot);
                kept++;
                continue;
            }

            ProcessSnapshot? p;
            try
            {
                BeforeFullRead?.Invoke(pid);
                p = _reader.TryRead(pid, ProcessDetail.Cheap);
            }
            catch (KernelFileException e) when (e.Error is KernelFileError.Denied or KernelFileError.Malformed or KernelFileError.Io)
            {
                denied++;
                _entries.Remove(pid);
                continue;
            }
            if (p is null || (p.IsKernelThread && !includeKernelThreads))
            {
                if (p is null) gone++;
                _entries.Remove(pid);
                continue;
            }
            // A different start time (pid reused between our stat and the full read, or since the last sample) is a new identity.
            Entry e1 = known && p.StartTimeTicks == e0!.Start ? e0 : new Entry { Start = p.StartTimeTicks, Snapshot = p };
            if (ReferenceEquals(e1, e0)) reread++; else fresh++;
            e1.Snapshot = p;
            // The stat we compared is kept even if the full read saw a newer one: any difference shows next sample.
            e1.Stat = p.StartTimeTicks == f.StartTimeTicks ? f : default;
            e1.Comm = p.Comm;
            e1.Seen = sample;
            _entries[pid] = e1;
            result.Add(p);
        }
        // Drop processes not listed this time (exited between samples).
        if (_entries.Count > result.Count)
        {
            List<int>? stale = null;
            foreach (var (pid, e) in _entries)
                if (e.Seen != sample) (stale ??= []).Add(pid);
            if (stale is not null) foreach (int pid in stale) _entries.Remove(pid);
        }
        _stat.CloseUnread(); // stat files of processes not listed this time (exited)
        LastCounts = new IncrementalReadCounts(pids.Count, fresh, reread, kept, gone, denied, 0, 0);
        return result;
    }

    /// <summary>
    /// Adds PSS, USS, swap PSS and AnonHugePages from smaps_rollup to the <paramref name="topN"/> largest processes by
    /// RSS (in place). A process's smaps_rollup is read when it has none yet, or when due (RSS or swap moved, or old)
    /// and the CPU budget for the <paramref name="interval"/> allows; otherwise its last known values stand (see the
    /// class remarks). A process never read and not read now has PSS unknown (null), never a guess.
    /// </summary>
    public void AddRollups(List<ProcessSnapshot> procs, int topN, TimeSpan interval = default)
    {
        _rollupsRead = _rollupsKept = 0;
        if (topN <= 0 || procs.Count == 0) return;
        // indices of the top N by RSS (a partial selection: N is small)
        var top = new List<int>(Math.Min(topN, procs.Count));
        for (int i = 0; i < procs.Count; i++)
        {
            if (procs[i].IsKernelThread) continue;
            if (top.Count < topN) { top.Add(i); continue; }
            int min = 0;
            for (int j = 1; j < top.Count; j++) if (procs[top[j]].RssBytes < procs[top[min]].RssBytes) min = j;
            if (procs[i].RssBytes > procs[top[min]].RssBytes) top[min] = i;
        }

        // Budget: the share of the interval, accumulated over at most RollupRefreshEvery samples (no big bursts); the
        // debt of reads that had to happen (never-read processes) is limited the same way, so refreshes resume.
        double cap = 0;
        if (Options.RollupCpuShare is double share && interval > TimeSpan.Zero)
        {
            double perSample = interval.TotalNanoseconds * share;
            cap = perSample * Math.Max(Options.RollupRefreshEvery ?? 10, 1);
            _rollupTokensNs = Math.Clamp(_rollupTokensNs + perSample, -cap, cap);
        }
        bool budgeted = Options.RollupCpuShare is not null && interval > TimeSpan.Zero;

        var due = new List<Due>(top.Count);
        foreach (int i in top)
        {
            ProcessSnapshot p = procs[i];
            if (!_entries.TryGetValue(p.Pid, out Entry? e) || e.Start != p.StartTimeTicks) continue;
            if (RollupPriority(e, p) is double priority) due.Add(new Due(i, e, priority));
        }
        due.Sort((a, b) => b.Priority.CompareTo(a.Priority));
        foreach (Due d in due)
        {
            if (budgeted && _rollupTokensNs <= 0 && (d.Entry.Rollup is not null || d.Entry.RollupDenied)) continue; // keeps its last values
            ProcessSnapshot p = procs[d.Index];
            long cpu0 = ThreadCpuNs();
            try
            {
                d.Entry.Rollup = ProcPidSmapsRollup.Read(Proc.PidPath(p.Pid, "smaps_rollup"));
                d.Entry.RollupDenied = false;
            }
            catch (KernelFileException x) when (x.Error is KernelFileError.Denied or KernelFileError.Malformed or KernelFileError.Io)
            {
                d.Entry.Rollup = null;
                d.Entry.RollupDenied = true;
            }
            catch (KernelFileException x) when (x.Error is KernelFileError.Gone)
            {
                // exited (or a zombie) since its stat: keep what we have, try again next time
                continue;
            }
            finally
            {
                if (budgeted) _rollupTokensNs = Math.Max(_rollupTokensNs - Math.Max(ThreadCpuNs() - cpu0, 0), -cap);
            }
            d.Entry.RollupAt = _sample;
            d.Entry.RollupRss = p.RssBytes;
            d.Entry.RollupSwap = p.SwapBytes;
            _rollupsRead++;
        }
        foreach (int i in top)
        {
            ProcessSnapshot p = procs[i];
            if (!_entries.TryGetValue(p.Pid, out Entry? e) || e.Start != p.StartTimeTicks) continue;
            if (e.RollupDenied) procs[i] = p with { SmapsDenied = true };
            else if (e.Rollup is { } r) procs[i] = p with { PssBytes = r.Pss, UssBytes = r.Uss, SwapPssBytes = r.SwapPss, AnonHugePagesBytes = r.AnonHugePages };
            else continue;
            if (e.RollupAt != _sample) _rollupsKept++;
        }
        LastCounts = LastCounts with { RollupsRead = _rollupsRead, RollupsKept = _rollupsKept };
    }

    /// <summary>Null when not due; else a priority: never read first, then by how far memory moved and how old the values are.</summary>
    private double? RollupPriority(Entry e, ProcessSnapshot p)
    {
        if (e.Rollup is null && !e.RollupDenied) return double.MaxValue;
        long age = _sample - e.RollupAt;
        bool old = Options.RollupRefreshEvery is int every && age >= every;
        if (e.RollupDenied) return old ? age : null;
        double moved = Math.Max(Relative(e.RollupRss, p.RssBytes), Relative(e.RollupSwap ?? 0, p.SwapBytes ?? 0));
        bool swapAppeared = e.RollupSwap.HasValue != p.SwapBytes.HasValue;
        if (!old && !swapAppeared && !Moved(e.RollupRss, p.RssBytes) && !Moved(e.RollupSwap ?? 0, p.SwapBytes ?? 0)) return null;
        // 1% of movement weighs like one sample of age
        return age + 100 * moved;
    }

    private static double Relative(ulong before, ulong now) =>
        before == now ? 0 : (before > now ? before - now : now - before) / (double)Math.Max(before, now);

    private static long ThreadCpuNs()
    {
        Timespec t;
        return ClockGettime(3 /* CLOCK_THREAD_CPUTIME_ID */, &t) == 0 ? t.Sec * 1_000_000_000 + t.Nsec : 0;
    }

    private struct Timespec
    {
        public long Sec;
        public long Nsec;
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static unsafe partial int ClockGettime(int clock, Timespec* t);

    private bool Moved(ulong before, ulong now)
    {
        ulong delta = before > now ? before - now : now - before;
        return delta > 0 && delta >= (ulong)(Options.RollupChange * Math.Max(before, now));
    }

    private bool Same(Entry e, in PidStatFields f) =>
        e.Stat.StartTimeTicks == f.StartTimeTicks && e.Stat.RssPages == f.RssPages && e.Stat.VsizeBytes == f.VsizeBytes
        && e.Stat.MinorFaults == f.MinorFaults && e.Stat.MajorFaults == f.MajorFaults && e.Stat.CpuTicks == f.CpuTicks
        && e.Stat.State == f.State && e.Stat.Threads == f.Threads && e.Stat.PPid == f.PPid && e.Stat.IsKernelThread == f.IsKernelThread
        && _stat.CommEquals(e.Comm);

    private readonly List<int> _pids = new(1024);
    private static readonly EnumerationOptions ListOptions = new() { AttributesToSkip = 0, IgnoreInaccessible = false, RecurseSubdirectories = false };

    /// <summary>
    /// The pids in /proc, sorted, as <see cref="ProcFs.ListPids"/> lists them, into a reused list and without a path
    /// string per entry (the names are parsed from the enumerator's buffer).
    /// </summary>
    private List<int> ListPids()
    {
        _pids.Clear();
        var pids = new FileSystemEnumerable<int>(Proc.Root, static (ref FileSystemEntry e) => Pid(e.FileName), ListOptions)
        {
            ShouldIncludePredicate = static (ref FileSystemEntry e) => e.IsDirectory && Pid(e.FileName) >= 0,
        };
        foreach (int pid in pids) _pids.Add(pid);
        _pids.Sort();
        return _pids;
    }

    private static int Pid(ReadOnlySpan<char> name) =>
        name.Length > 0 && char.IsAsciiDigit(name[0]) && int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) ? pid : -1;

    private bool RefreshDue(int pid, long sample) =>
        Options.RefreshEvery is int every && every > 0 && (sample + pid) % every == 0;
}
