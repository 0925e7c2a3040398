using System.Runtime.InteropServices;

namespace MemScope.Cli.Commands;

/// <summary>
/// Holds a lab scenario until its duration ends, Ctrl-C, or SIGTERM, then runs its cleanup exactly once. Kernel state
/// a scenario borrows (files in /dev/shm, a hugepage pool size, sockets) is returned on every one of those paths; what a
/// SIGKILL leaves behind is removed by the scenario's stale cleanup at the next start.
/// </summary>
internal static class LabLifetime
{
    public static async Task HoldAsync(double? seconds, CancellationToken ct)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        void Stop(PosixSignalContext ctx)
        {
            ctx.Cancel = true; // we exit cleanly ourselves, after cleanup
            stop.Cancel();
        }
        using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        try { await Task.Delay(seconds is double s ? TimeSpan.FromSeconds(s) : Timeout.InfiniteTimeSpan, stop.Token); }
        catch (OperationCanceledException) { }
    }

    /// <summary>True when a process with this pid exists (for stale-state cleanup of crashed runs).</summary>
    public static bool Alive(int pid) => Directory.Exists($"/proc/{pid}");

    /// <summary>The pid encoded at the end of a memscope_lab_* name ("memscope_lab_shmem_1234" → 1234).</summary>
    public static int? PidOf(string name)
    {
        int underscore = name.LastIndexOf('_');
        return underscore >= 0 && int.TryParse(name.AsSpan(underscore + 1), out int pid) ? pid : null;
    }
}
