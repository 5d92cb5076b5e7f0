using System.ComponentModel;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using VqaApi.Api.Hosting;
using VqaApi.Api.Inputs;
using VqaApi.Tasks.Embeddings;
using VqaApi.Tasks.Heads;
using VqaApi.Tasks.ZeroShot;

namespace VqaApi.Api.Vqa;

public sealed record VqaRequest
{
    [Description("The image (base64 'data' or 'url')."), System.ComponentModel.DataAnnotations.Required] public ImageInput? Image { get; init; }
    [Description("The question, in any language."), System.ComponentModel.DataAnnotations.Required] public string? Question { get; init; }
    [JsonPropertyName("top_k")] public int? TopK { get; init; }
    [Description("A VQA head to answer with (default: the model's only VQA head).")] public string? Head { get; init; }
    [JsonPropertyName("candidate_answers"), Description("Answers to rank zero-shot: the image against each rendered \"question answer\" statement.")]
    public List<string>? CandidateAnswers { get; init; }
}

public sealed class VqaForm
{
    [System.ComponentModel.DataAnnotations.Required] public IFormFile? Image { get; set; }
    [System.ComponentModel.DataAnnotations.Required, FormExample("\"How many shapes are there?\"")] public string? Question { get; set; }
    [JsonPropertyName("top_k"), FormExample("3")] public int? TopK { get; set; }
    [Description("Leave empty for the model's only VQA head."), FormExample("\"\"")] public string? Head { get; set; }
    [JsonPropertyName("candidate_answers"), Description("Repeat once per answer; none: the VQA head answers."), FormExample("[]")] public List<string>? CandidateAnswers { get; set; }
}

public sealed record VqaResponse(
    string Model,
    [property: Description("'head': the question and image drawn on one canvas by the VQA layout, ranked by the head; 'zero-shot': image against \"question answer\" statements.")]
    string Method,
    string? Head,
    IReadOnlyList<LabelScore> Answers);

public static class VqaEndpoints
{
    public static RouteGroupBuilder MapVqa(this RouteGroupBuilder v1)
    {
        v1.MapPost("/vqa", AnswerAsync)
            .WithName("Vqa")
            .WithTags("VQA")
            .WithSummary("Answer a question about an image, in any language")
            .WithDescription("With a VQA head, the question is drawn in a band above the image (the model's VQA layout) and the head ranks " +
                             "its answers. With candidate_answers, or when the model has no VQA head, answers are ranked zero-shot: the image " +
                             "embedding against each rendered \"question answer\" statement. The response says which method answered.")
            .AcceptsJsonOrForm<VqaRequest, VqaForm>("An image and a question.",
                $"{{\"image\": {{\"data\": \"{DocExamples.TourSceneBase64}\"}}, \"question\": \"¿Cuántas figuras hay?\", \"top_k\": 2}}")
            .Produces<VqaResponse>()
            // A real answer of the bundled model to the request example, names cut to 3 of 12 languages. The tour scene holds three
            // shapes: this model ranks four first and three a close second, a wrong answer shown as it is (its card says how often
            // it is right).
            .WithResponseExample("{\"model\": \"clippo-mini128-gpu-v9\", \"method\": \"head\", \"head\": \"gen-vqa\", \"answers\": [" +
                                 "{\"label\": \"count_3\", \"score\": 0.66, \"logit\": -31.60, \"names\": {\"en\": \"three\", \"es\": \"tres\", \"ja\": \"三つ\"}}, " +
                                 "{\"label\": \"count_4\", \"score\": 0.33, \"logit\": -32.28, \"names\": {\"en\": \"four\", \"es\": \"cuatro\", \"ja\": \"四つ\"}}]}")
            .ReadsInputs().RunsEncoder().ProducesProblem(404).ProducesProblem(409)
            .DisableAntiforgery();
        return v1;
    }

    private static async Task<Ok<VqaResponse>> AnswerAsync([AsParameters] ApiRequest request, HeadService heads, ZeroShotClassifier zeroShot,
        IOptions<TaskLimits> taskOptions)
    {
        var (limits, ct) = (request.Limits, request.Aborted);
        var input = await QueryInput.ReadAsync<VqaRequest>(request.Http, limits, ct, r => (r.Image, null), form => new VqaRequest
        {
            Question = form.Text("question"),
            Head = form.Text("head"),
            TopK = int.TryParse(form.Text("top_k") ?? form.Text("topK"), out var k) ? k : null,
            CandidateAnswers = form.Texts("candidate_answers").Concat(form.Texts("candidateAnswers")).ToList() is { Count: > 0 } answers ? answers : null,
        }, requireQuery: false);
        // Everything that needs no image is decided here, before the image is fetched or decoded.
        var body = input.Body;
        var image = input.Image ?? throw ApiProblem.BadRequest("'image' is required", "missing_image");
        if (body.Question is null) throw ApiProblem.BadRequest("'question' is required", "missing_question");
        TextInputs.Validate([body.Question], limits, "question");
        TopK.Resolve(body.TopK, 1);
        var model = request.Embeddings.Model.Manifest.Id;

        if (body.CandidateAnswers is { } candidates)
        {
            var tasks = taskOptions.Value;
            var answers = Labels.Validate(candidates, "candidate_answers", new TaskLimits { MaxLabels = tasks.MaxCandidateAnswers, MaxLabelCharacters = tasks.MaxLabelCharacters }, limits);
            int topK = TopK.Resolve(body.TopK, answers.Count);
            var query = (await request.Embeddings.ImageAsync(await image.DecodeAsync(request.Images, ct), ct)).Embedding;
            var statements = answers.Select(a => $"{body.Question} {a}").ToList(); // "question answer", drawn as one text
            var ranked = await zeroShot.ClassifyStatementsAsync(query, answers, statements, topK, ct);
            return TypedResults.Ok(new VqaResponse(model, "zero-shot", null, ranked.Labels));
        }

        var head = ChooseHead(body.Head, heads);
        int top = TopK.Resolve(body.TopK, head.Labels.Count);
        request.Embeddings.Model.Canvases.RequireLayout("vqa");
        var decoded = await image.DecodeAsync(request.Images, ct);
        var scores = await heads.ClassifyAsync(head, new HeadExample(null, Image: decoded, Question: body.Question), top, ct);
        return TypedResults.Ok(new VqaResponse(model, "head", head.Name, scores));
    }

    /// <summary>The named head, or the model's only VQA head; refused when there is none, several, or it is not a VQA head.</summary>
    private static Head ChooseHead(string? name, HeadService heads)
    {
        Head head;
        if (name is not null) head = heads.Store.Get(name);
        else
        {
            var vqaHeads = heads.Store.List().Where(h => h.Task == HeadTasks.Vqa && heads.Store.Serves(h.Model)).ToList();
            head = vqaHeads.Count switch
            {
                1 => vqaHeads[0],
                0 => throw ApiProblem.BadRequest("this model has no VQA head; pass 'candidate_answers' to rank answers zero-shot, or fit a head (POST /v1/heads, task vqa)", "no_vqa_head"),
                _ => throw ApiProblem.BadRequest($"this model has several VQA heads ({string.Join(", ", vqaHeads.Select(h => h.Name))}); name one in 'head'", "ambiguous_head"),
            };
        }
        if (head.Task != HeadTasks.Vqa) throw ApiProblem.BadRequest($"head '{head.Name}' classifies {head.Task} inputs, not questions about images", "wrong_head_task");
        return head;
    }
}
