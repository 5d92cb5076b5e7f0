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

/// <summary>How an int8 encoder was made from its float model, and how close its embeddings are to that model's.</summary>
public sealed record Quantization
{
    /// <summary>Heads and collections of the float model are served by the int8 one only when every measured embedding
    /// is at least this close to the float model's (cosine).</summary>
    public const double CompatibleCosine = 0.99;

    /// <summary>"dynamic-int8": weights int8 per output column (symmetric), activations uint8 per call; "dynamic-int8-attention":
    /// the same, and attention's products between activations too (both sides per call); "static-int8": the same weights,
    /// activations uint8 with fixed scales from calibration canvases (QDQ); "dynamic-int8-blocks-N": 8-bit weights with one scale
    /// per N rows of each column on <c>MatMulNBits</c>, activations int8 per block inside the kernel.</summary>
    public string Method { get; init; } = "dynamic-int8";
    public required string FromId { get; init; }
    public required string FromWeightsDType { get; init; }
    /// <summary>SHA-256 of the float model's encoder.onnx.</summary>
    public required string FromEncoderSha256 { get; init; }
    /// <summary>Matrix products quantized, and the weights left float (by name).</summary>
    public int QuantizedMatMuls { get; init; }
    public IReadOnlyList<string> KeptFloat { get; init; } = [];
    /// <summary>Per-column weights lie in [-WeightLevels, WeightLevels]: 64 (7 bits, right on every CPU) or 127 (full range:
    /// right only on CPUs with VNNI or on ARM; ONNX Runtime's AVX2 kernel saturates with them). Absent from manifests written
    /// before 2026-12-07, whose weights are full range; null for 8-bit blocks.</summary>
    public int? WeightLevels { get; init; } = FullWeightLevels;
    /// <summary>True when the weights need VNNI (or ARM) to be multiplied right: full-range per-column weights.</summary>
    [JsonIgnore]
    public bool NeedsVnni => WeightLevels > PortableWeightLevels && !Method.StartsWith("dynamic-int8-blocks", StringComparison.Ordinal);

    /// <summary>Per-column weights in [-64, 64]: 255 x 64 x 2 fits the 16-bit sum of ONNX Runtime's AVX2 kernel.</summary>
    public const int PortableWeightLevels = 64;
    /// <summary>Per-column weights in [-127, 127].</summary>
    public const int FullWeightLevels = 127;
    /// <summary>Measured when quantized: both encoders on the same canvases. Null when nothing was measured.</summary>
    public QuantizationFidelity? Fidelity { get; init; }

    /// <summary>True when embeddings of the float model may be mixed with this model's (heads, collections).</summary>
    public bool CompatibleWithSource => Fidelity is { Canvases: > 0 } f && f.MinCosine >= CompatibleCosine;
}

/// <summary>Cosine between the int8 and the float encoder's embeddings of the same canvases.</summary>
public sealed record QuantizationFidelity(int Canvases, double MinCosine, double MeanCosine, string Canvas);

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
    /// <summary>Set when the encoder is an int8 copy of another model's (<c>vqa quantize</c>, <c>convert --int8</c>).</summary>
    public Quantization? Quantization { get; init; }

    /// <summary>True when embeddings stored by model <paramref name="modelId"/> may be compared with this model's: the same
    /// model, or the float model this int8 model was quantized from, within <see cref="Models.Quantization.CompatibleCosine"/>.</summary>
    public bool ReadsEmbeddingsOf(string modelId) => modelId == Id || (Quantization is { CompatibleWithSource: true } q && q.FromId == modelId);
    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };
}
