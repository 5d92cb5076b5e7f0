using System.ComponentModel;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using VqaApi.Api.Hosting;
using VqaApi.Api.Inputs;
using VqaApi.Rendering;
using VqaApi.Tasks.Models;

namespace VqaApi.Api.Render;

public sealed record RenderRequest
{
    [Description("Text to draw with the model's render profile.")]
    public string? Text { get; init; }
    [Description("Or an image (base64 'data' or 'url') to preprocess exactly as the encoder sees it.")]
    public ImageInput? Image { get; init; }
}

public sealed class RenderForm
{
    [Description("An image file to preprocess exactly as the encoder sees it.")]
    public IFormFile? Image { get; set; }
    [Description("Or a text to draw.")]
    public string? Text { get; set; }
}

public static class RenderEndpoints
{
    public static IEndpointRouteBuilder MapRender(this IEndpointRouteBuilder app)
    {
        app.MapPost("/v1/render", RenderAsync)
            .WithName("Render")
            .WithTags("Rendering")
            .WithSummary("The exact canvas the encoder sees, as PNG")
            .WithDescription("Send one text or one image. The PNG is the model's input canvas (its render profile for text, " +
                             "the squash-resize for images), mapped back from [-1, 1] to 0..255. Header X-Render-Profile names the profile.")
            .AcceptsJsonOrForm<RenderRequest, RenderForm>("One text or one image to draw.", "{\"text\": \"Hello, CLIPPO! Any script Unifont can draw: Ελληνικά, Русский, 中文\"}")
            .Produces(200, contentType: "image/png")
            .ProducesProblem(400).ProducesProblem(413).ProducesProblem(415).ProducesProblem(422)
            .DisableAntiforgery();
        return app;
    }

    private static async Task<FileContentHttpResult> RenderAsync(HttpRequest request, HttpResponse response, ServedModel model,
        ImageInputs imageInputs, IOptions<LimitsOptions> limitsOptions, CancellationToken ct)
    {
        var limits = limitsOptions.Value;
        string? text;
        DecodedImage? image = null;
        if (RequestBody.IsJson(request))
        {
            var body = await RequestBody.ReadJsonAsync<RenderRequest>(request, limits.MaxRequestBodyBytes, ct);
            text = body.Text;
            if (text is not null && body.Image is not null) throw ApiProblem.BadRequest("send either 'text' or 'image', not both", "ambiguous_input");
            if (body.Image is not null) image = await imageInputs.DecodeAsync(body.Image, "image", ct);
        }
        else if (RequestBody.IsMultipart(request))
        {
            var parts = await RequestBody.ReadMultipartAsync(request, limits.MaxRequestBodyBytes, 4, ct);
            var textPart = parts.FirstOrDefault(p => p.Name == "text" && p.FileName is null);
            text = textPart is null ? null : RequestBody.DecodeUtf8(textPart.Data, "text");
            var file = parts.FirstOrDefault(p => p.FileName is not null || p.Name == "image");
            if (text is not null && file is not null) throw ApiProblem.BadRequest("send either 'text' or 'image', not both", "ambiguous_input");
            if (file is not null) image = imageInputs.Decode(file.Data, "image");
        }
        else throw ApiProblem.UnsupportedMediaType($"send application/json or multipart/form-data, not '{request.ContentType ?? "no Content-Type"}'");

        if (text is null && image is null) throw ApiProblem.BadRequest("send a 'text' or an 'image' to render", "empty_request");
        if (text is not null) TextInputs.Validate([text], limits, "text");

        var canvases = model.Canvases;
        var canvas = new float[canvases.Length];
        if (image is not null) canvases.RenderImage(image, canvas);
        else canvases.RenderText(text!, canvas);
        response.Headers["X-Render-Profile"] = canvases.Profile.Kind;
        response.Headers["X-Model"] = model.Manifest.Id;
        return TypedResults.File(CanvasPng.Encode(canvas, canvases.Size, canvases.Size), "image/png");
    }
}
