using System.Buffers;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using VqaApi.Api.Hosting;
using VqaApi.Api.Inputs;
using VqaApi.Rendering;
using VqaApi.Rendering.Shaped;
using VqaApi.Tasks.Embeddings;
using VqaApi.Tasks.Models;
using VqaApi.Tasks.Serving;

namespace VqaApi.Api.Embed;

public static class EmbedEndpoints
{
    public static IEndpointRouteBuilder MapEmbed(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/embed", EmbedAsync)
            .WithName("Embed")
            .WithTags("Embeddings")
            .WithSummary("Embed texts and images with the served model")
            .WithDescription("JSON: {\"texts\": [...], \"images\": [{\"data\": base64} | {\"url\": ...}]}. " +
                             "multipart/form-data: 'images' files and 'texts' fields. Texts are drawn by the model's render profile " +
                             "(see POST /v1/render for the exact canvas); images are squash-resized to the model's input size.")
            .AcceptsJsonOrForm<EmbedRequest, EmbedForm>("Texts and images to embed.", "{\"texts\": [\"a photo of a cat\", \"ein Foto einer Katze\"], \"includePreLogits\": false}")
            .Produces<EmbedResponse>()
            .ProducesProblem(400).ProducesProblem(413).ProducesProblem(415).ProducesProblem(422).ProducesProblem(429)
            .DisableAntiforgery();
        return app;
    }

    private static async Task<Ok<EmbedResponse>> EmbedAsync(HttpRequest request, ServedModel model, EmbeddingService embeddings, ImageInputs imageInputs,
        IOptions<LimitsOptions> limitsOptions, CancellationToken ct)
    {
        var limits = limitsOptions.Value;
        List<string> texts;
        var images = new List<DecodedImage>();
        bool includePreLogits;
        if (RequestBody.IsJson(request))
        {
            var body = await RequestBody.ReadJsonAsync<EmbedRequest>(request, limits.MaxRequestBodyBytes, ct);
            texts = body.Texts ?? [];
            includePreLogits = body.IncludePreLogits;
            TextInputs.Validate(texts, limits);
            var inputs = body.Images ?? [];
            CheckImageCount(inputs.Count, limits);
            for (int i = 0; i < inputs.Count; i++)
                images.Add(await imageInputs.DecodeAsync(inputs[i] ?? new ImageInput(), $"images[{i}]", ct));
        }
        else if (RequestBody.IsMultipart(request))
        {
            var parts = await RequestBody.ReadMultipartAsync(request, limits.MaxRequestBodyBytes, limits.MaxImagesPerRequest + limits.MaxTextsPerRequest + 1, ct);
            texts = parts.Where(p => p.Name == "texts" && p.FileName is null).Select((p, i) => RequestBody.DecodeUtf8(p.Data, $"texts[{i}]")).ToList();
            includePreLogits = parts.Any(p => p.Name.Equals("includePreLogits", StringComparison.OrdinalIgnoreCase) && RequestBody.DecodeUtf8(p.Data, p.Name).Trim() is "true" or "1");
            TextInputs.Validate(texts, limits);
            var files = parts.Where(p => p.FileName is not null || p.Name == "images").ToList();
            CheckImageCount(files.Count, limits);
            for (int i = 0; i < files.Count; i++)
                images.Add(imageInputs.Decode(files[i].Data, $"images[{i}] ('{files[i].FileName}')"));
        }
        else throw RequestBody.NotJsonOrForm(request);

        if (texts.Count + images.Count == 0)
            throw ApiProblem.BadRequest("nothing to embed: send at least one text or image", "empty_request");

        var canvases = model.Canvases;
        int n = texts.Count + images.Count;
        var buffer = ArrayPool<float>.Shared.Rent(n * canvases.Length);
        try
        {
            var stats = new RenderReport[texts.Count];
            for (int i = 0; i < texts.Count; i++) stats[i] = canvases.RenderText(texts[i], buffer.AsSpan(i * canvases.Length, canvases.Length));
            for (int i = 0; i < images.Count; i++) canvases.RenderImage(images[i], buffer.AsSpan((texts.Count + i) * canvases.Length, canvases.Length));
            var results = await embeddings.CanvasesAsync(buffer, n, ct);

            var textResults = texts.Select((_, i) => new TextEmbedding(i, results[i].Embedding, includePreLogits ? results[i].PreLogits : null,
                stats[i].Blocks[0].CodePoints, stats[i].Blocks[0].CodePointsDrawn, stats[i].Truncated)).ToList();
            var imageResults = images.Select((img, i) =>
            {
                var r = results[texts.Count + i];
                return new ImageEmbedding(i, r.Embedding, includePreLogits ? r.PreLogits : null, img.Width, img.Height, img.Format);
            }).ToList();
            var m = model.Manifest;
            return TypedResults.Ok(new EmbedResponse(m.Id, m.RandomlyInitialized, m.RenderProfile, m.Architecture.EmbeddingDim, textResults, imageResults));
        }
        finally { ArrayPool<float>.Shared.Return(buffer); }
    }

    private static void CheckImageCount(int count, LimitsOptions limits)
    {
        if (count > limits.MaxImagesPerRequest)
            throw ApiProblem.BadRequest($"{count} images sent; at most {limits.MaxImagesPerRequest} per request (Limits:MaxImagesPerRequest)", "too_many_images");
    }
}
