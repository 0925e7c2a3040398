using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MemScope.Procfs;
using MemScope.Tracing;

namespace MemScope.Cli.Commands;

/// <summary>
/// `memscope cachestat [interval [count]]`: system-wide page-cache hits, misses and dirties per interval, like BCC's
/// cachestat but from static tracepoints through perf_event_open (no eBPF, no kprobes, no compiler) and counting
/// pages, not calls (folios of 2^order pages). Dirties are the /proc/vmstat nr_dirtied delta.
/// </summary>
internal static class CachestatCommand
{
    public static Command Create()
    {
        var cmd = new Command("cachestat", "Page-cache hits, misses and dirties per interval (tracepoints, no eBPF)");
        var intervalArg = new Argument<string?>("interval") { Description = "seconds between lines (default 1; fractions allowed)", Arity = ArgumentArity.ZeroOrOne };
        var countArg = new Argument<string?>("count") { Description = "number of lines (default: until Ctrl-C)", Arity = ArgumentArity.ZeroOrOne };
        var json = new Option<bool>("--json") { Description = "one JSON object per interval, one per line (pages; bytes where named)" };
        var timestamp = new Option<bool>("--timestamp", "-T") { Description = "prefix each line with the time" };
        cmd.Arguments.Add(intervalArg);
        cmd.Arguments.Add(countArg);
        cmd.Options.Add(json);
        cmd.Options.Add(timestamp);
        cmd.SetAction(async (parse, ct) =>
        {
            (double interval, long? count) = ParseIntervalCount(parse.GetValue(intervalArg), parse.GetValue(countArg), "cachestat");
            ProcFs proc = GlobalOptions.OpenProc(parse);
            TextWriter output = parse.InvocationConfiguration.Output;
            TextWriter err = parse.InvocationConfiguration.Error;
            bool asJson = parse.GetValue(json);
            bool stamp = parse.GetValue(timestamp);
            using PageCacheTracer tracer = StartTracer(perProcess: false, proc, GlobalOptions.OpenSys(parse).Root);
            if (!asJson)
            {
                output.WriteLine($"method: {tracer.Method}");
                foreach (string c in tracer.Caveats) output.WriteLine($"note: {c}");
                output.WriteLine($"{(stamp ? "TIME      " : "")}{"HITS",10} {"MISSES",10} {"DIRTIES",10} {"HITRATIO",9} {"BUFFERS_MB",11} {"CACHED_MB",10}");
                output.Flush();
            }
            int page = PerfEventNative.PageSize;
            PageCacheTotals prev = tracer.ReadTotals();
            ulong? prevDirtied = proc.ReadVmstat()["nr_dirtied"];
            var clock = System.Diagnostics.Stopwatch.StartNew();
            double prevT = 0;
            try
            {
                for (long i = 0; count is null || i < count; i++)
                {
                    double due = (i + 1) * interval;
                    int wait = (int)Math.Max(0, (due - clock.Elapsed.TotalSeconds) * 1000);
                    await Task.Delay(wait, ct);
                    PageCacheTotals now = tracer.ReadTotals();
                    double t = clock.Elapsed.TotalSeconds;
                    ulong? dirtied = proc.ReadVmstat()["nr_dirtied"];
                    Meminfo mi = proc.ReadMeminfo();
                    long misses = now.MissPages - prev.MissPages;
                    long accesses = now.AccessPages - prev.AccessPages;
                    long hits = Math.Max(0, accesses - misses);
                    long? dirties = dirtied is ulong d1 && prevDirtied is ulong d0 && d1 >= d0 ? (long)(d1 - d0) : null;
                    double? ratio = hits + misses > 0 ? (double)hits / (hits + misses) : null;
                    long lost = now.LostSamples - prev.LostSamples;
                    if (asJson)
                    {
                        var dto = new CachestatJsonDto
                        {
                            Time = DateTimeOffset.UtcNow, IntervalSeconds = Math.Round(t - prevT, 3), Method = tracer.MethodId,
                            Hits = hits, Misses = misses, Dirties = dirties, HitRatio = ratio is double r ? Math.Round(r, 4) : null,
                            Accesses = accesses, ReadAccesses = now.ReadAccessPages - prev.ReadAccessPages,
                            MmapAccesses = now.MmapAccessPages - prev.MmapAccessPages, MissCalls = now.MissCalls - prev.MissCalls,
                            UnknownOrderCalls = now.UnknownOrderCalls - prev.UnknownOrderCalls, LostSamples = lost,
                            BuffersBytes = mi.Buffers, CachedBytes = mi.Cached, PageSize = page,
                        };
                        output.WriteLine(JsonSerializer.Serialize(dto, CacheStreamJsonContext.Default.CachestatJsonDto));
                    }
                    else
                    {
                        string ratioText = ratio is double rr ? (rr * 100).ToString("0.00", CultureInfo.InvariantCulture) + "%" : "-";
                        output.WriteLine($"{(stamp ? DateTime.Now.ToString("HH:mm:ss  ", CultureInfo.InvariantCulture) : "")}{hits,10} {misses,10} {(dirties?.ToString(CultureInfo.InvariantCulture) ?? "-"),10} {ratioText,9} {Mib(mi.Buffers),11} {Mib(mi.Cached),10}");
                        if (lost > 0) err.WriteLine($"memscope: cachestat: {lost} samples lost this interval (ring full): accesses under-counted");
                        if (now.UnknownOrderCalls > prev.UnknownOrderCalls)
                            err.WriteLine($"memscope: cachestat: {now.UnknownOrderCalls - prev.UnknownOrderCalls} folios of order > {PageCacheTracer.MaxCountedOrder} not weighted: misses under-counted");
                    }
                    output.Flush();
                    prev = now;
                    prevDirtied = dirtied;
                    prevT = t;
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Ctrl-C: the using above gives the perf events back
            }
            return ExitCodes.Ok;
        });
        return cmd;
    }

    internal static PageCacheTracer StartTracer(bool perProcess, ProcFs proc, string sysRoot)
    {
        try
        {
            return PageCacheTracer.Start(perProcess, proc.Root, sysRoot);
        }
        catch (PageCacheTracingUnavailableException e)
        {
            throw new CliException(e.IsPermission ? ExitCodes.NoPermission : ExitCodes.Unsupported, e.Message);
        }
    }

    private static string Mib(ulong? bytes) => bytes is ulong b ? (b / (1024 * 1024)).ToString(CultureInfo.InvariantCulture) : "-";

    internal static (double Interval, long? Count) ParseIntervalCount(string? intervalText, string? countText, string name)
    {
        double interval = 1;
        long? count = null;
        if (intervalText is not null)
        {
            if (!double.TryParse(intervalText, NumberStyles.Float, CultureInfo.InvariantCulture, out interval) || !(interval > 0) || interval > 86400)
                throw new CliException(ExitCodes.Usage, $"{name}: interval must be a positive number of seconds (got '{intervalText}')");
        }
        if (countText is not null)
        {
            if (!long.TryParse(countText, NumberStyles.None, CultureInfo.InvariantCulture, out long c) || c < 1)
                throw new CliException(ExitCodes.Usage, $"{name}: count must be a positive whole number (got '{countText}')");
            count = c;
        }
        return (interval, count);
    }
}
