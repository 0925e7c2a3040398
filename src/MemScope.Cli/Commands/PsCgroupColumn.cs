using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
using MemScope.Procfs;
using MemScope.Sysfs;

namespace MemScope.Cli.Commands;

/// <summary>
/// A process's memory cgroup in `ps --cgroup` (or `-o ...,cgroup`): the path in the hierarchy that carries the memory
/// controller (v1 "memory" line of /proc/PID/cgroup, else the v2 "0::" line), null when unknown (process gone, no
/// memory hierarchy mounted, or a replayed recording before schema 4, which did not keep them).
/// </summary>
[JsonConverter(typeof(PsCgroupValueConverter))]
internal sealed record PsCgroupValue(string? Path);

/// <summary>JSON memory_cgroup: the path, or null when unknown (the property is absent unless the column was asked for).</summary>
internal sealed class PsCgroupValueConverter : JsonConverter<PsCgroupValue>
{
    public override PsCgroupValue Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        new(reader.TokenType == JsonTokenType.Null ? null : reader.GetString());

    public override void Write(Utf8JsonWriter writer, PsCgroupValue value, JsonSerializerOptions options)
    {
        if (value.Path is null) writer.WriteNullValue();
        else writer.WriteStringValue(value.Path);
    }
}

/// <summary>The opt-in CGROUP column of `memscope ps`, kept apart from PsCommand.</summary>
internal static class PsCgroupColumn
{
    public const string Id = "cgroup";

    public static readonly PsColumn Column = new(Id, "CGROUP", true, (r, _) => r.Cgroup?.Path ?? "-", r => r.Cgroup?.Path, false,
        "memory cgroup path (/proc/PID/cgroup; with --db as recorded when the process was first seen; - when unknown); opt in with --cgroup");

    public static Option<bool> AddOption(Command cmd)
    {
        var o = new Option<bool>("--cgroup") { Description = "add a CGROUP column (and JSON memory_cgroup): the process's memory cgroup path" };
        cmd.Options.Add(o);
        return o;
    }

    /// <summary>The columns with CGROUP added (before COMMAND, else last) when --cgroup is given and it is not there yet.</summary>
    public static List<PsColumn> WithColumn(List<PsColumn> cols, bool flag)
    {
        if (!flag || cols.Any(c => c.Id == Id)) return cols;
        int at = cols.FindIndex(c => c.Id == "command");
        var result = new List<PsColumn>(cols);
        result.Insert(at < 0 ? result.Count : at, Column);
        return result;
    }

    public static bool Wanted(IEnumerable<PsColumn> cols, PsColumn sortColumn, bool flag) =>
        flag || sortColumn.Id == Id || cols.Any(c => c.Id == Id);

    /// <summary>
    /// Sets each row's cgroup: read live from {proc}/PID/cgroup and the mounted hierarchies, or, with
    /// <paramref name="proc"/> null (a replay), the cgroup the recording stored with the process (schema 4; unknown before).
    /// </summary>
    public static List<PsRow> Fill(List<PsRow> rows, ProcFs? proc, SysFs? sys)
    {
        if (proc is null || sys is null) return rows.Select(r => r with { Cgroup = new PsCgroupValue(r.P.MemoryCgroup) }).ToList();
        MemoryCgroups cgroups = MemoryCgroups.Discover(proc, sys);
        return rows.Select(r => r with { Cgroup = new PsCgroupValue(cgroups.ForProcess(proc, r.P.Pid)?.Path) }).ToList();
    }
}
