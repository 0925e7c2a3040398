using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using MemScope.Procfs;
using MemScope.Sysfs;
using MemScope.Units;

namespace MemScope.Cli.Commands;

/// <summary>
/// Kernel state the swap and OOM labs borrow: a memory cgroup named memscope_lab_{swap,oom}_PID (v1 under
/// /sys/fs/cgroup/memory, or v2 under the cgroup2 root) and, for swap, a swap file /var/tmp/memscope_swap_PID when no
/// swap is active. Everything is removed on exit, Ctrl-C and SIGTERM; what a crash leaves is removed at the next start
/// (the pid in the name is dead): tasks moved out, cgroup removed, swapoff, file deleted.
/// </summary>
internal static class LabSwapOomState
{
    public const string SwapCgroupPrefix = "memscope_lab_swap_", OomCgroupPrefix = "memscope_lab_oom_", SwapFilePrefix = "memscope_swap_";
    public const string SwapFileDirectory = "/var/tmp";

    public static CgroupHierarchy RequireHierarchy(ProcFs proc, SysFs sys)
    {
        if (!TestRoot()) throw new CliException(ExitCodes.NoPermission, "this lab creates a memory cgroup (and maybe a swap file): run as root");
        MemoryCgroups cg = MemoryCgroups.Discover(proc, sys);
        return cg.V1 ?? cg.V2 ?? throw new CliException(ExitCodes.Unsupported, "no memory cgroup hierarchy is mounted (v1 'memory' or cgroup2 with the memory controller)");
    }

    public static bool TestRoot() => Procfs.Privilege.IsRoot;

    /// <summary>Removes cgroups and swap files left by crashed runs (their pid is dead). Returns what it removed.</summary>
    public static List<string> CleanStale(CgroupHierarchy h)
    {
        var removed = new List<string>();
        foreach (string prefix in new[] { SwapCgroupPrefix, OomCgroupPrefix })
        {
            string[] dirs;
            try { dirs = Directory.GetDirectories(h.Directory, prefix + "*"); }
            catch (IOException) { continue; }
            foreach (string dir in dirs)
            {
                if (LabLifetime.PidOf(Path.GetFileName(dir)) is int pid && !LabLifetime.Alive(pid))
                {
                    RemoveCgroup(h, dir);
                    removed.Add(dir);
                }
            }
        }
        foreach (string file in Directory.GetFiles(SwapFileDirectory, SwapFilePrefix + "*"))
        {
            if (LabLifetime.PidOf(Path.GetFileName(file)) is int pid && !LabLifetime.Alive(pid))
            {
                RemoveSwapFile(file);
                removed.Add(file);
            }
        }
        return removed;
    }

    public static string CreateCgroup(CgroupHierarchy h, string prefix, ulong limitBytes, bool noSwap)
    {
        string dir = Path.Combine(h.Directory, prefix + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(dir);
        string limit = limitBytes.ToString(CultureInfo.InvariantCulture);
        try
        {
            if (h.Version == CgroupVersion.V1)
            {
                File.WriteAllText(Path.Combine(dir, "memory.limit_in_bytes"), limit);
                // memsw.limit ≥ limit: with it equal, the cgroup may not swap at all (the OOM lab wants a kill, not swap).
                string memsw = Path.Combine(dir, "memory.memsw.limit_in_bytes");
                if (noSwap && File.Exists(memsw)) File.WriteAllText(memsw, limit);
            }
            else
            {
                File.WriteAllText(Path.Combine(dir, "memory.max"), limit);
                string swapMax = Path.Combine(dir, "memory.swap.max");
                if (noSwap && File.Exists(swapMax)) File.WriteAllText(swapMax, "0");
            }
        }
        catch
        {
            // the caller never learns the directory's name: remove it here, or it outlives the run
            try { Directory.Delete(dir); } catch (IOException) { }
            throw;
        }
        return dir;
    }

    /// <summary>How long <see cref="RemoveCgroup"/> keeps retrying: an OOM-killed task can take seconds to be gone on a loaded machine.</summary>
    public static TimeSpan RemoveTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Moves any task left in the cgroup to its parent, then removes it, retrying for up to <see cref="RemoveTimeout"/>:
    /// rmdir fails with EBUSY until the last task (an OOM victim still exiting) has left.
    /// </summary>
    public static void RemoveCgroup(CgroupHierarchy h, string dir)
    {
        if (!Directory.Exists(dir)) return;
        string parentProcs = Path.Combine(Path.GetDirectoryName(dir)!, "cgroup.procs");
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < RemoveTimeout)
        {
            try
            {
                foreach (string line in File.ReadAllLines(Path.Combine(dir, "cgroup.procs")))
                    if (line.Trim().Length > 0)
                        try { File.WriteAllText(parentProcs, line.Trim()); } catch (IOException) { } // exited meanwhile
                Directory.Delete(dir);
                return;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                if (!Directory.Exists(dir)) return;
                Thread.Sleep(100);
            }
        }
        Directory.Delete(dir); // let the last error surface
    }

    public static bool AnySwapActive(ProcFs proc)
    {
        try { return Swaps.Read(proc.PathOf("swaps")).Areas.Count > 0; }
        catch (KernelFileException) { return false; }
    }

    /// <summary>Creates, formats and enables a swap file (fully allocated: swapon refuses files with holes).</summary>
    public static string CreateSwapFile(ulong sizeBytes)
    {
        string path = Path.Combine(SwapFileDirectory, SwapFilePrefix + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        try
        {
            using (File.Create(path)) { }
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            try { Run("fallocate", "-l", sizeBytes.ToString(CultureInfo.InvariantCulture), path); }
            catch (CliException)
            {
                // no fallocate tool, or a filesystem without fallocate: write zeros
                using var f = new FileStream(path, FileMode.Open, FileAccess.Write);
                var zeros = new byte[1 << 20];
                for (ulong done = 0; done < sizeBytes; done += (ulong)zeros.Length) f.Write(zeros, 0, (int)Math.Min((ulong)zeros.Length, sizeBytes - done));
            }
            Run("mkswap", path);
            Run("swapon", path);
            return path;
        }
        catch
        {
            RemoveSwapFile(path);
            throw;
        }
    }

    public static void RemoveSwapFile(string path)
    {
        if (!File.Exists(path)) return;
        if (File.ReadAllText("/proc/swaps").Contains(path, StringComparison.Ordinal))
            Run("swapoff", path);
        File.Delete(path);
    }

    private static void Run(string tool, params string[] args)
    {
        string? exe = new[] { "/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/" }.Select(d => d + tool).FirstOrDefault(File.Exists);
        if (exe is null) throw new CliException(ExitCodes.Unsupported, $"'{tool}' is not installed (util-linux)");
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string arg in args) psi.ArgumentList.Add(arg);
        using Process p = Process.Start(psi)!;
        string err = p.StandardError.ReadToEnd();
        p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new CliException(ExitCodes.Failure, $"{tool} {string.Join(' ', args)} failed: {err.Trim()}");
    }

    /// <summary>Starts `memscope lab worker ...` as a child (the same memscope: apphost, or dotnet + memscope.dll).</summary>
    public static Process StartWorker(params string[] args)
    {
        string? self = Environment.ProcessPath;
        ProcessStartInfo psi;
        if (self is not null && Path.GetFileNameWithoutExtension(self) == "memscope") psi = new ProcessStartInfo(self);
        else
        {
            string dll = Path.Combine(AppContext.BaseDirectory, "memscope.dll");
            string apphost = Path.Combine(AppContext.BaseDirectory, "memscope");
            if (File.Exists(dll)) { psi = new ProcessStartInfo(self ?? "dotnet"); psi.ArgumentList.Add(dll); }
            else if (File.Exists(apphost)) psi = new ProcessStartInfo(apphost);
            else throw new CliException(ExitCodes.Internal, "cannot find the memscope executable to start the lab worker");
        }
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.RedirectStandardInput = true;
        psi.ArgumentList.Add("lab");
        psi.ArgumentList.Add("worker");
        foreach (string a in args) psi.ArgumentList.Add(a);
        return Process.Start(psi) ?? throw new CliException(ExitCodes.Internal, "cannot start the lab worker");
    }

    public static void StopWorker(Process? worker)
    {
        if (worker is null) return;
        try { if (!worker.HasExited) worker.Kill(); } catch (InvalidOperationException) { }
        worker.WaitForExit(10_000);
    }

    public static string CgroupPath(CgroupHierarchy h, string dir) => "/" + Path.GetRelativePath(h.Directory, dir);

    public static ulong Size(ParseResult parse, Option<string> o, string name)
    {
        if (!SizeText.TryParse(parse.GetValue(o) ?? "", out ulong v) || v == 0 || v > 1UL << 40)
            throw new CliException(ExitCodes.Usage, $"{name} must be a size such as 200M or 1G");
        return v;
    }
}

/// <summary>`memscope lab worker --touch SIZE [--cgroup DIR] [--churn MiB/s]`: the process the swap/OOM labs put in their cgroup (hidden).</summary>
internal static class LabWorkerCommand
{
    public static Command Create()
    {
        var touch = new Option<string>("--touch") { Description = "Anonymous memory to allocate and write", DefaultValueFactory = _ => "100M" };
        var cgroup = new Option<string?>("--cgroup") { Description = "Join this cgroup directory first" };
        var churn = new Option<double>("--churn") { Description = "Afterwards, keep rewriting the memory at this many MiB/s (0: just hold)" };
        var parentPid = new Option<int?>("--parent") { Description = "Exit when this process (the lab) is no longer the parent (default: the parent at start)" };
        var cmd = new Command("worker", "Allocate and touch anonymous memory inside a cgroup, then hold (used by lab swap / lab oom)") { Hidden = true };
        cmd.Options.Add(touch);
        cmd.Options.Add(cgroup);
        cmd.Options.Add(churn);
        cmd.Options.Add(parentPid);
        cmd.SetAction(parse =>
        {
            // When the lab dies without cleaning up (SIGKILL), its worker must not live on inside (or, after the stale
            // cleanup moved it out, outside) the lab cgroup: it follows its parent, named by the lab so that a lab
            // killed before this line runs is noticed too.
            int parent = parse.GetValue(parentPid) ?? getppid();
            ulong size = LabSwapOomState.Size(parse, touch, "--touch");
            TextWriter o = parse.InvocationConfiguration.Output;
            int pid = Environment.ProcessId;
            if (parse.GetValue(cgroup) is { } dir) File.WriteAllText(Path.Combine(dir, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture));
            o.WriteLine($"pid {pid}: in cgroup, touching {size} bytes");
            o.Flush();
            nint p = LabMemory.Mmap(0, (nuint)size, LabMemory.ProtRead | LabMemory.ProtWrite, LabMemory.MapPrivate | LabMemory.MapAnonymous, -1, 0);
            if (p == -1) throw new CliException(ExitCodes.Failure, $"mmap of {size} bytes failed (errno {Marshal.GetLastPInvokeError()})");
            unsafe
            {
                byte* b = (byte*)p;
                for (ulong i = 0; i < size; i += 4096) b[i] = (byte)(1 + (i >> 12) % 251); // non-zero, distinct per page
            }
            o.WriteLine($"pid {pid}: touched {size} bytes");
            o.Flush();
            double rate = parse.GetValue(churn);
            if (rate <= 0)
            {
                while (getppid() == parent) Thread.Sleep(500);
                return ExitCodes.Ok;
            }
            ulong chunk = 1 << 20, at = 0;
            var sw = Stopwatch.StartNew();
            double done = 0;
            while (true)
            {
                unsafe
                {
                    byte* b = (byte*)p;
                    for (ulong i = 0; i < chunk; i += 4096) b[(at + i) % size]++;
                }
                at = (at + chunk) % size;
                done += 1;
                double ahead = done / rate - sw.Elapsed.TotalSeconds;
                if (ahead > 0) Thread.Sleep(TimeSpan.FromSeconds(ahead));
                if (getppid() != parent) return ExitCodes.Ok;
            }
        });
        return cmd;
    }

    [DllImport("libc")] private static extern int getppid();
}

/// <summary>
/// `memscope lab swap`: a process touching more anonymous memory than its memory cgroup allows, so the cgroup's reclaim
/// swaps the excess out (and, with --churn, keeps swapping in and out). Creates a temporary swap file when no swap is
/// active. Watch it with `memscope swap` / `memscope cgroups`.
/// </summary>
internal static class LabSwapCommand
{
    public static Command Create()
    {
        var size = new Option<string>("--size") { Description = "Anonymous memory the worker touches", DefaultValueFactory = _ => "400M" };
        var limit = new Option<string>("--limit") { Description = "Memory limit of the lab cgroup", DefaultValueFactory = _ => "200M" };
        var swapSize = new Option<string>("--swap-size") { Description = "Size of the temporary swap file (made only when no swap is active)", DefaultValueFactory = _ => "1G" };
        var churn = new Option<double>("--churn") { Description = "After touching, keep rewriting memory at this many MiB/s (ongoing swap-in/out)", DefaultValueFactory = _ => 16 };
        var hold = new Option<double?>("--hold") { Description = "Exit after this many seconds (default: until Ctrl-C / SIGTERM)" };
        var cmd = new Command("swap", "Swap on demand: a worker overflows a memscope_lab memory cgroup into swap (temporary swap file if none), cleaned up on exit");
        foreach (Option o in new Option[] { size, limit, swapSize, churn, hold }) cmd.Options.Add(o);
        cmd.SetAction(async (parse, ct) =>
        {
            ulong touch = LabSwapOomState.Size(parse, size, "--size"), lim = LabSwapOomState.Size(parse, limit, "--limit");
            ulong swapBytes = LabSwapOomState.Size(parse, swapSize, "--swap-size");
            if (lim >= touch) throw new CliException(ExitCodes.Usage, "--limit must be below --size, or nothing overflows into swap");
            ProcFs proc = GlobalOptions.OpenProc(parse);
            SysFs sys = GlobalOptions.OpenSys(parse);
            TextWriter o = parse.InvocationConfiguration.Output;
            CgroupHierarchy h = LabSwapOomState.RequireHierarchy(proc, sys);
            foreach (string s in LabSwapOomState.CleanStale(h)) parse.InvocationConfiguration.Error.WriteLine($"memscope: removed stale {s} from a crashed run");
            using LabLifetime.SignalScope signals = LabLifetime.CatchSignals(ct);
            ct = signals.Token;
            string? swapFile = null, dir = null;
            System.Diagnostics.Process? worker = null;
            try
            {
                if (!LabSwapOomState.AnySwapActive(proc)) swapFile = LabSwapOomState.CreateSwapFile(swapBytes);
                dir = LabSwapOomState.CreateCgroup(h, LabSwapOomState.SwapCgroupPrefix, lim, noSwap: false);
                worker = LabSwapOomState.StartWorker("--parent", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), "--touch", touch.ToString(CultureInfo.InvariantCulture), "--cgroup", dir,
                    "--churn", parse.GetValue(churn).ToString(CultureInfo.InvariantCulture));
                string? line;
                do line = await worker.StandardOutput.ReadLineAsync(ct).AsTask().WaitAsync(TimeSpan.FromSeconds(300), ct);
                while (line is not null && !line.Contains("touched", StringComparison.Ordinal));
                if (line is null) throw new CliException(ExitCodes.Failure, $"the lab worker exited early: {worker.StandardError.ReadToEnd().Trim()}");
                string cgPath = LabSwapOomState.CgroupPath(h, dir);
                o.WriteLine($"pid {Environment.ProcessId}: worker {worker.Id} touched {HumanSize(touch)} in memory cgroup {cgPath} (limit {HumanSize(lim)}); " +
                    $"swap: {swapFile ?? "already active"}; {(parse.GetValue(hold) is double s ? $"holding {s}s" : "holding until Ctrl-C")}");
                o.Flush();
                await LabLifetime.HoldAsync(parse.GetValue(hold), ct);
            }
            finally
            {
                LabSwapOomState.StopWorker(worker);
                if (dir is not null) LabSwapOomState.RemoveCgroup(h, dir);
                if (swapFile is not null) LabSwapOomState.RemoveSwapFile(swapFile);
                o.WriteLine($"pid {Environment.ProcessId}: cleaned up ({string.Join(", ", new[] { dir, swapFile }.Where(x => x is not null))})");
            }
            return ExitCodes.Ok;
        });
        return cmd;
    }

    internal static string HumanSize(ulong b) => MemScope.Cli.Rendering.HumanSize.Format(b);
}

/// <summary>
/// `memscope lab oom`: a worker touches more memory than a small memscope_lab memory cgroup allows, with swap barred, so
/// the cgroup's OOM killer kills it. Reports the victim and the cgroup's oom_kill counter, then removes the cgroup.
/// `memscope oom history` then shows the kill.
/// </summary>
internal static class LabOomCommand
{
    public static Command Create()
    {
        var size = new Option<string>("--size") { Description = "Anonymous memory the worker tries to touch", DefaultValueFactory = _ => "300M" };
        var limit = new Option<string>("--limit") { Description = "Memory limit of the lab cgroup", DefaultValueFactory = _ => "100M" };
        var hold = new Option<double?>("--hold") { Description = "After the kill, keep the (empty) cgroup this many seconds before cleaning up" };
        var cmd = new Command("oom", "OOM kill on demand inside a small memscope_lab memory cgroup; the cgroup is removed afterwards");
        foreach (Option o in new Option[] { size, limit, hold }) cmd.Options.Add(o);
        cmd.SetAction(async (parse, ct) =>
        {
            ulong touch = LabSwapOomState.Size(parse, size, "--size"), lim = LabSwapOomState.Size(parse, limit, "--limit");
            if (lim >= touch) throw new CliException(ExitCodes.Usage, "--limit must be below --size, or nothing gets killed");
            ProcFs proc = GlobalOptions.OpenProc(parse);
            SysFs sys = GlobalOptions.OpenSys(parse);
            TextWriter o = parse.InvocationConfiguration.Output;
            CgroupHierarchy h = LabSwapOomState.RequireHierarchy(proc, sys);
            foreach (string s in LabSwapOomState.CleanStale(h)) parse.InvocationConfiguration.Error.WriteLine($"memscope: removed stale {s} from a crashed run");
            using LabLifetime.SignalScope signals = LabLifetime.CatchSignals(ct);
            ct = signals.Token;
            string? dir = null;
            System.Diagnostics.Process? worker = null;
            try
            {
                dir = LabSwapOomState.CreateCgroup(h, LabSwapOomState.OomCgroupPrefix, lim, noSwap: true);
                worker = LabSwapOomState.StartWorker("--parent", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), "--touch", touch.ToString(CultureInfo.InvariantCulture), "--cgroup", dir);
                int wpid = worker.Id;
                string comm = "?";
                try { comm = File.ReadAllText($"/proc/{wpid}/comm").Trim(); } catch (IOException) { }
                _ = worker.StandardOutput.ReadToEndAsync(ct);
                _ = worker.StandardError.ReadToEndAsync(ct);
                await worker.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(300), ct);
                string cgPath = LabSwapOomState.CgroupPath(h, dir);
                MemoryCgroup? cg = MemoryCgroups.TryRead(h, dir);
                bool killed = worker.ExitCode == 128 + 9 || cg?.OomKills is > 0;
                o.WriteLine($"pid {Environment.ProcessId}: worker {wpid} ({comm}) {(killed ? "was OOM-killed" : $"exited with code {worker.ExitCode}, not killed")} " +
                    $"in memory cgroup {cgPath} (limit {LabSwapCommand.HumanSize(lim)}, tried {LabSwapCommand.HumanSize(touch)}); " +
                    $"cgroup oom_kill {cg?.OomKills?.ToString(CultureInfo.InvariantCulture) ?? "?"}, failcnt {cg?.Failcnt?.ToString(CultureInfo.InvariantCulture) ?? "-"}");
                o.Flush();
                if (parse.GetValue(hold) is double s) await LabLifetime.HoldAsync(s, ct);
                return killed ? ExitCodes.Ok : ExitCodes.Failure;
            }
            finally
            {
                LabSwapOomState.StopWorker(worker);
                if (dir is not null) LabSwapOomState.RemoveCgroup(h, dir);
                o.WriteLine($"pid {Environment.ProcessId}: cleaned up ({dir})");
            }
        });
        return cmd;
    }
}
