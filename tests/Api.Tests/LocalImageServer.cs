using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace VqaApi.Api.Tests;

/// <summary>A real HTTP server on 127.0.0.1 (random port) serving test images, redirects and non-images.</summary>
public sealed class LocalImageServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    public LocalImageServer()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.Use(async (context, next) => { Interlocked.Increment(ref _hits); await next(context); });
        var png = TestImages.Png(20, 20);
        _app.MapGet("/cat.png", () => Results.Bytes(png, "image/png"));
        _app.MapGet("/page.html", () => Results.Content("<html></html>", "text/html"));
        _app.MapGet("/big.png", () => Results.Bytes(new byte[3_000_000], "image/png"));
        _app.MapGet("/redirect", () => Results.Redirect("/cat.png"));
        _app.MapGet("/flaky.png", () => Interlocked.Increment(ref _flakyHits) == 1 ? Results.StatusCode(503) : Results.Bytes(png, "image/png"));
        _app.MapGet("/broken.png", () => { Interlocked.Increment(ref _brokenHits); return Results.StatusCode(500); });
        _app.MapGet("/slow.png", async (HttpContext c) => { await Task.Delay(5000, c.RequestAborted); return Results.Bytes(png, "image/png"); });
        _app.StartAsync().GetAwaiter().GetResult();
        BaseUrl = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
    }

    private int _flakyHits, _brokenHits, _hits;
    /// <summary>Every request this server has answered, on any path.</summary>
    public int Hits => _hits;
    public int FlakyHits => _flakyHits;
    public int BrokenHits => _brokenHits;

    public string BaseUrl { get; }
    public string Url(string path) => BaseUrl.TrimEnd('/') + path;

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
