using System.Buffers;
using VqaApi.Rendering;
using VqaApi.Tasks.Encoders;
using VqaApi.Tasks.Inference;
using VqaApi.Tasks.Models;
using VqaApi.Tasks.Serving;

namespace VqaApi.Tasks.Embeddings;

/// <summary>Embeddings of texts, and how many of them had to be encoded (the rest came from the cache).</summary>
public sealed record TextEmbeddings(float[][] Vectors, int Encoded);

/// <summary>
/// Embeddings for the tasks: texts (drawn by the model's profile, cached), images, sentence pairs and
/// question + image canvases. Every call is one pass through the inference gate.
/// </summary>
public sealed class EmbeddingService(ServedModel model, InferenceGate gate, EmbeddingCache cache)
{
    /// <summary>Canvases handed to the encoder queue at a time, so a big request never fills the queue alone.</summary>
    private const int Chunk = 32;

    public ServedModel Model => model;
    public EmbeddingCache Cache => cache;
    public double Temperature => model.Manifest.Temperature;

    /// <summary>Normalised embeddings of texts in the text layout; repeated and cached texts cost no encoder work.</summary>
    public ValueTask<TextEmbeddings> TextsAsync(IReadOnlyList<string> texts, CancellationToken cancellationToken) =>
        gate.RunAsync(ct => new ValueTask<TextEmbeddings>(TextsCoreAsync(texts, ct)), cancellationToken);

    private async Task<TextEmbeddings> TextsCoreAsync(IReadOnlyList<string> texts, CancellationToken ct)
    {
        var canvases = model.Canvases;
        var known = new Dictionary<string, float[]>(StringComparer.Ordinal);
        var missing = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var text in texts)
        {
            if (!seen.Add(text)) continue;
            if (cache.TryGet(KeyOf(text), out var hit)) known[text] = hit;
            else missing.Add(text);
        }
        var buffer = ArrayPool<float>.Shared.Rent(Math.Min(Chunk, Math.Max(1, missing.Count)) * canvases.Length);
        try
        {
            for (int start = 0; start < missing.Count; start += Chunk)
            {
                int n = Math.Min(Chunk, missing.Count - start);
                for (int k = 0; k < n; k++) canvases.RenderText(missing[start + k], buffer.AsSpan(k * canvases.Length, canvases.Length));
                var encoded = await model.Encoder.EncodeAsync(buffer.AsSpan(0, n * canvases.Length), ct);
                for (int k = 0; k < n; k++)
                {
                    known[missing[start + k]] = encoded[k].Embedding;
                    cache.Set(KeyOf(missing[start + k]), encoded[k].Embedding); // kept even if a later chunk times out
                }
            }
        }
        finally { ArrayPool<float>.Shared.Return(buffer); }
        return new TextEmbeddings(texts.Select(t => known[t]).ToArray(), missing.Count);
    }

    private EmbeddingCache.Key KeyOf(string text) => new(model.Manifest.Id, model.Canvases.ProfileName, "text", text);

    public ValueTask<EncoderResult> ImageAsync(DecodedImage image, CancellationToken cancellationToken) =>
        EncodeOneAsync((c, dst) => c.RenderImage(image, dst), cancellationToken);

    public ValueTask<EncoderResult> PairAsync(string first, string second, CancellationToken cancellationToken) =>
        EncodeOneAsync((c, dst) => c.RenderPair(first, second, dst), cancellationToken);

    public ValueTask<EncoderResult> VqaAsync(string question, DecodedImage image, CancellationToken cancellationToken) =>
        EncodeOneAsync((c, dst) => c.RenderVqa(question, image, dst), cancellationToken);

    /// <summary>Encodes canvases that are already drawn (length a multiple of the canvas size).</summary>
    public ValueTask<EncoderResult[]> CanvasesAsync(float[] canvases, int count, CancellationToken cancellationToken) =>
        gate.RunAsync(async ct =>
        {
            int length = model.Canvases.Length;
            var results = new EncoderResult[count];
            for (int start = 0; start < count; start += Chunk)
            {
                int n = Math.Min(Chunk, count - start);
                var encoded = await model.Encoder.EncodeAsync(canvases.AsSpan(start * length, n * length), ct);
                encoded.CopyTo(results, start);
            }
            return results;
        }, cancellationToken);

    private delegate void Draw(Canvases.ModelCanvases canvases, Span<float> destination);

    private async ValueTask<EncoderResult> EncodeOneAsync(Draw draw, CancellationToken cancellationToken)
    {
        var canvases = model.Canvases;
        var buffer = ArrayPool<float>.Shared.Rent(canvases.Length);
        try
        {
            draw(canvases, buffer.AsSpan(0, canvases.Length));
            return await gate.RunAsync(async ct => (await model.Encoder.EncodeAsync(buffer.AsSpan(0, canvases.Length), ct))[0], cancellationToken);
        }
        finally { ArrayPool<float>.Shared.Return(buffer); }
    }
}
