using System.Text.Json;
using MemScope.Procfs;

namespace MemScope.Tests.Fixtures.Handlers;

/// <summary>/proc/PID/cmdline (NUL-separated argv; goprocinfo asserts the args joined by spaces) and /proc/PID/comm.</summary>
public sealed class CmdlineHandler : IFixtureHandler
{
    public bool Handles(FixtureEntry e) => !e.IsDirectory && e.FileName is "cmdline" or "comm";

    public void Check(FixtureEntry e)
    {
        if (e.FileName == "comm")
        {
            string comm = ProcPidCmdline.ReadComm(e.FullPath);
            if (e.ParseOnlyOrUnasserted)
            {
                e.True("comm", comm.Length is > 0 and <= 64 && !comm.Contains('\n'), $"odd comm '{comm}'");
                return;
            }
            e.Text("comm", comm, e.Values!.Value);
            return;
        }
        IReadOnlyList<string> args = ProcPidCmdline.Read(e.FullPath);
        JsonElement v = e.Values!.Value;
        if (v.ValueKind == JsonValueKind.String)
        {
            e.Text("cmdline", string.Join(' ', args), v);
            return;
        }
        var want = v.EnumerateArray().Select(x => x.GetString()!).ToList();
        e.True("argv", args.SequenceEqual(want), $"got [{string.Join(", ", args)}], expected [{string.Join(", ", want)}]");
    }
}
