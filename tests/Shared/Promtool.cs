using System.Diagnostics;
using System.Text.RegularExpressions;

namespace MemScope.TestSupport;

/// <summary>
/// Runs `promtool check metrics` (Debian's prometheus package; .ci/install-deps.sh installs it). promtool 2.x has no
/// switch to turn its lint off, and its snake_case lint flags node_exporter's own CamelCase meminfo names
/// (node_memory_MemTotal_bytes...), which MemScope keeps on purpose so existing dashboards work. A parse error or
/// any other lint problem is a failure.
/// </summary>
public static partial class Promtool
{
    /// <summary>The problem lines promtool printed; throws when it could not even parse the exposition.</summary>
    public static List<string> CheckMetrics(string promtool, string exposition)
    {
        var psi = new ProcessStartInfo(promtool) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("check");
        psi.ArgumentList.Add("metrics");
        using var p = Process.Start(psi)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        p.StandardInput.Write(exposition);
        p.StandardInput.Close();
        if (!p.WaitForExit(30_000)) { p.Kill(); throw new TimeoutException("promtool check metrics hung"); }
        string all = stdout.Result + stderr.Result;
        // Exit 0: clean; 3: lint problems only (listed one per line); anything else (1): parse error.
        if (p.ExitCode is not (0 or 3)) throw new InvalidOperationException($"promtool check metrics exited {p.ExitCode}: {all}");
        return all.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
    }

    /// <summary>Problems other than the CamelCase lint on node_exporter-compatible node_memory_* names.</summary>
    public static List<string> Unexpected(IEnumerable<string> problems) =>
        problems.Where(p => !NodeCamelCase().IsMatch(p)).ToList();

    [GeneratedRegex(@"^node_memory_\w+ metric names should be written in 'snake_case' not 'camelCase'$")]
    private static partial Regex NodeCamelCase();
}
