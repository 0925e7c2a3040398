namespace MemScope.Cli;

/// <summary>Exit codes, fixed so scripts can rely on them. The doctor uses 0/1/2 for healthy/warning/critical.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    /// <summary>A generic failure the command could not complete.</summary>
    public const int Failure = 1;
    /// <summary>Bad flags or arguments.</summary>
    public const int Usage = 2;
    /// <summary>The PID, file or recorded time asked for does not exist (or the process is gone).</summary>
    public const int NotFound = 3;
    /// <summary>Missing privilege (root or CAP_SYS_ADMIN/CAP_PERFMON needed).</summary>
    public const int NoPermission = 4;
    /// <summary>The kernel lacks what the command needs (tracepoint, syscall, file).</summary>
    public const int Unsupported = 5;
    /// <summary>A kernel file or database did not have the expected format.</summary>
    public const int DataError = 65;
    public const int Internal = 70;
    public const int IoError = 74;
    /// <summary>Ctrl-C (128 + SIGINT).</summary>
    public const int Interrupted = 130;
}

/// <summary>A failure with a message meant for the user and a fixed exit code.</summary>
public sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
