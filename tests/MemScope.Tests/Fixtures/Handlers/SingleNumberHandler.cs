using MemScope.Procfs;

namespace MemScope.Tests.Fixtures.Handlers;

/// <summary>One-integer files: /proc/PID/oom_score, oom_score_adj, oom_adj, and /proc/sys/kernel/* (values.value).</summary>
public sealed class SingleNumberHandler : IFixtureHandler
{
    public bool Handles(FixtureEntry e) => !e.IsDirectory
        && (e.FileName is "oom_score" or "oom_score_adj" or "oom_adj" || e.Key.Contains("proc/sys/kernel/"));

    public void Check(FixtureEntry e)
    {
        long? value = e.Key.Contains("proc/sys/kernel/")
            ? SysKernel.TryRead(new ProcFs(e.ProcRoot!), e.FileName)
            : SingleNumberFile.Read(e.FullPath);
        if (e.ParseOnlyOrUnasserted)
        {
            e.True("value", value is not null, "no value");
            if (e.FileName == "oom_score_adj") e.True("value", value is >= -1000 and <= 1000, $"oom_score_adj {value} out of range");
            if (e.FileName == "oom_adj") e.True("value", value is >= -17 and <= 15, $"oom_adj {value} out of range");
            return;
        }
        foreach (var (field, expected) in e.Fields(e.Values))
        {
            if (field != "value") { e.NoMapping(field); continue; }
            e.Signed(field, value, expected);
        }
    }
}
