using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using VqaApi.Rendering;
using VqaApi.Tasks.Checkpoints;
using VqaApi.Tasks.Conversion;
using VqaApi.Tasks.Embeddings;
using VqaApi.Tasks.Encoders;
using VqaApi.Tasks.Heads;
using VqaApi.Tasks.Inference;
using VqaApi.Tasks.Models;
using VqaApi.Tasks.ZeroShot;
using VqaApi.Tasks.Serving;

/// <summary>Task latencies on CPU with the placeholder-sized model (random weights; speed does not depend on them).</summary>
static class TaskBench
{
    public static async Task RunAsync(string work, bool quick)
    {
        var arch = PlaceholderModel.Architecture;
        Console.WriteLine();
        Console.WriteLine($"## Tasks on CPU ({Environment.ProcessorCount} cores), model of the placeholder's shape: ViT width {arch.Width}, depth {arch.Depth}, " +
                          $"patch {arch.PatchSize}, {arch.ImageSize} px, {arch.ParameterCount():N0} parameters, shaped profile");
        var dir = Path.Combine(work, "tasks-model");
        CheckpointConverter.Convert(RandomCheckpoint.Create(arch, 1), "bench", dir, new ConvertOptions { RenderProfile = "shaped", Id = "bench" });
        await using var model = ServedModel.Open(Options.Create(new ModelOptions { Path = dir, CreatePlaceholderIfMissing = false }),
            Options.Create(new EncoderOptions { UseCuda = false, MaxBatch = 16, MaxQueuedCanvases = 4096 }), NullLogger<ServedModel>.Instance);
        var gate = new InferenceGate(Options.Create(new InferenceOptions { TimeoutSeconds = 3600, MaxQueuedRequests = 1000 }));
        var cache = new EmbeddingCache(100_000);
        var embeddings = new EmbeddingService(model, gate, cache);
        var zeroShot = new ZeroShotClassifier(embeddings);
        var image = Scene(1);

        Console.WriteLine();
        Console.WriteLine("| zero-shot (one image, template \"a photo of a {}.\") | cold ms | cached ms | prompts encoded cold |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (int n in quick ? new[] { 10, 100 } : new[] { 10, 1000 })
        {
            var labels = Enumerable.Range(0, n).Select(i => $"object {n}-{i}").ToList();
            var sw = Stopwatch.StartNew();
            var query = (await embeddings.ImageAsync(image, default)).Embedding;
            var cold = await zeroShot.ClassifyAsync(query, labels, ["a photo of a {}."], 5, default);
            double coldMs = sw.Elapsed.TotalMilliseconds;
            var times = new List<double>();
            for (int r = 0; r < 5; r++)
            {
                sw.Restart();
                query = (await embeddings.ImageAsync(Scene(r + 2), default)).Embedding;
                await zeroShot.ClassifyAsync(query, labels, ["a photo of a {}."], 5, default);
                times.Add(sw.Elapsed.TotalMilliseconds);
            }
            Console.WriteLine($"| {n} labels | {coldMs:F0} | {Median(times):F1} | {cold.PromptsEncoded} |");
        }

        // A VQA head on the model's VQA layout, then request latency with 1 and 8 concurrent clients.
        var questions = new[] { "What colour is the circle?", "De quelle couleur est le cercle ?", "圆是什么颜色？" };
        var examples = Enumerable.Range(0, 24).Select(i => new HeadExample(i % 2 == 0 ? "red" : "blue", Question: questions[i % 3], Image: Scene(100 + i))).ToList();
        var heads = new HeadService(embeddings, new HeadStore(model), Options.Create(new HeadOptions()));
        var head = await heads.FitAsync(new FitHeadSpec { Name = "bench-vqa", Task = HeadTasks.Vqa, Examples = examples, ValidationFraction = 0, Overwrite = true }, default);
        Console.WriteLine();
        Console.WriteLine("| VQA with a head (question band + image canvas, encode, head) | requests | p50 ms | p99 ms | requests/s |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (int concurrency in new[] { 1, 8 })
        {
            int perClient = quick ? 5 : concurrency == 1 ? 40 : 15;
            var latencies = new System.Collections.Concurrent.ConcurrentBag<double>();
            var total = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(c => Task.Run(async () =>
            {
                for (int r = 0; r < perClient; r++)
                {
                    var sw = Stopwatch.StartNew();
                    await heads.ClassifyAsync(head, new HeadExample(null, Question: questions[r % 3], Image: Scene(1000 + c * 100 + r)), 1, default);
                    latencies.Add(sw.Elapsed.TotalMilliseconds);
                }
            })));
            var sorted = latencies.Order().ToList();
            Console.WriteLine($"| concurrency {concurrency} | {sorted.Count} | {Percentile(sorted, 0.5):F1} | {Percentile(sorted, 0.99):F1} | {sorted.Count / total.Elapsed.TotalSeconds:F1} |");
        }

        Console.WriteLine();
        Console.WriteLine("| head fitting, 10,000 examples, 10 classes (synthetic normalised features), 300 epochs | dims | seconds | train accuracy |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var (dims, hidden) in quick ? new[] { (192, 0) } : new[] { (192, 0), (768, 0), (768, 64) })
        {
            var (features, labels) = Synthetic(10_000, dims, 10, 3);
            var sw = Stopwatch.StartNew();
            var fit = HeadFitter.Fit(features, labels, 10, new FitOptions { Hidden = hidden, ValidationFraction = 0.2, MaxEpochs = quick ? 30 : 300, MaxTime = TimeSpan.FromMinutes(10) });
            Console.WriteLine($"| {(hidden > 0 ? $"MLP, hidden {hidden}" : "linear")} | {dims} | {sw.Elapsed.TotalSeconds:F1} | {fit.TrainAccuracy:P1} |");
        }
    }

    static (List<float[]>, List<int>) Synthetic(int n, int d, int classes, int seed)
    {
        var rng = new Random(seed);
        var centres = Enumerable.Range(0, classes).Select(_ => Enumerable.Range(0, d).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray()).ToArray();
        var features = new List<float[]>(n);
        var labels = new List<int>(n);
        for (int i = 0; i < n; i++)
        {
            int c = i % classes;
            var x = centres[c].Select(v => v + (float)(rng.NextDouble() - 0.5)).ToArray();
            float norm = MathF.Sqrt(x.Sum(v => v * v));
            features.Add(x.Select(v => v / norm).ToArray());
            labels.Add(c);
        }
        return (features, labels);
    }

    static DecodedImage Scene(int seed)
    {
        var rng = new Random(seed);
        const int w = 160, h = 120;
        var rgb = new byte[w * h * 3];
        bool red = seed % 2 == 0;
        for (int i = 0; i < w * h; i++)
        {
            rgb[3 * i] = (byte)(red ? 180 + rng.Next(60) : rng.Next(60));
            rgb[3 * i + 1] = (byte)rng.Next(60);
            rgb[3 * i + 2] = (byte)(red ? rng.Next(60) : 180 + rng.Next(60));
        }
        return new DecodedImage(w, h, rgb, "raw", 1);
    }

    static double Median(List<double> values) => Percentile(values.Order().ToList(), 0.5);

    static double Percentile(List<double> sorted, double q) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
}
