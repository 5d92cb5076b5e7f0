using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;
using VqaApi.Api;
using VqaApi.Api.Hosting;

namespace VqaApi.Cli.Eval;

/// <summary>
/// The real app (<see cref="VqaApp.Build"/>) serving one model directory on a free loopback port in this process,
/// and an <see cref="HttpClient"/> pointed at it. Its log goes to stderr, so stdout carries only the report.
/// </summary>
public sealed class EvalHost : IAsyncDisposable
{
    /// <summary>Head fits carry their training images in one request: the eval's own server accepts bodies this large.</summary>
    public const long MinRequestBodyBytes = 1L << 30;

    private readonly WebApplication _app;

    private EvalHost(WebApplication app, Uri address, LimitsOptions limits)
    {
        _app = app;
        Address = address;
        Limits = limits;
        Http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(30) };
    }

    public Uri Address { get; }
    public HttpClient Http { get; }
    public LimitsOptions Limits { get; }

    /// <param name="modelPath">the model directory to serve (never replaced by a placeholder).</param>
    /// <param name="args">host arguments, as for serving (--Encoder:UseCuda=false ...).</param>
    /// <param name="settings">further configuration, winning over everything but the eval's own overrides.</param>
    public static async Task<EvalHost> StartAsync(string modelPath, string[] args, IReadOnlyDictionary<string, string?>? settings, CancellationToken ct)
    {
        if (!Directory.Exists(modelPath)) throw new DirectoryNotFoundException($"model directory '{modelPath}' does not exist");
        var overrides = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>())
        {
            ["Model:Path"] = Path.GetFullPath(modelPath),
            ["Model:CreatePlaceholderIfMissing"] = "false",
            ["Logging:LogLevel:Default"] = settings?.GetValueOrDefault("Logging:LogLevel:Default") ?? "Warning",
        };
        var app = VqaApp.Build(args, overrides, builder =>
        {
            var configured = builder.Configuration.GetValue<long?>("Limits:MaxRequestBodyBytes") ?? new LimitsOptions().MaxRequestBodyBytes;
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Limits:MaxRequestBodyBytes"] = Math.Max(configured, MinRequestBodyBytes).ToString(System.Globalization.CultureInfo.InvariantCulture),
            });
            builder.Logging.ClearProviders();
            builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
            builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
            builder.WebHost.UseUrls("http://127.0.0.1:0");
        });
        try
        {
            await app.StartAsync(ct);
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
                          ?? throw new InvalidOperationException("the in-process server reports no address");
            return new EvalHost(app, new Uri(address), app.Services.GetRequiredService<IOptions<LimitsOptions>>().Value);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
