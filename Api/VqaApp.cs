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
/// <summary>The service cannot start: bad configuration or an unusable model directory. The message is the whole story.</summary>
public sealed class StartupException(string message, Exception inner) : Exception(message, inner)
{
    /// <summary>One line for the faults a user can fix, or null for anything else (a bug: let it surface whole).</summary>
    public static string? Describe(Exception e) => e switch
    {
        Microsoft.Extensions.Options.OptionsValidationException o => $"configuration: {string.Join("; ", o.Failures)}",
        VqaApi.Tasks.Models.ModelDirectoryException m => $"model: {m.Message}",
        VqaApi.Tasks.Checkpoints.CheckpointFormatException c => $"model: {c.Message}",
        Microsoft.ML.OnnxRuntime.OnnxRuntimeException r => $"model: the encoder cannot be loaded by ONNX Runtime: {r.Message}",
        InvalidOperationException { InnerException: FormatException f } io when io.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal)
            => $"configuration: {io.Message.TrimEnd('.')}: {f.Message}",
        InvalidOperationException { InnerException: { } inner } when Describe(inner) is { } d => d,
        AggregateException { InnerExceptions: [var only] } when Describe(only) is { } d => d,
        _ => null,
    };
}

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
        builder.AddTelemetry();

        // Configuration and the model directory are checked here, before the host starts, so that a fault is one
        // StartupException (Program prints one line and exits 1), not a failed start with a stack trace.
        WebApplication app;
        try
        {
            app = builder.Build();
            app.Services.GetRequiredService<Microsoft.Extensions.Options.IStartupValidator>().Validate();
            _ = app.Services.GetRequiredService<VqaApi.Tasks.Serving.ServedModel>();
        }
        catch (Exception e) when (StartupException.Describe(e) is { } problem)
        {
            // Not disposed: the process ends (Program), and a test host that captured the app reports the fault when it starts.
            throw new StartupException(problem, e);
        }
        app.UseProblemResponses();
        app.UseApiKeys(); // security headers, origin and host checks, CORS, API keys
        app.UseRequestTimeouts(); // one deadline per request (Limits:RequestTimeoutSeconds), URL fetches included
        var browser = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<BrowserOptions>>().Value;
        app.MapApiDocs(browser.OpenApiDocument, browser.SwaggerUi);
        app.UseWebPage(browser.WebPage, browser.OpenApiDocument && browser.SwaggerUi);
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
        v1.MapQuotas();
        app.MapMetrics()?.RequireScope(ApiScopes.Admin);
        return app;
    }
}
