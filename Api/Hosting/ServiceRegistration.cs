using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;
using VqaApi.Api.Health;
using VqaApi.Api.Inputs;
using VqaApi.Tasks.Embeddings;
using VqaApi.Tasks.Encoders;
using VqaApi.Tasks.Heads;
using VqaApi.Tasks.Inference;
using VqaApi.Retrieval;
using VqaApi.Tasks.ZeroShot;
using VqaApi.Tasks.Models;

namespace VqaApi.Api.Hosting;

public static class ServiceRegistration
{
    public static WebApplicationBuilder AddVqaApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ModelOptions>().BindConfiguration(ModelOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<EncoderOptions>().BindConfiguration(EncoderOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<LimitsOptions>().BindConfiguration(LimitsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<UrlFetchOptions>().BindConfiguration(UrlFetchOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<InferenceOptions>().BindConfiguration(InferenceOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<EmbeddingCacheOptions>().BindConfiguration(EmbeddingCacheOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<TaskLimits>().BindConfiguration(TaskLimits.Section).ValidateDataAnnotations().ValidateOnStart();

        var maxBody = builder.Configuration.GetValue<long?>($"{LimitsOptions.Section}:{nameof(LimitsOptions.MaxRequestBodyBytes)}") ?? new LimitsOptions().MaxRequestBodyBytes;
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = maxBody);

        services.AddSingleton(sp => ServedModel.Open(
            sp.GetRequiredService<IOptions<ModelOptions>>(), sp.GetRequiredService<IOptions<EncoderOptions>>(), sp.GetRequiredService<ILogger<ServedModel>>()));
        services.AddHostedService<EncoderWarmUp>();
        services.AddSingleton<InferenceGate>();
        services.AddSingleton(sp => new EmbeddingCache(sp.GetRequiredService<IOptions<EmbeddingCacheOptions>>().Value.MaxEntries));
        services.AddSingleton<EmbeddingService>();
        services.AddSingleton<ZeroShotClassifier>();
        services.AddOptions<HeadOptions>().BindConfiguration(HeadOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<HeadStore>();
        services.AddSingleton<HeadService>();
        services.AddOptions<CollectionOptions>().BindConfiguration(CollectionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<CollectionStore>();
        services.AddHostedService<CollectionLoader>();
        var fetch = builder.Configuration.GetSection(UrlFetchOptions.Section).Get<UrlFetchOptions>() ?? new UrlFetchOptions();
        services.AddHttpClient(ImageFetcher.ClientName)
            .ConfigurePrimaryHttpMessageHandler(sp => ImageFetcher.CreateHandler(sp.GetRequiredService<IOptions<UrlFetchOptions>>()))
            .ConfigureHttpClient(c => c.Timeout = Timeout.InfiniteTimeSpan)
            .AddStandardResilienceHandler(o =>
            {
                // Retries on transient failures (5xx, 408, 429, connection errors, attempt timeouts), never on a refused address.
                o.Retry.MaxRetryAttempts = Math.Max(1, fetch.Retries);
                o.Retry.Delay = TimeSpan.FromMilliseconds(fetch.RetryDelayMilliseconds);
                o.Retry.ShouldHandle = args => fetch.Retries == 0 || IsBlocked(args.Outcome.Exception)
                    ? ValueTask.FromResult(false) : ValueTask.FromResult(HttpClientResiliencePredicates.IsTransient(args.Outcome));
                o.CircuitBreaker.ShouldHandle = args => IsBlocked(args.Outcome.Exception)
                    ? ValueTask.FromResult(false) : ValueTask.FromResult(HttpClientResiliencePredicates.IsTransient(args.Outcome));
                o.AttemptTimeout.Timeout = TimeSpan.FromSeconds(fetch.TimeoutSeconds);
                o.TotalRequestTimeout.Timeout = fetch.TotalTimeout;
                o.CircuitBreaker.SamplingDuration = TimeSpan.FromSeconds(Math.Max(30, 2 * fetch.TimeoutSeconds + 1));
            })
            .SelectPipelineByAuthority();
        services.AddTransient(sp => new ImageFetcher(
            sp.GetRequiredService<IHttpClientFactory>().CreateClient(ImageFetcher.ClientName),
            sp.GetRequiredService<IOptions<UrlFetchOptions>>(), sp.GetRequiredService<IOptions<LimitsOptions>>()));
        services.AddTransient<ImageInputs>();

        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase)));
        services.AddProblemDetails();
        services.AddExceptionHandler<ProblemExceptionHandler>();
        services.AddOpenApi(options => options.AddDocumentTransformer((document, context, ct) =>
        {
            var model = context.ApplicationServices.GetRequiredService<ServedModel>();
            document.Info = new OpenApiInfo
            {
                Title = "VqaApi",
                Version = "v1",
                Description = "CLIPPO, one pixels-only encoder for images and rendered text. " +
                              $"Served model: **{model.Manifest.Id}**." +
                              (model.Manifest.RandomlyInitialized ? $"\n\n**{PlaceholderModel.Warning}**" : ""),
            };
            return Task.CompletedTask;
        }));
        return builder;
    }

    private static bool IsBlocked(Exception? e) => e is BlockedAddressException || e?.InnerException is BlockedAddressException;

    public static WebApplication MapVqaApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.MapOpenApi("/openapi/{documentName}.json");
        app.UseSwaggerUI(ui =>
        {
            ui.RoutePrefix = "swagger";
            ui.SwaggerEndpoint("/openapi/v1.json", "VqaApi v1");
            ui.DocumentTitle = "VqaApi";
        });
        app.MapGet("/", () => Results.Redirect("/swagger")).ExcludeFromDescription();
        return app;
    }
}

/// <summary>Opens every collection at start-up (snapshot + log replay), before the first request needs one.</summary>
public sealed class CollectionLoader(CollectionStore store) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) { _ = store.List(); return Task.CompletedTask; }
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
