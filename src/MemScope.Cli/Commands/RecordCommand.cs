using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using MemScope.Model;
using MemScope.Store;

namespace MemScope.Cli.Commands;

/// <summary>
/// `memscope record`: takes a snapshot every interval into a SQLite recording (raw counters, one transaction per
/// sample) until Ctrl-C or SIGTERM, enforcing retention as it goes. Runs in the foreground or under systemd
/// (deploy/memscope-record.service).
/// </summary>
internal static class RecordCommand
{
    public static Command Create()
    {
        var cmd = new Command("record", "Record snapshots into a SQLite history (replay with --db/--at, report, diff, plot)");
        var interval = new Option<string>("--interval", "-i") { Description = "Time between samples (5s, 1s, 500ms, 1m)", DefaultValueFactory = _ => "5s", HelpName = "DURATION" };
        var db = new Option<string?>("--db") { Description = "Recording file (default: /var/lib/memscope/memscope.db for root, else $XDG_DATA_HOME/memscope/memscope.db)", HelpName = "PATH" };
        var retain = new Option<string>("--retain") { Description = "Delete samples older than this (7d, 12h; 0 keeps all)", DefaultValueFactory = _ => "7d", HelpName = "AGE" };
        var maxSize = new Option<string>("--max-size") { Description = "Keep the files under this size by deleting the oldest samples (1GB, 200MB; 0 = no cap)", DefaultValueFactory = _ => "1GB", HelpName = "SIZE" };
        var top = new Option<int>("--top", "-n") { Description = "Processes (largest RSS) that also get smaps_rollup: PSS, USS, swap PSS (re-read when their RSS or swap moved by 1% or after 30 s, within 0.4% of a core; in between the last read values are kept)", DefaultValueFactory = _ => 10 };
        var count = new Option<int?>("--count", "-c") { Description = "Stop after N samples" };
        var kthreads = new Option<bool>("--kernel-threads") { Description = "Also record kernel threads (they own no user memory)" };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Print one line per committed sample (id, time, processes, cost, file size, processes re-read/kept, smaps_rollup read/kept)" };
        foreach (Option o in new Option[] { interval, db, retain, maxSize, top, count, kthreads, verbose }) cmd.Options.Add(o);

        cmd.SetAction(async (parse, ct) =>
        {
            string intervalText = parse.GetValue(interval)!;
            if (!Units.DurationText.TryParse(intervalText, out TimeSpan every) || every < TimeSpan.FromMilliseconds(100))
                throw new CliException(ExitCodes.Usage, $"--interval '{intervalText}': give a duration of at least 100ms (5s, 1s, 500ms, 1m)");
            TimeSpan? maxAge = null;
            string retainText = parse.GetValue(retain)!;
            if (retainText != "0")
            {
                if (!Units.DurationText.TryParse(retainText, out TimeSpan age) || age <= TimeSpan.Zero)
                    throw new CliException(ExitCodes.Usage, $"--retain '{retainText}': give an age like 7d, 12h or 0 (keep all)");
                maxAge = age;
            }
            long? maxBytes = null;
            string sizeText = parse.GetValue(maxSize)!;
            if (sizeText != "0")
            {
                if (!Units.SizeText.TryParse(sizeText, out long b) || b < 64 * 1024)
                    throw new CliException(ExitCodes.Usage, $"--max-size '{sizeText}': give a size of at least 64KB (1GB, 200MB) or 0 (no cap)");
                maxBytes = b;
            }
            int topN = parse.GetValue(top);
            if (topN < 0) throw new CliException(ExitCodes.Usage, "--top must be 0 or more");
            int? maxSamples = parse.GetValue(count);
            if (maxSamples is < 1) throw new CliException(ExitCodes.Usage, "--count must be at least 1");

            var collector = new SnapshotCollector(GlobalOptions.OpenProc(parse), GlobalOptions.OpenSys(parse));
            string path = parse.GetValue(db) ?? HistoryStore.DefaultPath();
            var options = new RecorderOptions
            {
                Interval = every,
                TopN = topN,
                Retention = new RetentionPolicy(maxAge, maxBytes),
                IncludeKernelThreads = parse.GetValue(kthreads),
                MaxSamples = maxSamples,
                // OOM kills come from the live kernel log only; a --proc-root recording (fixtures, another root) has none.
                KmsgPath = collector.Proc.Root == "/proc" ? "/dev/kmsg" : null,
            };
            TextWriter output = parse.InvocationConfiguration.Output;
            TextWriter error = parse.InvocationConfiguration.Error;
            bool talk = parse.GetValue(verbose);

            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            // SIGTERM (systemd stop, kill) ends the loop between samples like Ctrl-C; the open transaction, if any, completes.
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, ctx => { ctx.Cancel = true; cts.Cancel(); });
            // Ctrl-C too (CliHost leaves signals to the commands): stop cleanly, then exit 130 as for any interrupted command.
            bool interrupted = false;
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, ctx => { ctx.Cancel = true; interrupted = true; cts.Cancel(); });
            using HistoryStore store = HistoryStore.OpenForWriting(path);
            // The machine the /proc root belongs to (a --proc-root capture or container's /host/proc is not this one).
            foreach ((string key, string file) in new[] { ("hostname", "sys/kernel/hostname"), ("kernel", "sys/kernel/osrelease") })
            {
                try
                {
                    if (Procfs.KernelFile.TryReadAllText(collector.Proc.PathOf(file))?.Trim() is { Length: > 0 } value) store.SetMeta(key, value);
                }
                catch (Procfs.KernelFileException) { } // unknown then: never a reason not to record
            }
            if (store.GetMeta("created_at") is null) store.SetMeta("created_at", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            error.WriteLine($"memscope: recording to {store.Path} every {intervalText} (smaps_rollup for top {topN}; retain {(maxAge is null ? "all" : retainText)}, max size {(maxBytes is null ? "none" : sizeText)}); Ctrl-C or SIGTERM stops");
            error.Flush();
            int n = 0;
            bool toldCapTooSmall = false;
            await new Recorder(collector, store, options).RunAsync(cts.Token, w =>
            {
                n++;
                // Retention keeps the newest sample whatever the cap: say so once instead of silently exceeding it.
                if (maxBytes is long cap && w.FileBytes > cap && !toldCapTooSmall && store.SampleCount <= 1)
                {
                    toldCapTooSmall = true;
                    error.WriteLine($"memscope: --max-size {sizeText} cannot hold one sample ({w.FileBytes / 1024} KiB on disk); only the newest sample is kept");
                    error.Flush();
                }
                if (!talk) return;
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"sample {w.Id} {w.Time.ToUnixTimeMilliseconds()} {w.Time:O} processes {w.Processes} collect {w.CollectTime.TotalMilliseconds:F1}ms write {w.WriteTime.TotalMilliseconds:F1}ms size {w.FileBytes}{(w.Trimmed > 0 ? $" trimmed {w.Trimmed}" : "")} read {w.Counts.New + w.Counts.Reread} kept {w.Counts.Kept} pss_read {w.Counts.RollupsRead} pss_kept {w.Counts.RollupsKept}"));
                output.Flush();
            }).ConfigureAwait(false);
            long held = store.SampleCount;
            error.WriteLine($"memscope: stopped after {n} sample{(n == 1 ? "" : "s")}; {store.Path} holds {held} sample{(held == 1 ? "" : "s")}, {store.FileBytes / 1024} KiB");
            return interrupted ? ExitCodes.Interrupted : ExitCodes.Ok;
        });
        return cmd;
    }
}
