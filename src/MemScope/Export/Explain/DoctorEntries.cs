namespace MemScope.Export.Explain;

/// <summary>What each doctor finding id means.</summary>
internal static class DoctorEntries
{
    private static FieldEntry D(string id, string en, string zh, string explainEn, string explainZh) =>
        new($"doctor.{id}", Topics.Doctor, new(en, zh), "", "memscope doctor", null, new(explainEn, explainZh), ["memscope doctor"], [id]);

    public static IEnumerable<FieldEntry> All() =>
    [
        D("low-available", "Available memory low or falling", "可用内存不足或正在下降",
            "MemAvailable is below 10% of RAM (critical below 5%), or below 25% and falling fast enough to run out within 10 minutes.",
            "MemAvailable 低于内存的 10%（低于 5% 为严重），或低于 25% 且下降速度会在 10 分钟内耗尽。"),
        D("leak-suspect", "A process grows steadily", "某进程持续增长",
            "A process's anonymous memory (plus shmem and swap) grew by at least 4 MiB at 256 KiB/s or more, in a straight line (R² ≥ 0.9), over the window.",
            "在观察窗口内，某进程的匿名内存（加 shmem 和 swap）以不低于 256 KiB/s 的速度直线增长（R² ≥ 0.9）了至少 4 MiB。"),
        D("swap-activity", "Swapping now", "正在换入换出",
            "Swap-in or swap-out above 1 MiB/s during the window (critical above 20 MiB/s); names the processes holding swap.",
            "观察期间换入或换出超过 1 MiB/s（超过 20 MiB/s 为严重）；并列出占用 swap 的进程。"),
        D("reclaim-stall", "Allocations stall on reclaim", "分配因回收而停顿",
            "Direct reclaim or allocation stalls in the window, or PSI memory some ≥ 10% / full ≥ 1% (critical: full ≥ 10%).",
            "观察期间发生直接回收或分配停顿，或 PSI memory some ≥ 10% / full ≥ 1%（严重：full ≥ 10%）。"),
        D("watermark", "A zone below its watermark", "某 zone 低于水位线",
            "A zone's free pages are below its low watermark (kswapd working; critical below min: direct reclaim).",
            "某 zone 的空闲页低于 low 水位线（kswapd 正在工作；低于 min 为严重：直接回收）。"),
        D("oom-kill", "OOM kills", "OOM 杀进程",
            "The OOM killer ended processes: critical during the window, warning within the last hour or undated, info when older; victims and triggers from the kernel log.",
            "OOM killer 杀死了进程：观察期间为严重，最近一小时内或无时间信息为警告，更早为信息；受害者和触发原因来自内核日志。"),
        D("cache-thrash", "Page cache churning", "页缓存颠簸",
            "Evicted file pages are read back (refaults ≥ 256 pages/s), or the disk is read at ≥ 20 MiB/s while the cache does not grow, or readers use O_DIRECT.",
            "被淘汰的文件页又被读回（重新缺页 ≥ 256 页/秒），或磁盘读取 ≥ 20 MiB/s 而缓存不增长，或有进程使用 O_DIRECT 读取。"),
        D("shmem", "Unexplained shared memory", "无法解释的共享内存",
            "Shmem is at least 10% of RAM and 256 MiB, and processes map less than half of it: files left in tmpfs or orphaned segments.",
            "Shmem 至少占内存的 10% 且不少于 256 MiB，而进程映射的不到一半：tmpfs 中残留的文件或无主的共享内存段。"),
        D("slab", "Large or growing slab", "slab 过大或持续增长",
            "Unreclaimable slab above 10% of RAM (critical 25%), or growing ≥ 1 MiB/s steadily; names the top caches when root.",
            "不可回收的 slab 超过内存的 10%（严重：25%），或以 ≥ 1 MiB/s 的速度稳定增长；以 root 运行时列出最大的缓存。"),
        D("hugepages-unused", "Unused huge page pool", "未使用的大页池",
            "At least half of a hugetlb pool is free and unreserved, pinning 512 MiB or 5% of RAM for nothing.",
            "hugetlb 池中至少一半是空闲且未预留的，白白占用 512 MiB 或内存的 5%。"),
        D("overcommit", "Near the strict commit limit", "接近严格提交上限",
            "vm.overcommit_memory = 2 and Committed_AS is at least 90% of CommitLimit (critical 98%): allocations will start failing.",
            "vm.overcommit_memory = 2 且 Committed_AS 至少为 CommitLimit 的 90%（严重：98%）：分配将开始失败。"),
        D("cgroup-limit", "A memory cgroup at its limit", "内存 cgroup 达到上限",
            "A memory cgroup uses at least 90% of its limit, or hit it during the window (failcnt, memory.events max); critical on OOM inside it.",
            "某内存 cgroup 使用了至少 90% 的上限，或在观察期间触及上限（failcnt、memory.events max）；组内发生 OOM 为严重。"),
        D("numa-imbalance", "NUMA imbalance", "NUMA 不平衡",
            "One NUMA node has less than 5% free while another has more than 30% free.", "一个 NUMA 节点空闲不足 5%，而另一个空闲超过 30%。"),
        D("account-gap", "Used memory not explained by processes", "已用内存无法由进程解释",
            "Info: used memory exceeds the processes' total PSS by more than 15% of RAM; `memscope account` shows where it is.",
            "信息：已用内存比进程 PSS 总和多出内存的 15% 以上；`memscope account` 会显示它在哪里。"),
    ];
}
