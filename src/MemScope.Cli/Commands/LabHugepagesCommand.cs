using System.CommandLine;
using System.Globalization;

namespace MemScope.Cli.Commands;

/// <summary>
/// `memscope lab hugepages-unused [--pages N]` (root): grows the default hugetlb pool by N pages that nothing uses
/// (memory pinned for nothing), holds, and restores the pool size on exit, Ctrl-C and SIGTERM. The size before the
/// run is saved in /run/memscope/lab_hugepages_PID so the next start restores it after a crash.
/// </summary>
internal static class LabHugepagesCommand
{
    private const string StateDir = "/run/memscope";
    private const string StatePrefix = "lab_hugepages_";

    public static Command Create()
    {
        var pages = new Option<int>("--pages") { Description = "Huge pages to add to the pool", DefaultValueFactory = _ => 512 };
        var hold = new Option<double?>("--hold") { Description = "Exit after this many seconds (default: hold until killed)" };
        var cmd = new Command("hugepages-unused", "Reserve a hugetlb pool that nothing uses (the doctor's hugepages-unused finding; root)");
        cmd.Options.Add(pages);
        cmd.Options.Add(hold);
        cmd.SetAction(async (parse, ct) =>
        {
            int add = parse.GetValue(pages);
            if (add is <= 0 or > 1 << 20) throw new CliException(ExitCodes.Usage, "--pages must be between 1 and 1048576");
            string sysctl = GlobalOptions.OpenProc(parse).PathOf("sys/vm/nr_hugepages");
            RestoreStale(sysctl);
            long before = ReadPool(sysctl);
            Directory.CreateDirectory(StateDir);
            string state = Path.Combine(StateDir, StatePrefix + Environment.ProcessId);
            File.WriteAllText(state, before.ToString(CultureInfo.InvariantCulture));
            try
            {
                WritePool(sysctl, before + add);
                long now = ReadPool(sysctl);
                TextWriter o = parse.InvocationConfiguration.Output;
                o.WriteLine($"pid {Environment.ProcessId}: hugetlb pool {before} -> {now} pages ({now - before} added, none used); holding");
                o.Flush();
                await LabLifetime.HoldAsync(parse.GetValue(hold), ct);
            }
            finally
            {
                WritePool(sysctl, before);
                File.Delete(state);
            }
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static long ReadPool(string sysctl) => long.Parse(File.ReadAllText(sysctl).Trim(), CultureInfo.InvariantCulture);

    private static void WritePool(string sysctl, long pages)
    {
        try { File.WriteAllText(sysctl, pages.ToString(CultureInfo.InvariantCulture)); }
        catch (UnauthorizedAccessException) { throw new CliException(ExitCodes.NoPermission, $"{sysctl}: writing the pool size needs root"); }
    }

    /// <summary>Restores the pool size a crashed run saved, so a SIGKILL never leaves memory pinned.</summary>
    private static void RestoreStale(string sysctl)
    {
        if (!Directory.Exists(StateDir)) return;
        foreach (string file in Directory.EnumerateFiles(StateDir, StatePrefix + "*"))
        {
            if (LabLifetime.PidOf(Path.GetFileName(file)) is not int pid || LabLifetime.Alive(pid)) continue;
            if (long.TryParse(File.ReadAllText(file).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long saved)) WritePool(sysctl, saved);
            File.Delete(file);
        }
    }
}
