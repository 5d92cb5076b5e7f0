using Microsoft.Extensions.Options;
using VqaApi.Rendering;
using VqaApi.Tasks.Embeddings;
using VqaApi.Tasks.ZeroShot;

namespace VqaApi.Tasks.Heads;

/// <summary>One labelled example, or one input to classify: the fields its task needs.</summary>
public sealed record HeadExample(string? Label, string? Text = null, string? First = null, string? Second = null, DecodedImage? Image = null, string? Question = null)
{
    /// <summary>An image fetched and decoded only when the example is embedded (instead of <see cref="Image"/>): a fit of
    /// thousands of image examples holds one decoded image at a time, and <see cref="HeadService.CheckFit"/> can refuse a
    /// request before any image is fetched.</summary>
    public Func<CancellationToken, Task<DecodedImage>>? LoadImage { get; init; }

    /// <summary>Called with a loaded image once its embedding is made.</summary>
    public Action<DecodedImage>? ReleaseImage { get; init; }

    internal bool HasImage => Image is not null || LoadImage is not null;
}

public sealed record FitHeadSpec
{
    public required string Name { get; init; }
    public required string Task { get; init; }
    public required IReadOnlyList<HeadExample> Examples { get; init; }
    public int Hidden { get; init; }
    public double L2 { get; init; } = 1e-3;
    public double ValidationFraction { get; init; } = 0.2;
    public int? MaxEpochs { get; init; }
    public int Seed { get; init; }
    /// <summary>Display names per label and language, e.g. {"red": {"fr": "rouge"}}.</summary>
    public IReadOnlyDictionary<string, Dictionary<string, string>>? LabelNames { get; init; }
    public bool Overwrite { get; init; }
    /// <summary>Recorded on the head (quotas count heads and their bytes per owner).</summary>
    public string? Owner { get; init; }
}

/// <summary>
/// Fits heads on frozen embeddings of the served model (L2-regularised multinomial logistic regression, or a
/// one-hidden-layer MLP) and classifies with them. One fit runs at a time, on a worker thread, bounded in
/// examples, classes and time, so inference keeps being served while it runs.
/// </summary>
public sealed class HeadService(EmbeddingService embeddings, HeadStore store, IOptions<HeadOptions> options)
{
    private readonly SemaphoreSlim _fitting = new(1, 1);

    public HeadStore Store => store;

    /// <summary>
    /// Every refusal of a fit that needs no embedding: name, task, counts, options, each example's fields, labels, an existing
    /// head. Cheap, so callers run it before they fetch or decode the examples' images.
    /// </summary>
    public IReadOnlyList<string> CheckFit(FitHeadSpec spec)
    {
        var o = options.Value;
        HeadStore.ValidateName(spec.Name);
        if (!HeadTasks.All.Contains(spec.Task))
            throw new HeadException(HeadErrorKind.Invalid, $"task '{spec.Task}' is unknown; use one of {string.Join(", ", HeadTasks.All)}");
        if (spec.Examples.Count < 2 || spec.Examples.Count > o.MaxExamples)
            throw new HeadException(HeadErrorKind.Invalid, $"{spec.Examples.Count:N0} examples sent; a head needs 2 to {o.MaxExamples:N0} (Heads:MaxExamples)");
        if (spec.Hidden < 0 || spec.Hidden > o.MaxHidden) throw new HeadException(HeadErrorKind.Invalid, $"hidden must be 0 (linear) to {o.MaxHidden} (Heads:MaxHidden)");
        if (!(spec.L2 is >= 0 and <= 100)) throw new HeadException(HeadErrorKind.Invalid, "l2 must be between 0 and 100");
        if (!(spec.ValidationFraction is >= 0 and <= 0.9)) throw new HeadException(HeadErrorKind.Invalid, "validation_fraction must be between 0 and 0.9");
        if (spec.MaxEpochs is < 1) throw new HeadException(HeadErrorKind.Invalid, "max_epochs must be at least 1");
        if (spec.Task is HeadTasks.Pair or HeadTasks.Vqa) embeddings.Model.Canvases.RequireLayout(spec.Task); // the unifont profile draws single texts only
        for (int i = 0; i < spec.Examples.Count; i++)
        {
            CheckInput(spec.Task, spec.Examples[i], $"examples[{i}]", requireLabel: true);
            if (spec.Examples[i].Label!.Length > o.MaxLabelCharacters)
                throw new HeadException(HeadErrorKind.Invalid, $"examples[{i}] has a label of {spec.Examples[i].Label!.Length:N0} characters; at most {o.MaxLabelCharacters} (Heads:MaxLabelCharacters)");
        }
        int withImages = spec.Examples.Count(e => e.HasImage);
        if (withImages > o.MaxImageExamples)
            throw new HeadException(HeadErrorKind.Invalid, $"{withImages:N0} examples with images; at most {o.MaxImageExamples:N0} (Heads:MaxImageExamples)");
        var labels = spec.Examples.Select(e => e.Label!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (spec.LabelNames is { } names)
        {
            var known = labels.ToHashSet(StringComparer.Ordinal);
            foreach (var (label, byLanguage) in names)
            {
                if (!known.Contains(label)) throw new HeadException(HeadErrorKind.Invalid, $"label_names names '{Shorten(label)}', which no example has");
                if (byLanguage is null) continue;
                if (byLanguage.Count > o.MaxLanguagesPerLabel)
                    throw new HeadException(HeadErrorKind.Invalid, $"label_names gives '{Shorten(label)}' {byLanguage.Count} names; at most {o.MaxLanguagesPerLabel} (Heads:MaxLanguagesPerLabel)");
                foreach (var (language, name) in byLanguage)
                    if (language.Length is 0 or > 35 || name is null || name.Length == 0 || name.Length > o.MaxLabelCharacters)
                        throw new HeadException(HeadErrorKind.Invalid, $"label_names of '{Shorten(label)}': each language code has 1 to 35 characters and each name 1 to {o.MaxLabelCharacters} (Heads:MaxLabelCharacters)");
            }
        }
        if (labels.Count < 2) throw new HeadException(HeadErrorKind.Invalid, "the examples have only one label; a head needs at least 2 classes");
        if (labels.Count > o.MaxClasses) throw new HeadException(HeadErrorKind.Invalid, $"{labels.Count:N0} classes; at most {o.MaxClasses:N0} (Heads:MaxClasses)");
        if (store.Exists(spec.Name))
        {
            if (!spec.Overwrite) throw new HeadException(HeadErrorKind.Conflict, $"head '{spec.Name}' already exists; delete it first or fit with overwrite");
            RefuseReadOnly(spec.Name, "overwritten");
        }
        return labels;
    }

    /// <summary>About the bytes a head's file takes (its weights as base64 float32, plus labels and metrics), from its shape:
    /// known before any example is embedded.</summary>
    public static long EstimateFileBytes(int inputDim, int hidden, int classes, long labelBytes)
    {
        long weights = hidden > 0 ? (long)inputDim * hidden + hidden + (long)hidden * classes + classes : (long)inputDim * classes + classes;
        return weights * 4 * 4 / 3 + labelBytes + 2048;
    }

    private static string Shorten(string s) => s.Length > 60 ? s[..60] + "..." : s;

    /// <summary>Deletes a head; a head that ships with the model is refused (<see cref="HeadErrorKind.ReadOnly"/>).</summary>
    public void Delete(string name)
    {
        RefuseReadOnly(name, "deleted");
        store.Delete(name);
    }

    private void RefuseReadOnly(string name, string what)
    {
        Head existing;
        try { existing = store.Get(name); }
        catch (HeadException e) when (e.Kind is HeadErrorKind.Conflict or HeadErrorKind.Unreadable) { return; } // another model's or a broken file: not ours to protect
        catch (HeadException e) when (e.Kind is HeadErrorKind.NotFound) { return; }
        if (existing.ReadOnly)
            throw new HeadException(HeadErrorKind.ReadOnly, $"head '{name}' ships with model {existing.Model.Id} and is read-only: it is not {what} through the service; fit a head under another name");
    }

    public async Task<Head> FitAsync(FitHeadSpec spec, CancellationToken ct)
    {
        var o = options.Value;
        var labels = CheckFit(spec);

        if (!await _fitting.WaitAsync(0, ct)) throw new HeadException(HeadErrorKind.Busy, "another head is being fitted; retry when it is done");
        try
        {
            var features = await EmbedAllAsync(spec.Task, spec.Examples, ct);
            var index = labels.Select((l, i) => (l, i)).ToDictionary(t => t.l, t => t.i, StringComparer.Ordinal);
            var y = spec.Examples.Select(e => index[e.Label!]).ToArray();
            var fitOptions = new FitOptions
            {
                L2 = spec.L2, Hidden = spec.Hidden, ValidationFraction = spec.ValidationFraction, Seed = spec.Seed,
                MaxEpochs = Math.Min(spec.MaxEpochs ?? o.MaxEpochs, o.MaxEpochs), MaxTime = TimeSpan.FromSeconds(o.MaxFitSeconds),
            };
            var fit = await Task.Run(() => HeadFitter.Fit(features, y, labels.Count, fitOptions, ct), ct);
            var head = new Head
            {
                Name = spec.Name,
                Task = spec.Task,
                Labels = labels.Select(l => new HeadLabel(l, spec.LabelNames?.GetValueOrDefault(l))).ToList(),
                Model = store.Model,
                RenderProfile = embeddings.Model.Canvases.ProfileName,
                Weights = HeadWeightsFile.From(fit.Weights),
                Owner = spec.Owner,
                Metrics = new HeadMetrics(fit.TrainAccuracy, fit.ValidationAccuracy, fit.TrainExamples, fit.ValidationExamples,
                    fit.Epochs, fit.Seconds, fit.FinalTrainLoss, fit.StoppedByTimeLimit, spec.L2, spec.Hidden),
            };
            store.Save(head);
            return head;
        }
        finally { _fitting.Release(); }
    }

    /// <summary>Probabilities of the head's classes for one input, best first.</summary>
    public async Task<IReadOnlyList<LabelScore>> ClassifyAsync(Head head, HeadExample input, int topK, CancellationToken ct)
    {
        CheckInput(head.Task, input, "input", requireLabel: false);
        var embedding = (await EmbedAllAsync(head.Task, [input], ct))[0];
        var logits = head.Classifier.Logits(embedding).Select(v => (double)v).ToArray();
        var names = head.Labels.Where(l => l.Names is { Count: > 0 }).ToDictionary(l => l.Id, l => l.Names!);
        return ZeroShotClassifier.Rank(head.Labels.Select(l => l.Id).ToList(), logits, topK)
            .Select(s => names.TryGetValue(s.Label, out var n) ? s with { Names = n } : s).ToList();
    }

    private static void CheckInput(string task, HeadExample e, string field, bool requireLabel)
    {
        if (requireLabel && string.IsNullOrWhiteSpace(e.Label)) throw new HeadException(HeadErrorKind.Invalid, $"{field} has no label");
        bool ok = task switch
        {
            HeadTasks.Text => e.Text is { Length: > 0 },
            HeadTasks.Pair => e.First is { Length: > 0 } && e.Second is { Length: > 0 },
            HeadTasks.Image => e.HasImage,
            HeadTasks.Vqa => e.HasImage && e.Question is { Length: > 0 },
            _ => false,
        };
        if (!ok)
            throw new HeadException(HeadErrorKind.Invalid, task switch
            {
                HeadTasks.Text => $"{field} needs a non-empty 'text' for a text head",
                HeadTasks.Pair => $"{field} needs 'first' and 'second' (premise and hypothesis) for a pair head",
                HeadTasks.Image => $"{field} needs an 'image' for an image head",
                _ => $"{field} needs an 'image' and a non-empty 'question' for a VQA head",
            });
    }

    /// <summary>One example with an image (loaded now when it is lazy, given back after): its own method, so that no hoisted
    /// local of the loop keeps the pixels alive while the next image loads.</summary>
    private async Task<float[]> EmbedImageExampleAsync(string task, HeadExample e, CancellationToken ct)
    {
        var image = e.Image ?? await e.LoadImage!(ct);
        try
        {
            return task == HeadTasks.Vqa
                ? (await embeddings.VqaAsync(e.Question!, image, ct)).Embedding
                : (await embeddings.ImageAsync(image, ct)).Embedding;
        }
        finally { if (e.Image is null) e.ReleaseImage?.Invoke(image); }
    }

    private async Task<float[][]> EmbedAllAsync(string task, IReadOnlyList<HeadExample> examples, CancellationToken ct)
    {
        if (task == HeadTasks.Text) return (await embeddings.TextsAsync(examples.Select(e => e.Text!).ToList(), ct)).Vectors;
        var features = new float[examples.Count][];
        for (int i = 0; i < examples.Count; i++)
        {
            var e = examples[i];
            if (task == HeadTasks.Pair)
            {
                features[i] = (await embeddings.PairAsync(e.First!, e.Second!, ct)).Embedding;
                continue;
            }
            features[i] = await EmbedImageExampleAsync(task, e, ct);
        }
        return features;
    }
}
