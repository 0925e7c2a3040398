using MemScope.Procfs;

namespace MemScope.Tests.Fixtures.Handlers;

/// <summary>/proc/PID/statm: seven page counts (size resident shared text lib data dt).</summary>
public sealed class ProcPidStatmHandler : IFixtureHandler
{
    public bool Handles(FixtureEntry e) => !e.IsDirectory && e.FileName == "statm";

    public void Check(FixtureEntry e)
    {
        ProcPidStatm m = e.Pid is int pid && e.ProcRoot is { } root
            ? ProcPidStatm.Read(new ProcFs(root).PidPath(pid, "statm"))
            : ProcPidStatm.Read(e.FullPath);
        foreach (var (field, expected) in e.Fields(e.Values))
        {
            ulong? ours = field switch
            {
                "size" => m.SizePages, "resident" => m.ResidentPages, "shared" => m.SharedPages, "text" => m.TextPages,
                "lib" => m.LibPages, "data" => m.DataPages, "dt" => m.DirtyPages, _ => null,
            };
            if (ours is null) { e.NoMapping(field); continue; }
            e.Number(field, ours, expected);
        }
    }
}
