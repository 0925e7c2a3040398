using System.Diagnostics;
using System.Text.Json;
using MemScope.Analysis;
using MemScope.Model;
using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.IntegrationTests.Account;

public class AccountLiveTests
{
    private static MemoryAccount Take()
    {
        var proc = new ProcFs();
        var sys = new SysFs();
        Snapshot s = new SnapshotCollector(proc, sys).Collect();
        return MemoryAccountBuilder.Build(s, AccountExtrasReader.Read(proc, sys));
    }

    [Fact]
    public void Live_balance_sheet_sums_to_MemTotal()
    {
        MemoryAccount a = Take();
        Assert.Equal(a.MemTotalBytes, a.Lines.Sum(l => l.Bytes ?? 0));
        Assert.True(a.Line("free").Bytes > 0);
        Assert.True(a.Line("kernelstack").Bytes > 0, "every running machine has kernel stacks");
    }

    [Fact]
    public void A_1GiB_file_in_dev_shm_grows_the_shared_memory_line_not_the_process_line()
    {
        string path = $"/dev/shm/memscope_test_{Environment.ProcessId}";
        const long size = 1L << 30;
        MemoryAccount before = Take();
        try
        {
            using (var f = new FileStream(path, FileMode.CreateNew, FileAccess.Write))
            {
                var chunk = new byte[1 << 20];
                Array.Fill(chunk, (byte)0x5a);
                for (long written = 0; written < size; written += chunk.Length) f.Write(chunk);
            }
            MemoryAccount after = Take();
            long shmemGrowth = after.Line("shmem").Bytes!.Value - before.Line("shmem").Bytes!.Value;
            long anonGrowth = after.Line("anon").Bytes!.Value - before.Line("anon").Bytes!.Value;
            Assert.InRange(shmemGrowth, (long)(size * 0.98), (long)(size * 1.02) + (64L << 20));
            Assert.True(Math.Abs(anonGrowth) < 200L << 20, $"anonymous memory moved by {anonGrowth} bytes");
            Assert.Contains(after.Line("shmem").Details, d => d.Id == "shmem.tmpfs:/dev/shm" && d.Bytes >= size);
            Assert.Equal(after.MemTotalBytes, after.Lines.Sum(l => l.Bytes ?? 0));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [SkippableFact]
    public void Negative_dentries_put_dentry_at_the_top_of_slab_with_positive_growth()
    {
        TestEnv.RequireRoot("/proc/slabinfo is readable by root only");
        using var stop = new CancellationTokenSource();
        // Each failed lookup of a new name in an existing directory leaves a negative dentry behind.
        string dir = Directory.CreateDirectory($"/tmp/memscope_dentry_{Environment.ProcessId}").FullName;
        var grower = Task.Run(() =>
        {
            long i = 0;
            while (!stop.IsCancellationRequested) File.Exists($"{dir}/no-such-file-{i++}");
            return i;
        });
        CliResult result;
        try
        {
            Thread.Sleep(300);
            result = CliRun.Run("slab", "--watch", "--count", "2", "--interval", "2", "--json", "--top", "5");
        }
        finally
        {
            stop.Cancel();
            grower.Wait();
            Directory.Delete(dir);
        }
        long lookups = grower.Result;
        Assert.Equal(0, result.ExitCode);
        // Two JSON documents, one per refresh; the second has growth rates.
        string second = result.Stdout[result.Stdout.IndexOf("}\n{", StringComparison.Ordinal)..][2..];
        using JsonDocument doc = JsonDocument.Parse(second);
        var caches = doc.RootElement.GetProperty("caches").EnumerateArray().ToList();
        JsonElement dentry = caches.FirstOrDefault(c => c.GetProperty("name").GetString() == "dentry");
        Assert.True(dentry.ValueKind == JsonValueKind.Object, $"dentry not in the top 5 after {lookups} lookups: {second}");
        Assert.True(dentry.GetProperty("growth_bytes_per_sec").GetDouble() > 0, second);
    }

    [SkippableFact]
    public void Without_root_unreadable_parts_are_marked_unknown_and_nothing_crashes()
    {
        TestEnv.RequireRoot("drops to uid 65534 with setpriv to test the unprivileged path");
        string setpriv = TestEnv.RequireTool("setpriv");
        string RunAsNobody(params string[] args)
        {
            var psi = new ProcessStartInfo(setpriv) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string a in new[] { "--reuid=65534", "--regid=65534", "--clear-groups" }.Concat(CliRun.Command()).Concat(args)) psi.ArgumentList.Add(a);
            psi.Environment["DOTNET_CLI_HOME"] = "/tmp";
            psi.Environment["HOME"] = "/tmp";
            using var p = Process.Start(psi)!;
            string output = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0, $"exit {p.ExitCode}: {output}");
            return output;
        }
        string slab = RunAsNobody("slab");
        Assert.Contains("readable by root only", slab);
        Assert.DoesNotContain("Exception", slab);
        string account = RunAsNobody("account");
        Assert.Contains("smaps_rollup unreadable", account);
        Assert.DoesNotContain("Exception", account);
    }
}
