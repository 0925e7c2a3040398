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
/// Reads one process into a <see cref="ProcessSnapshot"/>. A process that exits mid-read returns null (gone);
/// a denied optional file leaves its fields null; a denied smaps_rollup sets <see cref="ProcessSnapshot.SmapsDenied"/>.
/// </summary>
public sealed class ProcessReader(ProcFs proc)
{
    private readonly long _pageSize = Environment.SystemPageSize;

    public ProcFs Proc { get; } = proc;

    /// <summary>Reads the process, or null when it is gone. Throws <see cref="KernelFileException"/> only for malformed or denied stat.</summary>
    public ProcessSnapshot? TryRead(int pid, ProcessDetail detail)
    {
        try
        {
            ProcPidStat stat = ProcPidStat.Read(Proc.PidPath(pid, "stat"));
            ProcPidStatm? statm = Optional(() => ProcPidStatm.Read(Proc.PidPath(pid, "statm")));
            ProcPidStatus? status = Optional(() => ProcPidStatus.Read(Proc.PidPath(pid, "status")));
            string cmdline = Optional(() => string.Join(' ', ProcPidCmdline.Read(Proc.PidPath(pid, "cmdline")))) ?? "";
            long? oomScore = OptionalNumber(Proc.PidPath(pid, "oom_score"));
            long? oomAdj = OptionalNumber(Proc.PidPath(pid, "oom_score_adj"));
            // PF_KTHREAD (0x00200000) in the stat flags is the reliable kernel-thread test.
            bool kthread = ((stat.Field(9) ?? 0) & 0x00200000) != 0;

            SmapsFields? rollup = null;
            bool smapsDenied = false, smapsUnavailable = false;
            if (detail == ProcessDetail.WithSmapsRollup && !kthread)
            {
                try { rollup = ProcPidSmapsRollup.Read(Proc.PidPath(pid, "smaps_rollup")); }
                catch (KernelFileException e) when (e.Error == KernelFileError.Denied) { smapsDenied = true; }
                catch (KernelFileException e) when (e.Error == KernelFileError.Malformed) { smapsDenied = true; }
                // A zombie (or a process between exit_mm and reaping) has no address space: smaps_rollup gives ESRCH
                // while the pid is still there. Keep the process with PSS unknown; only a vanished pid is gone.
                // A live process without smaps_rollup is a kernel before 4.14: PSS/USS unavailable, process kept.
                catch (KernelFileException e) when (e.Error == KernelFileError.Gone && (stat.State is 'Z' or 'X' || Proc.ProcessExists(pid)))
                {
                    smapsUnavailable = stat.State is not ('Z' or 'X') && !File.Exists(Proc.PidPath(pid, "smaps_rollup"));
                }
            }

            ulong rss = statm is { } m ? m.ResidentPages * (ulong)_pageSize : stat.RssPages * (ulong)_pageSize;
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
                VirtBytes = statm is { } m2 ? m2.SizePages * (ulong)_pageSize : stat.VsizeBytes,
                RssBytes = rss,
                // statm "shared" above the total size is corrupt (seen in captured trees): fall back to RssFile + RssShmem.
                SharedBytes = statm is { } m3 && m3.SharedPages <= m3.SizePages ? m3.SharedPages * (ulong)_pageSize
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
    }

    private static T? Optional<T>(Func<T> read) where T : class
    {
        try { return read(); }
        catch (KernelFileException e) when (e.Error is KernelFileError.Denied or KernelFileError.Malformed or KernelFileError.Io || StillThere(e)) { return null; }
    }

    private static T? Optional<T>(Func<T> read, bool _ = false) where T : struct
    {
        try { return read(); }
        catch (KernelFileException e) when (e.Error is KernelFileError.Denied or KernelFileError.Malformed or KernelFileError.Io || StillThere(e)) { return null; }
    }

    private static long? OptionalNumber(string path)
    {
        try { return SingleNumberFile.Read(path); }
        catch (KernelFileException e) when (e.Error is not KernelFileError.Gone || StillThere(e)) { return null; }
    }

    /// <summary>
    /// A file missing while the process's stat is still there: this kernel (or a captured tree) lacks that file, so
    /// the field is unknown; the process itself is not gone.
    /// </summary>
    private static bool StillThere(KernelFileException e) =>
        e.Error == KernelFileError.Gone && Path.GetDirectoryName(e.Path) is string dir && File.Exists(Path.Combine(dir, "stat"));
}
