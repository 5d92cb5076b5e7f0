using Google.Protobuf;
using VqaApi.Rendering;
using VqaApi.Tasks.Checkpoints;
using VqaApi.Tasks.Models;
using VqaApi.Rendering.Profiles;

namespace VqaApi.Tasks.Conversion;

public sealed record ConvertOptions
{
    public bool Fp16 { get; init; }
    public string? Id { get; init; }
    public string? Description { get; init; }
    public bool Overwrite { get; init; }
    public bool RandomlyInitialized { get; init; }
    /// <summary>How the model reads text: "unifont" (the official renderer, right for released checkpoints) or "shaped".</summary>
    public string RenderProfile { get; init; } = RenderProfileSpec.UnifontKind;
    /// <summary>How the encoder graph writes self-attention (<see cref="EncoderAttention"/>): standard operators unless
    /// asked (the fused kernel measured no faster on the CPU: docs/benchmarks.md, "Fused self-attention").</summary>
    public EncoderAttention Attention { get; init; } = EncoderAttention.Standard;
}

/// <summary>Turns a big_vision CLIPPO checkpoint into a model directory (ONNX encoder + manifest).</summary>
public static class CheckpointConverter
{
    public static ModelDirectory Convert(string checkpointPath, string modelDirectory, ConvertOptions? options = null)
    {
        var checkpoint = ClippoCheckpoint.Load(checkpointPath);
        return Convert(checkpoint, Path.GetFileName(checkpointPath), modelDirectory, options ?? new ConvertOptions());
    }

    /// <summary>Writes the model directory staged (<see cref="ModelDirectory.CreateStaged"/>): never half-written.</summary>
    public static ModelDirectory Convert(ClippoCheckpoint checkpoint, string sourceName, string modelDirectory, ConvertOptions options) =>
        ModelDirectory.CreateStaged(modelDirectory, options.Overwrite, staging =>
        {
            var a = checkpoint.Architecture;
            var manifest = new ModelManifest
            {
                Id = options.Id ?? DefaultId(sourceName, checkpoint, options.Fp16),
                Description = options.Description ?? $"CLIPPO ViT converted from {sourceName}",
                Architecture = a,
                Parameters = a.ParameterCount(),
                WeightsDType = options.Fp16 ? "float16" : "float32",
                Input = new CanvasInput { Height = a.ImageSize, Width = a.ImageSize },
                Temperature = Math.Exp(checkpoint.LogTemperature),
                RenderProfile = RenderProfileSpec.Named(options.RenderProfile, a.ImageSize)
                                ?? throw new ArgumentException($"unknown render profile '{options.RenderProfile}'; use unifont or shaped"),
                Source = new CheckpointSource { File = sourceName, Sha256 = checkpoint.Sha256, StoredDType = checkpoint.StoredAs.ToString().ToLowerInvariant() },
                RandomlyInitialized = options.RandomlyInitialized,
            };
            var model = OnnxEncoderBuilder.Build(checkpoint, options.Fp16, $"CLIPPO encoder {manifest.Id}, input pixels NHWC float32 in [-1, 1]", options.Attention);
            using (var file = File.Create(Path.Combine(staging, manifest.Encoder)))
                model.WriteTo(file);
            ModelDirectory.WriteManifest(staging, manifest);
        });

    private static string DefaultId(string sourceName, ClippoCheckpoint checkpoint, bool fp16)
    {
        var stem = Path.GetFileNameWithoutExtension(sourceName);
        return $"{stem}-{checkpoint.Sha256[..8]}{(fp16 ? "-fp16" : "")}";
    }
}
