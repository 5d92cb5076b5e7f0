using System.ComponentModel;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using VqaApi.Api.Hosting;
using VqaApi.Api.Inputs;
using VqaApi.Tasks.Heads;
using VqaApi.Tasks.ZeroShot;
using VqaApi.Tasks.Serving;
using VqaApi.Api.Heads;

namespace VqaApi.Api.Classify;

public sealed record HeadPrediction(string Model, string Head, string Method, IReadOnlyList<LabelScore> Labels);

public static class TextClassifyEndpoints
{
    public static IEndpointRouteBuilder MapTextClassify(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/classify/text", async (HttpRequest request, HeadService service, ImageInputs imageInputs, IOptions<LimitsOptions> limits, CancellationToken ct) =>
            {
                        var body = await RequestBody.ReadJsonOnlyAsync<TextClassifyRequest>(request, limits.Value.MaxRequestBodyBytes, ct);
                if (body.Head is null) throw ApiProblem.BadRequest("'head' is required: fit one with POST /v1/heads (task text or pair)", "missing_head");
                var head = service.Store.Get(body.Head);
                if (head.Task is not (HeadTasks.Text or HeadTasks.Pair))
                    throw ApiProblem.BadRequest($"head '{head.Name}' classifies {head.Task} inputs, not texts", "wrong_head_task");
                var input = await HeadEndpoints.ToExampleAsync(new HeadExampleInput { Text = body.Text, Pair = body.Pair }, "input", imageInputs, limits.Value, ct);
                int topK = body.TopK ?? head.Labels.Count;
                if (topK < 1) throw ApiProblem.BadRequest("top_k must be at least 1", "bad_top_k");
                var labels = await service.ClassifyAsync(head, input, topK, ct);
                return TypedResults.Ok(new HeadPrediction(service.Store.Model.Id, head.Name, "head", labels));
            })
            .WithName("ClassifyText")
            .WithTags("Classification")
            .WithSummary("Classify a sentence or a sentence pair (premise, hypothesis) with a head")
            .Accepts<TextClassifyRequest>("application/json")
            .WithOpenApiExample("{\"head\": \"sentiment\", \"text\": \"Das ist wunderbar\", \"top_k\": 2}")
            .Produces<HeadPrediction>()
            .ProducesProblem(400).ProducesProblem(404).ProducesProblem(409).ProducesProblem(429).ProducesProblem(504);
        return app;
    }
}
