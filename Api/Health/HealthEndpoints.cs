using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using VqaApi.Tasks.Encoders;
using VqaApi.Tasks.Models;

namespace VqaApi.Api.Health;

public static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "alive" }))
            .WithTags("Health").WithSummary("Liveness: the process answers");
        app.MapGet("/readyz", Results<Ok<object>, ProblemHttpResult> (ServedModel model) => model.Ready
                ? TypedResults.Ok<object>(new { status = "ready", model = model.Manifest.Id, executionProvider = model.Encoder.ExecutionProvider })
                : TypedResults.Problem("the encoder is still warming up", statusCode: 503, title: "Not ready"))
            .WithTags("Health").WithSummary("Readiness: the model is loaded and warmed up");
        return app;
    }
}

/// <summary>Runs one encoder pass at start-up; /readyz turns ready after it.</summary>
public sealed class EncoderWarmUp(ServedModel model, IOptions<EncoderOptions> options, ILogger<EncoderWarmUp> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            if (options.Value.WarmUp) await model.Encoder.WarmUpAsync(stoppingToken);
            model.Ready = true;
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
        catch (Exception e)
        {
            logger.LogError(e, "Encoder warm-up failed; /readyz stays unready");
        }
    }
}
