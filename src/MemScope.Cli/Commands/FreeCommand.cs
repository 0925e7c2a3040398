using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MemScope.Model;
using MemScope.Procfs;

namespace MemScope.Cli.Commands;

/// <summary>
/// `memscope free`: a drop-in for procps-ng 4.0.2 free(1). Same flags, same columns, same numbers for the same
/// /proc/meminfo (formulas in <see cref="FreeFigures"/>, formatting in <see cref="ProcpsFormat"/>), plus --json.
/// </summary>
internal static class FreeCommand
{
    public static Command Create()
    {
        var cmd = new Command("free", "Amount of free and used memory (procps free(1) compatible)");
        var bytes = Flag("--bytes", "-b", "show output in bytes");
        var kilo = Flag("--kilo", null, "show output in kilobytes");
        var mega = Flag("--mega", null, "show output in megabytes");
        var giga = Flag("--giga", null, "show output in gigabytes");
        var tera = Flag("--tera", null, "show output in terabytes");
        var peta = Flag("--peta", null, "show output in petabytes");
        var kibi = Flag("--kibi", "-k", "show output in kibibytes (default)");
        var mebi = Flag("--mebi", "-m", "show output in mebibytes");
        var gibi = Flag("--gibi", "-g", "show output in gibibytes");
        var tebi = Flag("--tebi", null, "show output in tebibytes");
        var pebi = Flag("--pebi", null, "show output in pebibytes");
        var human = Flag("--human", "-h", "show human-readable output");
        var si = Flag("--si", null, "use powers of 1000 not 1024");
        var lohi = Flag("--lohi", "-l", "show detailed low and high memory statistics");
        var total = Flag("--total", "-t", "show total for RAM + swap");
        var committed = Flag("--committed", "-v", "show committed memory and commit limit");
        var wide = Flag("--wide", "-w", "wide output (buffers and cache in separate columns)");
        var json = Flag("--json", null, "JSON in bytes (one object; one line per sample with -s/-c)");
        var explain = Flag("--explain", null, "explain each column under the table (--lang zh for Chinese)");
        var seconds = new Option<string?>("--seconds", "-s") { Description = "repeat printing every N seconds", HelpName = "N" };
        var count = new Option<string?>("--count", "-c") { Description = "repeat printing N times, then exit", HelpName = "N" };
        foreach (Option o in new Option[] { bytes, kilo, mega, giga, tera, peta, kibi, mebi, gibi, tebi, pebi, human, si, lohi, total, committed, seconds, count, wide, json, explain })
            cmd.Options.Add(o);
        SnapshotSource history = SnapshotSource.Add(cmd);

        // exponent per unit option, as free.c's switch
        var units = new (Option<bool> Option, int Exponent, bool Si)[]
        {
            (bytes, 1, false), (kibi, 2, false), (mebi, 3, false), (gibi, 4, false), (tebi, 5, false), (pebi, 6, false),
            (kilo, 2, true), (mega, 3, true), (giga, 4, true), (tera, 5, true), (peta, 6, true),
        };

        cmd.SetAction(async (parse, ct) =>
        {
            int exponent = 0;
            bool useSi = parse.GetValue(si);
            int unitCount = 0;
            foreach (var (option, exp, isSi) in units)
            {
                if (!parse.GetValue(option)) continue;
                unitCount++;
                exponent = exp;
                useSi |= isSi;
            }
            if (unitCount > 1) throw new CliException(ExitCodes.Usage, "free: multiple unit options don't make sense");

            var options = new FreeOptions
            {
                Exponent = exponent,
                Si = useSi,
                Human = parse.GetValue(human),
                Wide = parse.GetValue(wide),
                Total = parse.GetValue(total),
                LowHigh = parse.GetValue(lohi),
                Committed = parse.GetValue(committed),
            };

            TimeSpan? interval = null;
            if (parse.GetValue(seconds) is string s)
            {
                if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double sec) || double.IsNaN(sec) || double.IsInfinity(sec))
                    throw new CliException(ExitCodes.Usage, $"free: seconds argument '{s}' is not a number");
                if (sec * 1_000_000 < 1 || sec > TimeSpan.MaxValue.TotalSeconds / 2)
                    throw new CliException(ExitCodes.Usage, $"free: seconds argument '{s}' is not a positive number");
                interval = TimeSpan.FromSeconds(sec);
            }
            int? repeat = null;
            if (parse.GetValue(count) is string c)
            {
                if (!int.TryParse(c, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n))
                    throw new CliException(ExitCodes.Usage, $"free: failed to parse count argument: '{c}'");
                if (n < 1) throw new CliException(ExitCodes.Usage, $"free: count argument '{c}' must be at least 1");
                repeat = n;
                interval ??= TimeSpan.FromSeconds(1);
            }

            // --db/--at: the figures of the sample recorded at or just before that time (see memscope record).
            Snapshot? replayed = history.Replay(parse, processes: false);
            if (replayed is not null && interval is not null)
                throw new CliException(ExitCodes.Usage, "free: -s/-c repeat live readings; with --db/--at give one time (or use 'memscope vmstat --db --from --to' for a series)");
            ProcFs? proc = replayed is null ? GlobalOptions.OpenProc(parse) : null;
            bool asJson = parse.GetValue(json);
            bool repeating = interval is not null;
            TextWriter output = parse.InvocationConfiguration.Output;
            try
            {
                while (true)
                {
                    var figures = FreeFigures.From(replayed?.System.Meminfo ?? proc!.ReadMeminfo());
                    if (asJson)
                    {
                        var dto = FreeJsonDto.From(figures, replayed?.Time ?? DateTimeOffset.UtcNow);
                        output.Write(repeating
                            ? JsonSerializer.Serialize(dto, FreeJsonLinesContext.Default.FreeJsonDto)
                            : JsonSerializer.Serialize(dto, FreeJsonContext.Default.FreeJsonDto));
                        output.Write('\n');
                    }
                    else
                    {
                        output.Write(FreeRenderer.Render(figures, options));
                    }
                    output.Flush();
                    if (repeat is int left)
                    {
                        repeat = left - 1;
                        if (repeat < 1) break;
                    }
                    if (!repeating) break;
                    if (!asJson) output.Write('\n');
                    await Task.Delay(interval!.Value, ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return ExitCodes.Ok; // Ctrl-C ends a repeating free, as it does procps's
            }
            if (parse.GetValue(explain) && !asJson)
            {
                string lang = GlobalOptions.LanguageOf(parse);
                var ids = new List<string> { "free.total", "free.used", "free.free", "free.shared" };
                ids.AddRange(options.Wide ? ["free.buffers", "free.cache"] : ["free.buff-cache"]);
                ids.Add("free.available");
                if (options.LowHigh) ids.Add("free.low-high");
                ids.Add("free.swap");
                if (options.Committed) ids.Add("free.commit");
                ExplainFooter.Write(output, lang, ids.ToArray());
                // The pointer measures the live machine's PSS; it says nothing about a replayed sample.
                if (proc is not null) ExplainFooter.AccountPointer(output, proc, GlobalOptions.OpenSys(parse), lang);
            }
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static Option<bool> Flag(string name, string? alias, string description)
    {
        var o = alias is null ? new Option<bool>(name) : new Option<bool>(name, alias);
        o.Description = description;
        return o;
    }
}
