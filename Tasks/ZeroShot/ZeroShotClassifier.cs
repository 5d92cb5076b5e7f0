using System.ComponentModel.DataAnnotations;
using VqaApi.Tasks.Embeddings;

namespace VqaApi.Tasks.ZeroShot;

/// <summary>One candidate with its probability (softmax over candidates) and logit (temperature x cosine).</summary>
/// <summary>One ranked label; <see cref="Names"/> are its display names per language where the head has them.</summary>
public sealed record LabelScore(string Label, double Score, double Logit,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, string>? Names = null);

public sealed record ZeroShotResult(IReadOnlyList<LabelScore> Labels, int PromptsEncoded, int PromptsTotal);

/// <summary>
/// Zero-shot classification as in the CLIP and CLIPPO papers: each label is put into every template, the
/// normalised prompt embeddings are averaged per label (not normalised again, as the reference numbers were
/// computed), and labels are scored by softmax(exp(t) x dot(query, label)).
/// </summary>
public sealed class ZeroShotClassifier(EmbeddingService embeddings)
{
    /// <summary>The prompts used with the released CLIPPO checkpoints: the CLIP notebook's short list plus the bare name.</summary>
    public static readonly string[] ClippoTemplates =
    [
        "itap of a {}.", "a bad photo of the {}.", "a origami {}.", "a photo of the large {}.",
        "a {} in a video game.", "art of the {}.", "a photo of the small {}.", "{}",
    ];

    public Task<ZeroShotResult> ClassifyAsync(float[] query, IReadOnlyList<string> labels, IReadOnlyList<string> templates, int topK, CancellationToken ct)
    {
        var prompts = new List<string>(labels.Count * templates.Count);
        foreach (var label in labels)
            foreach (var template in templates)
                prompts.Add(template.Replace("{}", label, StringComparison.Ordinal));
        return ScoreAsync(query, labels, prompts, templates.Count, topK, ct);
    }

    /// <summary>One given statement per label (e.g. "question answer" for zero-shot VQA).</summary>
    public Task<ZeroShotResult> ClassifyStatementsAsync(float[] query, IReadOnlyList<string> labels, IReadOnlyList<string> statements, int topK, CancellationToken ct) =>
        ScoreAsync(query, labels, statements, 1, topK, ct);

    private async Task<ZeroShotResult> ScoreAsync(float[] query, IReadOnlyList<string> labels, IReadOnlyList<string> prompts, int perLabel, int topK, CancellationToken ct)
    {
        var embedded = await embeddings.TextsAsync(prompts, ct);
        int dim = query.Length;
        var logits = new double[labels.Count];
        for (int l = 0; l < labels.Count; l++)
        {
            double dot = 0;
            for (int t = 0; t < perLabel; t++)
            {
                var e = embedded.Vectors[l * perLabel + t];
                for (int k = 0; k < dim; k++) dot += (double)query[k] * e[k];
            }
            logits[l] = embeddings.Temperature * dot / perLabel;
        }
        return new ZeroShotResult(Rank(labels, logits, topK), embedded.Encoded, prompts.Count);
    }

    /// <summary>Softmax over all candidates, then the best <paramref name="topK"/>, ties in input order.</summary>
    public static IReadOnlyList<LabelScore> Rank(IReadOnlyList<string> labels, double[] logits, int topK)
    {
        double max = logits.Max();
        var exp = logits.Select(v => Math.Exp(v - max)).ToArray();
        double sum = exp.Sum();
        return Enumerable.Range(0, labels.Count)
            .Select(i => new LabelScore(labels[i], exp[i] / sum, logits[i]))
            .OrderByDescending(s => s.Logit) // stable: ties keep the input order
            .Take(Math.Max(1, topK)).ToList();
    }
}
