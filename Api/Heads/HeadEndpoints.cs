using System.ComponentModel;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using VqaApi.Api.Hosting;
using VqaApi.Api.Inputs;
using VqaApi.Api.Security;
using VqaApi.Tasks.Heads;
using VqaApi.Tasks.ZeroShot;
using VqaApi.Tasks.Serving;

namespace VqaApi.Api.Heads;

public sealed record TextPair
{
    [Description("Premise, or sentence A.")] public string? Premise { get; init; }
    [Description("Hypothesis, or sentence B.")] public string? Hypothesis { get; init; }
}

public sealed record HeadExampleInput
{
    [Description("The class of this example.")] public string? Label { get; init; }
    [Description("For text heads.")] public string? Text { get; init; }
    [Description("For pair heads: premise and hypothesis.")] public TextPair? Pair { get; init; }
    [Description("For image and VQA heads.")] public ImageInput? Image { get; init; }
    [Description("For VQA heads, with the image.")] public string? Question { get; init; }
}

public sealed record FitHeadRequest
{
    [Description("Head name: a-z, 0-9, '-', '_'."), System.ComponentModel.DataAnnotations.Required] public string? Name { get; init; }
    [Description("image, text, pair or vqa."), System.ComponentModel.DataAnnotations.Required] public string? Task { get; init; }
    [System.ComponentModel.DataAnnotations.Required] public List<HeadExampleInput>? Examples { get; init; }
    [Description("0 for a linear head (multinomial logistic regression), or the width of one hidden ReLU layer.")] public int Hidden { get; init; }
    [Description("L2 penalty on the weights.")] public double L2 { get; init; } = 1e-3;
    [JsonPropertyName("validation_fraction"), Description("Share of examples held out (stratified) to measure validation accuracy.")]
    public double ValidationFraction { get; init; } = 0.2;
    [JsonPropertyName("max_epochs")] public int? MaxEpochs { get; init; }
    public int Seed { get; init; }
    [JsonPropertyName("label_names"), Description("Display names per label and language, e.g. {\"red\": {\"fr\": \"rouge\"}}.")]
    public Dictionary<string, Dictionary<string, string>>? LabelNames { get; init; }
    [Description("Replace a head of the same name.")] public bool Overwrite { get; init; }
}

/// <summary>A head without its weights.</summary>
public sealed record HeadSummary(string Name, string Task, string Layout, string RenderProfile, IReadOnlyList<HeadLabel> Labels,
    HeadModel Model,
    [property: Description("True when the served model uses this head: fitted on it, or on the float model the served int8 model was quantized from (within tolerance).")] bool FittedOnServedModel, int InputDim, int Hidden, HeadMetrics Metrics, DateTimeOffset CreatedAt)
{
    public static HeadSummary Of(Head h, HeadStore store) => new(h.Name, h.Task, h.Layout, h.RenderProfile, h.Labels, h.Model, store.Serves(h.Model),
        h.Weights.InputDim, h.Weights.Hidden, h.Metrics, h.CreatedAt);
}

public static class HeadEndpoints
{
    public static RouteGroupBuilder MapHeads(this RouteGroupBuilder v1)
    {
        var heads = v1.MapGroup("/heads").WithTags("Heads").UsesSharedStore();
        heads.MapPost("", FitAsync)
            .WithName("FitHead")
            .RequireScope(ApiScopes.Admin)
            .WithMetadata(new Microsoft.AspNetCore.Http.Timeouts.RequestTimeoutAttribute(ServiceRegistration.LongRequests))
            .WithSummary("Fit a head on labelled examples (frozen embeddings, L2-regularised logistic regression or a small MLP)")
            .WithDescription("Examples are drawn with the served model's render profile and layout for the task (text, pair, VQA) or preprocessed " +
                             "(image), embedded, and a classifier is fitted with a stratified validation split. Bounded by Heads:MaxExamples, " +
                             "MaxClasses and MaxFitSeconds; one fit at a time (429 otherwise), on a worker thread, while inference goes on.")
            .Accepts<FitHeadRequest>("application/json")
            .WithOpenApiExample("{\"name\": \"sentiment\", \"task\": \"text\", \"examples\": [{\"label\": \"positive\", \"text\": \"I love it\"}, " +
                                "{\"label\": \"negative\", \"text\": \"I hate it\"}, {\"label\": \"positive\", \"text\": \"C'est génial\"}, " +
                                "{\"label\": \"negative\", \"text\": \"C'est nul\"}], \"validation_fraction\": 0}")
            .Produces<HeadSummary>(201)
            .ReadsInputs().RunsEncoder().ProducesProblem(403).ProducesProblem(409);
        heads.MapGet("", (HeadService service) => TypedResults.Ok(service.Store.List().Select(h => HeadSummary.Of(h, service.Store)).ToList()))
            .WithName("ListHeads").WithSummary("The heads stored with the served model");
        heads.MapGet("/{name}", (string name, HeadService service) => TypedResults.Ok(HeadSummary.Of(service.Store.Get(name), service.Store)))
            .WithName("GetHead").WithSummary("One head: labels, model, profile, metrics").ProducesProblem(404).ProducesProblem(409);
        heads.MapDelete("/{name}", (string name, HeadService service) => { service.Delete(name); return TypedResults.NoContent(); })
            .WithName("DeleteHead").WithSummary("Delete a head (heads that ship with the model are read-only: 403)").RequireScope(ApiScopes.Admin).ProducesProblem(403).ProducesProblem(404);
        return v1;
    }

    private static async Task<Created<HeadSummary>> FitAsync([AsParameters] ApiRequest request, HeadService service, QuotaGuard quotas)
    {
        var (limits, ct) = (request.Limits, request.Aborted);
        var body = await RequestBody.ReadJsonOnlyAsync<FitHeadRequest>(request.Http, limits.MaxRequestBodyBytes, ct);
        if (body.Name is null || body.Task is null) throw ApiProblem.BadRequest("'name' and 'task' are required", "missing_field");
        var inputs = body.Examples ?? throw ApiProblem.BadRequest("'examples' is required", "missing_field");
        var examples = new List<HeadExample>(inputs.Count);
        bool takesImages = body.Task is HeadTasks.Image or HeadTasks.Vqa; // other tasks ignore an image, so it is never fetched
        for (int i = 0; i < inputs.Count; i++) examples.Add(ToExample(inputs[i] ?? new HeadExampleInput(), $"examples[{i}]", takesImages, limits, request.Images));
        var spec = new FitHeadSpec
        {
            Name = body.Name, Task = body.Task, Examples = examples, Hidden = body.Hidden, L2 = body.L2, ValidationFraction = body.ValidationFraction,
            MaxEpochs = body.MaxEpochs, Seed = body.Seed, LabelNames = body.LabelNames, Overwrite = body.Overwrite,
            Owner = QuotaGuard.ClientOf(request.Http.HttpContext),
        };
        // Every refusal that needs no image (name, task, counts, fields, labels, an existing head) before any image is fetched;
        // then each image is fetched and decoded only when its example is embedded, and given back right after.
        var labels = service.CheckFit(spec);
        long labelBytes = labels.Sum(l => 2L * l.Length + 32) + (body.LabelNames?.Sum(n => n.Value?.Sum(v => 2L * (v.Key.Length + v.Value?.Length ?? 0) + 16) ?? 0) ?? 0);
        quotas.CheckNewHead(spec.Owner!, spec.Name, service.Store.Exists(spec.Name),
            HeadService.EstimateFileBytes(request.Embeddings.Model.Manifest.Architecture.EmbeddingDim, spec.Hidden, labels.Count, labelBytes));
        var head = await service.FitAsync(spec, ct);
        return TypedResults.Created($"/v1/heads/{head.Name}", HeadSummary.Of(head, service.Store));
    }

    /// <summary>An example's fields, its texts checked; an image is named (<see cref="HeadExample.LoadImage"/>), fetched and decoded
    /// only when the example is embedded.</summary>
    private static HeadExample ToExample(HeadExampleInput input, string field, bool takesImage, LimitsOptions limits, ImageInputs images)
    {
        var texts = new[] { input.Text, input.Pair?.Premise, input.Pair?.Hypothesis, input.Question }.OfType<string>().ToList();
        TextInputs.Validate(texts, limits, field);
        var example = new HeadExample(input.Label, input.Text, input.Pair?.Premise, input.Pair?.Hypothesis, null, input.Question);
        if (!takesImage || input.Image is not { } image) return example;
        var source = ImageSource.FromJson(image, field + ".image");
        return example with { LoadImage = ct => source.DecodeAsync(images, ct), ReleaseImage = images.Release };
    }
}

public sealed record TextClassifyRequest
{
    [Description("The head to use (its task must be text or pair)."), System.ComponentModel.DataAnnotations.Required] public string? Head { get; init; }
    [Description("A sentence (text heads).")] public string? Text { get; init; }
    [Description("Or a premise and hypothesis (pair heads).")] public TextPair? Pair { get; init; }
    [JsonPropertyName("top_k")] public int? TopK { get; init; }
}
