using System.Diagnostics;
using System.Text.Json;
using MemScope.Analysis;
using MemScope.Procfs;

namespace MemScope.Cli.Commands;

/// <summary>`memscope leak --all`: every process sampled from its cheap files (stat, status), ranked by sustained growth.</summary>
internal static class LeakAll
{
    private sealed class Track(int pid, string comm)
    {
        public int Pid { get; } = pid;
        public string Comm { get; set; } = comm;
        public List<TrendPoint> Points { get; } = [];
    }

    public static int Run(ProcFs proc, TimeSpan duration, TimeSpan interval, int top, bool json, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var tracks = new Dictionary<(int, ulong), Track>();
        var clock = Stopwatch.StartNew();
        bool interrupted = false;
        for (int i = 0; ; i++)
        {
            double t = clock.Elapsed.TotalSeconds;
            foreach (int pid in proc.ListPids())
            {
                try
                {
                    ProcPidStat stat = ProcPidStat.Read(proc.PidPath(pid, "stat"));
                    if (((stat.Field(9) ?? 0) & 0x00200000) != 0) continue; // kernel thread
                    ProcPidStatus status = ProcPidStatus.Read(proc.PidPath(pid, "status"));
                    if (status.VmRSS is not ulong rss) continue; // zombie
                    var key = (pid, stat.StartTimeTicks);
                    if (!tracks.TryGetValue(key, out Track? track)) tracks[key] = track = new Track(pid, stat.Comm);
                    track.Points.Add(new TrendPoint(t, rss + (status.VmSwap ?? 0)));
                }
                catch (KernelFileException) { /* gone or denied mid-scan: churn */ }
            }
            TimeSpan next = interval * (i + 1);
            if (next > duration) break;
            TimeSpan wait = next - clock.Elapsed;
            if (wait > TimeSpan.Zero && ct.WaitHandle.WaitOne(wait)) { interrupted = true; break; }
        }
        double window = clock.Elapsed.TotalSeconds;
        var rows = new List<(Track Track, TrendAssessment A)>();
        foreach (Track track in tracks.Values)
        {
            if (track.Points.Count < 2) continue;
            rows.Add((track, LeakTrend.Assess(track.Points.ToArray())));
        }
        // Leaks first (steepest first), then everything else by slope.
        rows.Sort((a, b) =>
        {
            int la = a.A.Verdict == LeakVerdict.Leak ? 0 : 1, lb = b.A.Verdict == LeakVerdict.Leak ? 0 : 1;
            return la != lb ? la.CompareTo(lb) : b.A.Fit.SlopePerSec.CompareTo(a.A.Fit.SlopePerSec);
        });
        if (interrupted) stderr.WriteLine("memscope: interrupted; ranking the samples so far");
        var shown = rows.Take(top).ToList();
        if (json)
        {
            var dto = new LeakAllDto(window, rows.Count, [.. shown.Select(r => new LeakAllRowDto(r.Track.Pid, r.Track.Comm, LeakRender.Verdict(r.A.Verdict),
                r.A.Fit.SlopePerSec, double.IsFinite(r.A.Fit.SlopeStdErr) ? r.A.Fit.SlopeStdErr : -1, r.A.Fit.RSquared, r.A.FirstBytes, r.A.LastBytes, r.A.Fit.Count))]);
            stdout.WriteLine(LeakJsonContext.Serialize(dto));
            return interrupted ? ExitCodes.Interrupted : ExitCodes.Ok;
        }
        stdout.WriteLine($"{rows.Count} processes over {window:0.0}s; growth of RSS+swap, leaks first");
        stdout.WriteLine($"{"PID",7} {"COMMAND",-16} {"VERDICT",-9} {"GROWTH/s",11} {"±",10} {"R²",5} {"NOW",10} {"CHANGE",10}");
        foreach ((Track tr, TrendAssessment a) in shown)
            stdout.WriteLine($"{tr.Pid,7} {Trunc(tr.Comm, 16),-16} {LeakRender.Verdict(a.Verdict),-9} {LeakTrend.Size(a.Fit.SlopePerSec),11} {(double.IsFinite(a.Fit.SlopeStdErr) ? LeakTrend.Size(a.Fit.SlopeStdErr) : "?"),10} {a.Fit.RSquared,5:0.00} {LeakTrend.Size(a.LastBytes),10} {LeakTrend.Size(a.LastBytes - a.FirstBytes),10}");
        return interrupted ? ExitCodes.Interrupted : ExitCodes.Ok;
    }

    private static string Trunc(string s, int n) => s.Length <= n ? s : s[..n];
}
