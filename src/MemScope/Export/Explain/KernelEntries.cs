namespace MemScope.Export.Explain;

/// <summary>/proc/meminfo fields, smaps fields, zones/watermarks/reclaim tunables, and PSI.</summary>
internal static class KernelEntries
{
    private static FieldEntry M(string field, string zh, string explainEn, string explainZh, params string[] aliases) =>
        new($"meminfo.{field}", Topics.Meminfo, new(field, zh), field.StartsWith("HugePages_") ? "pages" : "bytes", $"/proc/meminfo {field}", null,
            new(explainEn, explainZh), ["memscope account", "memscope free"], aliases);

    private static FieldEntry S(string field, string zh, string explainEn, string explainZh, params string[] aliases) =>
        new($"smaps.{field}", Topics.Smaps, new(field, zh), "bytes", $"/proc/PID/smaps {field}", null,
            new(explainEn, explainZh), ["memscope maps PID -X"], aliases);

    private static FieldEntry R(string id, string en, string zh, string unit, string source, string? formula, string explainEn, string explainZh, string[] commands, params string[] aliases) =>
        new(id, Topics.Reclaim, new(en, zh), unit, source, formula, new(explainEn, explainZh), commands, aliases);

    public static IEnumerable<FieldEntry> All() =>
    [
        M("MemTotal", "内存总量", "Usable RAM (physical memory minus boot-time reservations).", "可用的物理内存（物理内存减去启动时保留的部分）。"),
        M("MemFree", "空闲内存", "Pages not used for anything.", "没有任何用途的页。"),
        M("MemAvailable", "可用内存", "Estimate of memory available for new work without swapping (3.14+).", "无需换出即可用于新任务的内存估计值（3.14+）。"),
        M("Buffers", "缓冲区", "Block-device cache (raw disk blocks, metadata).", "块设备缓存（原始磁盘块、元数据）。"),
        M("Cached", "页缓存", "Page cache of files, including tmpfs and shared memory (Shmem); excludes SwapCached.", "文件的页缓存，包括 tmpfs 和共享内存（Shmem）；不含 SwapCached。"),
        M("SwapCached", "交换缓存", "Pages swapped back in that still have a copy in swap: dropped without writing.", "已换入但 swap 中仍有副本的页：丢弃时无需写盘。"),
        M("Active", "活跃", "Memory used recently (anon + file), reclaimed last.", "最近使用过的内存（匿名 + 文件），最后被回收。"),
        M("Inactive", "不活跃", "Memory not used lately (anon + file), the first candidates for reclaim.", "最近未使用的内存（匿名 + 文件），最先被回收。"),
        M("Active(anon)", "活跃匿名页", "Recently used anonymous and shmem pages.", "最近使用的匿名页和 shmem 页。", "active anon"),
        M("Inactive(anon)", "不活跃匿名页", "Anonymous and shmem pages not used lately: swap candidates.", "最近未使用的匿名页和 shmem 页：换出的候选。", "inactive anon"),
        M("Active(file)", "活跃文件页", "Recently used page cache.", "最近使用的页缓存。", "active file"),
        M("Inactive(file)", "不活跃文件页", "Page cache not used lately: dropped first.", "最近未使用的页缓存：最先被丢弃。", "inactive file"),
        M("Unevictable", "不可回收", "Pages that cannot be reclaimed (mlocked, ramfs, some shmem).", "不能被回收的页（mlock 锁定、ramfs、部分 shmem）。"),
        M("Mlocked", "已锁定", "Pages locked in RAM with mlock().", "用 mlock() 锁定在内存中的页。"),
        M("SwapTotal", "swap 总量", "Configured swap space.", "已配置的 swap 空间。"),
        M("SwapFree", "swap 空闲", "Unused swap space.", "未使用的 swap 空间。"),
        M("Dirty", "脏页", "Page cache modified and waiting to be written back.", "已修改、等待回写的页缓存。"),
        M("Writeback", "回写中", "Pages being written back now.", "正在回写的页。"),
        M("AnonPages", "匿名页", "Anonymous memory mapped by processes (heap, stacks, private mmaps), excluding shmem.", "进程映射的匿名内存（堆、栈、私有 mmap），不含 shmem。", "anon"),
        M("Mapped", "已映射", "Page cache and shmem mapped into processes (mmap'ed files, libraries).", "映射到进程中的页缓存和 shmem（mmap 的文件、库）。"),
        M("Shmem", "共享内存", "tmpfs, SysV/POSIX shared memory, shared anonymous mappings; counted in Cached too.", "tmpfs、SysV/POSIX 共享内存、共享匿名映射；也计入 Cached。"),
        M("KReclaimable", "内核可回收", "Kernel memory the kernel can reclaim under pressure (includes SReclaimable).", "内核在压力下可回收的内核内存（包括 SReclaimable）。"),
        M("Slab", "slab", "Kernel object caches: SReclaimable + SUnreclaim.", "内核对象缓存：SReclaimable + SUnreclaim。"),
        M("SReclaimable", "可回收 slab", "Slab caches the kernel can shrink (dentries, inodes).", "内核可收缩的 slab 缓存（dentry、inode）。"),
        M("SUnreclaim", "不可回收 slab", "Slab in use that cannot be reclaimed; steady growth suggests a kernel leak.", "正在使用、不能回收的 slab；持续增长可能是内核泄漏。"),
        M("KernelStack", "内核栈", "Kernel stacks, one per thread.", "内核栈，每个线程一个。"),
        M("PageTables", "页表", "Memory used by page tables of all processes.", "所有进程的页表占用的内存。"),
        M("CommitLimit", "提交上限", "Swap + RAM × overcommit_ratio%: the ceiling in strict overcommit mode.", "swap + 内存 × overcommit_ratio%：严格超额分配模式下的上限。"),
        M("Committed_AS", "已提交", "Memory promised to processes (virtual memory they may touch).", "已承诺给进程的内存（它们可能访问的虚拟内存）。", "committed"),
        M("VmallocUsed", "vmalloc 已用", "Kernel vmalloc area in use (modules, BPF, drivers).", "正在使用的内核 vmalloc 区域（模块、BPF、驱动）。"),
        M("Percpu", "每 CPU 分配", "Kernel per-CPU allocations.", "内核的每 CPU 分配。"),
        M("AnonHugePages", "匿名透明大页", "Anonymous memory backed by transparent huge pages (part of AnonPages).", "由透明大页支持的匿名内存（属于 AnonPages）。", "thp"),
        M("ShmemHugePages", "共享内存大页", "Shmem/tmpfs backed by huge pages.", "由大页支持的 shmem/tmpfs。"),
        M("FileHugePages", "文件大页", "Page cache in huge pages.", "大页形式的页缓存。"),
        M("HugePages_Total", "大页总数", "Pages in the default-size hugetlb pool.", "默认大小 hugetlb 池中的页数。", "nr_hugepages"),
        M("HugePages_Free", "空闲大页", "Pool pages not allocated yet.", "池中尚未分配的页。"),
        M("HugePages_Rsvd", "预留大页", "Pool pages promised to a mapping but not faulted in yet.", "已承诺给某个映射但尚未实际分配的池页。"),
        M("HugePages_Surp", "超额大页", "Pages above nr_hugepages allowed by nr_overcommit_hugepages.", "nr_overcommit_hugepages 允许的、超出 nr_hugepages 的页。"),
        M("Hugepagesize", "大页大小", "Size of the default huge page (2 MiB on x86_64).", "默认大页的大小（x86_64 上为 2 MiB）。"),
        M("Hugetlb", "大页总内存", "Memory in all hugetlb pools, every page size (4.16+).", "所有 hugetlb 池（各种页大小）占用的内存（4.16+）。"),

        S("Size", "映射大小", "Virtual size of the mapping.", "映射的虚拟大小。"),
        S("Rss", "常驻", "Resident pages of the mapping.", "映射的常驻页。"),
        S("Pss", "按比例常驻", "Resident pages divided among the processes that share them.", "在共享它们的进程间按比例分摊的常驻页。"),
        S("Shared_Clean", "共享干净页", "Resident, unmodified pages that other processes also map.", "其他进程也映射的、未修改的常驻页。"),
        S("Shared_Dirty", "共享脏页", "Resident, modified pages that other processes also map.", "其他进程也映射的、已修改的常驻页。"),
        S("Private_Clean", "私有干净页", "Resident, unmodified pages only this process maps.", "只有本进程映射的、未修改的常驻页。"),
        S("Private_Dirty", "私有脏页", "Resident, modified pages only this process maps: heap and stack grow here.", "只有本进程映射的、已修改的常驻页：堆和栈在这里增长。", "dirty"),
        S("Referenced", "已引用", "Pages marked accessed since the bit was last cleared.", "自上次清除访问位以来被访问过的页。"),
        S("Anonymous", "匿名", "Pages not backed by a file (including copy-on-write copies of file pages).", "没有文件后备的页（包括文件页的写时复制副本）。"),
        S("Swap", "交换", "Anonymous pages of the mapping that are in swap.", "该映射中位于 swap 的匿名页。"),
        S("SwapPss", "按比例交换", "Swap divided among processes sharing it.", "在共享进程间按比例分摊的 swap。"),
        S("Locked", "锁定", "Pages locked in memory (mlock).", "锁定在内存中的页（mlock）。"),

        R("zone.watermarks", "Zone watermarks (min, low, high)", "zone 水位线（min、low、high）", "pages", "/proc/zoneinfo min, low, high", "min from min_free_kbytes; low/high = min + gap (watermark_scale_factor)",
            "Each zone has three free-page thresholds. Below low, kswapd wakes and reclaims until free passes high; below min, allocations must reclaim directly (stall) and only atomic allocations may go lower.",
            "每个 zone 有三个空闲页阈值。低于 low 时 kswapd 被唤醒并回收，直到空闲页超过 high；低于 min 时，分配必须直接回收（停顿），只有原子分配可以继续使用更低的部分。",
            ["memscope swap"], "watermark", "min", "low", "high", "水位线"),
        R("zone.free", "Zone free pages", "zone 空闲页", "pages", "/proc/zoneinfo pages free", null,
            "Free pages in one zone of one node (DMA, DMA32, Normal, Movable).", "某个节点中某个 zone（DMA、DMA32、Normal、Movable）的空闲页。", ["memscope swap"], "pages free"),
        R("zone.managed", "Zone managed pages", "zone 管理页", "pages", "/proc/zoneinfo managed", null,
            "Pages of the zone the buddy allocator manages (present minus reserved).", "伙伴分配器管理的 zone 页数（present 减去保留）。", ["memscope swap"]),
        R("vm.min_free_kbytes", "min_free_kbytes", "min_free_kbytes", "KiB", "/proc/sys/vm/min_free_kbytes", null,
            "Free memory the kernel keeps in reserve; sets the min watermarks.", "内核保留的空闲内存；决定 min 水位线。", ["memscope swap"]),
        R("vm.watermark_scale_factor", "watermark_scale_factor", "watermark_scale_factor", "1/10000 of RAM", "/proc/sys/vm/watermark_scale_factor", null,
            "Gap between the min, low and high watermarks (default 10 = 0.1% of RAM). Raise it to wake kswapd earlier and avoid direct-reclaim stalls.",
            "min、low、high 水位线之间的间距（默认 10 = 内存的 0.1%）。调高可让 kswapd 更早被唤醒，避免直接回收停顿。", ["memscope swap"]),
        R("vm.zone_reclaim_mode", "zone_reclaim_mode", "zone_reclaim_mode", "flags", "/proc/sys/vm/zone_reclaim_mode", null,
            "0: when a NUMA node is full, allocate on another node. Non-zero: reclaim on the local node first (can swap while other nodes are free).",
            "0：某个 NUMA 节点满时，在其他节点上分配。非零：先在本地节点回收（可能在其他节点空闲时仍然换出）。", ["memscope swap"]),
        R("vm.vfs_cache_pressure", "vfs_cache_pressure", "vfs_cache_pressure", "percent", "/proc/sys/vm/vfs_cache_pressure", null,
            "How eagerly reclaim frees dentry and inode caches compared with page cache (100 = balanced).", "回收释放 dentry 和 inode 缓存相对页缓存的积极程度（100 = 均衡）。", ["memscope swap"]),
        R("vm.swappiness", "swappiness", "swappiness", "weight", "/proc/sys/vm/swappiness", null,
            "Relative weight of swapping anonymous memory versus dropping page cache in reclaim (see the swappiness concept).", "回收时换出匿名内存与丢弃页缓存的相对权重（见 swappiness 概念）。", ["memscope swap"], "swapiness"),
        R("reclaim.pgscan", "pgscan / pgsteal", "pgscan / pgsteal（扫描/回收页数）", "pages", "/proc/vmstat pgscan_kswapd, pgscan_direct, pgsteal_*", null,
            "Pages scanned and reclaimed, by kswapd (background) and directly by allocating processes (stalls).", "被扫描和回收的页数，分 kswapd（后台）和分配进程的直接回收（停顿）。", ["memscope swap", "memscope vmstat -s"], "pgsteal", "pgscan_direct"),

        new("psi.some", Topics.Pressure, new("PSI memory some", "PSI memory some"), "% of time", "/proc/pressure/memory some avg10/avg60/avg300", null,
            new("Share of time in which at least one task was stalled waiting for memory (reclaim, swap-in, refaults), averaged over 10 s, 60 s and 300 s.",
                "至少有一个任务因等待内存（回收、换入、重新缺页）而停顿的时间占比，分别按 10 秒、60 秒和 300 秒平均。"), ["memscope swap", "memscope top"], ["psi", "pressure", "some", "压力"]),
        new("psi.full", Topics.Pressure, new("PSI memory full", "PSI memory full"), "% of time", "/proc/pressure/memory full", null,
            new("Share of time in which all non-idle tasks were stalled on memory at once: lost work. Any sustained value is serious.",
                "所有非空闲任务同时因内存而停顿的时间占比：工作完全停滞。任何持续的数值都很严重。"), ["memscope swap", "memscope top"], ["full"]),
    ];
}
