namespace MemScope.Procfs;

/// <summary>Who we run as: the effective uid decides what /proc, tracefs, perf events and cgroups let us do.</summary>
public static class Privilege
{
    /// <summary>Effective uid 0 (not the user name: sudo -u, setpriv and containers can make the two disagree).</summary>
    public static bool IsRoot => LibC.GetEuid() == 0;
}
