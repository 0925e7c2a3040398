namespace MemScope.Analysis.Doctor.Rules;

/// <summary>oom-kill: the OOM killer ended processes (counters, and the victims from the kernel log when readable).</summary>
public sealed class OomKillRule : IDoctorRule
{
    public string Id => "oom-kill";

    public IEnumerable<Finding> Evaluate(DoctorContext c)
    {
        ulong? total = c.Last.System.Vmstat?["oom_kill"];
        ulong? before = c.First.System.Vmstat?["oom_kill"];
        if (total is null && c.OomKills is null)
            throw new RuleSkipped("no oom_kill in /proc/vmstat (kernel older than 4.13) and the kernel log is unreadable");
        ulong inWindow = total is ulong t && before is ulong b && t >= b ? t - b : 0;
        ulong cgroupKills = c.Cgroups?.Aggregate(0UL, (s, g) => s + (g.OomEventsDelta ?? 0)) ?? 0;
        var victims = c.OomKills ?? [];
        if ((total ?? 0) == 0 && victims.Count == 0) yield break;

        var evidence = new List<Evidence>
        {
            new("OOM kills since boot", total?.ToString() ?? "unknown", "/proc/vmstat oom_kill"),
            new("during this run", inWindow.ToString(), "oom_kill delta over the window"),
        };
        foreach (OomKillNote v in victims.TakeLast(3))
            evidence.Add(new("victim", $"{v.Command} (pid {v.Pid}), anon-rss {Format.Bytes(v.AnonRssBytes)}, oom_score_adj {v.OomScoreAdj?.ToString() ?? "?"}, " +
                                       (v.CgroupConstraint ? $"memory cgroup {v.Cgroup}" : "global (whole machine)") + (v.Time is { } when ? $", {when:u}" : ""),
                "kernel log (/dev/kmsg): Killed process / oom-kill: lines"));
        if (c.OomKills is null && c.OomLogUnavailableReason is { } why) evidence.Add(new("kernel log", why, "/dev/kmsg"));
        // A kill in the window is critical; one the log dates within the last hour (or an undated one) a warning;
        // kills the log shows to be older are history: info.
        DateTimeOffset now = c.Last.Time;
        bool recent = c.OomKills is null || victims.Any(v => v.Time is null || now - v.Time.Value < TimeSpan.FromHours(1));
        Severity severity = inWindow > 0 || cgroupKills > 0 ? Severity.Critical : recent ? Severity.Warning : Severity.Info;
        yield return new Finding
        {
            Id = Id,
            Severity = severity,
            Title = inWindow > 0 ? ("The OOM killer is killing processes now", "OOM killer 正在杀死进程") : ("The OOM killer has killed processes since boot", "自启动以来 OOM killer 已杀死过进程"),
            Evidence = evidence,
            Explanation = ("When neither reclaim nor swap can free enough memory for an allocation, the kernel kills the process with the highest oom_score (mostly its memory share, shifted by oom_score_adj from -1000 to 1000). In a memory cgroup the kill stays inside the cgroup.",
                           "当回收和 swap 都无法为分配腾出足够内存时，内核会杀死 oom_score 最高的进程（主要由其内存占比决定，并由 -1000 到 1000 的 oom_score_adj 调整）。在内存 cgroup 中，杀进程只发生在该 cgroup 内。"),
            Cause = ("Memory demand exceeded RAM + swap, or a cgroup's limit.", "内存需求超过了内存加 swap，或超过了 cgroup 的上限。"),
            Next = ["memscope oom history", "memscope oom", "memscope cgroups"],
            Fixes =
            [
                ("Protect critical services with oom_score_adj (e.g. -500) and let expendable ones go first.", "用 oom_score_adj（如 -500）保护关键服务，让可牺牲的进程先被杀。"),
                ("Raise the cgroup limit that was hit, or fix the process that grew (leak-suspect).", "提高被触及的 cgroup 上限，或修复增长的进程（leak-suspect）。"),
                ("Add swap as a buffer so reclaim has somewhere to go before the OOM killer.", "增加 swap 作为缓冲，在 OOM 之前给回收留出余地。"),
            ],
        };
    }
}
