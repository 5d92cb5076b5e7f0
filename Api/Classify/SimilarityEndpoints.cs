using System.ComponentModel;
using Microsoft.AspNetCore.Http.HttpResults;
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
    [System.ComponentModel.DataAnnotations.Required] public SimilarityItem? A { get; init; }
    [System.ComponentModel.DataAnnotations.Required] public SimilarityItem? B { get; init; }
}

public sealed record SimilarityResponse(
    string Model,
    [property: Description("Cosine similarity of the two normalised embeddings, -1..1.")] double Cosine,
    [property: Description("The model's calibrated score: exp(t) x cosine, the logit CLIPPO was trained to compare across candidates.")] double Logit,
    double Temperature);

public static class SimilarityEndpoints
{
    public static RouteGroupBuilder MapSimilarity(this RouteGroupBuilder v1)
    {
        v1.MapPost("/similarity", SimilarityAsync)
            .WithName("Similarity")
            .WithTags("Classification")
            .WithSummary("Similarity of two texts in any languages, or of a text and an image")
            .Accepts<SimilarityRequest>("application/json")
            .WithOpenApiExample("{\"a\": {\"text\": \"a dog runs on the beach\"}, \"b\": {\"text\": \"un perro corre en la playa\"}}")
            .Produces<SimilarityResponse>()
            .ReadsInputs().RunsEncoder();
        return v1;
    }

    private static async Task<Ok<SimilarityResponse>> SimilarityAsync([AsParameters] ApiRequest request)
    {
        var body = await RequestBody.ReadJsonOnlyAsync<SimilarityRequest>(request.Http, request.Limits.MaxRequestBodyBytes, request.Aborted);
        // Both sides are checked before either image is fetched or anything is encoded.
        var a = Check(body.A, "a", request.Limits);
        var b = Check(body.B, "b", request.Limits);
        var va = await EmbedAsync(a, "a", request);
        var vb = await EmbedAsync(b, "b", request);
        double cosine = 0;
        for (int k = 0; k < va.Length; k++) cosine += (double)va[k] * vb[k];
        double t = request.Embeddings.Temperature;
        return TypedResults.Ok(new SimilarityResponse(request.Embeddings.Model.Manifest.Id, cosine, t * cosine, t));
    }

    private static SimilarityItem Check(SimilarityItem? item, string field, LimitsOptions limits)
    {
        if (item is null || (item.Text is null) == (item.Image is null))
            throw ApiProblem.BadRequest($"'{field}' needs exactly one of 'text' or 'image'", "bad_item");
        if (item.Text is { } text) TextInputs.Validate([text], limits, field + ".text");
        return item;
    }

    private static async Task<float[]> EmbedAsync(SimilarityItem item, string field, ApiRequest request)
    {
        if (item.Text is { } text) return (await request.Embeddings.TextsAsync([text], request.Aborted)).Vectors[0];
        var image = await ImageSource.FromJson(item.Image!, field + ".image").DecodeAsync(request.Images, request.Aborted);
        return (await request.Embeddings.ImageAsync(image, request.Aborted)).Embedding;
    }
}
