using System.ComponentModel;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using VqaApi.Api.Hosting;
using VqaApi.Api.Inputs;
using VqaApi.Tasks.Embeddings;
using VqaApi.Tasks.ZeroShot;

namespace VqaApi.Api.Classify;

public sealed record ZeroShotRequest
{
    [Description("The image to classify (base64 'data' or 'url'). Send 'image' or 'text'.")]
    public ImageInput? Image { get; init; }
    [Description("Or a text to classify against the labels.")]
    public string? Text { get; init; }
    [JsonPropertyName("candidate_labels"), Description("Labels in any language.")]
    [System.ComponentModel.DataAnnotations.Required] public List<string>? CandidateLabels { get; init; }
    [JsonPropertyName("hypothesis_template"), Description("One template with {} for the label, e.g. \"a photo of a {}.\"")]
    public string? HypothesisTemplate { get; init; }
    [JsonPropertyName("hypothesis_templates"), Description("Several templates; each label's embedding is the mean over them. Default: the 8 CLIPPO prompts.")]
    public List<string>? HypothesisTemplates { get; init; }
    [JsonPropertyName("top_k"), Description("How many labels to return (default: all).")]
    public int? TopK { get; init; }
}

public sealed class ZeroShotForm
{
    public IFormFile? Image { get; set; }
    [Description("Or a text to classify (leave empty when you send an image)."), FormExample("\"\"")] public string? Text { get; set; }
    [Description("Repeat the field once per label.")]
    [JsonPropertyName("candidate_labels"), System.ComponentModel.DataAnnotations.Required, FormExample("[\"circle\", \"Kreis\", \"円\"]")] public List<string>? CandidateLabels { get; set; }
    [JsonPropertyName("hypothesis_template"), Description("Empty: the 8 CLIPPO prompts."), FormExample("\"\"")] public string? HypothesisTemplate { get; set; }
    [JsonPropertyName("top_k"), FormExample("2")] public int? TopK { get; set; }
}

public sealed record ZeroShotResponse(
    string Model,
    [property: Description("Always 'zero-shot' here: prompts compared with the query embedding.")] string Method,
    IReadOnlyList<string> Templates,
    IReadOnlyList<LabelScore> Labels,
    [property: Description("Prompts that had to be encoded; the others came from the embedding cache.")] int PromptsEncoded,
    int PromptsTotal);

public static class ZeroShotEndpoints
{
    private static string? Shorten(string? s) => s is { Length: > 80 } ? s[..80] + "..." : s;

    public static RouteGroupBuilder MapZeroShot(this RouteGroupBuilder classify)
    {
        classify.MapPost("/zero-shot", ClassifyAsync)
            .WithName("ZeroShotClassify")
            .WithSummary("Classify an image (or a text) against labels in any language, with no training")
            .WithDescription("Each label is put into every hypothesis template and drawn as text; the label embedding is the mean of its " +
                             "normalised prompt embeddings. Scores are softmax(exp(t) x dot) over the labels, t being the model's temperature. " +
                             "Prompt embeddings are cached, so labels seen before cost no encoder work.")
            .AcceptsJsonOrForm<ZeroShotRequest, ZeroShotForm>("The query and the labels.",
                "{\"text\": \"a photo of a cat\", \"candidate_labels\": [\"cat\", \"chien\", \"猫\", \"bird\"], \"top_k\": 3}")
            .Produces<ZeroShotResponse>()
            .WithResponseExample("{\"model\": \"clippo-mini128-gpu-v9\", \"method\": \"zero-shot\", \"templates\": [\"a photo of a {}.\"], " +
                                 "\"labels\": [{\"label\": \"猫\", \"score\": 0.52, \"logit\": 3.1}, {\"label\": \"cat\", \"score\": 0.31, \"logit\": 2.6}, " +
                                 "{\"label\": \"chien\", \"score\": 0.17, \"logit\": 2.0}], \"promptsEncoded\": 3, \"promptsTotal\": 3}")
            .ReadsInputs().RunsEncoder()
            .DisableAntiforgery();
        return classify;
    }

    private static async Task<Ok<ZeroShotResponse>> ClassifyAsync([AsParameters] ApiRequest request, ZeroShotClassifier classifier, IOptions<TaskLimits> taskOptions)
    {
        var (limits, tasks, ct) = (request.Limits, taskOptions.Value, request.Aborted);
        var query = await QueryInput.ReadAsync<ZeroShotRequest>(request.Http, limits, ct, r => (r.Image, r.Text), form => new ZeroShotRequest
        {
            Text = form.Text("text"),
            CandidateLabels = form.Texts("candidate_labels").Concat(form.Texts("candidateLabels")).ToList(),
            HypothesisTemplate = form.Text("hypothesis_template") ?? form.Text("hypothesisTemplate"),
            TopK = int.TryParse(form.Text("top_k") ?? form.Text("topK"), out var k) ? k : null,
        });
        var body = query.Body;
        var labels = Labels.Validate(body.CandidateLabels, "candidate_labels", tasks, limits);
        var templates = body.HypothesisTemplates ?? (body.HypothesisTemplate is { } one ? [one] : ZeroShotClassifier.ClippoTemplates.ToList());
        if (templates.Count == 0 || templates.Count > tasks.MaxTemplates)
            throw ApiProblem.BadRequest($"send 1 to {tasks.MaxTemplates} hypothesis templates", "bad_templates");
        foreach (var t in templates)
        {
            if (t is null || !t.Contains("{}")) throw ApiProblem.BadRequest($"hypothesis template '{Shorten(t)}' has no {{}} where the label goes", "bad_templates");
            if (t.Length > tasks.MaxTemplateCharacters)
                throw ApiProblem.TooLarge($"a hypothesis template has {t.Length:N0} characters; at most {tasks.MaxTemplateCharacters:N0} (Tasks:MaxTemplateCharacters)", "template_too_long");
        }
        if ((long)labels.Count * templates.Count > tasks.MaxPromptsPerRequest)
            throw ApiProblem.TooLarge($"{labels.Count:N0} labels x {templates.Count} templates = {(long)labels.Count * templates.Count:N0} prompts to draw; at most " +
                                      $"{tasks.MaxPromptsPerRequest:N0} per request (Tasks:MaxPromptsPerRequest). Send fewer labels or templates", "too_many_prompts");
        int topK = TopK.Resolve(body.TopK, labels.Count);

        // Only now, with every refusal decided, is the image (if any) fetched and decoded.
        var vector = await query.EmbedAsync(request.Embeddings, request.Images, ct);
        var result = await classifier.ClassifyAsync(vector, labels, templates, topK, ct);
        return TypedResults.Ok(new ZeroShotResponse(request.Embeddings.Model.Manifest.Id, "zero-shot", templates, result.Labels, result.PromptsEncoded, result.PromptsTotal));
    }
}
