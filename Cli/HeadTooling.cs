using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using VqaApi.Rendering;
using VqaApi.Tasks.Embeddings;
using VqaApi.Tasks.Encoders;
using VqaApi.Tasks.Heads;
using VqaApi.Tasks.Inference;
using VqaApi.Tasks.Models;
using VqaApi.Tasks.Serving;

namespace VqaApi.Cli;

/// <summary>The model, embedding and head services built without the web host, for the command-line verbs.</summary>
public sealed class HeadTooling : IDisposable
{
    private readonly ServedModel _model;

    private HeadTooling(ServedModel model, EmbeddingService embeddings, HeadService heads)
    {
        _model = model;
        Embeddings = embeddings;
        Heads = heads;
    }

    public EmbeddingService Embeddings { get; }
    public HeadService Heads { get; }

    public static HeadTooling Open(string modelDirectory)
    {
        var model = ServedModel.Open(Options.Create(new ModelOptions { Path = modelDirectory, CreatePlaceholderIfMissing = false }),
            Options.Create(new EncoderOptions { MaxBatch = 32, MaxQueuedCanvases = 4096 }), NullLogger<ServedModel>.Instance);
        var gate = new InferenceGate(Options.Create(new InferenceOptions { TimeoutSeconds = 3600 }));
        var embeddings = new EmbeddingService(model, gate, new EmbeddingCache(0));
        var options = Options.Create(new HeadOptions { MaxFitSeconds = 3600 });
        return new HeadTooling(model, embeddings, new HeadService(embeddings, new HeadStore(model), options));
    }

    public void Dispose() => _model.DisposeAsync().AsTask().GetAwaiter().GetResult();
}

/// <summary>Reads labelled examples from JSONL: text, premise + hypothesis, image path, or image path + question.</summary>
public static class HeadExamplesFile
{
    private sealed record Line(string? Label, string? Text, string? Premise, string? Hypothesis, string? Image, string? Question);

    public static List<HeadExample> Read(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"examples file '{path}' does not exist");
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var examples = new List<HeadExample>();
        int number = 0;
        foreach (var raw in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(raw)) continue;
            Line line;
            try { line = JsonSerializer.Deserialize<Line>(raw, new JsonSerializerOptions(JsonSerializerDefaults.Web)) ?? throw new JsonException("null"); }
            catch (JsonException e) { throw new FormatException($"{Path.GetFileName(path)} line {number}: not a JSON object ({e.Message})"); }
            DecodedImage? image = null;
            if (line.Image is { } imagePath)
            {
                var full = Path.IsPathRooted(imagePath) ? imagePath : Path.Combine(folder, imagePath);
                if (!File.Exists(full)) throw new FileNotFoundException($"{Path.GetFileName(path)} line {number}: image '{imagePath}' does not exist");
                image = ImageDecoder.Decode(File.ReadAllBytes(full), new ImageLimits());
            }
            examples.Add(new HeadExample(line.Label, line.Text, line.Premise, line.Hypothesis, image, line.Question));
        }
        return examples;
    }
}
