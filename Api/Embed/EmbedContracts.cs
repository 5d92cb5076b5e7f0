using System.ComponentModel;
using VqaApi.Rendering;
using VqaApi.Api.Inputs;
using VqaApi.Tasks.Models;
using VqaApi.Rendering.Profiles;

namespace VqaApi.Api.Embed;

public sealed record EmbedRequest
{
    [Description("Texts to embed; each is rendered onto a canvas by the model's render profile.")]
    public List<string>? Texts { get; init; }
    [Description("Images to embed, each as base64 'data' or a 'url'.")]
    public List<ImageInput>? Images { get; init; }
    [Description("Also return pre_logits (the pooled representation before the head).")]
    [System.Text.Json.Serialization.JsonPropertyName("include_pre_logits")]
    public bool IncludePreLogits { get; init; }
    /// <summary>The old spelling, still accepted; not in the OpenAPI document.</summary>
    [System.Text.Json.Serialization.JsonPropertyName("includePreLogits"), VqaApi.Api.Hosting.Undocumented]
    public bool? IncludePreLogitsOldSpelling { get; init; }
}

/// <summary>multipart/form-data form of /v1/embed: image files and/or text fields.</summary>
public sealed class EmbedForm
{
    [Description("Image files (JPEG, PNG, WebP, GIF first frame, BMP)."), VqaApi.Api.Hosting.FormExample("[]")]
    public IFormFileCollection? Images { get; set; }
    [Description("Texts, one form field each."), VqaApi.Api.Hosting.FormExample("[\"a purple circle\"]")]
    public List<string>? Texts { get; set; }
    [Description("Also return pre_logits.")]
    [System.Text.Json.Serialization.JsonPropertyName("include_pre_logits")]
    public bool? IncludePreLogits { get; set; }
}

public sealed record TextEmbedding(
    int Index,
    float[] Embedding,
    float[]? PreLogits,
    [property: Description("Code points in the text (after UTF-8 decoding).")] int CodePoints,
    [property: Description("Code points drawn on the canvas: at most max_chars (768 for the official renderer) and only what fits its lines.")] int CodePointsDrawn,
    [property: Description("True when part of the text did not make it onto the canvas.")] bool Truncated);

public sealed record ImageEmbedding(int Index, float[] Embedding, float[]? PreLogits, int Width, int Height, string Format);

public sealed record EmbedResponse(
    string Model,
    [property: Description("True for the placeholder model: its embeddings carry no meaning.")] bool RandomlyInitialized,
    RenderProfileSpec RenderProfile,
    int Dimensions,
    List<TextEmbedding> Texts,
    List<ImageEmbedding> Images);
