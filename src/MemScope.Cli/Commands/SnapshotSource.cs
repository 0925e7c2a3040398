using System.CommandLine;
using MemScope.Model;
using MemScope.Store;

namespace MemScope.Cli.Commands;

/// <summary>
/// Where a view's snapshot comes from: the live machine, or a recording (`--db PATH --at TIME`). Each view that
/// makes sense over history calls <see cref="Add"/> once and then <see cref="Replay"/>/<see cref="Get"/>; replay
/// builds the same <see cref="Snapshot"/> the live collector does, so renderers need no change.
/// </summary>
internal sealed class SnapshotSource
{
    public Option<string?> Db { get; } = new("--db")
    {
        Description = "Read from this recording instead of the live system (default recording when only --at is given)",
        HelpName = "PATH",
    };

    public Option<string?> At { get; } = new("--at")
    {
        Description = "Replay the sample recorded at or just before TIME (ISO 8601, HH:MM[:SS] today, -10m, Unix seconds or now; latest if omitted)",
        HelpName = "TIME",
    };

    /// <summary>Adds --db and --at to <paramref name="cmd"/>.</summary>
    public static SnapshotSource Add(Command cmd)
    {
        var s = new SnapshotSource();
        cmd.Options.Add(s.Db);
        cmd.Options.Add(s.At);
        return s;
    }

    /// <summary>True when the command should read a recording.</summary>
    public bool IsReplay(ParseResult parse) => parse.GetValue(Db) is not null || parse.GetValue(At) is not null;

    /// <summary>The recording's path: --db, or the default one.</summary>
    public string DbPath(ParseResult parse) => parse.GetValue(Db) ?? HistoryStore.DefaultPath();

    /// <summary>Opens the recording named by --db (or the default).</summary>
    public SnapshotReplay Open(ParseResult parse) => SnapshotReplay.Open(DbPath(parse));

    /// <summary>The time asked for with --at (now when absent: the latest sample).</summary>
    public DateTimeOffset Time(ParseResult parse) => ParseTime(parse.GetValue(At) ?? "now", "--at");

    /// <summary>The replayed snapshot, or null in live mode.</summary>
    public Snapshot? Replay(ParseResult parse, bool processes = true)
    {
        if (!IsReplay(parse)) return null;
        DateTimeOffset t = Time(parse);
        using SnapshotReplay replay = Open(parse);
        return replay.At(t, processes);
    }

    /// <summary>The replayed pair (previous sample, sample at --at) for rates, or null in live mode; Earlier is null at the first sample.</summary>
    public (Snapshot? Earlier, Snapshot Later)? ReplayPair(ParseResult parse, bool processes = false)
    {
        if (!IsReplay(parse)) return null;
        DateTimeOffset t = Time(parse);
        using SnapshotReplay replay = Open(parse);
        if (replay.PairAt(t, processes) is var (a, b)) return (a, b);
        return (null, replay.At(t, processes));
    }

    /// <summary>A replayed snapshot when --db/--at are given, else a live one collected with <paramref name="options"/>.</summary>
    public Snapshot Get(ParseResult parse, CollectOptions options) =>
        Replay(parse, options.Processes)
        ?? new SnapshotCollector(GlobalOptions.OpenProc(parse), GlobalOptions.OpenSys(parse)).Collect(options);

    public static DateTimeOffset ParseTime(string text, string option)
    {
        if (TimeSpec.TryParse(text, DateTimeOffset.Now, out var t)) return t;
        throw new CliException(ExitCodes.Usage,
            $"{option} '{text}': not a time (use ISO 8601 like 2026-11-27T10:15:00Z, HH:MM[:SS] for today, -10m for ten minutes ago, Unix seconds, or now)");
    }
}
