using System.Globalization;

namespace MemScope.Tracing;

/// <summary>
/// Kernel state MemScope borrows (perf fds, tracefs probes and instances) and gives back. Everything defined in
/// tracefs is named <c>memscope_PID[_what]</c> (group names of probes, instance directories), so that
/// <see cref="CleanupStale"/> can remove what a crashed run (PID no longer alive) left behind, without touching the
/// state of a memscope that is still running. Perf fds die with their process; the ones still open at exit are
/// closed by the ProcessExit hook.
/// </summary>
public static class BorrowedState
{
    public const string Prefix = "memscope_";
    private static readonly object Gate = new();
    private static readonly HashSet<IDisposable> Live = new(ReferenceEqualityComparer.Instance);
    private static bool _hooked;

    /// <summary>The probe group of this process: memscope_PID.</summary>
    public static string OwnGroup => $"{Prefix}{Environment.ProcessId}";

    /// <summary>Registers something to dispose at process exit if its owner forgets (or is interrupted).</summary>
    public static void Track(IDisposable item)
    {
        lock (Gate)
        {
            Live.Add(item);
            if (!_hooked)
            {
                _hooked = true;
                AppDomain.CurrentDomain.ProcessExit += (_, _) => ReleaseAll();
            }
        }
    }

    public static void Untrack(IDisposable item)
    {
        lock (Gate) Live.Remove(item);
    }

    /// <summary>Number of tracked live items (perf events, probes) of this process.</summary>
    public static int LiveCount
    {
        get { lock (Gate) return Live.Count; }
    }

    /// <summary>Disposes every tracked item (used at exit; safe to call twice).</summary>
    public static void ReleaseAll()
    {
        IDisposable[] items;
        lock (Gate)
        {
            // perf fds first: a probe cannot be deleted while an event still holds it
            items = Live.OrderBy(x => x is PerfEvent ? 0 : 1).ToArray();
            Live.Clear();
        }
        foreach (IDisposable d in items)
        {
            try { d.Dispose(); }
            catch (Exception) { /* exit path: best effort */ }
        }
    }

    /// <summary>The PID encoded in a memscope_PID[_...] name, or null.</summary>
    public static int? OwnerPid(string name)
    {
        if (!name.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        ReadOnlySpan<char> rest = name.AsSpan(Prefix.Length);
        int end = 0;
        while (end < rest.Length && char.IsAsciiDigit(rest[end])) end++;
        return end > 0 && int.TryParse(rest[..end], NumberStyles.None, CultureInfo.InvariantCulture, out int pid) ? pid : null;
    }

    /// <summary>True when a memscope_* name belongs to no living process (crashed run or unparseable owner).</summary>
    public static bool IsStale(string name, string procRoot = "/proc")
    {
        if (!name.StartsWith(Prefix, StringComparison.Ordinal)) return false;
        int? pid = OwnerPid(name);
        if (pid is null) return true;
        if (pid == Environment.ProcessId) return false;
        return !Directory.Exists(Path.Combine(procRoot, pid.Value.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>memscope_* entries currently defined in tracefs: probe "group/event" names and instance names.</summary>
    public static List<string> ListDefined(Tracefs tracefs)
    {
        var found = new List<string>();
        foreach (string file in new[] { "dynamic_events", "kprobe_events", "uprobe_events" })
        {
            string? text = tracefs.ReadText(file);
            if (text is null) continue;
            foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
                if (ProbeName(line) is { } n && n.StartsWith(Prefix, StringComparison.Ordinal) && !found.Contains(n)) found.Add(n);
        }
        string instances = Path.Combine(tracefs.Root, "instances");
        if (Directory.Exists(instances))
            foreach (string dir in Directory.EnumerateDirectories(instances, Prefix + "*"))
                found.Add("instances/" + Path.GetFileName(dir));
        return found;
    }

    /// <summary>"p:group/event target..." → "group/event" (null when the line is not a probe definition).</summary>
    internal static string? ProbeName(string line)
    {
        int colon = line.IndexOf(':');
        int space = line.IndexOf(' ');
        if (colon <= 0 || (space >= 0 && space < colon)) return null;
        int end = space < 0 ? line.Length : space;
        string name = line[(colon + 1)..end];
        return name.Contains('/') ? name : null;
    }

    /// <summary>
    /// Removes memscope_* probes and instances whose owner process is gone. Returns what was removed. Entries still
    /// in use (EBUSY: a perf fd of a live process holds them) are left alone.
    /// </summary>
    public static List<string> CleanupStale(Tracefs tracefs, string procRoot = "/proc")
    {
        var removed = new List<string>();
        foreach (string entry in ListDefined(tracefs))
        {
            if (entry.StartsWith("instances/", StringComparison.Ordinal))
            {
                string inst = entry["instances/".Length..];
                if (!IsStale(inst, procRoot)) continue;
                try
                {
                    Directory.Delete(Path.Combine(tracefs.Root, entry));
                    removed.Add(entry);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
                continue;
            }
            string group = entry[..entry.IndexOf('/')];
            if (!IsStale(group, procRoot)) continue;
            if (RemoveProbe(tracefs, entry) == 0) removed.Add(entry);
        }
        return removed;
    }

    /// <summary>Disables (in tracefs) and deletes one probe "group/event". Returns 0 or an errno.</summary>
    public static int RemoveProbe(Tracefs tracefs, string groupSlashEvent)
    {
        string enable = Path.Combine(tracefs.Root, "events", groupSlashEvent, "enable");
        if (File.Exists(enable)) tracefs.WriteCommand(Path.Combine("events", groupSlashEvent, "enable"), "0");
        int rc = tracefs.WriteCommand("dynamic_events", "-:" + groupSlashEvent);
        if (rc == PerfEventNative.ENOENT) // pre-5.0 kernels: no dynamic_events
        {
            rc = tracefs.WriteCommand("uprobe_events", "-:" + groupSlashEvent);
            if (rc != 0) rc = tracefs.WriteCommand("kprobe_events", "-:" + groupSlashEvent);
        }
        return rc;
    }

    /// <summary>
    /// Defines a probe in tracefs named memscope_PID[_suffix]/<paramref name="eventName"/>, e.g.
    /// <c>DefineProbe(t, "uprobe_events", 'p', "malloc", "/usr/lib/x86_64-linux-gnu/libc.so.6:0x9a0f0 size=%di:u64")</c>.
    /// The returned probe removes itself on Dispose (mounting tracefs again if needed) and at process exit.
    /// </summary>
    public static TracefsProbe DefineProbe(Tracefs tracefs, string controlFile, char kind, string eventName, string definition, string? groupSuffix = null)
    {
        string group = groupSuffix is null ? OwnGroup : $"{OwnGroup}_{groupSuffix}";
        string name = $"{group}/{eventName}";
        int rc = tracefs.WriteCommand(controlFile, $"{kind}:{name} {definition}");
        if (rc != 0)
        {
            string? log = tracefs.ReadText("error_log");
            string detail = log is null ? "" : " — " + log.Trim().Split('\n')[^1].Trim();
            throw new TracefsUnavailableException($"cannot define {name} in {controlFile}: {PerfEventNative.StrError(rc)}{detail}");
        }
        ulong? id = tracefs.EventId(group, eventName);
        var probe = new TracefsProbe(name, group, eventName, id, tracefs.EventFormat(group, eventName));
        Track(probe);
        return probe;
    }
}

/// <summary>A probe this process defined in tracefs; Dispose removes it.</summary>
public sealed class TracefsProbe : IDisposable
{
    internal TracefsProbe(string fullName, string group, string eventName, ulong? id, TracepointFormat? format)
    {
        FullName = fullName;
        Group = group;
        EventName = eventName;
        TracepointId = id;
        Format = format;
    }

    /// <summary>"memscope_PID/event".</summary>
    public string FullName { get; }
    public string Group { get; }
    public string EventName { get; }
    /// <summary>Open it with PERF_TYPE_TRACEPOINT and this config.</summary>
    public ulong? TracepointId { get; }
    public TracepointFormat? Format { get; }
    public bool Removed { get; private set; }

    /// <summary>Removes the probe (close its perf events first, or the kernel answers EBUSY).</summary>
    public void Dispose()
    {
        if (Removed) return;
        try
        {
            using Tracefs t = Tracefs.Open();
            int rc = BorrowedState.RemoveProbe(t, FullName);
            Removed = rc is 0 or PerfEventNative.ENOENT;
        }
        catch (TracefsUnavailableException) { }
        finally
        {
            BorrowedState.Untrack(this);
        }
    }
}
