using System.ComponentModel;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
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
    public static RouteGroupBuilder MapTextClassify(this RouteGroupBuilder classify)
    {
        classify.MapPost("/text", ClassifyAsync)
            .WithName("ClassifyText")
            .WithSummary("Classify a sentence or a sentence pair (premise, hypothesis) with a head")
            .Accepts<TextClassifyRequest>("application/json")
            .WithOpenApiExample("{\"head\": \"sentiment\", \"text\": \"Das ist wunderbar\", \"top_k\": 2}") // the head POST /v1/heads's example fits
            .Produces<HeadPrediction>()
            .ReadsInputs().RunsEncoder().ProducesProblem(404).ProducesProblem(409);
        return classify;
    }

    private static async Task<Ok<HeadPrediction>> ClassifyAsync([AsParameters] ApiRequest request, HeadService service)
    {
        var body = await RequestBody.ReadJsonOnlyAsync<TextClassifyRequest>(request.Http, request.Limits.MaxRequestBodyBytes, request.Aborted);
        if (body.Head is null) throw ApiProblem.BadRequest("'head' is required: fit one with POST /v1/heads (task text or pair)", "missing_head");
        var head = service.Store.Get(body.Head);
        if (head.Task is not (HeadTasks.Text or HeadTasks.Pair))
            throw ApiProblem.BadRequest($"head '{head.Name}' classifies {head.Task} inputs, not texts", "wrong_head_task");
        int topK = TopK.Resolve(body.TopK, head.Labels.Count);
        var texts = new[] { body.Text, body.Pair?.Premise, body.Pair?.Hypothesis }.OfType<string>().ToList();
        TextInputs.Validate(texts, request.Limits, "input");
        var input = new HeadExample(null, body.Text, body.Pair?.Premise, body.Pair?.Hypothesis);
        var labels = await service.ClassifyAsync(head, input, topK, request.Aborted);
        return TypedResults.Ok(new HeadPrediction(service.Store.Model.Id, head.Name, "head", labels));
    }
}
