using System.Net;
using System.Reflection;
using MemScope.Export;
using MemScope.Procfs;
using MemScope.Sysfs;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MemScope.Cli.Serve;

/// <summary>
/// The HTTP side of `memscope serve`: Kestrel with a handful of GET endpoints, all read-only. Every response comes
/// from the cached <see cref="ServeState"/>; at most <see cref="ServeOptions.MaxConcurrentRequests"/> data requests
/// run at once, the rest wait briefly and then get 503; a request that takes longer than the timeout gets 503.
/// Unknown paths give 404 and any method but GET (and HEAD on static files) gives 405.
/// </summary>
internal sealed class ServeHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly SnapshotCache _cache;
    private readonly SemaphoreSlim _gate;
    private readonly ServeOptions _options;

    private ServeHost(WebApplication app, SnapshotCache cache, ServeOptions options)
    {
        _app = app;
        _cache = cache;
        _options = options;
        _gate = new SemaphoreSlim(options.MaxConcurrentRequests, options.MaxConcurrentRequests);
    }

    /// <summary>The address actually bound (port 0 resolves to the kernel's choice).</summary>
    public Uri Address { get; private set; } = null!;
    public SnapshotCache Cache => _cache;

    public static ServeHost Create(ProcFs proc, SysFs sys, ServeOptions options, FindingSource? findings = null, ZoneSource? zones = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = "Production",
        });
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Listen(options.Listen);
            KestrelServerLimits l = k.Limits;
            l.MaxConcurrentConnections = 512;
            l.MaxRequestBodySize = 64 * 1024; // nothing we serve reads a body; a small one is drained, a big one refused
            l.MaxRequestHeadersTotalSize = 16 * 1024;
            l.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            l.KeepAliveTimeout = TimeSpan.FromSeconds(60);
        });
        builder.WebHost.UseShutdownTimeout(TimeSpan.FromSeconds(2));
        var app = builder.Build();
        var cache = new SnapshotCache(proc, sys, options, findings, zones);
        var host = new ServeHost(app, cache, options);
        host.Map();
        return host;
    }

    public async Task StartAsync(CancellationToken ct)
    {
        await _app.StartAsync(ct);
        var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        Address = new Uri(addresses.First());
    }

    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _gate.Dispose();
    }

    private void Map()
    {
        WebApplication app = _app;
        app.Use(async (ctx, next) =>
        {
            ctx.Response.Headers["X-Content-Type-Options"] = "nosniff";
            ctx.Response.Headers["Cache-Control"] = "no-store";
            await next(ctx);
        });

        app.MapGet("/metrics", ctx => Serve(ctx, PrometheusTextWriter.ContentType, s => s.Metrics));
        app.MapGet("/api/snapshot", ctx => Serve(ctx, "application/json; charset=utf-8", s => s.SnapshotJson));
        app.MapGet("/api/processes", ctx => Serve(ctx, "application/json; charset=utf-8", s => s.ProcessesJson));
        app.MapGet("/api/findings", ctx => Serve(ctx, "application/json; charset=utf-8", s => s.FindingsJson));

        foreach ((string path, string resource, string type) in Assets)
        {
            byte[] body = ReadResource(resource);
            app.MapGet(path, async ctx =>
            {
                ctx.Response.ContentType = type;
                ctx.Response.Headers["Content-Security-Policy"] = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'";
                ctx.Response.ContentLength = body.Length;
                await ctx.Response.Body.WriteAsync(body, ctx.RequestAborted);
            });
        }
    }

    private static readonly (string Path, string Resource, string Type)[] Assets =
    [
        ("/", "wwwroot/index.html", "text/html; charset=utf-8"),
        ("/dashboard.js", "wwwroot/dashboard.js", "text/javascript; charset=utf-8"),
        ("/dashboard.css", "wwwroot/dashboard.css", "text/css; charset=utf-8"),
    ];

    /// <summary>Reads a file embedded in this assembly (EmbeddedResource with a LogicalName; AOT-safe).</summary>
    internal static byte[] ReadResource(string name)
    {
        using Stream s = typeof(ServeHost).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded resource '{name}' missing from the build");
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        return ms.ToArray();
    }

    private async Task Serve(HttpContext ctx, string contentType, Func<ServeState, byte[]> body)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted);
        timeout.CancelAfter(_options.RequestTimeout);
        bool entered = false;
        try
        {
            entered = await _gate.WaitAsync(_options.QueueTimeout, timeout.Token);
            if (!entered)
            {
                await Error(ctx, StatusCodes.Status503ServiceUnavailable, "too many concurrent requests", retryAfter: true);
                return;
            }
            ServeState state = await _cache.GetAsync().WaitAsync(timeout.Token);
            byte[] bytes = body(state);
            ctx.Response.StatusCode = StatusCodes.Status200OK;
            ctx.Response.ContentType = contentType;
            ctx.Response.ContentLength = bytes.Length;
            await ctx.Response.Body.WriteAsync(bytes, ctx.RequestAborted);
        }
        catch (OperationCanceledException) when (!ctx.RequestAborted.IsCancellationRequested)
        {
            await Error(ctx, StatusCodes.Status503ServiceUnavailable, "collection timed out", retryAfter: true);
        }
        catch (OperationCanceledException)
        {
            // client went away
        }
        catch (Exception e) when (e is KernelFileException or IOException or UnauthorizedAccessException)
        {
            await Error(ctx, StatusCodes.Status503ServiceUnavailable, $"collection failed: {e.Message}", retryAfter: false);
        }
        finally
        {
            if (entered) _gate.Release();
        }
    }

    private static async Task Error(HttpContext ctx, int status, string message, bool retryAfter)
    {
        if (ctx.Response.HasStarted) return;
        ctx.Response.StatusCode = status;
        if (retryAfter) ctx.Response.Headers.RetryAfter = "1";
        ctx.Response.ContentType = "text/plain; charset=utf-8";
        await ctx.Response.WriteAsync(message + "\n");
    }

    /// <summary>Loopback addresses (127.0.0.0/8, ::1) only.</summary>
    public static bool IsLoopback(IPAddress a) => IPAddress.IsLoopback(a);
}
