using MemScope.Analysis.Doctor;

namespace MemScope.Export.Explain;

/// <summary>
/// One field or concept MemScope explains: a stable id, a title, the unit, where the figure comes from (file and
/// field) and the formula when it is derived, the explanation in English and Chinese, the commands that show it, and
/// other names people type for it (matched loosely by `memscope explain`).
/// </summary>
public sealed record FieldEntry(
    string Id,
    string Topic,
    Text Title,
    string Unit,
    string Source,
    string? Formula,
    Text Explanation,
    IReadOnlyList<string> Commands,
    IReadOnlyList<string> Aliases);

/// <summary>Topics, in the order `memscope explain` lists them.</summary>
public static class Topics
{
    public const string Concepts = "concepts";
    public const string Free = "free";
    public const string Vmstat = "vmstat";
    public const string Process = "process";
    public const string Meminfo = "meminfo";
    public const string Smaps = "smaps";
    public const string Reclaim = "reclaim";
    public const string Pressure = "pressure";
    public const string Doctor = "doctor";

    public static readonly string[] Order = [Concepts, Free, Vmstat, Process, Meminfo, Smaps, Reclaim, Pressure, Doctor];

    public static Text Title(string topic) => topic switch
    {
        Concepts => new("Concepts", "概念"),
        Free => new("free columns", "free 的各列"),
        Vmstat => new("vmstat columns", "vmstat 的各列"),
        Process => new("Process columns (ps, top)", "进程列（ps、top）"),
        Meminfo => new("/proc/meminfo fields", "/proc/meminfo 字段"),
        Smaps => new("smaps fields (per mapping)", "smaps 字段（每个映射）"),
        Reclaim => new("Zones, watermarks, reclaim and swap", "内存区、水位线、回收与交换"),
        Pressure => new("Pressure stall information (PSI)", "压力停顿信息（PSI）"),
        Doctor => new("Doctor findings", "诊断结论"),
        _ => new(topic, topic),
    };
}
