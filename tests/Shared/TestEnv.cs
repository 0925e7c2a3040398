using System.Diagnostics;
using Xunit;

namespace MemScope.TestSupport;

/// <summary>
/// Gates for tests that need root or a kernel feature: outside CI they skip with the reason; under CI=true (root on
/// this kind of machine) they must run, so a missing capability fails loudly instead of hiding.
/// </summary>
public static class TestEnv
{
    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
    public static bool IsRoot => Environment.UserName == "root" || GetEuid() == 0;

    public static void RequireRoot(string why)
    {
        if (IsRoot) return;
        if (InCi) Assert.Fail($"CI must run as root: {why}");
        Skip.If(true, $"needs root: {why}");
    }

    /// <summary>Skips (outside CI) or fails (in CI) when <paramref name="available"/> is false.</summary>
    public static void Require(bool available, string what)
    {
        if (available) return;
        if (InCi) Assert.Fail($"required in CI but missing: {what}");
        Skip.If(true, $"missing: {what}");
    }

    /// <summary>Requires an external tool on PATH (installed by .ci/run in CI).</summary>
    public static string RequireTool(string name)
    {
        string? path = Which(name);
        Require(path is not null, $"the '{name}' command (.ci/run installs it)");
        return path!;
    }

    public static string? Which(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':'))
        {
            string p = Path.Combine(dir, name);
            if (File.Exists(p)) return p;
        }
        foreach (string dir in new[] { "/usr/sbin", "/sbin" })
        {
            string p = Path.Combine(dir, name);
            if (File.Exists(p)) return p;
        }
        return null;
    }

    /// <summary>Runs a command to completion and returns its stdout; throws with stderr when it fails.</summary>
    public static string Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        string error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {p.ExitCode}: {error}");
        return output;
    }

    /// <summary>
    /// A kernel thread's pid from /proc (PF_KTHREAD in stat's flags): kthreadd (pid 2) when it is one, else the first
    /// found; null when /proc shows none (a container's own PID namespace). Never assume pid 2 is kthreadd.
    /// </summary>
    public static int? KernelThreadPid()
    {
        if (IsKernelThread(2)) return 2;
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(dir), out int pid) && IsKernelThread(pid)) return pid;
        return null;
    }

    private static bool IsKernelThread(int pid)
    {
        string stat;
        try { stat = File.ReadAllText($"/proc/{pid}/stat"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
        // after "(comm) ": state ppid pgrp session tty_nr tpgid flags
        string[] f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return f.Length > 6 && ulong.TryParse(f[6], out ulong flags) && (flags & 0x00200000) != 0;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEuid();
}
