namespace MemScope.Procfs;

/// <summary>
/// /proc/vmstat: "name value" event counters and gauges (pages unless the name says otherwise; pgpgin/pgpgout are
/// KiB). Names come and go between kernels (pgscan_direct split per zone before 4.8, allocstall per zone since
/// 4.10...), so every field is looked up by name and may be null. Also parses sysfs node vmstat files.
/// </summary>
public sealed class Vmstat
{
    public static readonly KeySet Keys = new(
        "nr_free_pages", "nr_zone_inactive_anon", "nr_zone_active_anon", "nr_zone_inactive_file", "nr_zone_active_file",
        "nr_inactive_anon", "nr_active_anon", "nr_inactive_file", "nr_active_file", "nr_unevictable", "nr_mlock",
        "nr_anon_pages", "nr_mapped", "nr_file_pages", "nr_dirty", "nr_writeback", "nr_shmem", "nr_slab_reclaimable",
        "nr_slab_unreclaimable", "nr_kernel_stack", "nr_page_table_pages", "nr_dirtied", "nr_written",
        "nr_anon_transparent_hugepages", "nr_shmem_hugepages", "nr_file_hugepages", "nr_swapcached",
        "pgpgin", "pgpgout", "pswpin", "pswpout", "pgalloc_normal", "pgfree", "pgfault", "pgmajfault",
        "pgactivate", "pgdeactivate", "pgrefill", "pgsteal_kswapd", "pgsteal_direct", "pgsteal_khugepaged",
        "pgscan_kswapd", "pgscan_direct", "pgscan_khugepaged", "pgscan_direct_throttle", "pgscan_anon", "pgscan_file",
        "pgsteal_anon", "pgsteal_file", "allocstall", "allocstall_dma", "allocstall_dma32", "allocstall_normal",
        "allocstall_movable", "allocstall_device", "kswapd_low_wmark_hit_quickly", "kswapd_high_wmark_hit_quickly",
        "pageoutrun", "pginodesteal", "kswapd_inodesteal", "slabs_scanned", "oom_kill", "workingset_refault_anon",
        "workingset_refault_file", "workingset_activate_anon", "workingset_activate_file", "workingset_restore_anon",
        "workingset_restore_file", "workingset_nodereclaim", "compact_stall", "compact_fail", "compact_success",
        "thp_fault_alloc", "thp_fault_fallback", "thp_collapse_alloc", "thp_split_page", "thp_swpout",
        "htlb_buddy_alloc_success", "htlb_buddy_alloc_fail", "pgmigrate_success", "pgmigrate_fail",
        "numa_hit", "numa_miss", "numa_foreign", "numa_interleave", "numa_local", "numa_other",
        "drop_pagecache", "drop_slab", "pgskip_normal", "pgdemote_kswapd", "pgdemote_direct",
        "pgsteal_kswapd_normal", "pgsteal_kswapd_dma32", "pgsteal_direct_normal", "pgsteal_direct_dma32",
        "pgscan_kswapd_normal", "pgscan_kswapd_dma32", "pgscan_direct_normal", "pgscan_direct_dma32",
        "nr_dirty_threshold", "nr_dirty_background_threshold", "swap_ra", "swap_ra_hit", "zswpin", "zswpout",
        // The rest of what 6.18 prints, and keys of older kernels seen in the shared fixtures, so a parse of a
        // whole /proc/vmstat allocates no per-line strings (unknown keys are still kept, by name).
        "nr_free_pages_blocks", "nr_zone_unevictable", "nr_zone_write_pending", "nr_zspages", "nr_free_cma",
        "nr_isolated_anon", "nr_isolated_file", "workingset_nodes", "nr_shmem_pmdmapped", "nr_file_pmdmapped",
        "nr_vmscan_write", "nr_vmscan_immediate_reclaim", "nr_throttled_written", "nr_kernel_misc_reclaimable",
        "nr_foll_pin_acquired", "nr_foll_pin_released", "nr_sec_page_table_pages", "nr_iommu_pages",
        "pgpromote_success", "pgpromote_candidate", "pgpromote_candidate_nrl", "pgdemote_khugepaged",
        "pgdemote_proactive", "nr_hugetlb", "nr_balloon_pages", "nr_kernel_file_pages", "nr_memmap_pages",
        "nr_memmap_boot_pages", "pgalloc_dma", "pgalloc_dma32", "pgalloc_movable", "pgalloc_device", "pgskip_dma",
        "pgskip_dma32", "pgskip_movable", "pgskip_device", "pglazyfree", "pglazyfreed", "pgreuse",
        "pgsteal_proactive", "pgscan_proactive", "zone_reclaim_success", "zone_reclaim_failed", "pgrotated",
        "numa_pte_updates", "numa_huge_pte_updates", "numa_hint_faults", "numa_hint_faults_local",
        "numa_pages_migrated", "thp_migration_success", "thp_migration_fail", "thp_migration_split",
        "compact_migrate_scanned", "compact_free_scanned", "compact_isolated", "compact_daemon_wake",
        "compact_daemon_migrate_scanned", "compact_daemon_free_scanned", "unevictable_pgs_culled",
        "unevictable_pgs_scanned", "unevictable_pgs_rescued", "unevictable_pgs_mlocked", "unevictable_pgs_munlocked",
        "unevictable_pgs_cleared", "unevictable_pgs_stranded", "thp_fault_fallback_charge",
        "thp_collapse_alloc_failed", "thp_file_alloc", "thp_file_fallback", "thp_file_fallback_charge",
        "thp_file_mapped", "thp_split_page_failed", "thp_deferred_split_page", "thp_underused_split_page",
        "thp_split_pmd", "thp_scan_exceed_none_pte", "thp_scan_exceed_swap_pte", "thp_scan_exceed_share_pte",
        "thp_split_pud", "thp_zero_page_alloc", "thp_zero_page_alloc_failed", "thp_swpout_fallback",
        "balloon_inflate", "balloon_deflate", "balloon_migrate", "swpin_zero", "swpout_zero", "ksm_swpin_copy",
        "cow_ksm", "zswpwb", "direct_map_level2_splits", "direct_map_level3_splits", "direct_map_level2_collapses",
        "direct_map_level3_collapses", "nr_unstable", "nr_alloc_batch", "nr_overhead", "nr_bounce",
        "nr_writeback_temp", "nr_pages_scanned", "workingset_refault", "workingset_activate", "pgrefill_dma",
        "pgrefill_dma32", "pgrefill_normal", "pgrefill_movable", "pgsteal_kswapd_dma", "pgsteal_kswapd_movable",
        "pgsteal_direct_dma", "pgsteal_direct_movable", "pgscan_kswapd_dma", "pgscan_kswapd_movable",
        "pgscan_direct_dma", "pgscan_direct_movable", "thp_split");

    private readonly CounterTable _table;
    private Vmstat(CounterTable table) => _table = table;

    public ulong? this[string key] => _table[key];
    public IEnumerable<KeyValuePair<string, ulong>> Entries => _table.Entries;

    private static readonly string[] ZoneSuffixes = ["_dma", "_dma32", "_normal", "_high", "_movable", "_device"];

    /// <summary>
    /// A counter by its modern name, or the sum of its per-zone spellings on kernels that split it
    /// (pgscan_kswapd_normal... before 4.8, allocstall_normal... since 4.10). Null when neither is present.
    /// </summary>
    public ulong? Counter(string name)
    {
        if (_table[name] is ulong exact) return exact;
        ulong sum = 0;
        bool any = false;
        foreach (string suffix in ZoneSuffixes)
        {
            if (_table[name + suffix] is not ulong v) continue;
            sum += v;
            any = true;
        }
        return any ? sum : null;
    }

    public static Vmstat Read(string path) => KernelFile.Parse(path, Parse);

    /// <summary>Rebuilds a Vmstat from stored entries (as <see cref="Entries"/> gives them), e.g. when replaying a recording.</summary>
    public static Vmstat FromEntries(IEnumerable<KeyValuePair<string, ulong>> entries)
    {
        var table = new CounterTable(Keys);
        foreach (var kv in entries) table.Set(kv.Key, kv.Value);
        return new Vmstat(table);
    }

    public static Vmstat Parse(ReadOnlySpan<char> content, string path)
    {
        var table = new CounterTable(Keys);
        int lineNumber = 0;
        foreach (ReadOnlySpan<char> raw in content.EnumerateLines())
        {
            lineNumber++;
            ReadOnlySpan<char> rest = raw;
            ReadOnlySpan<char> key = SpanParsing.NextToken(ref rest);
            if (key.IsEmpty) continue;
            ReadOnlySpan<char> value = SpanParsing.NextToken(ref rest);
            // Some counters are signed in the kernel (per-cpu drift can show a small negative number): unknown.
            if (value.Length > 0 && value[0] == '-') continue;
            if (!SpanParsing.TryParseULong(value, out ulong v))
                throw KernelFileException.Malformed(path, lineNumber, raw, $"'{key}' has no number");
            table.Set(key, v);
        }
        return new Vmstat(table);
    }
}
