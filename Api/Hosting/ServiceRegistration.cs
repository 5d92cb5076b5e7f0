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
        services.AddOptions<LimitsOptions>().BindConfiguration(LimitsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<InferenceOptions>().BindConfiguration(InferenceOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<EmbeddingCacheOptions>().BindConfiguration(EmbeddingCacheOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<TaskLimits>().BindConfiguration(TaskLimits.Section).ValidateDataAnnotations().ValidateOnStart();

        // Kestrel's body limit from the validated Limits options (not a raw configuration read).
        services.AddOptions<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>()
            .Configure<IOptions<LimitsOptions>>((kestrel, limits) => kestrel.Limits.MaxRequestBodySize = limits.Value.MaxRequestBodyBytes);

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
            app.MapGet("/", () => Results.Redirect("/swagger")).ExcludeFromDescription();
        }
        return app;
    }
}
