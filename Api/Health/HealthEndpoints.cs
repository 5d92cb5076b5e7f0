using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using VqaApi.Tasks.Encoders;
using VqaApi.Tasks.Models;
using VqaApi.Tasks.Serving;

namespace VqaApi.Api.Health;

public sealed record HealthStatus(string Status, string? Model = null, string? ExecutionProvider = null);

public static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new HealthStatus("alive")))
            .WithName("Liveness").WithTags("Health").WithSummary("Liveness: the process answers");
        app.MapGet("/readyz", Results<Ok<HealthStatus>, ProblemHttpResult> (ServedModel model) => model.Ready
                ? TypedResults.Ok(new HealthStatus("ready", model.Manifest.Id, model.Encoder.ExecutionProvider))
                : TypedResults.Problem("the encoder is still warming up", statusCode: 503, title: "Not ready"))
            .WithName("Readiness").WithTags("Health").WithSummary("Readiness: the model is loaded and warmed up").ProducesProblem(503);
        return app;
    }
}
