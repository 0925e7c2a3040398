using MemScope.Procfs;

namespace MemScope.Tests.Fixtures.Handlers;

/// <summary>/proc/self: resolves to the pid it links to (a symlink live; a plain file holding the target in fixture copies).</summary>
public sealed class ProcSelfHandler : IFixtureHandler
{
    public bool Handles(FixtureEntry e) => !e.IsDirectory && e.AfterProc == "self" && e.FileName == "self";

    public void Check(FixtureEntry e)
    {
        var proc = new ProcFs(e.ProcRoot!);
        int? self = proc.SelfPid();
        foreach (var (field, expected) in e.Fields(e.Values))
        {
            if (field != "target") { e.NoMapping(field); continue; }
            e.Text(field, self?.ToString(), expected);
            // Self() must resolve to the same process as Proc(target): its stat names that pid directory.
            if (self is int pid && File.Exists(proc.PidPath(pid, "stat")))
                e.True("stat", ProcPidStat.Read(proc.PidPath(pid, "stat")).Pid == pid, "self's stat is another process");
        }
    }
}
