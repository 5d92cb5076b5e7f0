using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using VqaApi.Retrieval;
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
        app.MapGet("/readyz", async Task<Results<Ok<HealthStatus>, ProblemHttpResult>> (ServedModel model, ICollectionStore collections, CancellationToken ct) =>
                !model.Ready ? TypedResults.Problem("the encoder is still warming up", statusCode: 503, title: "Not ready")
                : await collections.ProblemAsync(ct) is { } problem ? TypedResults.Problem(problem, statusCode: 503, title: "Not ready")
                : TypedResults.Ok(new HealthStatus("ready", model.Manifest.Id, model.Encoder.ExecutionProvider)))
            .WithName("Readiness").WithTags("Health").WithSummary("Readiness: the model is loaded and warmed up, and the collection store answers").ProducesProblem(503);
        return app;
    }
}
