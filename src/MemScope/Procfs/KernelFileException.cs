namespace MemScope.Procfs;

/// <summary>How reading a kernel file went wrong; the three outcomes have fixed meanings (DESIGN.md §6).</summary>
public enum KernelFileError
{
    /// <summary>ENOENT/ESRCH: the file or the process is gone (a process exited mid-read). Skip quietly.</summary>
    Gone,
    /// <summary>EACCES/EPERM: the file exists but we may not read it. Keep the owner, show the field as unknown.</summary>
    Denied,
    /// <summary>The content does not match the kernel's documented format.</summary>
    Malformed,
    /// <summary>Any other I/O failure.</summary>
    Io,
}

/// <summary>A failure to read or parse one kernel file, naming the file and, when parsing, the line and token.</summary>
public sealed class KernelFileException : Exception
{
    public KernelFileException(KernelFileError error, string path, string message, int line = 0, string? token = null, Exception? inner = null)
        : base(Format(error, path, message, line, token), inner)
    {
        Error = error;
        Path = path;
        Line = line;
        Token = token;
    }

    public KernelFileError Error { get; }
    public string Path { get; }
    /// <summary>1-based line number of a parse error, 0 when not a parse error.</summary>
    public int Line { get; }
    public string? Token { get; }

    public static KernelFileException Malformed(string path, int line, ReadOnlySpan<char> token, string why) =>
        new(KernelFileError.Malformed, path, why, line, token.Length > 60 ? token[..60].ToString() + "…" : token.ToString());

    private static string Format(KernelFileError error, string path, string message, int line, string? token) => error switch
    {
        KernelFileError.Malformed => line > 0
            ? $"{path}:{line}: {message}{(token is null ? "" : $" (near '{token}')")}"
            : $"{path}: {message}",
        KernelFileError.Gone => $"{path}: gone ({message})",
        KernelFileError.Denied => $"{path}: permission denied",
        _ => $"{path}: {message}",
    };
}
