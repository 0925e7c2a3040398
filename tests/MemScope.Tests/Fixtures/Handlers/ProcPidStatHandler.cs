using System.Text.Json;
using MemScope.Procfs;

namespace MemScope.Tests.Fixtures.Handlers;

/// <summary>
/// /proc/PID/stat and /proc/PID/task/TID/stat, by proc(5) field name; also node_exporter's aggregate over
/// proc/*/stat. goprocinfo keeps the parentheses around comm (the kernel's comm is between the first '(' and the
/// last ')'); a field an old or emulated kernel does not print (39-field LX zone) must be null, not 0.
/// </summary>
public sealed class ProcPidStatHandler : IFixtureHandler
{
    public bool Handles(FixtureEntry e) => !e.IsDirectory && e.FileName == "stat" && e.InProcessDirectory;

    public void Check(FixtureEntry e)
    {
        if (e.AfterProc == "*")
        {
            CheckAggregate(e);
            return;
        }
        ProcPidStat s = ProcPidStat.Read(e.FullPath);
        if (e.ParseOnlyOrUnasserted)
        {
            e.True("fields", s.FieldCount >= 24, $"only {s.FieldCount} fields");
            return;
        }
        foreach (var (field, expected) in e.Fields(e.Values))
            CheckField(e, s, field, expected);
        foreach (var (name, expected) in e.Fields(e.Derived))
            CheckDerived(e, s, name, expected);
        if (e.SameAs is { } sameAs)
        {
            string other = sameAs.GetProperty("file").GetString()!;
            ProcPidStat process = ProcPidStat.Read(Path.Combine(e.SourceDir, other));
            foreach (JsonElement f in sameAs.GetProperty("fields").EnumerateArray())
            {
                string name = f.GetString()!;
                e.True($"same_as.{name}", s.Field(name) is not null && s.Field(name) == process.Field(name),
                    $"thread has {s.Field(name)}, process {other} has {process.Field(name)}");
            }
        }
    }

    private static void CheckField(FixtureEntry e, ProcPidStat s, string field, JsonElement expected)
    {
        switch (field)
        {
            case "pid":
                e.Signed(field, s.Pid, Num(expected));
                return;
            case "comm":
                string want = FixtureEntry.AsDecimalText(expected);
                // goprocinfo asserts comm with its surrounding parentheses.
                if (e.Source == "goprocinfo") want = want[1..^1];
                e.Text(field, s.Comm, want);
                return;
            case "state":
                e.Text(field, s.State.ToString(), expected);
                return;
        }
        int number = Array.IndexOf(ProcPidStat.FieldNames, field) + 1;
        if (number <= 3) { e.NoMapping(field); return; }
        string text = FixtureEntry.AsDecimalText(expected);
        if (number > s.FieldCount)
        {
            // The line is shorter (39-field LX zone, 42/44-field old kernels): the source reports 0, we report unknown.
            e.True(field, text == "0" && s.Field(number) is null,
                $"field {number} is beyond the {s.FieldCount} printed: expected null for a source value of 0, got {s.Field(number)} vs {text}");
            return;
        }
        if (text.StartsWith('-')) e.Signed(field, s.SignedField(number), Num(expected));
        else e.Text(field, s.Field(number)?.ToString(), text);
    }

    private static JsonElement Num(JsonElement e) =>
        e.ValueKind == JsonValueKind.String ? JsonDocument.Parse(e.GetString()!).RootElement.Clone() : e;

    private static void CheckDerived(FixtureEntry e, ProcPidStat s, string name, JsonElement expected)
    {
        const double userHz = 100; // the sources' tests assume USER_HZ = 100, as every Linux does
        switch (name)
        {
            case "VirtualMemory_bytes":
                e.Number(name, s.VsizeBytes, expected);
                break;
            case "ResidentMemory_bytes":
                // "1981 * page size": the source multiplies the rss field by the running machine's page size.
                string text = expected.GetString()!;
                ulong pages = ulong.Parse(text.Split(' ')[0]);
                e.True(name, s.RssPages == pages, $"rss {s.RssPages} pages, expected {pages}");
                break;
            case "StartTime_unix_seconds":
                ProcStat stat = new ProcFs(e.ProcRoot!).ReadStat();
                e.Real(name, stat.BootTimeUnixSeconds + s.StartTimeTicks / userHz, expected);
                break;
            case "CPUTime_seconds":
                e.Real(name, (s.UserTicks + s.SystemTicks) / userHz, expected);
                break;
            default:
                e.NoMapping("derived." + name);
                break;
        }
    }

    /// <summary>node_exporter's processes collector: count of parsable stat files, sum of num_threads, count per state.</summary>
    private static void CheckAggregate(FixtureEntry e)
    {
        var proc = new ProcFs(e.ProcRoot!);
        var stats = proc.ListPids().Select(pid => ProcPidStat.Read(proc.PidPath(pid, "stat"))).ToList();
        JsonElement v = e.Values!.Value;
        var listed = e.Json.GetProperty("files").EnumerateArray().Select(f => f.GetString()!).Order().ToList();
        e.True("files", proc.ListPids().Select(p => $"proc/{p}/stat").Order().SequenceEqual(listed),
            $"ListPids found {string.Join(",", proc.ListPids())}, the entry lists {string.Join(",", listed)}");
        foreach (var (field, expected) in e.Fields(v))
        {
            switch (field)
            {
                case "pids": e.Number(field, (ulong)stats.Count, expected); break;
                case "threads": e.Number(field, (ulong)stats.Sum(s => s.Threads), expected); break;
                case "state_counts":
                    foreach (var (state, count) in e.Fields(expected))
                        e.Number($"state_counts.{state}", (ulong)stats.Count(s => s.State.ToString() == state), count);
                    e.True("state_counts", stats.Select(s => s.State).Distinct().Count() == expected.EnumerateObject().Count(),
                        "states other than the listed ones were found");
                    break;
                default: e.NoMapping(field); break;
            }
        }
    }
}
