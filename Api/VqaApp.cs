using VqaApi.Api.Classify;
using VqaApi.Api.Collections;
using VqaApi.Api.Embed;
using VqaApi.Api.Heads;
using VqaApi.Api.Health;
using VqaApi.Api.Hosting;
using VqaApi.Api.Inputs;
using VqaApi.Api.Models;
using VqaApi.Api.Render;
using VqaApi.Api.Security;
using VqaApi.Api.Vqa;

namespace VqaApi.Api;

/// <summary>
/// The whole service, composed once: <c>Program</c> runs it, and the <c>eval</c> verb starts the same app in process
/// (with its own configuration overrides) to measure a model through the endpoints users call.
/// </summary>
public static class VqaApp
{
    /// <param name="args">host arguments (--urls, --Section:Key=value ...).</param>
    /// <param name="overrides">configuration that wins over every other source (appsettings, environment, arguments).</param>
    /// <param name="configure">last changes to the builder before it is built (logging, content root ...).</param>
    public static WebApplication Build(string[] args, IReadOnlyDictionary<string, string?>? overrides = null, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        if (overrides is not null) builder.Configuration.AddInMemoryCollection(overrides);
        configure?.Invoke(builder);
        builder.AddVqaApi();
        builder.AddInputs();
        builder.AddApiKeys();

        var app = builder.Build();
        app.MapVqaApi();
        app.UseApiKeys();
        app.MapHealth();

        // The versioned API: one group, its shared problem responses in EndpointConventions; a sub-group per feature.
        // Every /v1 call needs the read scope; endpoints that change data ask for write or admin (Api/Security/ApiScopes.cs).
        var v1 = app.MapV1().RequireScope(ApiScopes.Read);
        v1.MapModels();
        v1.MapEmbed();
        v1.MapRender();
        v1.MapSimilarity();
        var classify = v1.MapGroup("/classify").WithTags("Classification");
        classify.MapZeroShot();
        classify.MapTextClassify();
        v1.MapHeads();
        v1.MapVqa();
        v1.MapCollections();
        return app;
    }
}
