using VqaApi.Generation;
using VqaApi.Tasks.Checkpoints;
using VqaApi.Tasks.Heads;
using VqaApi.Tasks.Models;

namespace VqaApi.Cli;

/// <summary>
/// The VQA and sentence-pair heads the trainer learned together with the encoder (training/train.py writes them to
/// heads.npz), written into a converted model directory as the service's heads <c>gen-vqa</c> and <c>gen-pair</c>:
/// the same ReLU MLP (or linear layer) on the normalised embedding, so the API answers exactly as the trainer
/// measured. Labels are the generator's answer ids with their names in the 12 languages.
/// </summary>
public static class TrainedHeads
{
    public const string VqaName = "gen-vqa", PairName = "gen-pair";

    public static IReadOnlyList<Head> Import(string headsNpz, ModelDirectory model)
    {
        if (!File.Exists(headsNpz)) throw new FileNotFoundException($"heads file '{headsNpz}' does not exist (the trainer writes heads.npz next to ckpt.npz)");
        var arrays = NpzFile.Read(headsNpz, key => key.StartsWith("vqa/", StringComparison.Ordinal) || key.StartsWith("pair/", StringComparison.Ordinal)
                                                   || key.StartsWith("meta/metric_", StringComparison.Ordinal));
        var languages = Languages.Create(EmojiCatalog.Default);
        var profile = model.Manifest.RenderProfile.Shaped?.Name
                      ?? throw new ArgumentException("trained VQA and pair heads need a model with the shaped render profile (convert --profile shaped)");
        var store = new HeadStore(model.Path, model.Manifest);
        var written = new List<Head>();
        if (arrays.ContainsKey("vqa/kernel"))
        {
            var labels = Answers.All.Select(id => new HeadLabel(id, languages.ToDictionary(l => l.Code, l => l.AnswerLabel(id)))).ToList();
            written.Add(Build(arrays, "vqa", VqaName, HeadTasks.Vqa, labels, model, profile));
        }
        if (arrays.ContainsKey("pair/kernel"))
        {
            var labels = Enum.GetValues<PairLabel>().Select(l => new HeadLabel(l.ToString().ToLowerInvariant())).ToList();
            written.Add(Build(arrays, "pair", PairName, HeadTasks.Pair, labels, model, profile));
        }
        if (written.Count == 0) throw new FormatException($"{headsNpz} holds no vqa/ or pair/ head");
        foreach (var head in written) store.Save(head);
        return written;
    }

    private static Head Build(Dictionary<string, NpyArray> a, string key, string name, string task, IReadOnlyList<HeadLabel> labels, ModelDirectory model, string profile)
    {
        NpyArray Get(string k) => a.TryGetValue($"{key}/{k}", out var v) ? v : throw new FormatException($"heads file: {key}/{k} is missing");
        double Metric(string m) => a.TryGetValue($"meta/metric_{key}_{m}", out var v) && v.Data.Length == 1 ? v.Data[0] : double.NaN;
        var kernel = Get("kernel");
        var bias = Get("bias");
        bool mlp = a.ContainsKey($"{key}/hidden/kernel");
        int inputDim = mlp ? Get("hidden/kernel").Shape[0] : kernel.Shape[0];
        int hidden = mlp ? Get("hidden/kernel").Shape[1] : 0;
        int classes = kernel.Shape[^1];
        if (kernel.Shape.Length != 2 || bias.Shape.Length != 1 || bias.Shape[0] != classes)
            throw new FormatException($"heads file: {key}/kernel {kernel.ShapeText} and {key}/bias {bias.ShapeText} do not make a layer");
        if (classes != labels.Count)
            throw new FormatException($"heads file: the {key} head has {classes} classes; this build's generator has {labels.Count}");
        if (inputDim != model.Manifest.Architecture.EmbeddingDim)
            throw new FormatException($"heads file: the {key} head takes {inputDim}-dimensional inputs; the model's embedding has {model.Manifest.Architecture.EmbeddingDim}");
        var weights = new HeadWeights(inputDim, hidden, classes,
            mlp ? Get("hidden/kernel").Data : [], mlp ? Get("hidden/bias").Data : [], kernel.Data, bias.Data);
        double heldOut = Metric("heldout_accuracy");
        return new Head
        {
            Name = name,
            Task = task,
            Labels = labels,
            Model = HeadStore.ModelKey(model.Manifest),
            RenderProfile = profile,
            Weights = HeadWeightsFile.From(weights),
            ReadOnly = true, // ships with the model: the API serves it but neither overwrites nor deletes it
            Metrics = new HeadMetrics(
                TrainAccuracy: double.IsNaN(Metric("train_accuracy")) ? 0 : Metric("train_accuracy"),
                ValidationAccuracy: double.IsNaN(heldOut) ? null : heldOut,
                TrainExamples: double.IsNaN(Metric("train_examples")) ? 0 : (int)Math.Min(int.MaxValue, Metric("train_examples")),
                ValidationExamples: double.IsNaN(Metric("heldout_examples")) ? 0 : (int)Metric("heldout_examples"),
                Epochs: 0, Seconds: double.IsNaN(Metric("seconds")) ? 0 : Metric("seconds"),
                FinalTrainLoss: double.IsNaN(Metric("train_loss")) ? 0 : Metric("train_loss"),
                StoppedByTimeLimit: false, L2: 0, Hidden: hidden),
        };
    }
}
