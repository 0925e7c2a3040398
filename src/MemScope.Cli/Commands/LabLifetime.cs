using System.Runtime.InteropServices;

namespace MemScope.Cli.Commands;

/// <summary>
/// Holds a lab scenario until its duration ends, Ctrl-C, or SIGTERM, then runs its cleanup exactly once. Kernel state
/// a scenario borrows (files in /dev/shm, a hugepage pool size, sockets) is returned on every one of those paths; what a
/// SIGKILL leaves behind is removed by the scenario's stale cleanup at the next start.
/// </summary>
internal static class LabLifetime
{
    /// <summary>
    /// From here until disposed, SIGTERM and SIGINT only cancel <see cref="SignalScope.Token"/>: they never end the
    /// process (the runtime's default) while a scenario is still creating or removing kernel state. Without it a
    /// signal during the wait for an OOM kill, or during cleanup (rmdir retrying on EBUSY), ended the lab before its
    /// finally ran and left its memory cgroup (and worker) behind.
    /// </summary>
    public static SignalScope CatchSignals(CancellationToken ct) => new(ct);

    public sealed class SignalScope : IDisposable
    {
        private readonly CancellationTokenSource _stop;
        private readonly PosixSignalRegistration _term, _interrupt;

        internal SignalScope(CancellationToken ct)
        {
            _stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            _term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
            _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        }

        public CancellationToken Token => _stop.Token;

        private void Stop(PosixSignalContext ctx)
        {
            ctx.Cancel = true; // we exit ourselves, after cleanup
            try { _stop.Cancel(); } catch (ObjectDisposedException) { }
        }

        public void Dispose()
        {
            _term.Dispose();
            _interrupt.Dispose();
            _stop.Dispose();
        }
    }

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
