namespace MemScope.Sysfs;

/// <summary>A sysfs root (default /sys), injectable like <see cref="Procfs.ProcFs"/>.</summary>
public sealed class SysFs
{
    public SysFs(string root = "/sys") => Root = root.TrimEnd('/') is { Length: > 0 } r ? r : "/";

    public string Root { get; }
    public string PathOf(string relative) => System.IO.Path.Combine(Root, relative);
}
