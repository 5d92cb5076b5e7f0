using System.ComponentModel;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using VqaApi.Api.Hosting;
using VqaApi.Api.Inputs;
using VqaApi.Rendering;
using VqaApi.Rendering.Shaped;
using VqaApi.Tasks.Canvases;
using VqaApi.Tasks.Models;
using VqaApi.Tasks.Serving;
using VqaApi.Rendering.Profiles;

namespace VqaApi.Api.Render;

public sealed record SentencePair
{
    public string? First { get; init; }
    public string? Second { get; init; }
}

public sealed record RenderRequest
{
    [Description("Render profile: omit for the served model's own, or 'unifont' (official CLIPPO renderer) or 'shaped' (multilingual) to compare.")]
    public string? Profile { get; init; }
    [Description("Text layout: one text on a canvas.")]
    public string? Text { get; init; }
    [Description("Pair layout: sentence A, a separator, sentence B (shaped profiles).")]
    public SentencePair? Pair { get; init; }
    [Description("VQA layout: the question drawn in a band above 'image' (shaped profiles).")]
    public string? Question { get; init; }
    [Description("An image (base64 'data' or 'url'): alone, preprocessed exactly as the encoder sees it; with 'question', the VQA layout.")]
    public ImageInput? Image { get; init; }
}

public sealed class RenderForm
{
    [Description("Empty: the served model's own profile; or 'unifont' or 'shaped'."), FormExample("\"\"")] public string? Profile { get; set; }
    [FormExample("\"Hello, CLIPPO\"")] public string? Text { get; set; }
    [Description("Pair layout: sentence A (with 'second'; leave 'text' empty)."), FormExample("\"\"")] public string? First { get; set; }
    [FormExample("\"\"")] public string? Second { get; set; }
    [Description("VQA layout, with an image (leave 'text' empty)."), FormExample("\"\"")] public string? Question { get; set; }
    [Description("An image file: alone, the encoder's view of it; with 'question', the VQA layout.")]
    public IFormFile? Image { get; set; }
}

/// <summary>JSON answer of /v1/render when the client asks for application/json.</summary>
public sealed record RenderResponse(string Profile, string Layout, int Size, RenderReport? Report, string Png);

public static class RenderEndpoints
{
    public static RouteGroupBuilder MapRender(this RouteGroupBuilder v1)
    {
        v1.MapPost("/render", RenderAsync)
            .WithName("Render")
            .WithTags("Rendering")
            .WithSummary("The exact canvas the encoder sees, as PNG, with the render report")
            .WithDescription("Send one of: 'text' (text layout), 'pair' (pair layout), 'question' + 'image' (VQA layout), or 'image' alone " +
                             "(the squash-resize the encoder sees). The PNG is the model's input canvas mapped back from [-1, 1] to 0..255. " +
                             "The render report (font size used, lines, what did not fit, fonts used, code points no font covers) is in the " +
                             "X-Render-Report header as JSON; send 'Accept: application/json' to get {report, png (base64)} instead.")
            .AcceptsJsonOrForm<RenderRequest, RenderForm>("What to draw.",
                "{\"profile\": \"shaped\", \"pair\": {\"first\": \"A man is playing a guitar.\", \"second\": \"رجل يعزف على الغيتار\"}}")
            .Produces<RenderResponse>(200, "application/json")
            .AddOpenApiOperationTransformer((operation, context, ct) =>
            {
                // The default answer is the PNG itself, with the render report in headers; JSON when the client asks for it.
                if (operation.Responses?.TryGetValue("200", out var ok) == true && ok is Microsoft.OpenApi.OpenApiResponse response)
                {
                    response.Description = "The canvas as PNG (default), or {profile, layout, size, report, png} with 'Accept: application/json'.";
                    response.Content ??= new Dictionary<string, Microsoft.OpenApi.OpenApiMediaType>();
                    response.Content["image/png"] = new Microsoft.OpenApi.OpenApiMediaType
                    {
                        Schema = new Microsoft.OpenApi.OpenApiSchema { Type = Microsoft.OpenApi.JsonSchemaType.String, Format = "binary" },
                    };
                    response.Headers ??= new Dictionary<string, Microsoft.OpenApi.IOpenApiHeader>();
                    var text = new Microsoft.OpenApi.OpenApiSchema { Type = Microsoft.OpenApi.JsonSchemaType.String };
                    response.Headers["X-Render-Report"] = new Microsoft.OpenApi.OpenApiHeader { Description = "The render report as JSON (font size used, lines, what did not fit, fonts used, code points no font covers); absent for an image alone.", Schema = text };
                    response.Headers["X-Render-Profile"] = new Microsoft.OpenApi.OpenApiHeader { Description = "The render profile that drew the canvas.", Schema = text };
                    response.Headers["X-Model"] = new Microsoft.OpenApi.OpenApiHeader { Description = "The served model's id.", Schema = text };
                }
                return Task.CompletedTask;
            })
            .ReadsInputs()
            .DisableAntiforgery();
        return v1;
    }

    private static async Task<Results<FileContentHttpResult, Ok<RenderResponse>>> RenderAsync([AsParameters] ApiRequest request, HttpResponse response, ServedModel model)
    {
        var (limits, ct) = (request.Limits, request.Aborted);
        RenderRequest body;
        ImageSource? image = null;
        if (RequestBody.IsJson(request.Http))
        {
            body = await RequestBody.ReadJsonAsync<RenderRequest>(request.Http, limits.MaxRequestBodyBytes, ct);
            if (body.Image is not null) image = ImageSource.FromJson(body.Image, "image");
        }
        else if (RequestBody.IsMultipart(request.Http))
        {
            var parts = await RequestBody.ReadMultipartAsync(request.Http, limits.MaxRequestBodyBytes, 8, ct);
            var fields = new FormFields(parts); // an empty field is an absent one
            string? Field(string name) => fields.Text(name);
            var first = Field("first");
            var second = Field("second");
            body = new RenderRequest
            {
                Profile = Field("profile"), Text = Field("text"), Question = Field("question"),
                Pair = first is null && second is null ? null : new SentencePair { First = first, Second = second },
            };
            var file = parts.FirstOrDefault(p => p.FileName is not null || (p.Name == "image" && p.Data.Length > 0)); // an empty field is an absent one
            if (file is not null) image = ImageSource.FromUpload(file.Data, "image");
        }
        else throw RequestBody.NotJsonOrForm(request.Http);

        // Which layout, and every refusal that needs no image, before the image is fetched or decoded.
        var canvases = CanvasesFor(body.Profile, model);
        int chosen = (body.Text is null ? 0 : 1) + (body.Pair is null ? 0 : 1) + (body.Question is null && image is null ? 0 : 1);
        if (chosen == 0) throw ApiProblem.BadRequest("send a 'text', a 'pair', a 'question' with an 'image', or an 'image' to render", "empty_request");
        if (chosen > 1) throw ApiProblem.BadRequest("send one of 'text', 'pair', or 'question' + 'image' per request", "ambiguous_input");
        if (body.Text is { } t) TextInputs.Validate([t], limits, "text");
        if (body.Pair is { } p)
        {
            if (p.First is null || p.Second is null) throw ApiProblem.BadRequest("'pair' needs both 'first' and 'second'", "incomplete_pair");
            TextInputs.Validate([p.First, p.Second], limits, "pair");
        }
        if (body.Question is { } q)
        {
            if (image is null) throw ApiProblem.BadRequest("'question' needs an 'image' for the VQA layout", "missing_image");
            TextInputs.Validate([q], limits, "question");
        }

        var canvas = new float[canvases.Length];
        RenderReport? report;
        try
        {
            canvases.RequireLayout(body.Pair is not null ? "pair" : body.Question is not null ? "vqa" : "text");
            if (body.Text is { } text) report = canvases.RenderText(text, canvas);
            else if (body.Pair is { } pair) report = canvases.RenderPair(pair.First!, pair.Second!, canvas);
            else if (body.Question is { } question) report = canvases.RenderVqa(question, await image!.DecodeAsync(request.Images, ct), canvas);
            else
            {
                canvases.RenderImage(await image!.DecodeAsync(request.Images, ct), canvas);
                report = null;
            }
        }
        catch (LayoutNotSupportedException e)
        {
            throw ApiProblem.BadRequest(e.Message, "layout_not_supported");
        }

        var png = CanvasPng.Encode(canvas, canvases.Size, canvases.Size);
        var layout = report?.Layout ?? "image";
        if (request.Http.Headers.Accept.Any(a => a?.Contains("application/json", StringComparison.OrdinalIgnoreCase) == true))
            return TypedResults.Ok(new RenderResponse(canvases.ProfileName, layout, canvases.Size, report, Convert.ToBase64String(png)));
        response.Headers["X-Render-Profile"] = canvases.ProfileName;
        response.Headers["X-Model"] = model.Manifest.Id;
        if (report is not null) response.Headers["X-Render-Report"] = JsonSerializer.Serialize(report, RequestBody.JsonOptions);
        return TypedResults.File(png, "image/png");
    }

    private static ModelCanvases CanvasesFor(string? profile, ServedModel model)
    {
        if (profile is null) return model.Canvases;
        var spec = RenderProfileSpec.Named(profile, model.Canvases.Size)
                   ?? throw ApiProblem.BadRequest($"unknown profile '{profile}'; use 'unifont' or 'shaped', or omit it for the model's own", "unknown_profile");
        return spec.Kind == model.Canvases.Profile.Kind ? model.Canvases
            : OtherProfiles.GetOrAdd((spec.Kind, model.Canvases.Size), _ => new ModelCanvases(spec, model.Canvases.Size, UnifontFont.Default));
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string, int), ModelCanvases> OtherProfiles = new();
}
