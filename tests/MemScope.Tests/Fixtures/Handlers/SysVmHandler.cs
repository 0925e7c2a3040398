using System.Text.Json;
using MemScope.Procfs;

namespace MemScope.Tests.Fixtures.Handlers;

/// <summary>The /proc/sys/vm/ directory entry: each file a sysctl holding one or more integers, or a word.</summary>
public sealed class SysVmHandler : IFixtureHandler
{
    public bool Handles(FixtureEntry e) => e.IsDirectory && e.Key.EndsWith("proc/sys/vm/", StringComparison.Ordinal);

    public void Check(FixtureEntry e)
    {
        SysVm vm = new ProcFs(e.ProcRoot!).ReadSysVm();
        foreach (var (field, expected) in e.Fields(e.Values))
        {
            switch (expected.ValueKind)
            {
                case JsonValueKind.String: e.Text(field, vm.Text(field), expected); break;
                case JsonValueKind.Array: e.NumberList(field, vm.All.GetValueOrDefault(field), expected); break;
                default: e.Signed(field, vm[field], expected); break;
            }
        }
        // exhaustive: nothing beyond the listed files.
        int listed = e.Values!.Value.EnumerateObject().Count();
        e.True("count", vm.All.Count + vm.Texts.Count == listed, $"read {vm.All.Count + vm.Texts.Count} sysctls, {listed} listed");
    }
}
