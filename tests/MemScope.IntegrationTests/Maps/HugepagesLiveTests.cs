using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace MemScope.IntegrationTests.Maps;

/// <summary>memscope hugepages and the THP/unprivileged sides of memscope pages, on this machine.</summary>
public class HugepagesLiveTests
{
    private static JsonElement Json(params string[] args)
    {
        var r = CliRun.Run(args);
        Assert.True(r.ExitCode == 0, $"memscope {string.Join(' ', args)} exited {r.ExitCode}: {r.Stderr}");
        return JsonDocument.Parse(r.Stdout).RootElement;
    }

    [Fact]
    public void Default_pool_agrees_with_meminfo()
    {
        var j = Json("hugepages", "--json", "--top", "0");
        string meminfo = File.ReadAllText("/proc/meminfo");
        ulong M(string key) => ulong.Parse(Regex.Match(meminfo, $@"(?m)^{Regex.Escape(key)}:\s+(\d+)").Groups[1].Value, CultureInfo.InvariantCulture);
        ulong size = M("Hugepagesize") * 1024;
        Assert.Equal(size, j.GetProperty("default_huge_page_size_bytes").GetUInt64());
        var pool = j.GetProperty("pools").EnumerateArray()
            .Single(p => p.GetProperty("page_size_bytes").GetUInt64() == size && p.GetProperty("node").ValueKind == JsonValueKind.Null);
        Assert.Equal(M("HugePages_Total"), pool.GetProperty("total").GetUInt64());
        Assert.Equal(M("HugePages_Free"), pool.GetProperty("free").GetUInt64());
        Assert.Equal(M("HugePages_Rsvd"), pool.GetProperty("reserved").GetUInt64());
        Assert.Equal(M("HugePages_Surp"), pool.GetProperty("surplus").GetUInt64());
        string enabled = File.ReadAllText("/sys/kernel/mm/transparent_hugepage/enabled");
        Assert.Equal(Regex.Match(enabled, @"\[(\w+)\]").Groups[1].Value, j.GetProperty("thp").GetProperty("enabled").GetString());
    }

    [SkippableFact]
    public void A_thp_workload_is_found_by_hugepages_and_counted_by_pages()
    {
        string enabled = File.ReadAllText("/sys/kernel/mm/transparent_hugepage/enabled");
        TestEnv.Require(!enabled.Contains("[never]"), "transparent huge pages enabled (always or madvise)");
        using var lab = new LabProcess("mmap", "--size", "64M", "--touch", "50%", "--thp");
        string line = lab.ReadLine();
        var m = Regex.Match(line, @"at ([0-9a-f]+-[0-9a-f]+) ");
        string pid = lab.Pid.ToString(CultureInfo.InvariantCulture);

        var top = Json("hugepages", "--json", "--top", "50").GetProperty("top_processes").EnumerateArray()
            .SingleOrDefault(p => p.GetProperty("pid").GetInt32() == lab.Pid);
        Assert.True(top.ValueKind == JsonValueKind.Object, "the THP lab process is not among the top users");
        ulong anonHuge = top.GetProperty("anon_huge_pages_bytes").GetUInt64();
        // 32 MiB touched from a 2 MiB aligned start: 16 huge pages when the kernel had them to give (allow a few misses).
        Assert.InRange(anonHuge, 24UL << 20, 32UL << 20);

        if (!TestEnv.IsRoot) return;
        var pages = Json("pages", pid, "--mapping", m.Groups[1].Value, "--json").GetProperty("total");
        Assert.Equal(anonHuge / 4096, pages.GetProperty("thp").GetUInt64());
        Assert.True(pages.GetProperty("present").GetUInt64() >= pages.GetProperty("thp").GetUInt64());
    }

    [SkippableFact]
    public void Pages_without_root_says_what_is_missing()
    {
        TestEnv.RequireRoot("to run both the workload and memscope as nobody");
        string setpriv = TestEnv.RequireTool("setpriv");
        string exe = Path.Combine(AppContext.BaseDirectory, "memscope");
        var labPsi = new ProcessStartInfo(setpriv) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", exe, "lab", "mmap", "--size", "8M", "--touch", "50%", "--hold", "60" })
            labPsi.ArgumentList.Add(a);
        using var lab = Process.Start(labPsi)!;
        try
        {
            string line = lab.StandardOutput.ReadLine() ?? throw new InvalidOperationException(lab.StandardError.ReadToEnd());
            string range = Regex.Match(line, @"at ([0-9a-f]+-[0-9a-f]+) ").Groups[1].Value;
            var psi = new ProcessStartInfo(setpriv) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string a in new[] { "--reuid=65534", "--regid=65534", "--clear-groups", exe, "pages", lab.Id.ToString(CultureInfo.InvariantCulture), "-m", range, "--json" })
                psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd();
            string err = p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, err);
            var j = JsonDocument.Parse(output).RootElement;
            Assert.False(j.GetProperty("pfns_visible").GetBoolean());
            Assert.Contains("root only", j.GetProperty("missing").GetString());
            var t = j.GetProperty("total");
            Assert.Equal(JsonValueKind.Null, t.GetProperty("thp").ValueKind); // unknown, not 0
            Assert.InRange(t.GetProperty("present").GetInt64(), 1024 - 4, 1024 + 4); // present/swapped bits are still visible
        }
        finally { lab.Kill(); }
    }
}
