using System.Text.Json;
using MemScope.Analysis;
using MemScope.Sysfs;

namespace MemScope.Tests.Sysfs;

public class HugePagesTests
{
    private static readonly string Root = Path.Combine(Paths.Captures, "hugepages-idle", "sys");

    [Fact]
    public void System_pools_are_read_with_pinned_and_idle_pages()
    {
        var pools = HugePages.ReadSystem(new SysFs(Root));
        Assert.Equal(2, pools.Count);
        var p2m = pools[0];
        Assert.Equal(2UL << 20, p2m.PageSizeBytes);
        Assert.Null(p2m.Node);
        Assert.Equal(512UL, p2m.Total);
        Assert.Equal(500UL, p2m.Free);
        Assert.Equal(10UL, p2m.Reserved);
        Assert.Equal(0UL, p2m.Surplus);
        Assert.Equal(0UL, p2m.Overcommit);
        Assert.Equal(12UL, p2m.InUse);
        Assert.Equal(490UL, p2m.Idle);
        Assert.Equal(1UL << 30, p2m.PinnedBytes);
        Assert.Equal(1UL << 30, pools[1].PageSizeBytes);
        Assert.Equal(2UL << 30, pools[1].PinnedBytes);
    }

    [Fact]
    public void Node_pools_have_no_reserved_or_overcommit_files()
    {
        var nodes = HugePages.ReadNodes(new SysFs(Root));
        Assert.Equal([0, 1], nodes.Select(n => n.Node!.Value));
        Assert.All(nodes, n => { Assert.Equal(256UL, n.Total); Assert.Null(n.Reserved); Assert.Null(n.Overcommit); Assert.Equal(6UL, n.InUse); });
    }

    [Fact]
    public void Idle_pool_is_flagged_and_a_used_pool_is_not()
    {
        var findings = HugePageUsage.Findings(HugePages.ReadSystem(new SysFs(Root)), b => $"{b}B");
        Assert.Single(findings);
        Assert.Contains("2097152B pool: 512 pages (1073741824B) pinned, 490 of them (96%) neither in use nor reserved", findings[0]);
    }

    [Fact]
    public void Thp_settings_take_the_bracketed_choice()
    {
        var thp = TransparentHugepages.Read(new SysFs(Root))!;
        Assert.Equal("madvise", thp.Enabled!.Active);
        Assert.Equal(["always", "madvise", "never"], thp.Enabled.Choices);
        Assert.Equal("madvise", thp.Defrag!.Active);
        Assert.Equal("never", thp.ShmemEnabled!.Active);
        Assert.Equal(2UL << 20, thp.PmdSizeBytes);
        Assert.Equal(4096UL, thp.Khugepaged["pages_to_scan"]);
        Assert.Equal(17UL, thp.Khugepaged["pages_collapsed"]);
        Assert.Equal([(64UL << 10, "never"), (2UL << 20, "inherit")], thp.Sizes.Select(s => (s.SizeBytes, s.Enabled.Active)));
        Assert.Null(TransparentHugepages.Read(new SysFs("/nonexistent")));
        Assert.Empty(HugePages.ReadSystem(new SysFs("/nonexistent")));
    }

    [Theory]
    [InlineData("always [madvise] never", "madvise")]
    [InlineData("[always] madvise never\n", "always")]
    [InlineData("always madvise never", null)]
    [InlineData("never", "never")]
    public void Choice_parsing(string text, string? active) => Assert.Equal(active, SysfsChoice.Parse(text).Active);

    [Fact]
    public void Cli_json_on_the_capture()
    {
        string proc = Path.Combine(Paths.SharedFixtures, "procfs", "proc");
        var r = CliRun.Run("hugepages", "--sys-root", Root, "--proc-root", proc, "--json", "--top", "0");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var j = JsonDocument.Parse(r.Stdout).RootElement;
        var pools = j.GetProperty("pools").EnumerateArray().ToList();
        Assert.Equal(4, pools.Count);
        Assert.Equal(1UL << 30, pools[0].GetProperty("pinned_bytes").GetUInt64());
        Assert.Equal(490UL, pools[0].GetProperty("idle").GetUInt64());
        Assert.Equal("madvise", j.GetProperty("thp").GetProperty("enabled").GetString());
        Assert.Single(j.GetProperty("findings").EnumerateArray());
        var text = CliRun.Run("hugepages", "--sys-root", Root, "--proc-root", proc, "--top", "0");
        Assert.Contains("! 2.00MiB pool: 512 pages (1.00GiB) pinned, 490 of them (96%)", text.Stdout);
        Assert.Contains("enabled madvise (always [madvise] never)", text.Stdout);
    }
}
