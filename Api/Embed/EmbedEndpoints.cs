using System.Buffers;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using VqaApi.Api.Hosting;
using VqaApi.Api.Inputs;
using VqaApi.Rendering;
using VqaApi.Rendering.Shaped;
using VqaApi.Tasks.Canvases;
using VqaApi.Tasks.Embeddings;
using VqaApi.Tasks.Models;
using VqaApi.Tasks.Serving;

namespace VqaApi.Api.Embed;

public static class EmbedEndpoints
{
    public static RouteGroupBuilder MapEmbed(this RouteGroupBuilder v1)
    {
        v1.MapPost("/embed", EmbedAsync)
            .WithName("Embed")
            .WithTags("Embeddings")
            .WithSummary("Embed texts and images with the served model")
            .WithDescription("JSON: {\"texts\": [...], \"images\": [{\"data\": base64} | {\"url\": ...}]}. " +
                             "multipart/form-data: 'images' files and 'texts' fields. Texts are drawn by the model's render profile " +
                             "(see POST /v1/render for the exact canvas); images are squash-resized to the model's input size.")
            .AcceptsJsonOrForm<EmbedRequest, EmbedForm>("Texts and images to embed.", "{\"texts\": [\"a photo of a cat\", \"ein Foto einer Katze\"], \"include_pre_logits\": false}")
            .Produces<EmbedResponse>()
            // A real answer of the bundled model, its vectors cut to 4 of their 128 values to keep the example short.
            .WithResponseExample("{\"model\": \"clippo-mini128-gpu-v9\", \"randomlyInitialized\": false, \"renderProfile\": {\"kind\": \"shaped\", \"unifont\": null, \"shaped\": {\"name\": \"shaped-128\", \"imageSize\": 128, \"margin\": 5, \"background\": \"#FFFFFF\", \"text\": {\"fontSize\": 22, \"minFontSize\": 10, \"sizePolicy\": \"shrink\", \"lineHeight\": 1.4, \"ink\": \"#000000\", \"maxChars\": 1000}, \"pair\": {\"separatorThickness\": 2, \"separatorColor\": \"#808080\", \"gap\": 3}, \"vqa\": {\"maxBandFraction\": 0.5, \"keepAspectRatio\": true, \"bandColor\": \"#FFFFFF\"}}, \"font\": null, \"imageSize\": 128}, \"dimensions\": 128, \"texts\": [{\"index\": 0, \"embedding\": [0.0027, 0.0106, -0.0083, -0.0017], \"preLogits\": null, \"codePoints\": 16, \"codePointsDrawn\": 16, \"truncated\": false}, {\"index\": 1, \"embedding\": [-0.0005, 0.0116, -0.0312, -0.0025], \"preLogits\": null, \"codePoints\": 20, \"codePointsDrawn\": 20, \"truncated\": false}], \"images\": []}")
            .ReadsInputs().RunsEncoder()
            .DisableAntiforgery();
        return v1;
    }

    /// <summary>Decodes one image, draws it and gives it back. Its own method, so that nothing (such as a hoisted local of the
    /// caller's state machine) keeps the decoded pixels alive while the next image is decoded.</summary>
    private static async Task<(int Width, int Height, string Format)> DrawAsync(ImageSource source, ImageInputs inputs, ModelCanvases canvases, Memory<float> canvas, CancellationToken ct)
    {
        var image = await source.DecodeAsync(inputs, ct);
        canvases.RenderImage(image, canvas.Span);
        inputs.Release(image);
        return (image.Width, image.Height, image.Format);
    }

    private static async Task<Ok<EmbedResponse>> EmbedAsync([AsParameters] ApiRequest request, ServedModel model)
    {
        var (limits, ct) = (request.Limits, request.Aborted);
        List<string> texts;
        var sources = new List<ImageSource>();
        bool includePreLogits;
        if (RequestBody.IsJson(request.Http))
        {
            var body = await RequestBody.ReadJsonAsync<EmbedRequest>(request.Http, limits.MaxRequestBodyBytes, ct);
            texts = body.Texts ?? [];
            includePreLogits = body.IncludePreLogits || body.IncludePreLogitsOldSpelling == true;
            var inputs = body.Images ?? [];
            for (int i = 0; i < inputs.Count; i++) sources.Add(ImageSource.FromJson(inputs[i] ?? new ImageInput(), $"images[{i}]"));
        }
        else if (RequestBody.IsMultipart(request.Http))
        {
            var parts = await RequestBody.ReadMultipartAsync(request.Http, limits.MaxRequestBodyBytes, limits.MaxImagesPerRequest + limits.MaxTextsPerRequest + 1, ct);
            texts = parts.Where(p => p.Name == "texts" && p.FileName is null).Select((p, i) => RequestBody.DecodeUtf8(p.Data, $"texts[{i}]")).ToList();
            includePreLogits = parts.Any(p => (p.Name is "include_pre_logits" || p.Name.Equals("includePreLogits", StringComparison.OrdinalIgnoreCase))
                                              && RequestBody.DecodeUtf8(p.Data, p.Name).Trim() is "true" or "1");
            var files = parts.Where(p => p.FileName is not null || (p.Name == "images" && p.Data.Length > 0)).ToList(); // an empty field is an absent one
            for (int i = 0; i < files.Count; i++) sources.Add(ImageSource.FromUpload(files[i].Data, $"images[{i}] ('{files[i].FileName}')"));
        }
        else throw RequestBody.NotJsonOrForm(request.Http);

        // Every refusal that needs no image, before any is fetched or decoded.
        TextInputs.Validate(texts, limits);
        if (sources.Count > limits.MaxImagesPerRequest)
            throw ApiProblem.BadRequest($"{sources.Count} images sent; at most {limits.MaxImagesPerRequest} per request (Limits:MaxImagesPerRequest)", "too_many_images");
        if (texts.Count + sources.Count == 0)
            throw ApiProblem.BadRequest("nothing to embed: send at least one text or image", "empty_request");
        var canvases = model.Canvases;
        int n = texts.Count + sources.Count;
        var buffer = ArrayPool<float>.Shared.Rent(n * canvases.Length);
        try
        {
            // Each image is decoded, drawn on its canvas and given back before the next: a request holds one decoded image at a time.
            var images = new List<(int Width, int Height, string Format)>(sources.Count);
            for (int i = 0; i < sources.Count; i++)
                images.Add(await DrawAsync(sources[i], request.Images, canvases, buffer.AsMemory((texts.Count + i) * canvases.Length, canvases.Length), ct));
            var stats = new RenderReport[texts.Count];
            for (int i = 0; i < texts.Count; i++) stats[i] = canvases.RenderText(texts[i], buffer.AsSpan(i * canvases.Length, canvases.Length));
            var results = await request.Embeddings.CanvasesAsync(buffer, n, ct);

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
}
