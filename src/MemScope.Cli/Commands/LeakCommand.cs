using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using MemScope.Analysis;
using MemScope.Procfs;

namespace MemScope.Cli.Commands;

/// <summary>
/// `memscope leak PID`: samples a process and fits its growth (trend mode, any readable process);
/// `--all` ranks every process by sustained growth; `--trace` (root) follows allocations with uprobes.
/// </summary>
internal static class LeakCommand
{
    private static readonly Argument<int?> Pid = new("pid") { Description = "The process to watch", Arity = ArgumentArity.ZeroOrOne };
    private static readonly Option<bool> All = new("--all", "-a") { Description = "Rank every process by sustained growth over the window (cheap files only)" };
    private static readonly Option<TimeSpan> Duration = LeakArgs.DurationOption("--duration", TimeSpan.FromSeconds(30), "How long to watch (e.g. 30s, 2m); in --trace mode, until Ctrl-C when not given");
    private static readonly Option<TimeSpan> Interval = LeakArgs.DurationOption("--interval", TimeSpan.FromSeconds(1), "Time between samples (trace mode: between reports)");
    private static readonly Option<bool> Json = new("--json") { Description = "Machine-readable output (snake_case, bytes)" };
    private static readonly Option<int> Top = new("--top", "-n") { Description = "How many processes (--all) or stacks (--trace) to show", DefaultValueFactory = _ => 10 };
    private static readonly Option<bool> Trace = new("--trace") { Description = "Trace allocations with uprobes and show the stacks of outstanding memory (root)" };
    private static readonly Option<TimeSpan> OlderThan = LeakArgs.DurationOption("--older-than", TimeSpan.Zero, "Trace mode: ignore allocations younger than this (e.g. 5s)");
    private static readonly Option<int> SampleEvery = new("--sample-every") { Description = "Trace mode: record the stack of only every Nth allocation (bounds the overhead)", DefaultValueFactory = _ => 1 };

    public static Command Create()
    {
        var cmd = new Command("leak", "Is a process leaking memory? Trend of its footprint, where it grows, and (with --trace) which code path");
        cmd.Arguments.Add(Pid);
        foreach (Option o in new Option[] { All, Duration, Interval, Json, Top, Trace, OlderThan, SampleEvery }) cmd.Options.Add(o);
        cmd.SetAction((parse, ct) =>
        {
            // Ctrl-C, SIGTERM and SIGHUP stop the sampling loop (the analysis of the samples so far is printed) instead
            // of the runtime's default exit.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            var signals = new List<System.Runtime.InteropServices.PosixSignalRegistration>();
            foreach (var sig in new[] { System.Runtime.InteropServices.PosixSignal.SIGINT, System.Runtime.InteropServices.PosixSignal.SIGTERM, System.Runtime.InteropServices.PosixSignal.SIGHUP })
                signals.Add(System.Runtime.InteropServices.PosixSignalRegistration.Create(sig, c => { c.Cancel = true; stop.Cancel(); }));
            try { return Task.FromResult(Run(parse, stop.Token)); }
            finally { foreach (var r in signals) r.Dispose(); }
        });
        return cmd;
    }

    private static int Run(ParseResult parse, CancellationToken ct)
    {
        TextWriter stdout = parse.InvocationConfiguration.Output, stderr = parse.InvocationConfiguration.Error;
        ProcFs proc = GlobalOptions.OpenProc(parse);
        var sys = GlobalOptions.OpenSys(parse);
        TimeSpan interval = parse.GetValue(Interval);
        TimeSpan duration = parse.GetValue(Duration);
        bool json = parse.GetValue(Json);
        int top = parse.GetValue(Top);
        if (interval <= TimeSpan.Zero) throw new CliException(ExitCodes.Usage, "--interval must be more than 0");
        if (top <= 0) throw new CliException(ExitCodes.Usage, "--top must be at least 1");
        int? pid = parse.GetValue(Pid);

        if (parse.GetValue(All))
        {
            if (pid is not null) throw new CliException(ExitCodes.Usage, "give either a PID or --all, not both");
            if (parse.GetValue(Trace)) throw new CliException(ExitCodes.Usage, "--trace follows one process: give a PID instead of --all");
            return LeakAll.Run(proc, duration, interval, top, json, stdout, stderr, ct);
        }
        if (pid is not int p) throw new CliException(ExitCodes.Usage, "give a PID to watch, or --all to rank every process");
        CheckTarget(proc, p);

        if (parse.GetValue(Trace))
        {
            int every = parse.GetValue(SampleEvery);
            if (every < 1) throw new CliException(ExitCodes.Usage, "--sample-every must be at least 1");
            bool durationGiven = parse.GetResult(Duration) is { Implicit: false };
            return LeakTraceCommand.Run(proc, p, durationGiven ? duration : null, interval, top, parse.GetValue(OlderThan), every, json, stdout, stderr, ct);
        }
        return RunTrend(proc, sys, p, duration, interval, json, stdout, stderr, ct);
    }

    /// <summary>Refuses with one clear line what cannot be watched: a missing PID or a kernel thread.</summary>
    internal static ProcPidStat CheckTarget(ProcFs proc, int pid)
    {
        ProcPidStat stat;
        try { stat = ProcPidStat.Read(proc.PidPath(pid, "stat")); }
        catch (KernelFileException e) when (e.Error == KernelFileError.Gone)
        {
            throw new CliException(ExitCodes.NotFound, $"no process {pid}");
        }
        if (((stat.Field(9) ?? 0) & 0x00200000) != 0)
            throw new CliException(ExitCodes.Unsupported,
                $"pid {pid} ({stat.Comm}) is a kernel thread: it has no user address space, so it cannot leak user memory and has no libc to trace (watch Slab/SUnreclaim in 'memscope free' for kernel memory)");
        return stat;
    }

    private static int RunTrend(ProcFs proc, MemScope.Sysfs.SysFs sys, int pid, TimeSpan duration, TimeSpan interval, bool json,
        TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        string comm = ProcPidStat.Read(proc.PidPath(pid, "stat")).Comm;
        var sampler = new LeakSampler(proc, sys, pid);
        var samples = new List<LeakSample>();
        string? endedBecause = null;
        int exit = ExitCodes.Ok;
        var clock = Stopwatch.StartNew();
        for (int i = 0; ; i++)
        {
            try { samples.Add(sampler.Sample()); }
            catch (KernelFileException e) when (e.Error == KernelFileError.Gone)
            {
                endedBecause = $"pid {pid} exited after {clock.Elapsed.TotalSeconds:0.0}s; the analysis covers the {samples.Count} samples taken before";
                exit = ExitCodes.NotFound;
                break;
            }
            catch (KernelFileException e) when (e.Error == KernelFileError.Malformed && i == 0 && e.Message.Contains("VmRSS"))
            {
                throw new CliException(ExitCodes.Unsupported, $"pid {pid} ({comm}) has no user memory (a kernel thread or a zombie)");
            }
            TimeSpan next = interval * (i + 1);
            if (next > duration) break;
            TimeSpan wait = next - clock.Elapsed;
            if (wait > TimeSpan.Zero && ct.WaitHandle.WaitOne(wait)) { endedBecause = "interrupted; the analysis covers the samples so far"; exit = ExitCodes.Interrupted; break; }
        }
        if (endedBecause is not null) stderr.WriteLine($"memscope: {endedBecause}");
        if (samples.Count < 2)
        {
            if (exit == ExitCodes.Ok) throw new CliException(ExitCodes.Usage, "--duration must cover at least two --interval steps");
            return exit;
        }
        LeakReport report = LeakTrendReport.Analyze(samples);
        if (json)
        {
            stdout.WriteLine(LeakJsonContext.Serialize(LeakJsonMapper.ToDto(pid, comm, report, sampler.SmapsDenied, endedBecause)));
        }
        else
        {
            LeakRender.Trend(stdout, pid, comm, report, sampler.SmapsDenied);
        }
        return exit;
    }
}

/// <summary>Human rendering of a trend report.</summary>
internal static class LeakRender
{
    public static string Verdict(LeakVerdict v) => v switch
    {
        LeakVerdict.Leak => "leak",
        LeakVerdict.Plateau => "plateau",
        LeakVerdict.Stable => "stable",
        LeakVerdict.Shrinking => "shrinking",
        _ => "unknown",
    };

    public static string Segment(MemorySegment s) => s switch
    {
        MemorySegment.Heap => "heap",
        MemorySegment.Anon => "anon",
        MemorySegment.File => "file",
        MemorySegment.Shmem => "shmem",
        MemorySegment.Stack => "stack",
        _ => "other",
    };

    private static string Signed(double bytesPerSec) => (bytesPerSec >= 0 ? "+" : "") + LeakTrend.Rate(bytesPerSec);

    public static void Trend(TextWriter o, int pid, string comm, LeakReport r, bool smapsDenied)
    {
        TrendAssessment a = r.Footprint;
        o.WriteLine($"pid {pid} ({comm}): {r.SampleCount} samples over {r.WindowSeconds:0.0}s");
        o.WriteLine($"verdict: {Verdict(a.Verdict).ToUpperInvariant()}  growth {Signed(a.Fit.SlopePerSec)} ±{LeakTrend.Rate(a.Fit.SlopeStdErr)} (R² {a.Fit.RSquared:0.00}) of RSS+swap, {LeakTrend.Size(a.FirstBytes)} → {LeakTrend.Size(a.LastBytes)}");
        o.WriteLine($"  why: {a.Reason}");
        if (a.EarlyFit is { } e && a.LateFit is { } l)
            o.WriteLine($"  first two thirds {Signed(e.SlopePerSec)}, last third {Signed(l.SlopePerSec)}");
        string F(LinearFit? f) => f is { } x ? Signed(x.SlopePerSec) : "?";
        o.WriteLine($"  rss {F(r.Rss)}  pss {F(r.Pss)}  anon {F(r.Anon)}  swap {F(r.Swap)}");
        if (r.Segments.Count > 0)
        {
            o.WriteLine("segments (resident+swap growth): " + string.Join("  ", r.Segments.Select(s => $"{Segment(s.Segment)} {Signed(s.Fit.SlopePerSec)}")));
            o.WriteLine("growing: " + (r.GrowingSegments.Count == 0 ? "none" : string.Join(", ", r.GrowingSegments.Select(Segment))));
        }
        else if (smapsDenied)
        {
            o.WriteLine("segments: unknown (smaps not readable: run as root or as the process owner)");
        }
        if (r.NewMappings.Count > 0)
        {
            o.WriteLine($"new mappings ({r.NewMappings.Count}):");
            foreach (MappingChange m in r.NewMappings.Take(8))
                o.WriteLine($"  {m.Start:x12}-{m.End:x12} {m.Perms} {Segment(m.Segment),-5} {LeakTrend.Size(m.LastBytes),10} {m.Path}");
        }
        if (r.GrownMappings.Count > 0)
        {
            o.WriteLine("grown mappings:");
            foreach (MappingChange m in r.GrownMappings.Take(8))
                o.WriteLine($"  {m.Start:x12}-{m.End:x12} {m.Perms} {Segment(m.Segment),-5} +{LeakTrend.Size(m.GrowthBytes),9} {m.Path}");
        }
        if (r.SecondsToExhaustion is double eta)
        {
            double headroom = r.ExhaustionOf == "MemAvailable" ? r.MemAvailableBytes ?? 0 : r.CgroupHeadroomBytes ?? 0;
            o.WriteLine($"projection: {r.ExhaustionOf} ({LeakTrend.Size(headroom)} left) runs out in {LeakTrend.Duration(eta)} at this rate");
        }
    }
}
