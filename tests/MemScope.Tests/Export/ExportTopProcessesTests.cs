using MemScope.Export;
using MemScope.Model;
using MemScope.Procfs;

namespace MemScope.Tests.Export;

public sealed class ExportTopProcessesTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("memscope-top-");

    public void Dispose() => _root.Delete(recursive: true);

    // A /proc with no process directories: every detail read finds the process gone and keeps the cheap record.
    private ProcessReader EmptyProc() => new(new ProcFs(_root.FullName));

    private static readonly ProcessSnapshot[] Processes =
    [
        new() { Pid = 2, Comm = "kthreadd", IsKernelThread = true, State = 'S', RssBytes = 0 },
        new() { Pid = 40, Comm = "defunct", State = 'Z', RssBytes = 0 },
        new() { Pid = 41, Comm = "swapped", State = 'S', RssBytes = 0, SwapBytes = 50 << 20 },
        new() { Pid = 42, Comm = "small", State = 'S', RssBytes = 4 << 20, SwapBytes = 0 },
        new() { Pid = 43, Comm = "big", State = 'R', RssBytes = 64 << 20, SwapBytes = 1 << 20 },
    ];

    [Fact]
    public void A_short_process_list_never_pads_the_rss_top_with_kernel_threads_zombies_or_empty_processes()
    {
        List<ProcessSnapshot> top = TopProcesses.Select(EmptyProc(), Processes, TopKey.Rss, 15);
        Assert.Equal([43, 42], top.Select(p => p.Pid).ToArray());
        Assert.All(top, p => Assert.True(p.RssBytes > 0));
    }

    [Fact]
    public void A_fully_swapped_out_process_still_ranks_by_swap()
    {
        List<ProcessSnapshot> top = TopProcesses.Select(EmptyProc(), Processes, TopKey.Swap, 15);
        Assert.Equal([41, 43], top.Select(p => p.Pid).ToArray());
    }
}
