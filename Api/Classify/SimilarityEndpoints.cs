using System.ComponentModel;
using Microsoft.Extensions.Options;
using VqaApi.Api.Hosting;
using VqaApi.Api.Inputs;
using VqaApi.Tasks.Embeddings;

namespace VqaApi.Api.Classify;

public sealed record SimilarityItem
{
    [Description("A text in any language.")] public string? Text { get; init; }
    [Description("Or an image (base64 'data' or 'url').")] public ImageInput? Image { get; init; }
}

public sealed record SimilarityRequest
{
    public SimilarityItem? A { get; init; }
    public SimilarityItem? B { get; init; }
}

public sealed record SimilarityResponse(
    string Model,
    [property: Description("Cosine similarity of the two normalised embeddings, -1..1.")] double Cosine,
    [property: Description("The model's calibrated score: exp(t) x cosine, the logit CLIPPO was trained to compare across candidates.")] double Logit,
    double Temperature);

public static class SimilarityEndpoints
{
    public static IEndpointRouteBuilder MapSimilarity(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/similarity", SimilarityAsync)
            .WithName("Similarity")
            .WithTags("Classification")
            .WithSummary("Similarity of two texts in any languages, or of a text and an image")
            .Accepts<SimilarityRequest>("application/json")
            .WithOpenApiExample("{\"a\": {\"text\": \"a dog runs on the beach\"}, \"b\": {\"text\": \"un perro corre en la playa\"}}")
            .Produces<SimilarityResponse>()
            .ProducesProblem(400).ProducesProblem(413).ProducesProblem(415).ProducesProblem(422).ProducesProblem(429).ProducesProblem(503).ProducesProblem(504);
        return app;
    }

    private static async Task<IResult> SimilarityAsync(HttpRequest request, EmbeddingService embeddings, ImageInputs imageInputs,
        IOptions<LimitsOptions> limitsOptions, CancellationToken ct)
    {
        var limits = limitsOptions.Value;
        var body = await RequestBody.ReadJsonOnlyAsync<SimilarityRequest>(request, limits.MaxRequestBodyBytes, ct);
        var a = await EmbedAsync(body.A, "a", embeddings, imageInputs, limits, ct);
        var b = await EmbedAsync(body.B, "b", embeddings, imageInputs, limits, ct);
        double cosine = 0;
        for (int k = 0; k < a.Length; k++) cosine += (double)a[k] * b[k];
        double t = embeddings.Temperature;
        return TypedResults.Ok(new SimilarityResponse(embeddings.Model.Manifest.Id, cosine, t * cosine, t));
    }

    private static async Task<float[]> EmbedAsync(SimilarityItem? item, string field, EmbeddingService embeddings, ImageInputs imageInputs, LimitsOptions limits, CancellationToken ct)
    {
        if (item is null || (item.Text is null) == (item.Image is null))
            throw ApiProblem.BadRequest($"'{field}' needs exactly one of 'text' or 'image'", "bad_item");
        if (item.Text is { } text)
        {
            TextInputs.Validate([text], limits, field + ".text");
            return (await embeddings.TextsAsync([text], ct)).Vectors[0];
        }
        var image = await imageInputs.DecodeAsync(item.Image!, field + ".image", ct);
        return (await embeddings.ImageAsync(image, ct)).Embedding;
    }
}
