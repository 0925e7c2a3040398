using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MemScope.Analysis;
using MemScope.Procfs;
using MemScope.Tracing;

namespace MemScope.Cli.Commands;

/// <summary>
/// `memscope cachetop [interval]`: page-cache hits, misses and dirties per process, from the filemap/writeback
/// tracepoints sampled per CPU with the thread id and raw fields, aggregated here (no hist triggers, no eBPF).
/// Also lists the processes holding O_DIRECT file descriptors: their I/O bypasses the cache.
/// </summary>
internal static class CachetopCommand
{
    public static Command Create()
    {
        var cmd = new Command("cachetop", "Page-cache hits and misses per process (tracepoints, no eBPF)");
        var intervalArg = new Argument<string?>("interval") { Description = "seconds between refreshes (default 1)", Arity = ArgumentArity.ZeroOrOne };
        var batch = new Option<bool>("--batch", "-b") { Description = "batch mode: print each interval, no screen refresh" };
        var iterations = new Option<int?>("--iterations", "-n") { Description = "stop after N intervals" };
        var sort = new Option<string>("--sort", "-s") { Description = "sort by: hits, misses, dirties, read_hit, write_hit, pid", DefaultValueFactory = _ => "hits" };
        var top = new Option<int>("--top") { Description = "rows to show (0 = all)", DefaultValueFactory = _ => 20 };
        var json = new Option<bool>("--json") { Description = "one JSON object per interval, one per line" };
        cmd.Arguments.Add(intervalArg);
        foreach (Option o in new Option[] { batch, iterations, sort, top, json }) cmd.Options.Add(o);
        cmd.SetAction(async (parse, ct) =>
        {
            (double interval, _) = CachestatCommand.ParseIntervalCount(parse.GetValue(intervalArg), null, "cachetop");
            int? n = parse.GetValue(iterations);
            if (n is < 1) throw new CliException(ExitCodes.Usage, "cachetop: -n must be at least 1");
            string sortBy = parse.GetValue(sort) ?? "hits";
            if (sortBy is not ("hits" or "misses" or "dirties" or "read_hit" or "write_hit" or "pid"))
                throw new CliException(ExitCodes.Usage, $"cachetop: cannot sort by '{sortBy}' (hits, misses, dirties, read_hit, write_hit, pid)");
            int rows = parse.GetValue(top);
            ProcFs proc = GlobalOptions.OpenProc(parse);
            TextWriter output = parse.InvocationConfiguration.Output;
            bool asJson = parse.GetValue(json);
            bool live = !parse.GetValue(batch) && !asJson && !Console.IsOutputRedirected && ReferenceEquals(output, Console.Out);
            var users = MemScope.Model.UserNames.System;
            var scanner = new DirectIoScanner(proc);

            using PageCacheTracer tracer = CachestatCommand.StartTracer(perProcess: true, proc, GlobalOptions.OpenSys(parse).Root);
            tracer.TakeProcesses();
            long lostBefore = tracer.ReadTotals().LostSamples;
            ulong? prevDirtied = proc.ReadVmstat()["nr_dirtied"];
            var clock = System.Diagnostics.Stopwatch.StartNew();
            double prevT = 0;
            try
            {
                for (int i = 0; n is null || i < n; i++)
                {
                    double due = (i + 1) * interval;
                    await Task.Delay((int)Math.Max(0, (due - clock.Elapsed.TotalSeconds) * 1000), ct);
                    Dictionary<int, ProcessCacheCounters> procs = tracer.TakeProcesses();
                    long lostNow = tracer.ReadTotals().LostSamples;
                    double t = clock.Elapsed.TotalSeconds;
                    ulong? dirtied = proc.ReadVmstat()["nr_dirtied"];
                    long? systemDirtied = dirtied is ulong a && prevDirtied is ulong b && a >= b ? (long)(a - b) : null;
                    List<Row> table = BuildRows(procs.Values, systemDirtied, users);
                    table = Sort(table, sortBy);
                    List<DirectIoFile> direct = scanner.Scan();
                    if (asJson)
                    {
                        var dto = new CachetopJsonDto
                        {
                            Time = DateTimeOffset.UtcNow, IntervalSeconds = Math.Round(t - prevT, 3), Method = tracer.MethodId,
                            Processes = (rows > 0 ? table.Take(rows) : table).Select(r => new CachetopProcessJson
                            {
                                Pid = r.Pid, Uid = r.Uid, User = r.User, Comm = r.Comm, Hits = r.Hits, Misses = r.Misses,
                                Dirties = r.Dirties, DirtiedFolios = r.DirtiedFolios, ReadAccesses = r.ReadAccesses, MmapAccesses = r.MmapAccesses,
                                ReadHitPercent = Round(r.ReadHit), WriteHitPercent = Round(r.WriteHit),
                            }).ToList(),
                            DirectIo = direct.Select(d => new DirectIoJson(d.Pid, d.Comm, d.Fd, d.Path)).ToList(),
                            LostSamples = lostNow - lostBefore,
                            PageSize = PerfEventNative.PageSize,
                        };
                        output.WriteLine(JsonSerializer.Serialize(dto, CacheStreamJsonContext.Default.CachetopJsonDto));
                    }
                    else
                    {
                        if (live) output.Write("\x1b[H\x1b[2J");
                        output.WriteLine($"{DateTime.Now.ToString("HH:mm:ss", CultureInfo.InvariantCulture)} page cache per process over {t - prevT:0.0}s  (pages; {tracer.MethodId}s, sorted by {sortBy}){(lostNow > lostBefore ? $"  {lostNow - lostBefore} samples lost" : "")}");
                        Render(output, rows > 0 ? table.Take(rows) : table);
                        if (direct.Count > 0)
                        {
                            output.WriteLine();
                            output.WriteLine("Direct I/O (O_DIRECT: bypasses the page cache, never a hit):");
                            output.WriteLine($"{"PID",8} {"COMM",-16} {"FD",4}  FILE");
                            foreach (DirectIoFile d in direct) output.WriteLine($"{d.Pid,8} {Trunc(d.Comm ?? "?", 16),-16} {d.Fd,4}  {d.Path ?? "?"}");
                        }
                        if (scanner.Denied > 0) output.WriteLine($"({scanner.Denied} processes' fds not readable: direct I/O unknown for them)");
                        if (!live) output.WriteLine();
                    }
                    output.Flush();
                    lostBefore = lostNow;
                    prevDirtied = dirtied;
                    prevT = t;
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
            return ExitCodes.Ok;
        });
        return cmd;
    }

    internal sealed record Row(int Pid, uint? Uid, string? User, string? Comm, long Hits, long Misses, long Dirties, long DirtiedFolios,
        long ReadAccesses, long MmapAccesses, double? ReadHit, double? WriteHit);

    /// <summary>
    /// Hits = accesses − the misses that reads caused (a process's misses count as read misses up to its accesses,
    /// the rest were pages it created by writing). Dirties: the system's nr_dirtied shared out by dirtied folios.
    /// </summary>
    internal static List<Row> BuildRows(IEnumerable<ProcessCacheCounters> procs, long? systemDirtied, MemScope.Model.UserNames users)
    {
        var list = procs.ToList();
        long folios = list.Sum(p => p.DirtiedFolios);
        double scale = systemDirtied is long sd && folios > 0 && sd >= folios ? (double)sd / folios : 1.0;
        var rows = new List<Row>(list.Count);
        foreach (ProcessCacheCounters p in list)
        {
            long access = p.AccessPages;
            long readMiss = Math.Min(p.MissPages, access);
            long writeMiss = p.MissPages - readMiss;
            long hits = access - readMiss;
            long dirties = (long)Math.Round(p.DirtiedFolios * scale);
            double? readHit = access > 0 ? 100.0 * hits / access : null;
            double? writeHit = dirties > 0 ? 100.0 * Math.Max(0, dirties - writeMiss) / dirties : null;
            rows.Add(new Row(p.Pid, p.Uid, p.Uid is uint u ? users.NameOf(u) : null, p.Comm, hits, p.MissPages, dirties, p.DirtiedFolios,
                p.ReadAccessPages, p.MmapAccessPages, readHit, writeHit));
        }
        return rows;
    }

    private static List<Row> Sort(List<Row> rows, string by) => by switch
    {
        "misses" => rows.OrderByDescending(r => r.Misses).ThenBy(r => r.Pid).ToList(),
        "dirties" => rows.OrderByDescending(r => r.Dirties).ThenBy(r => r.Pid).ToList(),
        "read_hit" => rows.OrderByDescending(r => r.ReadHit ?? -1).ThenBy(r => r.Pid).ToList(),
        "write_hit" => rows.OrderByDescending(r => r.WriteHit ?? -1).ThenBy(r => r.Pid).ToList(),
        "pid" => rows.OrderBy(r => r.Pid).ToList(),
        _ => rows.OrderByDescending(r => r.Hits).ThenByDescending(r => r.Misses).ThenBy(r => r.Pid).ToList(),
    };

    private static void Render(TextWriter o, IEnumerable<Row> rows)
    {
        o.WriteLine($"{"PID",8} {"USER",-10} {"COMM",-16} {"HITS",10} {"MISSES",10} {"DIRTIES",9} {"READ_HIT%",9} {"WRITE_HIT%",10}");
        foreach (Row r in rows)
            o.WriteLine($"{r.Pid,8} {Trunc(r.User ?? r.Uid?.ToString(CultureInfo.InvariantCulture) ?? "?", 10),-10} {Trunc(r.Comm ?? "?", 16),-16} {r.Hits,10} {r.Misses,10} {r.Dirties,9} {Pct(r.ReadHit),9} {Pct(r.WriteHit),10}");
    }

    private static double? Round(double? v) => v is double d ? Math.Round(d, 1) : null;
    private static string Pct(double? v) => v is double d ? d.ToString("0.0", CultureInfo.InvariantCulture) + "%" : "-";
    private static string Trunc(string s, int n) => s.Length <= n ? s : s[..n];
}

