using System.ComponentModel;
using Microsoft.AspNetCore.Http.HttpResults;
using VqaApi.Rendering;
using VqaApi.Tasks.Checkpoints;
using VqaApi.Tasks.Models;
using VqaApi.Tasks.Serving;
using VqaApi.Rendering.Profiles;

namespace VqaApi.Api.Models;

public sealed record ModelInfo(
    string Id,
    string? Description,
    [property: Description("True for the placeholder with random weights: its embeddings carry no meaning.")] bool RandomlyInitialized,
    string? Warning,
    VitArchitecture Architecture,
    long Parameters,
    [property: Description("float32, float16 (stored; arithmetic float32) or int8 (matrix products on integer kernels).")] string WeightsDType,
    [property: Description("For an int8 model: the float model it was made from, what stayed float, and the measured cosine to that model's embeddings.")] VqaApi.Tasks.Models.Quantization? Quantization,
    CanvasInput Input,
    double Temperature,
    RenderProfileSpec RenderProfile,
    CheckpointSource Source,
    [property: Description("ONNX Runtime execution provider in use: CUDA or CPU.")] string ExecutionProvider,
    string? ExecutionProviderNote,
    bool Ready,
    long CanvasesEncoded,
    long BatchesRun,
    int QueuedCanvases,
    [property: Description("The model card (README.md in the model directory) as Markdown: what the model was trained on and what it knows; null when it has none.")] string? Card);

public static class ModelEndpoints
{
    public static RouteGroupBuilder MapModels(this RouteGroupBuilder v1)
    {
        v1.MapGet("/models", (ServedModel model) => TypedResults.Ok(new[] { Describe(model) }))
            .WithName("ListModels")
            .WithTags("Models")
            .WithSummary("The served model: architecture, render profile, temperature, execution provider");
        return v1;
    }

    public static ModelInfo Describe(ServedModel model)
    {
        var m = model.Manifest;
        var e = model.Encoder;
        return new ModelInfo(m.Id, m.Description, m.RandomlyInitialized, m.RandomlyInitialized ? PlaceholderModel.Warning : null,
            m.Architecture, m.Parameters, m.WeightsDType, m.Quantization, m.Input, m.Temperature, m.RenderProfile, m.Source,
            e.ExecutionProvider, e.ExecutionProviderNote, model.Ready, e.CanvasesEncoded, e.BatchesRun, e.QueuedCanvases, model.Directory.Card);
    }
}
