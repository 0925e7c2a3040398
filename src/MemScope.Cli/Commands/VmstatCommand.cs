using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using MemScope.Procfs;

namespace MemScope.Cli.Commands;

/// <summary>
/// `memscope vmstat [delay [count]]`: procps-ng 4.0.2 vmstat(8) compatible (-a -n -s -S -w -t -y -f), the same
/// numbers for the same /proc/stat, /proc/vmstat and /proc/meminfo; --json prints one object per sample per line.
/// </summary>
internal static class VmstatCommand
{
    public static Command Create()
    {
        var cmd = new Command("vmstat", "Virtual memory statistics (procps vmstat(8) compatible)");
        var delayArg = new Argument<string?>("delay") { Description = "seconds between updates (whole seconds, >= 1)", Arity = ArgumentArity.ZeroOrOne };
        var countArg = new Argument<string?>("count") { Description = "number of updates (default: forever when a delay is given)", Arity = ArgumentArity.ZeroOrOne };
        var active = new Option<bool>("--active", "-a") { Description = "active/inactive memory instead of buff/cache" };
        var oneHeader = new Option<bool>("--one-header", "-n") { Description = "do not redisplay the header" };
        var stats = new Option<bool>("--stats", "-s") { Description = "event counter statistics" };
        var forks = new Option<bool>("--forks", "-f") { Description = "number of forks since boot" };
        var unit = new Option<string?>("--unit", "-S") { Description = "display unit: k (1000), K (1024, default), m (1000000), M (1048576), b", HelpName = "char" };
        var wide = new Option<bool>("--wide", "-w") { Description = "wide output" };
        var timestamp = new Option<bool>("--timestamp", "-t") { Description = "show a timestamp on each line" };
        var noFirst = new Option<bool>("--no-first", "-y") { Description = "skip the first line (averages since boot)" };
        var json = new Option<bool>("--json") { Description = "one JSON object per sample, one per line (bytes, per-second rates)" };
        var explain = new Option<bool>("--explain") { Description = "explain each column under the table (--lang zh for Chinese)" };
        cmd.Arguments.Add(delayArg);
        cmd.Arguments.Add(countArg);
        foreach (Option o in new Option[] { active, oneHeader, stats, forks, unit, wide, timestamp, noFirst, json, explain }) cmd.Options.Add(o);
        SnapshotSource history = SnapshotSource.Add(cmd);
        var from = new Option<string?>("--from") { Description = "with --db: print the recorded series from T1 (default: the first sample)", HelpName = "T1" };
        var to = new Option<string?>("--to") { Description = "with --db: print the recorded series up to T2 (default: the last sample)", HelpName = "T2" };
        cmd.Options.Add(from);
        cmd.Options.Add(to);

        cmd.SetAction(async (parse, ct) =>
        {
            var options = new VmstatOptions
            {
                Active = parse.GetValue(active),
                Wide = parse.GetValue(wide),
                Timestamp = parse.GetValue(timestamp),
            };
            if (parse.GetValue(unit) is string u)
            {
                ulong dataUnit = u.Length == 0 ? 0 : u[0] switch
                {
                    'b' or 'B' => 1UL, 'k' => 1000UL, 'K' => 1024UL, 'm' => 1_000_000UL, 'M' => 1_048_576UL, _ => 0UL,
                };
                if (dataUnit == 0) throw new CliException(ExitCodes.Usage, "vmstat: -S requires k, K, m or M (default is KiB)");
                options = options with { DataUnit = dataUnit, UnitLetter = u[0].ToString() };
            }

            bool series = parse.GetValue(from) is not null || parse.GetValue(to) is not null;
            if (series || history.IsReplay(parse))
            {
                if (parse.GetValue(delayArg) is not null || parse.GetValue(countArg) is not null)
                    throw new CliException(ExitCodes.Usage, "vmstat: delay and count sample the live system; with --db/--at/--from/--to the recording sets the times (drop them)");
                int code = VmstatReplay.Run(parse, history, parse.GetValue(from), parse.GetValue(to), options,
                    new VmstatReplay.Flags(parse.GetValue(stats), parse.GetValue(forks), parse.GetValue(noFirst), parse.GetValue(oneHeader), parse.GetValue(json)));
                WriteExplain();
                return code;
            }

            int delay = 1;
            bool infinite = false;
            long updates = 1;
            if (parse.GetValue(delayArg) is string d)
            {
                if (!long.TryParse(d, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long dl))
                    throw new CliException(ExitCodes.Usage, $"vmstat: failed to parse delay: '{d}' (a whole number of seconds)");
                if (dl < 1) throw new CliException(ExitCodes.Usage, $"vmstat: delay must be a positive integer (got {d})");
                if (dl > int.MaxValue / 1000) throw new CliException(ExitCodes.Usage, $"vmstat: too large delay value: {d}");
                delay = (int)dl;
                infinite = true;
            }
            if (parse.GetValue(countArg) is string c)
            {
                if (!long.TryParse(c, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n))
                    throw new CliException(ExitCodes.Usage, $"vmstat: failed to parse count: '{c}'");
                if (n < 0) throw new CliException(ExitCodes.Usage, $"vmstat: count must not be negative (got {c})");
                updates = n;
                infinite = false;
            }

            ProcFs proc = GlobalOptions.OpenProc(parse);
            TextWriter output = parse.InvocationConfiguration.Output;
            bool asJson = parse.GetValue(json);

            if (parse.GetValue(forks))
            {
                ProcStat st = proc.ReadStat();
                output.Write((st.ProcessesCreated?.ToString(CultureInfo.InvariantCulture) ?? "-").PadLeft(13) + " forks\n");
                return ExitCodes.Ok;
            }
            if (parse.GetValue(stats))
            {
                VmstatSample x = VmstatSample.Read(proc);
                if (asJson) output.Write(JsonSerializer.Serialize(VmstatJson.Stats(x), VmstatJsonContext.Default.VmstatStatsJson) + "\n");
                else output.Write(VmstatRenderer.RenderStats(x, options));
                return ExitCodes.Ok;
            }

            bool moreHeaders = !parse.GetValue(oneHeader);
            int height = 22;
            if (moreHeaders)
            {
                int rows = 24;
                try { if (!Console.IsOutputRedirected && Console.WindowHeight > 0) rows = Console.WindowHeight; } catch (IOException) { }
                height = rows - 3 > 0 ? rows - 3 : 22;
            }

            bool skipFirst = parse.GetValue(noFirst);
            if (skipFirst) updates++;
            int idleDebt = 0;
            try
            {
                VmstatSample previous = VmstatSample.Read(proc);
                if (!asJson) output.Write(VmstatRenderer.RenderHeader(options, DateTimeOffset.Now));
                if (!skipFirst) Emit(null, previous);
                for (long i = 1; infinite || i < updates; i++)
                {
                    await Task.Delay(TimeSpan.FromSeconds(delay), ct);
                    if (!asJson && moreHeaders && i % height == 0) output.Write(VmstatRenderer.RenderHeader(options, DateTimeOffset.Now));
                    VmstatSample current = VmstatSample.Read(proc);
                    Emit(previous, current);
                    previous = current;
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return ExitCodes.Ok;
            }
            WriteExplain();
            return ExitCodes.Ok;

            void WriteExplain()
            {
                if (!parse.GetValue(explain) || parse.GetValue(json) || parse.GetValue(stats) || parse.GetValue(forks)) return;
                string[] memory = options.Active ? ["vmstat.swpd", "vmstat.free", "vmstat.inact", "vmstat.active"] : ["vmstat.swpd", "vmstat.free", "vmstat.buff", "vmstat.cache"];
                string[] cpu = options.Wide ? ["vmstat.us", "vmstat.sy", "vmstat.id", "vmstat.wa", "vmstat.st", "vmstat.gu"] : ["vmstat.us", "vmstat.sy", "vmstat.id", "vmstat.wa", "vmstat.st"];
                ExplainFooter.Write(parse.InvocationConfiguration.Output, GlobalOptions.LanguageOf(parse),
                    ["vmstat.r", "vmstat.b", .. memory, "vmstat.si", "vmstat.so", "vmstat.bi", "vmstat.bo", "vmstat.in", "vmstat.cs", .. cpu]);
            }

            void Emit(VmstatSample? before, VmstatSample now)
            {
                if (asJson)
                    output.Write(JsonSerializer.Serialize(VmstatJson.Sample(before, now, delay), VmstatJsonContext.Default.VmstatSampleJson) + "\n");
                else
                    output.Write(VmstatRenderer.RenderLine(VmstatRenderer.Values(before, now, delay, options, ref idleDebt), options, now.Time));
                output.Flush();
            }
        });
        return cmd;
    }
}

/// <summary>`vmstat --json`: one sample. Rates are per second over the measured interval (or since boot).</summary>
internal sealed record VmstatSampleJson
{
    public required DateTimeOffset Time { get; init; }
    /// <summary>True for the first sample: averages since boot, like vmstat's first line.</summary>
    public bool SinceBoot { get; init; }
    public double? IntervalSeconds { get; init; }
    public ulong? ProcsRunning { get; init; }
    public ulong? ProcsBlocked { get; init; }
    public ulong? SwapUsedBytes { get; init; }
    public ulong? FreeBytes { get; init; }
    public ulong? BuffersBytes { get; init; }
    public ulong? CacheBytes { get; init; }
    public ulong? ActiveBytes { get; init; }
    public ulong? InactiveBytes { get; init; }
    public double? SwapInBytesPerSec { get; init; }
    public double? SwapOutBytesPerSec { get; init; }
    public double? BlockInBytesPerSec { get; init; }
    public double? BlockOutBytesPerSec { get; init; }
    public double? InterruptsPerSec { get; init; }
    public double? ContextSwitchesPerSec { get; init; }
    public double? CpuUserPct { get; init; }
    public double? CpuSystemPct { get; init; }
    public double? CpuIdlePct { get; init; }
    public double? CpuIowaitPct { get; init; }
    public double? CpuStealPct { get; init; }
    public double? CpuGuestPct { get; init; }
}

/// <summary>`vmstat -s --json`: the event counters, memory in bytes.</summary>
internal sealed record VmstatStatsJson
{
    public required DateTimeOffset Time { get; init; }
    public ulong? TotalMemoryBytes { get; init; }
    public ulong? UsedMemoryBytes { get; init; }
    public ulong? ActiveMemoryBytes { get; init; }
    public ulong? InactiveMemoryBytes { get; init; }
    public ulong? FreeMemoryBytes { get; init; }
    public ulong? BufferMemoryBytes { get; init; }
    public ulong? CacheMemoryBytes { get; init; }
    public ulong? TotalSwapBytes { get; init; }
    public ulong? UsedSwapBytes { get; init; }
    public ulong? FreeSwapBytes { get; init; }
    public ulong UserTicks { get; init; }
    public ulong NiceTicks { get; init; }
    public ulong SystemTicks { get; init; }
    public ulong IdleTicks { get; init; }
    public ulong? IowaitTicks { get; init; }
    public ulong? IrqTicks { get; init; }
    public ulong? SoftirqTicks { get; init; }
    public ulong? StealTicks { get; init; }
    public ulong? GuestTicks { get; init; }
    public ulong? GuestNiceTicks { get; init; }
    public ulong? PagedInBytes { get; init; }
    public ulong? PagedOutBytes { get; init; }
    public ulong? PagesSwappedIn { get; init; }
    public ulong? PagesSwappedOut { get; init; }
    public ulong? Interrupts { get; init; }
    public ulong? ContextSwitches { get; init; }
    public ulong? BootTimeUnixSeconds { get; init; }
    public ulong? Forks { get; init; }
}

internal static class VmstatJson
{
    public static VmstatSampleJson Sample(VmstatSample? before, VmstatSample now, int delay)
    {
        var m = now.Meminfo;
        var s = now.Stat;
        ulong page = (ulong)now.PageSize;
        ulong? swapUsed = m.SwapTotal is ulong st && m.SwapFree is ulong sf ? (sf < st ? st - sf : 0) : null;
        double? seconds;
        Func<ulong?, ulong?, double?> rate;
        CpuTicks? from = null;
        if (before is null)
        {
            // since boot: /proc/uptime, else the CPU ticks of one CPU
            int cpus = Math.Max(1, s.PerCpu.Count);
            seconds = now.UptimeSeconds ?? (double)s.Cpu.Total / VmstatRenderer.Hz / cpus;
            rate = (_, b) => b is ulong x && seconds > 0 ? x / seconds : null;
        }
        else
        {
            seconds = now.MonotonicSeconds - before.MonotonicSeconds;
            rate = (a, b) => a is ulong x && b is ulong y && y >= x && seconds > 0 ? (y - x) / seconds : null;
            from = before.Stat.Cpu;
        }
        Vmstat? va = before?.Vmstat;
        Vmstat vb = now.Vmstat;
        double? Times(double? r, ulong k) => r * k;
        CpuTicks c = s.Cpu;
        double D(ulong? a, ulong? b) => b is ulong y ? (double)(y - (a is ulong x && y >= x ? x : 0)) : 0;
        double use = D(from?.User, c.User) + D(from?.Nice, c.Nice);
        double sys = D(from?.System, c.System) + D(from?.Irq, c.Irq) + D(from?.SoftIrq, c.SoftIrq);
        double idl = D(from?.Idle, c.Idle), iow = D(from?.IoWait, c.IoWait), sto = D(from?.Steal, c.Steal);
        double gue = D(from?.Guest, c.Guest) + D(from?.GuestNice, c.GuestNice);
        double total = use + sys + idl + iow + sto;
        use = Math.Max(0, use - gue);
        double? Pct(double x) => total > 0 ? Math.Round(100 * x / total, 2) : null;
        return new VmstatSampleJson
        {
            Time = now.Time,
            SinceBoot = before is null,
            IntervalSeconds = seconds is double sec ? Math.Round(sec, 3) : null,
            ProcsRunning = s.ProcsRunning,
            ProcsBlocked = s.ProcsBlocked,
            SwapUsedBytes = swapUsed,
            FreeBytes = m.MemFree,
            BuffersBytes = m.Buffers,
            CacheBytes = m.Cached is ulong cached ? cached + (m.SReclaimable ?? 0) : null,
            ActiveBytes = m.Active,
            InactiveBytes = m.Inactive,
            SwapInBytesPerSec = Times(rate(va?["pswpin"], vb["pswpin"]), page),
            SwapOutBytesPerSec = Times(rate(va?["pswpout"], vb["pswpout"]), page),
            BlockInBytesPerSec = Times(rate(va?["pgpgin"], vb["pgpgin"]), 1024),
            BlockOutBytesPerSec = Times(rate(va?["pgpgout"], vb["pgpgout"]), 1024),
            InterruptsPerSec = rate(before?.Stat.InterruptsTotal, s.InterruptsTotal),
            ContextSwitchesPerSec = rate(before?.Stat.ContextSwitches, s.ContextSwitches),
            CpuUserPct = Pct(use),
            CpuSystemPct = Pct(sys),
            CpuIdlePct = Pct(idl),
            CpuIowaitPct = c.IoWait is null ? null : Pct(iow),
            CpuStealPct = c.Steal is null ? null : Pct(sto),
            CpuGuestPct = c.Guest is null ? null : Pct(gue),
        };
    }

    public static VmstatStatsJson Stats(VmstatSample x)
    {
        var m = x.Meminfo;
        var f = MemScope.Model.FreeFigures.From(m);
        var t = x.Stat.Cpu;
        return new VmstatStatsJson
        {
            Time = x.Time,
            TotalMemoryBytes = m.MemTotal, UsedMemoryBytes = f.UsedBytes, ActiveMemoryBytes = m.Active,
            InactiveMemoryBytes = m.Inactive, FreeMemoryBytes = m.MemFree, BufferMemoryBytes = m.Buffers,
            CacheMemoryBytes = f.CacheBytes, TotalSwapBytes = m.SwapTotal, UsedSwapBytes = f.SwapUsedBytes, FreeSwapBytes = m.SwapFree,
            UserTicks = t.User, NiceTicks = t.Nice, SystemTicks = t.System, IdleTicks = t.Idle, IowaitTicks = t.IoWait,
            IrqTicks = t.Irq, SoftirqTicks = t.SoftIrq, StealTicks = t.Steal, GuestTicks = t.Guest, GuestNiceTicks = t.GuestNice,
            PagedInBytes = x.Vmstat["pgpgin"] * 1024, PagedOutBytes = x.Vmstat["pgpgout"] * 1024,
            PagesSwappedIn = x.Vmstat["pswpin"], PagesSwappedOut = x.Vmstat["pswpout"],
            Interrupts = x.Stat.InterruptsTotal, ContextSwitches = x.Stat.ContextSwitches,
            BootTimeUnixSeconds = x.Stat.BootTimeUnixSeconds, Forks = x.Stat.ProcessesCreated,
        };
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = false)]
[JsonSerializable(typeof(VmstatSampleJson))]
[JsonSerializable(typeof(VmstatStatsJson))]
internal partial class VmstatJsonContext : JsonSerializerContext;
