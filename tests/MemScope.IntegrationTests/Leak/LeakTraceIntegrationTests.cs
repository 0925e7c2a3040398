using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using MemScope.Tracing;

namespace MemScope.IntegrationTests.Leak;

/// <summary>
/// `memscope leak PID --trace` on a C program built here with gcc (leaky.c): the leaking function is named in the top
/// stack with the bytes it leaked, the malloc+free function is not reported, and no memscope_ uprobe is left behind,
/// even after a tracing memscope is SIGKILLed.
/// </summary>
public class LeakTraceIntegrationTests
{
    private const int Count = 2000, Size = 4096, Tidy = 5;
    private const long Leaked = (long)Count * Size;

    [DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int sig);
    private const int SigUsr1 = 10, SigKill = 9;

    private static readonly object BuildGate = new();
    private static string? _leaky;

    /// <summary>
    /// leaky.c built once per test run into its own temporary directory, which is removed when the run ends. (A
    /// directory of an earlier run whose test host had the same pid is replaced, never reused: its binary may be older.)
    /// </summary>
    private static string BuildLeaky()
    {
        TestEnv.RequireRoot("uprobes and perf events");
        string gcc = TestEnv.RequireTool("gcc");
        lock (BuildGate)
        {
            if (_leaky is not null) return _leaky;
            string dir = Path.Combine(Path.GetTempPath(), $"memscope-leaky-{Environment.ProcessId}");
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
            Directory.CreateDirectory(dir);
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            };
            string exe = Path.Combine(dir, "leaky");
            TestEnv.Run(gcc, "-O0", "-fno-omit-frame-pointer", "-o", exe, Path.Combine(AppContext.BaseDirectory, "Leak", "leaky.c"));
            return _leaky = exe;
        }
    }

    private sealed class Leaky : IDisposable
    {
        public Process P { get; }
        public Leaky(string exe, params string[] args)
        {
            var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, UseShellExecute = false };
            foreach (string a in args) psi.ArgumentList.Add(a);
            P = Process.Start(psi)!;
            string? ready = P.StandardOutput.ReadLine();
            Assert.StartsWith("ready", ready);
        }
        public void Dispose()
        {
            try { if (!P.HasExited) P.Kill(); } catch (InvalidOperationException) { }
            P.WaitForExit(5000);
            P.Dispose();
        }
    }

    private static List<string> Probes(Tracefs t, int ownerPid) =>
        [.. (t.ReadText("uprobe_events") ?? "").Split('\n').Where(l => l.Contains($"memscope_{ownerPid}/"))];

    /// <summary>
    /// Waits until the memscope that CliRun started is tracing and returns its pid: the test process itself in-process,
    /// or a child of it when the tests run a binary (MEMSCOPE_BIN).
    /// </summary>
    private static int WaitForCliProbes(Tracefs t, int sampleEvery = 1)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            foreach (int owner in CliOwners())
                if (Probes(t, owner).Count > 0)
                {
                    WaitForProbes(t, owner, sampleEvery);
                    return owner;
                }
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30), "memscope did not define its uprobes within 30 s");
            Thread.Sleep(50);
        }
    }

    private static IEnumerable<int> CliOwners()
    {
        yield return Environment.ProcessId;
        if (!CliRun.UsingBinary) yield break;
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            string? stat = null;
            try { stat = File.ReadAllText(Path.Combine(dir, "stat")); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            if (stat is null) continue;
            string[] f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (f.Length > 1 && f[1] == Environment.ProcessId.ToString()) yield return pid;
        }
    }

    /// <summary>
    /// Waits until memscope (running as <paramref name="ownerPid"/>) has defined its probes and opened every perf event
    /// on the target's one thread: one per probe and CPU, and with --sample-every one more per return probe (the stack
    /// sampler). The events count from their open, so allocations the target makes after this are all seen. (A fixed
    /// delay after the first probe definition was a guess that a loaded machine can outlast.)
    /// </summary>
    private static void WaitForProbes(Tracefs t, int ownerPid, int sampleEvery = 1)
    {
        int cpus = PerfEventNative.OnlineCpus().Length;
        var sw = Stopwatch.StartNew();
        while (true)
        {
            List<string> probes = Probes(t, ownerPid);
            int returns = probes.Count(p => p.StartsWith("r", StringComparison.Ordinal));
            int expected = cpus * (probes.Count + (sampleEvery > 1 ? returns : 0));
            int open = Directory.Exists($"/proc/{ownerPid}") ? Cache.CacheTestFiles.OpenPerfFds(ownerPid == Environment.ProcessId ? 0 : ownerPid) : -1;
            if (probes.Count > 0 && open >= expected) return;
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(30),
                $"memscope (pid {ownerPid}) did not open its perf events within 30 s: {probes.Count} probes, {open} of {expected} perf fds");
            Thread.Sleep(20);
        }
    }

    private static JsonElement LastReport(string stdout)
    {
        string last = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        return JsonDocument.Parse(last).RootElement.Clone();
    }

    private static IEnumerable<string> Functions(JsonElement stack) =>
        stack.GetProperty("frames").EnumerateArray().Select(f => f.GetProperty("function").GetString() ?? "");

    [SkippableFact]
    public void Trace_names_the_leaking_function_with_the_bytes_it_leaked_and_not_the_freed_ones()
    {
        string exe = BuildLeaky();
        using var leaky = new Leaky(exe, "leak", Count.ToString(), Size.ToString(), Tidy.ToString());
        using Tracefs tracefs = Tracefs.Open(); // hold tracefs mounted so the probes can be watched
        Task<CliResult> run = Task.Run(() => CliRun.Run("leak", leaky.P.Id.ToString(), "--trace", "--duration", "8s", "--interval", "2s", "--json"));
        int owner = WaitForCliProbes(tracefs);
        Assert.Equal(0, Kill(leaky.P.Id, SigUsr1));
        Assert.Equal($"leaked {Leaked}", leaky.P.StandardOutput.ReadLine());
        CliResult r = run.Result;
        Assert.True(r.ExitCode == 0, r.Stderr);
        JsonElement rep = LastReport(r.Stdout);
        Assert.True(rep.GetProperty("final").GetBoolean());
        JsonElement topStack = rep.GetProperty("stacks")[0];
        Assert.Contains("leaky_function", Functions(topStack));
        Assert.Contains("main", Functions(topStack));
        Assert.InRange(topStack.GetProperty("bytes").GetDouble(), Leaked * 0.75, Leaked * 1.25);
        Assert.InRange(rep.GetProperty("outstanding_bytes").GetDouble(), Leaked * 0.75, Leaked * 1.25);
        foreach (JsonElement s in rep.GetProperty("stacks").EnumerateArray())
            Assert.DoesNotContain("tidy_function", Functions(s));
        // every tidy allocation was seen and freed
        Assert.True(rep.GetProperty("frees").GetInt64() >= Count * Tidy * 0.9);
        Assert.Empty(Probes(tracefs, owner));
    }

    [SkippableFact]
    public void Sample_every_keeps_exact_totals_and_still_finds_the_leaking_function()
    {
        string exe = BuildLeaky();
        using var leaky = new Leaky(exe, "leak", Count.ToString(), Size.ToString(), Tidy.ToString());
        using Tracefs tracefs = Tracefs.Open();
        Task<CliResult> run = Task.Run(() => CliRun.Run("leak", leaky.P.Id.ToString(), "--trace", "--duration", "8s", "--sample-every", "7", "--json", "--interval", "20s"));
        int owner = WaitForCliProbes(tracefs, sampleEvery: 7);
        Kill(leaky.P.Id, SigUsr1);
        Assert.Equal($"leaked {Leaked}", leaky.P.StandardOutput.ReadLine());
        CliResult r = run.Result;
        Assert.True(r.ExitCode == 0, r.Stderr);
        JsonElement rep = LastReport(r.Stdout);
        Assert.Equal(7, rep.GetProperty("sample_every").GetInt32());
        Assert.InRange(rep.GetProperty("outstanding_bytes").GetDouble(), Leaked * 0.75, Leaked * 1.25);
        Assert.Contains("leaky_function", Functions(rep.GetProperty("stacks")[0]));
        Assert.Empty(Probes(tracefs, owner));
    }

    [SkippableFact]
    public void Target_exiting_mid_trace_ends_with_the_data_so_far()
    {
        string exe = BuildLeaky();
        using var leaky = new Leaky(exe, "leak", "200", "1000", "0");
        using Tracefs tracefs = Tracefs.Open();
        Task<CliResult> run = Task.Run(() => CliRun.Run("leak", leaky.P.Id.ToString(), "--trace", "--duration", "30s", "--json"));
        int owner = WaitForCliProbes(tracefs);
        Kill(leaky.P.Id, SigUsr1);
        Assert.Equal("leaked 200000", leaky.P.StandardOutput.ReadLine());
        Thread.Sleep(300);
        leaky.P.Kill();
        CliResult r = run.Result;
        Assert.Equal(3, r.ExitCode);
        Assert.Contains("exited", r.Stderr);
        JsonElement rep = LastReport(r.Stdout);
        Assert.True(rep.GetProperty("final").GetBoolean());
        Assert.Contains("exited", rep.GetProperty("ended_early").GetString());
        Assert.InRange(rep.GetProperty("outstanding_bytes").GetDouble(), 200000 * 0.75, 200000 * 1.25);
        Assert.Empty(Probes(tracefs, owner));
    }

    [SkippableFact]
    public void Probes_of_a_SIGKILLed_memscope_are_removed_by_the_next_start()
    {
        string exe = BuildLeaky();
        using var leaky = new Leaky(exe, "leak", "10", "100", "0");
        using Tracefs tracefs = Tracefs.Open();
        ProcessStartInfo psi = CliRun.StartInfo(["leak", leaky.P.Id.ToString(), "--trace"], apphost: true); // MEMSCOPE_BIN when set
        int deadPid;
        using (Process tracer = Process.Start(psi)!)
        {
            deadPid = tracer.Id;
            WaitForProbes(tracefs, deadPid);
            Assert.Equal(0, Kill(deadPid, SigKill));
            tracer.WaitForExit(10_000);
        }
        Assert.NotEmpty(Probes(tracefs, deadPid)); // the crash left them behind

        CliResult r = CliRun.Run("leak", leaky.P.Id.ToString(), "--trace", "--duration", "1s");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("left by a memscope that died", r.Stderr);
        Assert.Empty(Probes(tracefs, deadPid));
        Assert.Empty(Probes(tracefs, Environment.ProcessId));
    }

    [SkippableFact]
    public void Ctrl_C_and_SIGTERM_remove_the_probes_and_print_the_final_report()
    {
        string exe = BuildLeaky();
        using var leaky = new Leaky(exe, "leak", "10", "100", "0");
        using Tracefs tracefs = Tracefs.Open();
        foreach (int sig in new[] { 2 /* SIGINT */, 15 /* SIGTERM */ })
        {
            // A test run started as a background job of a script (CI, nohup) inherits SIGINT ignored, and the runtime
            // keeps an inherited ignore, so the SIGINT below would never arrive. Start the tracer with SIGINT at its
            // default, as a terminal's foreground job has it (env execs: tracer.Id is memscope's pid).
            var psi = new ProcessStartInfo("env") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string a in new[] { "--default-signal=INT" }.Concat(CliRun.Command(apphost: true)).Concat(["leak", leaky.P.Id.ToString(), "--trace"]))
                psi.ArgumentList.Add(a); // MEMSCOPE_BIN when set
            using Process tracer = Process.Start(psi)!;
            try
            {
                Assert.StartsWith("tracing pid", tracer.StandardOutput.ReadLine());
                Assert.NotEmpty(Probes(tracefs, tracer.Id));
                Assert.Equal(0, Kill(tracer.Id, sig));
                Task<string> rest = tracer.StandardOutput.ReadToEndAsync();
                Assert.True(rest.Wait(TimeSpan.FromSeconds(30)), $"memscope leak --trace still running 30 s after signal {sig}");
                Assert.True(tracer.WaitForExit(20_000));
                Assert.Equal(130, tracer.ExitCode);
                Assert.Contains("final:", rest.Result);
                Assert.Empty(Probes(tracefs, tracer.Id));
            }
            finally
            {
                if (!tracer.HasExited) { tracer.Kill(); tracer.WaitForExit(); }
            }
        }
    }

    [SkippableFact]
    public void Kernel_thread_cannot_be_traced_and_says_why()
    {
        TestEnv.RequireRoot("--trace");
        int? kthread = TestEnv.KernelThreadPid();
        TestEnv.Require(kthread is not null, "a kernel thread visible in /proc (a PID namespace hides them)");
        CliResult r = CliRun.Run("leak", kthread!.Value.ToString(), "--trace", "--duration", "1s");
        Assert.Equal(5, r.ExitCode);
        Assert.Contains($"pid {kthread} (", r.Stderr);
        Assert.Contains("kernel thread", r.Stderr);
    }
}
