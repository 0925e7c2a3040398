using MemScope.Procfs;

namespace MemScope.Tests.Fixtures.Handlers;

/// <summary>/proc/stat: "cpu.user", "cpu7.softirq", "intr.total", "intr.8", "softirq.rcu", btime, ctxt, process counts.</summary>
public sealed class ProcStatHandler : IFixtureHandler
{
    public bool Handles(FixtureEntry e) => e.FileName == "stat" && e.AfterProc == "stat";

    public void Check(FixtureEntry e)
    {
        ProcStat s = new ProcFs(e.ProcRoot!).ReadStat();
        foreach (var (field, expected) in e.Fields(e.Values))
        {
            string[] parts = field.Split('.');
            ulong? ours = parts switch
            {
                ["ctxt"] => s.ContextSwitches,
                ["btime"] => s.BootTimeUnixSeconds,
                ["processes"] => s.ProcessesCreated,
                ["procs_running"] => s.ProcsRunning,
                ["procs_blocked"] => s.ProcsBlocked,
                ["intr", "total"] => s.InterruptsTotal,
                ["intr", var irq] => int.Parse(irq) < s.Interrupts.Count ? s.Interrupts[int.Parse(irq)] : null,
                ["softirq", "total"] => s.SoftIrqTotal,
                ["softirq", var name] when Array.IndexOf(ProcStat.SoftIrqNames, name) is int i and >= 0 =>
                    i < s.SoftIrqs.Count ? s.SoftIrqs[i] : null,
                [var cpu, var col] when cpu.StartsWith("cpu") => Column(cpu == "cpu" ? s.Cpu : PerCpu(s, cpu), col),
                _ => null,
            };
            if (ours is null && !KnownShape(parts)) { e.NoMapping(field); continue; }
            e.Number(field, ours, expected);
        }
    }

    private static bool KnownShape(string[] parts) => parts[0] is "ctxt" or "btime" or "processes" or "procs_running"
        or "procs_blocked" or "intr" or "softirq" || parts[0].StartsWith("cpu");

    private static CpuTicks? PerCpu(ProcStat s, string cpu) =>
        int.TryParse(cpu.AsSpan(3), out int n) && n < s.PerCpu.Count ? s.PerCpu[n] : null;

    private static ulong? Column(CpuTicks? t, string col) => t is not { } c ? null : col switch
    {
        "user" => c.User, "nice" => c.Nice, "system" => c.System, "idle" => c.Idle, "iowait" => c.IoWait,
        "irq" => c.Irq, "softirq" => c.SoftIrq, "steal" => c.Steal, "guest" => c.Guest, "guest_nice" => c.GuestNice,
        _ => null,
    };
}
