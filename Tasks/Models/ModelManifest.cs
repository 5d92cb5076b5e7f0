using System.Text.Json;
using System.Text.Json.Serialization;
using VqaApi.Rendering;
using VqaApi.Tasks.Checkpoints;
using VqaApi.Rendering.Profiles;

namespace VqaApi.Tasks.Models;

/// <summary>How the model's encoder input is laid out; written into every manifest so clients never guess.</summary>
public sealed record CanvasInput
{
    public string Name { get; init; } = "pixels";
    public string Layout { get; init; } = "NHWC";
    public string DType { get; init; } = "float32";
    public required int Height { get; init; }
    public required int Width { get; init; }
    public int Channels { get; init; } = 3;
    /// <summary>Pixel value v in 0..255 maps to v / 255 * 2 - 1.</summary>
    public float[] Range { get; init; } = [-1f, 1f];
}

public sealed record CheckpointSource
{
    public string Kind { get; init; } = "big_vision-clippo-npz";
    public string? File { get; init; }
    public required string Sha256 { get; init; }
    public string? StoredDType { get; init; }
}

/// <summary>manifest.json of a model directory: everything needed to serve the encoder beside it.</summary>
public sealed record ModelManifest
{
    public const string FileName = "manifest.json";
    public const int CurrentFormat = 1;

    public int Format { get; init; } = CurrentFormat;
    public required string Id { get; init; }
    public string? Description { get; init; }
    public required VitArchitecture Architecture { get; init; }
    public long Parameters { get; init; }
    public string Encoder { get; init; } = "encoder.onnx";
    public string WeightsDType { get; init; } = "float32";
    public required CanvasInput Input { get; init; }
    public Dictionary<string, string> Outputs { get; init; } = new()
    {
        ["embedding"] = "embedding",
        ["logits"] = "logits",
        ["pre_logits"] = "pre_logits",
    };
    /// <summary>exp(t): contrastive scores are Temperature * dot(a, b).</summary>
    public required double Temperature { get; init; }
    public required RenderProfileSpec RenderProfile { get; init; }
    public required CheckpointSource Source { get; init; }
    /// <summary>True for the placeholder model with random weights: its embeddings mean nothing.</summary>
    public bool RandomlyInitialized { get; init; }
    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };
}
