using System.Text.Json;
using System.Text.Json.Serialization;

namespace VqaApi.Tasks.Heads;

/// <summary>What a head classifies: images, texts, sentence pairs, or a question drawn with its image (VQA).</summary>
public static class HeadTasks
{
    public const string Image = "image", Text = "text", Pair = "pair", Vqa = "vqa";
    public static readonly string[] All = [Image, Text, Pair, Vqa];
}

/// <summary>One class of a head: its id and, where known, its display name per language.</summary>
public sealed record HeadLabel(string Id, Dictionary<string, string>? Names = null);

/// <summary>The model a head was fitted on; a head is only ever used with exactly that model.</summary>
public sealed record HeadModel(string Id, string SourceSha256, string WeightsDType)
{
    public override string ToString() => $"{Id} (checkpoint {SourceSha256[..Math.Min(12, SourceSha256.Length)]}, {WeightsDType} weights)";
}

public sealed record HeadMetrics(
    double TrainAccuracy, double? ValidationAccuracy, int TrainExamples, int ValidationExamples,
    int Epochs, double Seconds, double FinalTrainLoss, bool StoppedByTimeLimit, double L2, int Hidden);

/// <summary>Weights as base64 little-endian float32 arrays, so a head file stays small and exact.</summary>
public sealed record HeadWeightsFile(int InputDim, int Hidden, int Classes, string W1, string B1, string W2, string B2)
{
    public static HeadWeightsFile From(HeadWeights w) => new(w.InputDim, w.Hidden, w.Classes, Encode(w.W1), Encode(w.B1), Encode(w.W2), Encode(w.B2));

    public HeadWeights ToWeights() => new(InputDim, Hidden, Classes, Decode(W1), Decode(B1), Decode(W2), Decode(B2));

    private static string Encode(float[] values)
    {
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        return Convert.ToBase64String(bytes);
    }

    private static float[] Decode(string base64)
    {
        var bytes = Convert.FromBase64String(base64);
        if (bytes.Length % 4 != 0) throw new FormatException("weights are not float32");
        var values = new float[bytes.Length / 4];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return values;
    }
}

/// <summary>
/// A task head: a small classifier on the frozen, normalised embedding of one canvas (a linear layer or a
/// one-hidden-layer MLP), stored as <c>heads/NAME.json</c> in the model directory it was fitted on.
/// </summary>
public sealed record Head
{
    public const int CurrentFormat = 1;
    public int Format { get; init; } = CurrentFormat;
    public required string Name { get; init; }
    public required string Task { get; init; }
    /// <summary>The encoder output the head reads: always the normalised embedding.</summary>
    public string Input { get; init; } = "embedding";
    public required IReadOnlyList<HeadLabel> Labels { get; init; }
    public required HeadModel Model { get; init; }
    /// <summary>The render profile (and layout, from <see cref="Task"/>) the canvases were drawn with.</summary>
    public required string RenderProfile { get; init; }
    public string Layout => Task switch { HeadTasks.Pair => "pair", HeadTasks.Vqa => "vqa", HeadTasks.Text => "text", _ => "image" };
    public required HeadWeightsFile Weights { get; init; }
    public required HeadMetrics Metrics { get; init; }
    public DateTimeOffset CreatedAt { get; init; } = DateTimeOffset.UtcNow;
    /// <summary>Ships with the model (written by <c>vqa convert --heads</c>): served, but neither overwritten nor deleted through
    /// the API. An operator changes it on disk.</summary>
    public bool ReadOnly { get; init; }
    /// <summary>The client (API key id) that fitted it, for quotas; null for heads fitted without one.</summary>
    public string? Owner { get; init; }

    private HeadWeights? _weights;
    [JsonIgnore] public HeadWeights Classifier => _weights ??= Weights.ToWeights();

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
}
