using System.Globalization;
using System.Text.RegularExpressions;

namespace MemScope.IntegrationTests;

/// <summary>
/// What `lab swap` and `lab oom` print first: the lab's pid, its worker's pid (and, for oom, the killed worker's
/// comm) and the worker's memory cgroup. Fails the test when the line does not have that shape.
/// </summary>
internal readonly record struct LabFirstLine(int LabPid, int WorkerPid, string WorkerComm, string CgroupPath)
{
    /// <summary>"pid N: worker W touched ... in memory cgroup PATH ..." (no comm: empty).</summary>
    public static LabFirstLine Swap(string line) => Parse(line, @"^pid (\d+): worker (\d+)() touched .* in memory cgroup (\S+) ");

    /// <summary>"pid N: worker W (COMM) was OOM-killed in memory cgroup PATH ...".</summary>
    public static LabFirstLine Oom(string line) => Parse(line, @"^pid (\d+): worker (\d+) \((\S+)\) was OOM-killed in memory cgroup (\S+) ");

    private static LabFirstLine Parse(string line, string pattern)
    {
        Match m = Regex.Match(line, pattern);
        Assert.True(m.Success, line);
        return new(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture),
            m.Groups[3].Value, m.Groups[4].Value);
    }
}
