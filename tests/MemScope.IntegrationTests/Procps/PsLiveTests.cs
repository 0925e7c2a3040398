using System.Diagnostics;
using System.Text.Json;

namespace MemScope.IntegrationTests.Procps;

/// <summary>`memscope ps` against procps `ps` on a child process we start, and without privilege.</summary>
public class PsLiveTests
{
    private static Process Start(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        return Process.Start(psi)!;
    }

    private static JsonElement OurProcess(int pid)
    {
        CliResult r = CliRun.Run("ps", "--pid", pid.ToString(), "--json");
        Assert.Equal(0, r.ExitCode);
        using var doc = JsonDocument.Parse(r.Stdout);
        return doc.RootElement.GetProperty("processes").EnumerateArray().Single().Clone();
    }

    [SkippableFact]
    public void Rss_and_vsz_of_a_child_match_procps_ps()
    {
        string ps = TestEnv.RequireTool("ps");
        string python = TestEnv.RequireTool("python3");
        // touches 64 MiB, then says so and waits
        using Process child = Start(python, "-c", "import sys,time; b=bytearray(64<<20); b[::4096]=b'x'*(len(b)//4096); print('ready', flush=True); time.sleep(60)");
        try
        {
            Assert.Equal("ready", child.StandardOutput.ReadLine());
            string[] theirs = TestEnv.Run(ps, "-o", "rss=,vsz=", "-p", child.Id.ToString()).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            JsonElement ours = OurProcess(child.Id);
            long rssKb = long.Parse(theirs[0]), vszKb = long.Parse(theirs[1]);
            long pageKb = Environment.SystemPageSize / 1024;
            Assert.InRange(ours.GetProperty("rss_bytes").GetInt64() / 1024, rssKb - 16 * pageKb, rssKb + 16 * pageKb);
            Assert.InRange(ours.GetProperty("virt_bytes").GetInt64() / 1024, vszKb - 16 * pageKb, vszKb + 16 * pageKb);
            Assert.True(ours.GetProperty("rss_bytes").GetInt64() >= 64L << 20, "the 64 MiB it touched are resident");
            Assert.Equal("python3", ours.GetProperty("comm").GetString());
            Assert.True(ours.GetProperty("page_table_bytes").GetInt64() > 0);
            if (TestEnv.IsRoot)
            {
                // root reads smaps_rollup: PSS <= RSS, and the private 64 MiB count in USS
                long pss = ours.GetProperty("pss_bytes").GetInt64(), uss = ours.GetProperty("uss_bytes").GetInt64();
                Assert.InRange(pss, uss, ours.GetProperty("rss_bytes").GetInt64());
                Assert.True(uss >= 64L << 20);
            }
        }
        finally { child.Kill(); child.WaitForExit(); }
    }

    [Fact]
    public void Sleep_child_is_listed_with_its_user_and_oom_score()
    {
        using Process child = Start("sleep", "60");
        try
        {
            Thread.Sleep(100);
            JsonElement ours = OurProcess(child.Id);
            Assert.Equal("sleep", ours.GetProperty("comm").GetString());
            Assert.Equal("sleep 60", ours.GetProperty("command").GetString());
            Assert.Equal(Environment.UserName, ours.GetProperty("user").GetString());
            Assert.InRange(ours.GetProperty("oom_score").GetInt64(), 0, 2000);
            Assert.True(ours.GetProperty("rss_bytes").GetInt64() > 0);
        }
        finally { child.Kill(); child.WaitForExit(); }
    }

    [Fact]
    public void Exited_pid_is_one_line_and_exit_3()
    {
        using Process child = Start("true");
        child.WaitForExit();
        CliResult r = CliRun.Run("ps", "--pid", child.Id.ToString());
        Assert.Equal(3, r.ExitCode);
        Assert.Equal($"memscope: ps: no process with PID {child.Id}\n", r.Stderr);
    }

    [SkippableFact]
    public void Without_privilege_other_users_pss_is_unknown_and_counted()
    {
        TestEnv.RequireRoot("to drop to uid 65534 for the unprivileged run");
        string setpriv = TestEnv.RequireTool("setpriv");
        var psi = new ProcessStartInfo(setpriv) { RedirectStandardOutput = true, RedirectStandardError = true };
        // CliRun.Command: MEMSCOPE_BIN when set, else dotnet memscope.dll
        foreach (string a in new[] { "--reuid=65534", "--regid=65534", "--clear-groups" }.Concat(CliRun.Command()).Concat(["ps", "--pss", "--json"])) psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_HOME"] = "/tmp";
        psi.Environment["HOME"] = "/tmp";
        using Process proc = Process.Start(psi)!;
        string stdout = proc.StandardOutput.ReadToEnd();
        string stderr = proc.StandardError.ReadToEnd();
        proc.WaitForExit();
        TestEnv.Require(proc.ExitCode == 0 || !stderr.Contains("Permission denied"), $"the test binaries readable by uid 65534 ({stderr.Trim()})");
        Assert.True(proc.ExitCode == 0, stderr);
        using var doc = JsonDocument.Parse(stdout);
        int denied = doc.RootElement.GetProperty("processes_smaps_denied").GetInt32();
        var procs = doc.RootElement.GetProperty("processes").EnumerateArray().ToList();
        Assert.True(denied > 0, "root's processes hide smaps_rollup from nobody");
        Assert.Equal(denied, procs.Count(x => x.GetProperty("smaps_denied").GetBoolean()));
        // denied means unknown, never zero
        Assert.All(procs.Where(x => x.GetProperty("smaps_denied").GetBoolean()),
            x => Assert.Equal(JsonValueKind.Null, x.GetProperty("pss_bytes").ValueKind));
        // the cheap figures are still there for everyone
        Assert.All(procs, x => Assert.True(x.GetProperty("rss_bytes").GetInt64() >= 0));
    }
}

/// <summary>Bad input through the real executable: one line on stderr, a non-zero exit, never a stack trace.</summary>
public class BadInputProcessTests
{
    [Theory]
    [InlineData(3, "ps", "--pid", "999999")]
    [InlineData(2, "vmstat", "0")]
    [InlineData(2, "vmstat", "abc")]
    [InlineData(2, "free", "-s", "-1")]
    [InlineData(2, "free", "--proc-root", "/tmp")]
    [InlineData(2, "vmstat", "--proc-root", "/tmp")]
    [InlineData(2, "ps", "--proc-root", "/tmp")]
    public void One_line_and_an_exit_code(int code, params string[] args)
    {
        ProcessStartInfo psi = CliRun.StartInfo(args); // the real executable: MEMSCOPE_BIN when set, else dotnet memscope.dll
        using Process proc = Process.Start(psi)!;
        string stdout = proc.StandardOutput.ReadToEnd();
        string stderr = proc.StandardError.ReadToEnd();
        proc.WaitForExit();
        Assert.Equal(code, proc.ExitCode);
        Assert.Equal("", stdout);
        string[] lines = stderr.TrimEnd('\n').Split('\n');
        Assert.Single(lines);
        Assert.StartsWith("memscope: ", lines[0]);
        Assert.DoesNotContain("   at ", stderr);
    }
}
