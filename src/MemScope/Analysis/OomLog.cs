using System.Globalization;
using MemScope.Procfs;

namespace MemScope.Analysis;

/// <summary>What made the kernel look for a victim (mm/oom_kill.c enum oom_constraint).</summary>
public enum OomTrigger { Unknown, Global, MemoryCgroup, Cpuset, MemoryPolicy }

/// <summary>One OOM kill reconstructed from kernel log lines. Sizes in bytes; fields older kernels do not print are null.</summary>
public sealed record OomKill
{
    /// <summary>Seconds since boot from the log prefix (/dev/kmsg or dmesg "[  123.456]"); null for logs without it.</summary>
    public double? SecondsSinceBoot { get; init; }
    /// <summary>The log line's own time text when it had one (journal/syslog "Nov 27 09:00:00", dmesg -T).</summary>
    public string? TimeText { get; init; }
    /// <summary>Wall-clock time, when it could be worked out (kmsg/dmesg time + boot time).</summary>
    public DateTimeOffset? Time { get; init; }
    public required int Pid { get; init; }
    public required string Command { get; init; }
    public ulong? TotalVmBytes { get; init; }
    public ulong? AnonRssBytes { get; init; }
    public ulong? FileRssBytes { get; init; }
    /// <summary>shmem-rss (4.9+).</summary>
    public ulong? ShmemRssBytes { get; init; }
    /// <summary>UID (5.1+).</summary>
    public uint? Uid { get; init; }
    /// <summary>pgtables (5.1+).</summary>
    public ulong? PageTablesBytes { get; init; }
    /// <summary>oom_score_adj: on the kill line (5.1+), else from the task dump table.</summary>
    public long? OomScoreAdj { get; init; }
    public OomTrigger Trigger { get; init; }
    /// <summary>The memory cgroup whose limit was hit (oom_memcg=, or "as a result of limit of" before 4.19).</summary>
    public string? OomCgroup { get; init; }
    /// <summary>The victim's own memory cgroup (task_memcg=, or "Task in X killed").</summary>
    public string? TaskCgroup { get; init; }
    /// <summary>The task that invoked the OOM killer (it was allocating), and its request.</summary>
    public string? Invoker { get; init; }
    public string? GfpMask { get; init; }
    public int? Order { get; init; }
    /// <summary>The raw kill line.</summary>
    public required string Line { get; init; }

    public ulong? RssBytes => AnonRssBytes is null && FileRssBytes is null && ShmemRssBytes is null ? null
        : (AnonRssBytes ?? 0) + (FileRssBytes ?? 0) + (ShmemRssBytes ?? 0);
}

/// <summary>
/// Finds OOM kills in kernel log text: /dev/kmsg records ("6,1234,5678901,-;msg"), dmesg ("[ 5678.901234] msg",
/// dmesg -T "[Fri Nov 27 09:00:00 2026] msg"), journalctl -k / syslog ("Nov 27 09:00:00 host kernel: msg").
/// Recognises the message formats of mm/oom_kill.c and mm/memcontrol.c:
/// <list type="bullet">
/// <item>"X invoked oom-killer: gfp_mask=0x..(..), order=0, oom_score_adj=0" (order= and oom_score_adj= since 2.6.36/3.x),</item>
/// <item>"oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/a,task_memcg=/a,task=hog,pid=1,uid=0" (4.19+),</item>
/// <item>"Task in /a killed as a result of limit of /a" (memcg, before 4.19),</item>
/// <item>"[  pid  ]   uid  tgid total_vm      rss ... oom_score_adj name" task dump table,</item>
/// <item>"Out of memory: Kill process 1 (x) score 9 or sacrifice child" (before 5.1) then
/// "Killed process 1 (x) total-vm:..kB, anon-rss:..kB, file-rss:..kB[, shmem-rss:..kB]" (shmem-rss 4.9+),</item>
/// <item>"Out of memory: Killed process 1 (x) total-vm:..kB, anon-rss:..kB, file-rss:..kB, shmem-rss:..kB, UID:0 pgtables:..kB oom_score_adj:0" (5.1+),
/// with "Memory cgroup out of memory: " instead for memcg OOMs.</item>
/// </list>
/// </summary>
public static class OomLog
{
    /// <summary>A log line split into its time prefix and the kernel message.</summary>
    public readonly record struct LogLine(double? SecondsSinceBoot, string? TimeText, string Message);

    public static IReadOnlyList<OomKill> Parse(IEnumerable<string> lines, DateTimeOffset? bootTime = null)
    {
        var kills = new List<OomKill>();
        var ctx = new Context();
        foreach (string raw in lines)
        {
            if (raw.Length == 0 || raw[0] == ' ') continue; // kmsg continuation ("  SUBSYSTEM=...")
            LogLine l = Split(raw);
            string m = l.Message;
            if (m.Contains(" invoked oom-killer:", StringComparison.Ordinal))
            {
                ctx = new Context { Invoker = m[..m.IndexOf(" invoked oom-killer:", StringComparison.Ordinal)].Trim() };
                ctx.GfpMask = Field(m, "gfp_mask=", ',');
                if (Field(m, "order=", ',') is { } o && int.TryParse(o, out int order)) ctx.Order = order;
                continue;
            }
            if (m.StartsWith("oom-kill:", StringComparison.Ordinal))
            {
                ctx.Constraint = Field(m, "constraint=", ',');
                ctx.OomMemcg = Field(m, "oom_memcg=", ',');
                ctx.TaskMemcg = Field(m, "task_memcg=", ',');
                continue;
            }
            if (m.StartsWith("Task in ", StringComparison.Ordinal) && m.Contains(" killed as a result of limit of ", StringComparison.Ordinal))
            {
                int k = m.IndexOf(" killed as a result of limit of ", StringComparison.Ordinal);
                ctx.TaskMemcg = m[8..k].Trim();
                ctx.OomMemcg = m[(k + " killed as a result of limit of ".Length)..].Trim();
                ctx.Constraint ??= "CONSTRAINT_MEMCG";
                continue;
            }
            if (m.StartsWith("[", StringComparison.Ordinal) && m.IndexOf(']') is int hc and > 0 && m.AsSpan(1, hc - 1).Trim().SequenceEqual("pid")
                && m.Contains("name", StringComparison.Ordinal))
            {
                ctx.TableHeader = TableColumns(m);
                continue;
            }
            if (m.StartsWith("[", StringComparison.Ordinal) && ctx.TableHeader is { } header && TableRow(m, header) is { } row)
            {
                ctx.AdjByPid[row.Pid] = row.Adj;
                continue;
            }
            if (m.StartsWith("Memory cgroup out of memory:", StringComparison.Ordinal)) ctx.MemcgOom = true;
            int killed = m.IndexOf("Killed process ", StringComparison.Ordinal);
            if (killed < 0) continue;
            OomKill? kill = ParseKill(m[(killed + "Killed process ".Length)..], raw, l, ctx, bootTime);
            if (kill is not null) kills.Add(kill);
            ctx = new Context();
        }
        return kills;
    }

    private sealed class Context
    {
        public string? Invoker, GfpMask, Constraint, OomMemcg, TaskMemcg;
        public int? Order;
        public bool MemcgOom;
        public string[]? TableHeader;
        public Dictionary<int, long> AdjByPid { get; } = [];
    }

    private static OomKill? ParseKill(string rest, string raw, LogLine l, Context ctx, DateTimeOffset? bootTime)
    {
        // "1234 (foo bar) total-vm:..." — comm may contain spaces and parentheses: take up to the last ") ".
        int sp = rest.IndexOf(' ');
        if (sp <= 0 || !int.TryParse(rest.AsSpan(0, sp), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) return null;
        int open = rest.IndexOf('(', sp);
        int close = rest.LastIndexOf(") ", StringComparison.Ordinal);
        if (close < 0 && rest.EndsWith(')')) close = rest.Length - 1;
        if (open < 0 || close <= open) return null;
        string comm = rest[(open + 1)..close];
        string tail = rest[(close + 1)..];
        OomTrigger trigger = ctx.Constraint switch
        {
            "CONSTRAINT_MEMCG" => OomTrigger.MemoryCgroup,
            "CONSTRAINT_NONE" => OomTrigger.Global,
            "CONSTRAINT_CPUSET" => OomTrigger.Cpuset,
            "CONSTRAINT_MEMORY_POLICY" => OomTrigger.MemoryPolicy,
            _ => ctx.MemcgOom || ctx.OomMemcg is not null ? OomTrigger.MemoryCgroup : ctx.Invoker is not null ? OomTrigger.Global : OomTrigger.Unknown,
        };
        long? adj = SignedField(tail, "oom_score_adj:");
        if (adj is null && ctx.AdjByPid.TryGetValue(pid, out long a)) adj = a;
        return new OomKill
        {
            SecondsSinceBoot = l.SecondsSinceBoot,
            TimeText = l.TimeText,
            Time = l.SecondsSinceBoot is double s && bootTime is DateTimeOffset b ? b.AddSeconds(s) : null,
            Pid = pid,
            Command = comm,
            TotalVmBytes = Kb(tail, "total-vm:"),
            AnonRssBytes = Kb(tail, "anon-rss:"),
            FileRssBytes = Kb(tail, "file-rss:"),
            ShmemRssBytes = Kb(tail, "shmem-rss:"),
            Uid = SignedField(tail, "UID:") is long uid and >= 0 ? (uint)uid : null,
            PageTablesBytes = Kb(tail, "pgtables:"),
            OomScoreAdj = adj,
            Trigger = trigger,
            OomCgroup = ctx.OomMemcg,
            TaskCgroup = ctx.TaskMemcg,
            Invoker = ctx.Invoker,
            GfpMask = ctx.GfpMask,
            Order = ctx.Order,
            Line = raw,
        };
    }

    /// <summary>Splits the time prefix of kmsg, dmesg, dmesg -T and journal/syslog lines from the message.</summary>
    public static LogLine Split(string raw)
    {
        string s = raw.TrimEnd('\r', '\n');
        // /dev/kmsg: "pri,seq,usec,flags[,...];message"
        int semi = s.IndexOf(';');
        if (semi > 0 && s.AsSpan(0, semi).IndexOfAnyExcept("0123456789,-+cx") < 0 && s.AsSpan(0, semi).Count(',') >= 3)
        {
            string[] parts = s[..semi].Split(',');
            double? t = ulong.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out ulong usec) ? usec / 1e6 : null;
            return new LogLine(t, null, s[(semi + 1)..]);
        }
        string? timeText = null;
        // journal / syslog: "Nov 27 09:00:00 host kernel: [  12.3] message" or ISO "2026-11-27T09:00:00+0000 host kernel: message"
        int kernel = s.IndexOf(" kernel: ", StringComparison.Ordinal);
        if (kernel > 0)
        {
            string head = s[..kernel];
            int lastSpace = head.LastIndexOf(' ');
            timeText = lastSpace > 0 ? head[..lastSpace] : head;
            s = s[(kernel + " kernel: ".Length)..];
        }
        if (s.StartsWith('['))
        {
            int close = s.IndexOf(']');
            if (close > 0)
            {
                string inside = s[1..close].Trim();
                string msg = s[(close + 1)..].TrimStart();
                // dmesg times always have a fraction ("[ 5678.901234]"); a task-dump row "[  1234]" does not.
                if (inside.Contains('.') && double.TryParse(inside, NumberStyles.Float, CultureInfo.InvariantCulture, out double secs))
                    return new LogLine(secs, timeText, msg);
                if (inside.Length >= 20 && char.IsLetter(inside[0]) && !inside.Contains("pid", StringComparison.Ordinal)) // dmesg -T
                    return new LogLine(null, timeText ?? inside, msg);
            }
        }
        return new LogLine(null, timeText, s);
    }

    private static string? Field(string s, string key, char end)
    {
        int i = s.IndexOf(key, StringComparison.Ordinal);
        if (i < 0) return null;
        i += key.Length;
        int e = s.IndexOf(end, i);
        return (e < 0 ? s[i..] : s[i..e]).Trim();
    }

    private static ulong? Kb(string s, string key)
    {
        int i = s.IndexOf(key, StringComparison.Ordinal);
        if (i < 0) return null;
        i += key.Length;
        int e = i;
        while (e < s.Length && char.IsAsciiDigit(s[e])) e++;
        return ulong.TryParse(s.AsSpan(i, e - i), NumberStyles.None, CultureInfo.InvariantCulture, out ulong kb) ? kb * 1024 : null;
    }

    private static long? SignedField(string s, string key)
    {
        int i = s.IndexOf(key, StringComparison.Ordinal);
        if (i < 0) return null;
        i += key.Length;
        int e = i;
        if (e < s.Length && s[e] == '-') e++;
        while (e < s.Length && char.IsAsciiDigit(s[e])) e++;
        return long.TryParse(s.AsSpan(i, e - i), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v) ? v : null;
    }

    /// <summary>The dump table header: "[  pid  ]   uid  tgid total_vm      rss pgtables_bytes swapents oom_score_adj name".</summary>
    private static string[] TableColumns(string m)
    {
        int close = m.IndexOf(']');
        var cols = new List<string> { "pid" };
        cols.AddRange(m[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        return cols.ToArray();
    }

    private static (int Pid, long Adj)? TableRow(string m, string[] header)
    {
        int close = m.IndexOf(']');
        if (close < 0) return null;
        if (!int.TryParse(m.AsSpan(1, close - 1).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) return null;
        string[] rest = m[(close + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        int adjCol = Array.IndexOf(header, "oom_score_adj");
        if (adjCol < 1 || adjCol - 1 >= rest.Length) return null;
        return long.TryParse(rest[adjCol - 1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long adj) ? (pid, adj) : null;
    }
}
