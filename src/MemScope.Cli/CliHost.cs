using System.CommandLine;
using System.CommandLine.Help;
using MemScope.Procfs;

namespace MemScope.Cli;

/// <summary>Builds the command tree, runs it, and turns every failure into one line on stderr and an exit code.</summary>
public static class CliHost
{
    public static int Run(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        stdout ??= Console.Out;
        stderr ??= Console.Error;
        Command root = CommandTree.Build(args);
        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            stderr.WriteLine($"memscope: {FirstError(parse)} (see 'memscope {CommandPath(parse)}--help')");
            return ExitCodes.Usage;
        }
        try
        {
            // Commands that borrow kernel state register their own SIGINT/SIGTERM handlers (PosixSignalRegistration) and
            // clean up themselves; System.CommandLine's termination handling would end synchronous actions with 143 first.
            var config = new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null,
            };
            return parse.Invoke(config);
        }
        catch (Exception e)
        {
            return Report(e, stderr);
        }
    }

    /// <summary>One clear line per failure; a stack trace only when MEMSCOPE_DEBUG is set.</summary>
    public static int Report(Exception e, TextWriter stderr)
    {
        if (e is AggregateException { InnerExceptions.Count: 1 } agg) e = agg.InnerExceptions[0];
        // A native library that is not beside the binary (the AOT publish ships libSkiaSharp.so and
        // libHarfBuzzSharp.so for `plot`) surfaces as a type initializer failing: name the library, not the type.
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
            if (inner is DllNotFoundException dll)
            {
                string library = dll.Message.Contains("SkiaSharp", StringComparison.Ordinal) ? "libSkiaSharp.so"
                    : dll.Message.Contains("HarfBuzzSharp", StringComparison.Ordinal) ? "libHarfBuzzSharp.so" : "a native library";
                stderr.WriteLine($"memscope: {library} is missing: keep the files the publish put beside the memscope binary (plot needs libSkiaSharp.so and libHarfBuzzSharp.so)");
                if (Environment.GetEnvironmentVariable("MEMSCOPE_DEBUG") is { Length: > 0 }) stderr.WriteLine(e);
                return ExitCodes.Unsupported;
            }
        (int code, string message) = e switch
        {
            CliException c => (c.ExitCode, c.Message),
            KernelFileException { Error: KernelFileError.Gone } k => (ExitCodes.NotFound, k.Message),
            KernelFileException { Error: KernelFileError.Denied } k => (ExitCodes.NoPermission, $"{k.Message} (run as root or as the process owner)"),
            KernelFileException k => (ExitCodes.DataError, k.Message),
            MemScope.Store.StoreException { Error: MemScope.Store.StoreError.NotFound } s => (ExitCodes.NotFound, s.Message),
            MemScope.Store.StoreException { Error: MemScope.Store.StoreError.Io } s => (ExitCodes.IoError, s.Message),
            MemScope.Store.StoreException s => (ExitCodes.DataError, s.Message),
            UnauthorizedAccessException u => (ExitCodes.NoPermission, u.Message),
            OperationCanceledException => (ExitCodes.Interrupted, "interrupted"),
            IOException io => (ExitCodes.IoError, io.Message),
            _ => (ExitCodes.Internal, $"internal error: {e.GetType().Name}: {e.Message}"),
        };
        stderr.WriteLine($"memscope: {message}");
        if (Environment.GetEnvironmentVariable("MEMSCOPE_DEBUG") is { Length: > 0 }) stderr.WriteLine(e);
        return code;
    }

    /// <summary>
    /// The error to show. At the root, System.CommandLine lists "Required command was not provided" before the word it
    /// could not match, so `memscope frees` would not name the typo: name the unknown command or option instead.
    /// </summary>
    private static string FirstError(ParseResult parse)
    {
        if (parse.CommandResult.Parent is null && parse.UnmatchedTokens.Count > 0)
        {
            string token = parse.UnmatchedTokens[0];
            return token.StartsWith('-') ? $"unknown option '{token}'" : $"unknown command '{token}'";
        }
        return parse.Errors[0].Message;
    }

    private static string CommandPath(ParseResult parse)
    {
        var names = new List<string>();
        for (var r = parse.CommandResult; r is not null && r.Parent is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, r.Command.Name);
        return names.Count == 0 ? "" : string.Join(' ', names) + " ";
    }
}
