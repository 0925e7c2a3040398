using MemScope.Procfs;

namespace MemScope.Model;

/// <summary>How much to read per process: the cheap files always, smaps_rollup on demand (DESIGN.md §8).</summary>
public enum ProcessDetail
{
    /// <summary>stat, statm, status, cmdline, oom_score(_adj).</summary>
    Cheap,
    /// <summary>Cheap plus smaps_rollup (PSS, USS, SwapPss).</summary>
    WithSmapsRollup,
}

/// <summary>
/// Which per-process files <see cref="ProcessReader"/> reads. stat is always read (pid, ppid, comm, state, threads,
/// faults, CPU time, the kernel-thread flag). A file left out leaves its fields unknown (null), except VIRT/RES/SHR:
/// they come from statm, else from status (VmSize, VmRSS, RssFile + RssShmem: the same mm counters the kernel sums
/// for statm), else from stat (vsize, rss; SHR 0). Left out: the command line is empty, oom_score(_adj) null.
/// </summary>
[Flags]
public enum ProcessFiles
{
    /// <summary>stat only.</summary>
    Stat = 0,
    Statm = 1,
    Status = 2,
    Cmdline = 4,
    OomScore = 8,
    OomScoreAdj = 16,
    SmapsRollup = 32,
    /// <summary>What <see cref="ProcessDetail.Cheap"/> reads.</summary>
    Cheap = Statm | Status | Cmdline | OomScore | OomScoreAdj,
    /// <summary>What <see cref="ProcessDetail.WithSmapsRollup"/> reads.</summary>
    All = Cheap | SmapsRollup,
}

/// <summary>
/// Reads one process into a <see cref="ProcessSnapshot"/>. A process that exits mid-read returns null (gone);
/// a denied optional file leaves its fields null; a denied smaps_rollup sets <see cref="ProcessSnapshot.SmapsDenied"/>.
/// The files are opened relative to one /proc/PID directory handle, so they all belong to one process.
/// </summary>
public sealed class ProcessReader(ProcFs proc)
{
    private readonly long _pageSize = Environment.SystemPageSize;

    public ProcFs Proc { get; } = proc;

    /// <summary>Reads the process, or null when it is gone. Throws <see cref="KernelFileException"/> only for malformed or denied stat.</summary>
    public ProcessSnapshot? TryRead(int pid, ProcessDetail detail) =>
        TryRead(pid, detail == ProcessDetail.WithSmapsRollup ? ProcessFiles.All : ProcessFiles.Cheap);

    /// <summary>
    /// Reads stat and the <paramref name="files"/> asked for (see <see cref="ProcessFiles"/> for what is unknown
    /// without them), or null when the process is gone. Throws <see cref="KernelFileException"/> only for malformed
    /// or denied stat.
    /// </summary>
    public ProcessSnapshot? TryRead(int pid, ProcessFiles files)
    {
        string dir = $"{Proc.Root}/{pid}";
        int fd;
        try { fd = KernelFile.OpenDirectory(dir); }
        catch (KernelFileException e) when (e.Error == KernelFileError.Gone) { return null; }
        try
        {
            var d = new PidDir(fd, dir);
            ProcPidStat stat = KernelFile.ParseAt(fd, "stat", d.PathOf("stat"), ProcPidStat.Parse, singleRecord: true);
            ProcPidStatm? statm = (files & ProcessFiles.Statm) != 0 && d.TryParse("statm", ProcPidStatm.Parse, out ProcPidStatm sm) ? sm : null;
            ProcPidStatus? status = (files & ProcessFiles.Status) != 0 && d.TryParse("status", ProcPidStatus.Parse, out ProcPidStatus? st) ? st : null;
            string cmdline = (files & ProcessFiles.Cmdline) != 0 && d.TryParse("cmdline", ProcPidCmdline.ParseJoined, out string? cl, singleRecord: false) ? cl! : "";
            long? oomScore = (files & ProcessFiles.OomScore) != 0 && d.TryParse("oom_score", SingleNumberFile.Parse, out long os) ? os : null;
            long? oomAdj = (files & ProcessFiles.OomScoreAdj) != 0 && d.TryParse("oom_score_adj", SingleNumberFile.Parse, out long oa) ? oa : null;
            // PF_KTHREAD (0x00200000) in the stat flags is the reliable kernel-thread test.
            bool kthread = ((stat.Field(9) ?? 0) & 0x00200000) != 0;

            SmapsFields? rollup = null;
            bool smapsDenied = false, smapsUnavailable = false;
            if ((files & ProcessFiles.SmapsRollup) != 0 && !kthread)
            {
                try { rollup = KernelFile.ParseAt(fd, "smaps_rollup", d.PathOf("smaps_rollup"), ProcPidSmapsRollup.Parse, singleRecord: true); }
                catch (KernelFileException e) when (e.Error == KernelFileError.Denied) { smapsDenied = true; }
                catch (KernelFileException e) when (e.Error == KernelFileError.Malformed) { smapsDenied = true; }
                // A zombie (or a process between exit_mm and reaping) has no address space: smaps_rollup gives ESRCH
                // while the pid is still there. Keep the process with PSS unknown; only a vanished pid is gone.
                // A live process without smaps_rollup is a kernel before 4.14: PSS/USS unavailable, process kept.
                catch (KernelFileException e) when (e.Error == KernelFileError.Gone && (stat.State is 'Z' or 'X' || Proc.ProcessExists(pid)))
                {
                    smapsUnavailable = stat.State is not ('Z' or 'X') && !KernelFile.ExistsAt(fd, "smaps_rollup");
                }
            }

            ulong page = (ulong)_pageSize;
            return new ProcessSnapshot
            {
                Pid = pid,
                PPid = stat.PPid,
                StartTimeTicks = stat.StartTimeTicks,
                Comm = stat.Comm,
                CommandLine = cmdline,
                State = stat.State,
                Uid = status?.RealUid,
                IsKernelThread = kthread,
                Threads = (int)stat.Threads,
                VirtBytes = statm is { } m ? m.SizePages * page : status?.VmSize ?? stat.VsizeBytes,
                RssBytes = statm is { } m1 ? m1.ResidentPages * page : status?.VmRSS ?? stat.RssPages * page,
                // statm "shared" above the total size is corrupt (seen in captured trees): fall back to RssFile + RssShmem.
                SharedBytes = statm is { } m3 && m3.SharedPages <= m3.SizePages ? m3.SharedPages * page
                    : (status?.RssFile ?? 0) + (status?.RssShmem ?? 0),
                RssAnonBytes = status?.RssAnon,
                RssFileBytes = status?.RssFile,
                RssShmemBytes = status?.RssShmem,
                SwapBytes = status?.VmSwap,
                DataBytes = status?.VmData,
                StackBytes = status?.VmStk,
                PageTableBytes = status?.VmPTE,
                LockedBytes = status?.VmLck,
                HugetlbBytes = status?.HugetlbPages,
                PssBytes = rollup?.Pss,
                UssBytes = rollup?.Uss,
                SwapPssBytes = rollup?.SwapPss,
                AnonHugePagesBytes = rollup?.AnonHugePages,
                SmapsDenied = smapsDenied,
                SmapsUnavailable = smapsUnavailable,
                MinorFaults = stat.MinorFaults,
                MajorFaults = stat.MajorFaults,
                CpuTicks = stat.UserTicks + stat.SystemTicks,
                OomScore = oomScore,
                OomScoreAdj = oomAdj,
            };
        }
        catch (KernelFileException e) when (e.Error == KernelFileError.Gone)
        {
            return null;
        }
        finally
        {
            KernelFile.CloseDirectory(fd);
        }
    }

    /// <summary>
    /// Completes <paramref name="p"/>, read with <paramref name="read"/>, with the fields of <paramref name="more"/>:
    /// a scan that sorts on a few files and prints only its first rows reads the other files for those rows only.
    /// The fields already read keep their values (the order sorted on them stays true); null when the process has
    /// exited since, or its pid now belongs to another process (another start time).
    /// </summary>
    public ProcessSnapshot? TryReadMore(ProcessSnapshot p, ProcessFiles read, ProcessFiles more)
    {
        if ((more & ~read) == 0) return p;
        ProcessSnapshot? q = TryRead(p.Pid, read | more);
        if (q is null || q.StartTimeTicks != p.StartTimeTicks) return null;
        const ProcessFiles vm = ProcessFiles.Statm | ProcessFiles.Status;
        bool Had(ProcessFiles f) => (read & f) == f;
        bool vmSame = (more & ~read & vm) == 0;
        ProcessSnapshot r = q with
        {
            PPid = p.PPid, Comm = p.Comm, State = p.State, IsKernelThread = p.IsKernelThread, Threads = p.Threads,
            MinorFaults = p.MinorFaults, MajorFaults = p.MajorFaults, CpuTicks = p.CpuTicks, MemoryCgroup = p.MemoryCgroup,
            // VIRT and RES come from statm when it was read; SHR needs status too where statm's is corrupt
            VirtBytes = Had(ProcessFiles.Statm) || vmSame ? p.VirtBytes : q.VirtBytes,
            RssBytes = Had(ProcessFiles.Statm) || vmSame ? p.RssBytes : q.RssBytes,
            SharedBytes = Had(vm) || vmSame ? p.SharedBytes : q.SharedBytes,
        };
        if (Had(ProcessFiles.Status))
            r = r with
            {
                Uid = p.Uid, RssAnonBytes = p.RssAnonBytes, RssFileBytes = p.RssFileBytes, RssShmemBytes = p.RssShmemBytes,
                SwapBytes = p.SwapBytes, DataBytes = p.DataBytes, StackBytes = p.StackBytes, PageTableBytes = p.PageTableBytes,
                LockedBytes = p.LockedBytes, HugetlbBytes = p.HugetlbBytes,
            };
        if (Had(ProcessFiles.Cmdline)) r = r with { CommandLine = p.CommandLine };
        if (Had(ProcessFiles.OomScore)) r = r with { OomScore = p.OomScore };
        if (Had(ProcessFiles.OomScoreAdj)) r = r with { OomScoreAdj = p.OomScoreAdj };
        if (Had(ProcessFiles.SmapsRollup))
            r = r with
            {
                PssBytes = p.PssBytes, UssBytes = p.UssBytes, SwapPssBytes = p.SwapPssBytes, AnonHugePagesBytes = p.AnonHugePagesBytes,
                SmapsDenied = p.SmapsDenied, SmapsUnavailable = p.SmapsUnavailable,
            };
        return r;
    }

    /// <summary>An open /proc/PID directory: optional files read relative to it.</summary>
    private readonly struct PidDir(int fd, string dir)
    {
        public string PathOf(string name) => $"{dir}/{name}";

        /// <summary>
        /// Reads an optional file: false when it is denied, malformed or unreadable, or missing while the process's
        /// stat is still there (this kernel, or a captured tree, lacks that file: the field is unknown, the process is
        /// not gone). Throws Gone when the process has exited.
        /// </summary>
        public bool TryParse<T>(string name, SpanParser<T> parse, out T? value, bool singleRecord = true)
        {
            try
            {
                value = KernelFile.ParseAt(fd, name, PathOf(name), parse, singleRecord);
                return true;
            }
            catch (KernelFileException e) when (e.Error is KernelFileError.Denied or KernelFileError.Malformed or KernelFileError.Io
                                                || (e.Error == KernelFileError.Gone && KernelFile.ExistsAt(fd, "stat")))
            {
                value = default;
                return false;
            }
        }
    }
}
