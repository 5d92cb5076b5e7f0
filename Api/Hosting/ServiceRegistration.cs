using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using VqaApi.Tasks.Embeddings;
using VqaApi.Tasks.Encoders;
using VqaApi.Tasks.Heads;
using VqaApi.Tasks.Inference;
using VqaApi.Retrieval;
using VqaApi.Tasks.ZeroShot;
using VqaApi.Tasks.Models;
using VqaApi.Tasks.Serving;

namespace VqaApi.Api.Hosting;

public static class ServiceRegistration
{
    public static WebApplicationBuilder AddVqaApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ModelOptions>().BindConfiguration(ModelOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<EncoderOptions>().BindConfiguration(EncoderOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<LimitsOptions>().BindConfiguration(LimitsOptions.Section).ValidateDataAnnotations()
            .Validate(l => l.MaxDecodedBytesPerRequest <= l.MaxDecodedBytesInFlight, "Limits:MaxDecodedBytesPerRequest must not exceed Limits:MaxDecodedBytesInFlight")
            .ValidateOnStart();
        services.AddOptions<InferenceOptions>().BindConfiguration(InferenceOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<EmbeddingCacheOptions>().BindConfiguration(EmbeddingCacheOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<TaskLimits>().BindConfiguration(TaskLimits.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ApiDocumentOptions>().BindConfiguration(ApiDocumentOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        // Kestrel's body limit from the validated Limits options (not a raw configuration read).
        services.AddOptions<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>()
            .Configure<IOptions<LimitsOptions>>((kestrel, limits) => kestrel.Limits.MaxRequestBodySize = limits.Value.MaxRequestBodyBytes);

        services.AddSingleton(sp => ServedModel.Open(
            sp.GetRequiredService<IOptions<ModelOptions>>(), sp.GetRequiredService<IOptions<EncoderOptions>>(), sp.GetRequiredService<ILogger<ServedModel>>()));
        services.AddHostedService<EncoderWarmUp>();
        services.AddSingleton<InferenceGate>();
        services.AddSingleton(sp =>
        {
            var cache = sp.GetRequiredService<IOptions<EmbeddingCacheOptions>>().Value;
            return new EmbeddingCache(cache.MaxEntries, cache.MaxBytes);
        });
        services.AddSingleton<EmbeddingService>();
        services.AddSingleton<ZeroShotClassifier>();
        services.AddOptions<HeadOptions>().BindConfiguration(HeadOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        // Heads live beside the collections: in the model directory, or in the shared database with the PostgreSQL backend.
        services.AddSingleton(sp =>
        {
            var model = sp.GetRequiredService<ServedModel>();
            return sp.GetRequiredService<ICollectionStore>() is Postgres.PostgresCollectionStore shared
                ? new HeadStore(model.Directory.Path, model.Manifest, new Postgres.PostgresHeadDocuments(shared, model.Manifest.Id))
                : new HeadStore(model);
        });
        services.AddSingleton<HeadService>();
        services.AddCollectionStore();

        // One deadline for the whole request (URL fetches included): RequestTimeouts cancels the request's token.
        services.AddRequestTimeouts();
        services.AddOptions<Microsoft.AspNetCore.Http.Timeouts.RequestTimeoutOptions>().Configure<IOptions<LimitsOptions>>((timeouts, limits) =>
        {
            timeouts.DefaultPolicy = Deadline(limits.Value.RequestTimeoutSeconds, "Limits:RequestTimeoutSeconds");
            timeouts.AddPolicy(LongRequests, Deadline(limits.Value.LongRequestTimeoutSeconds, "Limits:LongRequestTimeoutSeconds"));
        });
        services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
            // Numbers are JSON numbers, in requests and in the OpenAPI schemas (not "integer | string").
            o.SerializerOptions.NumberHandling = JsonNumberHandling.Strict;
        });
        services.AddProblemDetails();
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.AddOpenApi(options => OpenApiContract.Configure(options).AddDocumentTransformer((document, context, ct) =>
        {
            var model = context.ApplicationServices.GetRequiredService<ServedModel>();
            var about = context.ApplicationServices.GetRequiredService<IOptions<ApiDocumentOptions>>().Value;
            document.Info = new OpenApiInfo
            {
                Title = "VqaApi",
                Version = "v1",
                Description = "CLIPPO, one pixels-only encoder for images and rendered text. " +
                              $"Served model: **{model.Manifest.Id}**." +
                              (model.Manifest.RandomlyInitialized ? $"\n\n**{PlaceholderModel.Warning}**" : ""),
                License = string.IsNullOrWhiteSpace(about.LicenseName) ? null : new OpenApiLicense
                {
                    Name = about.LicenseName,
                    Url = string.IsNullOrWhiteSpace(about.LicenseUrl) ? null : new Uri(about.LicenseUrl),
                },
            };
            foreach (var server in document.Servers ?? []) server.Url = server.Url?.TrimEnd('/');
            document.Tags = new HashSet<OpenApiTag>(TagDescriptions.Select(t => new OpenApiTag { Name = t.Key, Description = t.Value }));
            // Path parameters carry the names the examples create, so that the examples run in order as shown.
            foreach (var (path, item) in document.Paths)
                foreach (var operation in item.Operations?.Values ?? Enumerable.Empty<OpenApiOperation>())
                    foreach (var parameter in operation.Parameters ?? [])
                        if (parameter is OpenApiParameter { In: ParameterLocation.Path } p)
                            p.Example = (path, p.Name) switch
                            {
                                ({ } s, "id") when s.Contains("/images/") => DocExamples.ImageItem,
                                (_, "id") => DocExamples.Item,
                                ({ } s, "name") when s.StartsWith("/v1/heads") => DocExamples.Head,
                                (_, "name") => DocExamples.Collection,
                                _ => p.Example,
                            };
            return Task.CompletedTask;
        }));
        return builder;
    }

    private static readonly Dictionary<string, string> TagDescriptions = new()
    {
        ["Health"] = "Liveness and readiness probes (no key needed).",
        ["Models"] = "The served model: architecture, render profile, temperature, execution provider.",
        ["Embeddings"] = "Texts and images to normalised embeddings with the one pixels-only encoder.",
        ["Rendering"] = "The exact canvas the encoder sees, as PNG, with the render report.",
        ["Classification"] = "Similarity, zero-shot classification in any language, and classification with a fitted head.",
        ["VQA"] = "Questions about images, in any language.",
        ["Heads"] = "Small classifiers fitted on frozen embeddings; those that ship with a model are read-only.",
        ["Collections"] = "Durable retrieval collections: add texts and images, search in any language with filters.",
        ["Quotas"] = "What this client keeps on the service, against its limits.",
    };

    /// <summary>The request-timeout policy of requests that may do much more work (head fits, collections).</summary>
    public const string LongRequests = "long";

    private static Microsoft.AspNetCore.Http.Timeouts.RequestTimeoutPolicy Deadline(double seconds, string setting) => new()
    {
        Timeout = TimeSpan.FromSeconds(seconds),
        TimeoutStatusCode = 504,
        WriteTimeoutResponse = async context =>
        {
            var problem = new Microsoft.AspNetCore.Mvc.ProblemDetails
            {
                Status = 504, Title = "Request timed out",
                Detail = $"the request did not finish within {seconds:0.##} s ({setting}); its work was stopped",
            };
            problem.Extensions["code"] = "request_timeout";
            context.RequestServices.GetRequiredService<VqaMetrics>().Refused("request_timeout");
            await context.RequestServices.GetRequiredService<IProblemDetailsService>().TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
        },
    };

    /// <summary>Every failure as ProblemDetails: first in the pipeline.</summary>
    public static WebApplication UseProblemResponses(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    /// <summary>The OpenAPI document and Swagger UI, each switchable off (Browser:OpenApiDocument, Browser:SwaggerUi).</summary>
    public static WebApplication MapApiDocs(this WebApplication app, bool document, bool swaggerUi)
    {
        if (document) app.MapOpenApi("/openapi/{documentName}.json");
        if (document && swaggerUi)
        {
            app.UseSwaggerUI(ui =>
            {
                ui.RoutePrefix = "swagger";
                ui.SwaggerEndpoint("/openapi/v1.json", "VqaApi v1");
                ui.DocumentTitle = "VqaApi";
            });
        }
        return app;
    }

    /// <summary>The folder of the web page's static files, copied beside the service's assembly.</summary>
    public static string WebPageFolder => Path.Combine(AppContext.BaseDirectory, "WebPage");

    /// <summary>
    /// The web page for people at / (Browser:WebPage): static files only (index.html, its script, styles and sample scenes),
    /// with no build step; it calls the same /v1 endpoints as every other client. Off, or when its files are missing,
    /// / goes to Swagger UI (when that is on).
    /// </summary>
    public static WebApplication UseWebPage(this WebApplication app, bool enabled, bool swaggerUi)
    {
        if (enabled && Directory.Exists(WebPageFolder))
        {
            var files = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(WebPageFolder);
            app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
            app.UseStaticFiles(new StaticFileOptions
            {
                FileProvider = files,
                // Always revalidated, so a new version of the service never runs an old script.
                OnPrepareResponse = file => file.Context.Response.Headers.CacheControl = "no-cache",
            });
            // The fonts the service draws with, so that the page shows every script the model reads without fonts from the
            // internet; the browser fetches one only when a text needs it (unicode-range in app.css). Font files only.
            var fonts = Path.Combine(AppContext.BaseDirectory, "fonts");
            if (Directory.Exists(fonts))
                app.UseStaticFiles(new StaticFileOptions
                {
                    RequestPath = "/fonts",
                    FileProvider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(fonts),
                    ContentTypeProvider = new Microsoft.AspNetCore.StaticFiles.FileExtensionContentTypeProvider(new Dictionary<string, string>
                    {
                        [".ttf"] = "font/ttf", [".otf"] = "font/otf", [".ttc"] = "font/collection",
                    }),
                    OnPrepareResponse = file => file.Context.Response.Headers.CacheControl = "public, max-age=86400",
                });
        }
        else if (swaggerUi) app.MapGet("/", () => Results.Redirect("/swagger")).ExcludeFromDescription();
        return app;
    }
}
