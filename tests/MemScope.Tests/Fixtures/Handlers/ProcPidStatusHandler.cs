using System.Globalization;
using System.Text.Json;
using MemScope.Procfs;

namespace MemScope.Tests.Fixtures.Handlers;

/// <summary>
/// /proc/PID/status. Memory lines (Vm*, Rss*, HugetlbPages) are bytes in our record: kB values × 1024. Identity,
/// capability and context-switch lines come from the typed record; the rest (SigQ, Sig* masks, Groups, FDSize,
/// Cpus_allowed words) from <see cref="ProcPidStatus.ParseAll"/>'s text.
/// </summary>
public sealed class ProcPidStatusHandler : IFixtureHandler
{
    public bool Handles(FixtureEntry e) => !e.IsDirectory && e.FileName == "status";

    public void Check(FixtureEntry e)
    {
        string text = KernelFile.ReadAllText(e.FullPath);
        ProcPidStatus s = ProcPidStatus.Read(e.FullPath);
        IReadOnlyDictionary<string, string> all = ProcPidStatus.ParseAll(text);
        if (e.ParseOnlyOrUnasserted)
        {
            e.True("Name", s.Name is { Length: > 0 }, "no Name line parsed");
            return;
        }
        foreach (var (field, expected) in e.Fields(e.Values))
            CheckField(e, s, all, field, expected);
        foreach (var (field, expected) in e.Fields(e.ValuesBytes))
            e.Number(field + " (bytes)", Memory(s, field), expected);
        foreach (string field in e.Absent)
            e.Missing(field, all.GetValueOrDefault(field));
        foreach (var (name, expected) in e.Fields(e.Derived))
        {
            if (name == "TotalCtxtSwitches") e.Number(name, s.VoluntaryCtxtSwitches + s.NonvoluntaryCtxtSwitches, expected);
            else e.NoMapping("derived." + name);
        }
    }

    private static void CheckField(FixtureEntry e, ProcPidStatus s, IReadOnlyDictionary<string, string> all, string field, JsonElement expected)
    {
        if (Memory(s, field) is var mem && IsMemory(field))
        {
            e.Number(field, mem, expected, 1024); // every source gives Vm* in kB as printed
            return;
        }
        switch (field)
        {
            case "Name": e.Text(field, s.Name, expected); return;
            case "State": e.Text(field, all.GetValueOrDefault("State"), expected); return;
            case "Tgid": e.Number(field, (ulong?)s.Tgid, expected); return;
            case "Pid": e.Number(field, (ulong?)s.Pid, expected); return;
            case "PPid": e.Number(field, (ulong?)s.PPid, expected); return;
            case "Threads": e.Number(field, (ulong?)s.Threads, expected); return;
            case "NSpid": e.NumberList(field, s.NSpid?.Select(x => (long)x).ToList(), expected); return;
            case "Uid":
                e.NumberList(field, Ids(s.RealUid, s.EffectiveUid, s.SavedUid, s.FsUid), expected, expected.GetArrayLength());
                return;
            case "Gid":
                e.NumberList(field, Ids(s.RealGid, s.EffectiveGid, s.SavedGid, s.FsGid), expected, expected.GetArrayLength());
                return;
            case "CapInh": e.Number(field, s.CapInh, expected); return;
            case "CapPrm": e.Number(field, s.CapPrm, expected); return;
            case "CapEff": e.Number(field, s.CapEff, expected); return;
            case "CapBnd": e.Number(field, s.CapBnd, expected); return;
            case "CapAmb": e.Number(field, s.CapAmb, expected); return;
            case "voluntary_ctxt_switches": e.Number(field, s.VoluntaryCtxtSwitches, expected); return;
            case "nonvoluntary_ctxt_switches": e.Number(field, s.NonvoluntaryCtxtSwitches, expected); return;
            case "Cpus_allowed_list":
                e.NumberList(field, s.CpusAllowedList is { } l ? CpuList.Parse(l).Select(x => (long)x).ToList() : null, expected);
                return;
        }
        // Lines our typed record does not model: the generic text reader, converted here.
        if (!all.TryGetValue(field, out string? raw)) { e.Fail(field, "line not found by ParseAll"); return; }
        switch (field)
        {
            case "TracerPid" or "FDSize":
                e.Number(field, ulong.Parse(raw, CultureInfo.InvariantCulture), expected);
                return;
            case "Groups":
                e.NumberList(field, raw.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(long.Parse).ToList(), expected);
                return;
            case "SigQ": // queued/limit
                e.NumberList(field, raw.Split('/').Select(long.Parse).ToList(), expected);
                return;
            case "SigPnd" or "ShdPnd" or "SigBlk" or "SigIgn" or "SigCgt":
                e.Number(field, ulong.Parse(raw, NumberStyles.HexNumber, CultureInfo.InvariantCulture), expected);
                return;
            case "Cpus_allowed": // comma-separated 32-bit hex words
                e.NumberList(field, raw.Split(',').Select(w => (long)uint.Parse(w, NumberStyles.HexNumber, CultureInfo.InvariantCulture)).ToList(), expected);
                return;
        }
        e.NoMapping(field);
    }

    private static List<long>? Ids(params uint?[] ids) =>
        ids[0] is null ? null : ids.TakeWhile(i => i is not null).Select(i => (long)i!.Value).ToList();

    private static bool IsMemory(string field) => field.StartsWith("Vm", StringComparison.Ordinal)
        || field.StartsWith("Rss", StringComparison.Ordinal) || field == "HugetlbPages";

    private static ulong? Memory(ProcPidStatus s, string field) => field switch
    {
        "VmPeak" => s.VmPeak, "VmSize" => s.VmSize, "VmLck" => s.VmLck, "VmPin" => s.VmPin, "VmHWM" => s.VmHWM,
        "VmRSS" => s.VmRSS, "RssAnon" => s.RssAnon, "RssFile" => s.RssFile, "RssShmem" => s.RssShmem,
        "VmData" => s.VmData, "VmStk" => s.VmStk, "VmExe" => s.VmExe, "VmLib" => s.VmLib, "VmPTE" => s.VmPTE,
        "VmPMD" => s.VmPMD, "VmSwap" => s.VmSwap, "HugetlbPages" => s.HugetlbPages,
        _ => null,
    };
}
