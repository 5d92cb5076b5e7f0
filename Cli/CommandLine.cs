using System.CommandLine;
using Microsoft.Extensions.Logging.Abstractions;
using VqaApi.Rendering;
using VqaApi.Tasks.Checkpoints;
using VqaApi.Tasks.Canvases;
using VqaApi.Tasks.Conversion;
using VqaApi.Tasks.Encoders;
using VqaApi.Tasks.Heads;
using VqaApi.Retrieval;
using VqaApi.Tasks.Models;

namespace VqaApi.Cli;

/// <summary>The vqa tool's verbs. Errors print one line naming the problem and exit 1.</summary>
public static class CommandLine
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("vqa: the command-line tool of VqaApi (CLIPPO, one pixels-only encoder for images and rendered text). 'vqa serve' runs the HTTP API.");
        root.Subcommands.Add(ConvertCommand());
        root.Subcommands.Add(QuantizeCommand.Create(Guarded));
        root.Subcommands.Add(EmbedCommand());
        root.Subcommands.Add(RenderCommand());
        root.Subcommands.Add(GalleryCommand());
        root.Subcommands.Add(FitHeadCommand());
        root.Subcommands.Add(CollectionCommands.Index(Guarded));
        root.Subcommands.Add(CollectionCommands.Reembed(Guarded));
        root.Subcommands.Add(CollectionCommands.Copy(Guarded));
        root.Subcommands.Add(CollectionCommands.Salvage(Guarded));
        root.Subcommands.Add(VqaApi.Cli.Eval.EvalCommand.Create());
        root.Subcommands.Add(KeyCommands.Create(Guarded));
        var generate = new Command("generate", "The training data generator (the same verbs as the stand-alone vqa-generate): stream, shard, preview, parallel-export");
        foreach (var verb in VqaApi.Generation.GeneratorCommands.All(Guarded)) generate.Subcommands.Add(verb);
        root.Subcommands.Add(generate);
        var serve = new Command("serve", "Run the HTTP API, as `dotnet run --project Api` does. Host arguments such as --urls follow.") { TreatUnmatchedTokensAsErrors = false };
        serve.SetAction(async (parse, ct) =>
        {
            var app = VqaApi.Api.VqaApp.Build([.. parse.UnmatchedTokens]);
            await app.StartAsync(ct);
            await app.WaitForShutdownAsync(ct);
            return 0;
        });
        root.Subcommands.Add(serve);
        return await root.Parse(args).InvokeAsync();
    }

    private static int Guarded(Func<int> action)
    {
        try { return action(); }
        catch (Exception e) when (e is CheckpointFormatException or ModelDirectoryException or ImageDecodeException or HeadException or LayoutNotSupportedException or System.Text.Json.JsonException or CollectionException
                                      or IOException or UnauthorizedAccessException or ArgumentException or FormatException or VqaApi.Api.Security.ApiKeyStoreException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    private static Command ConvertCommand()
    {
        var checkpoint = new Argument<string>("checkpoint") { Description = "big_vision CLIPPO checkpoint (.npz, float32 or bfloat16)" };
        var modelDir = new Argument<string>("model-dir") { Description = "model directory to create (ONNX encoder + manifest.json)" };
        var fp16 = new Option<bool>("--fp16") { Description = "store weights as float16 (half the size; arithmetic stays float32)" };
        var id = new Option<string?>("--id") { Description = "model id (default: checkpoint name + hash prefix)" };
        var overwrite = new Option<bool>("--overwrite") { Description = "replace an existing model directory" };
        var profile = new Option<string>("--profile") { Description = "render profile the model reads text with: unifont (official checkpoints) or shaped", DefaultValueFactory = _ => "unifont" };
        profile.AcceptOnlyFromAmong("unifont", "shaped");
        var heads = new Option<string?>("--heads") { Description = "the trainer's heads.npz: write its VQA and pair heads into the model as gen-vqa and gen-pair (needs --profile shaped)" };
        var int8 = new Option<bool>("--int8") { Description = "an int8 model (matrix products on integer kernels): converted, then quantized as `vqa quantize` does, fidelity measured" };
        var attention = new Option<string>("--attention")
        {
            Description = "how the encoder graph writes self-attention: standard (standard ONNX operators only, runs anywhere) or fused (one query/key/value product and ONNX Runtime's MultiHeadAttention kernel; no faster on the CPU, for GPU experiments)",
            DefaultValueFactory = _ => "standard",
        };
        attention.AcceptOnlyFromAmong("fused", "standard");
        var int8Options = QuantizeCommand.Options();
        var command = new Command("convert", "Convert a big_vision CLIPPO checkpoint into a model directory") { checkpoint, modelDir, fp16, id, overwrite, profile, heads, int8, attention,
            int8Options.KeepFloat, int8Options.Fidelity, int8Options.Seed, int8Options.NoHeads, int8Options.Activations, int8Options.Calibration, int8Options.FullRangeWeights };
        command.SetAction(parse => Guarded(() =>
        {
            var target = parse.GetValue(modelDir)!;
            bool quantize = parse.GetValue(int8);
            // With --int8 the float model is converted beside the target first (heads imported into it), then quantized into place.
            var floatDir = quantize ? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(target))!, $".{Path.GetFileName(Path.GetFullPath(target))}.float-{Guid.NewGuid():N}") : target;
            if (quantize && Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any() && !parse.GetValue(overwrite))
                throw new ModelDirectoryException($"'{target}' already exists and is not empty (pass --overwrite to replace it)");
            try
            {
            var model = CheckpointConverter.Convert(parse.GetValue(checkpoint)!, floatDir, new ConvertOptions
            {
                Fp16 = parse.GetValue(fp16), Id = quantize ? null : parse.GetValue(id), Overwrite = parse.GetValue(overwrite), RenderProfile = parse.GetValue(profile)!,
                Attention = parse.GetValue(attention) == "fused" ? EncoderAttention.Fused : EncoderAttention.Standard,
            });
            var m = model.Manifest;
            var a = m.Architecture;
            Console.WriteLine($"converted {m.Source.File} -> {model.Path}");
            Console.WriteLine($"  id {m.Id}; ViT width {a.Width}, depth {a.Depth}, heads {a.Heads}, mlp {a.MlpDim}, patch {a.PatchSize}, " +
                              $"image {a.ImageSize}, pool {a.Pool.ToString().ToLowerInvariant()}, out {a.EmbeddingDim}; {m.Parameters:N0} parameters");
            Console.WriteLine($"  weights {m.WeightsDType} (checkpoint stored {m.Source.StoredDType}); temperature exp(t) = {m.Temperature:G6}; sha256 {m.Source.Sha256}");
            if (parse.GetValue(heads) is { } headsFile)
                foreach (var h in TrainedHeads.Import(headsFile, model))
                    Console.WriteLine($"  head {h.Name} ({h.Task}, {(h.Classifier.Hidden > 0 ? $"hidden {h.Classifier.Hidden}" : "linear")}, {h.Labels.Count} classes" +
                                      (h.Metrics.ValidationAccuracy is { } acc ? $", held-out accuracy in training {acc:P1}" : "") + ")");
            if (quantize)
                QuantizeCommand.Report(QuantizeCommand.Run(model, target, parse, int8Options with { Id = id, Overwrite = overwrite }));
            return 0;
            }
            finally
            {
                if (quantize && Directory.Exists(floatDir)) Directory.Delete(floatDir, recursive: true);
            }
        }));
        return command;
    }

    private static Command EmbedCommand()
    {
        var model = new Option<string>("--model") { Description = "model directory", Required = true };
        var image = new Option<string[]>("--image") { Description = "image file(s)", AllowMultipleArgumentsPerToken = true };
        var text = new Option<string[]>("--text") { Description = "text(s) to render and embed" };
        var tensor = new Option<string?>("--tensor") { Description = "already preprocessed float32 .npy of shape (N, H, W, 3), values in [-1, 1]" };
        var output = new Option<string>("--output") { Description = "which output to write: embedding or pre_logits", DefaultValueFactory = _ => "embedding" };
        output.AcceptOnlyFromAmong("embedding", "pre_logits");
        var outFile = new Option<string>("--out") { Description = "output .npy file, float32 (N, dims)", Required = true };
        var command = new Command("embed", "Embed images, texts or a preprocessed tensor with a model directory") { model, image, text, tensor, output, outFile };
        command.SetAction(parse => Guarded(() =>
        {
            var images = parse.GetValue(image) ?? [];
            var texts = parse.GetValue(text) ?? [];
            var tensorPath = parse.GetValue(tensor);
            int sources = (images.Length > 0 ? 1 : 0) + (texts.Length > 0 ? 1 : 0) + (tensorPath is null ? 0 : 1);
            if (sources != 1) throw new ArgumentException("give exactly one of --image, --text or --tensor");

            var directory = ModelDirectory.Load(parse.GetValue(model)!);
            var canvases = new ModelCanvases(directory.Manifest, UnifontFont.Default);
            float[] input;
            if (tensorPath is not null)
            {
                using var file = File.OpenRead(tensorPath);
                var array = NpyArray.Read(file, Path.GetFileName(tensorPath));
                var expected = new[] { canvases.Size, canvases.Size, 3 };
                if (array.Shape.Length != 4 || !array.Shape[1..].SequenceEqual(expected))
                    throw new ArgumentException($"--tensor has shape {array.ShapeText}; this model needs (N, {canvases.Size}, {canvases.Size}, 3)");
                input = array.Data;
            }
            else
            {
                int n = images.Length + texts.Length;
                input = new float[n * canvases.Length];
                for (int i = 0; i < texts.Length; i++) canvases.RenderText(texts[i], input.AsSpan(i * canvases.Length, canvases.Length));
                for (int i = 0; i < images.Length; i++)
                {
                    var decoded = ImageDecoder.Decode(File.ReadAllBytes(images[i]), new ImageLimits());
                    canvases.RenderImage(decoded, input.AsSpan(i * canvases.Length, canvases.Length));
                }
            }
            var encoder = Encoder.Create(directory, new EncoderOptions { UseCuda = true, MaxBatch = 32 }, NullLogger.Instance);
            try
            {
                var results = encoder.Run(input);
                bool pre = parse.GetValue(output) == "pre_logits";
                int dims = pre ? results[0].PreLogits.Length : results[0].Embedding.Length;
                var data = results.SelectMany(r => pre ? r.PreLogits : r.Embedding).ToArray();
                using var file = File.Create(parse.GetValue(outFile)!);
                new NpyArray([results.Length, dims], data).Write(file);
                Console.WriteLine($"wrote {parse.GetValue(output)} ({results.Length}, {dims}) from model {directory.Manifest.Id} on {encoder.ExecutionProvider} to {parse.GetValue(outFile)}");
            }
            finally { encoder.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
            return 0;
        }));
        return command;
    }

    private static Command FitHeadCommand()
    {
        var model = new Option<string>("--model") { Description = "model directory (the head is stored in its heads/ folder)", Required = true };
        var examples = new Option<string>("--examples") { Description = "JSONL, one example per line: {\"label\", \"text\"} | {\"label\", \"premise\", \"hypothesis\"} | {\"label\", \"image\": PATH} | {\"label\", \"image\": PATH, \"question\"}; image paths relative to the file", Required = true };
        var name = new Option<string>("--name") { Description = "head name", Required = true };
        var task = new Option<string>("--task") { Description = "image, text, pair or vqa", Required = true };
        task.AcceptOnlyFromAmong(HeadTasks.All);
        var hidden = new Option<int>("--hidden") { Description = "0 = linear head; otherwise the width of one hidden ReLU layer" };
        var l2 = new Option<double>("--l2") { Description = "L2 penalty", DefaultValueFactory = _ => 1e-3 };
        var validation = new Option<double>("--validation-fraction") { Description = "share held out for validation", DefaultValueFactory = _ => 0.2 };
        var overwrite = new Option<bool>("--overwrite") { Description = "replace a head of the same name" };
        var command = new Command("fit-head", "Fit a head on labelled examples with a model directory") { model, examples, name, task, hidden, l2, validation, overwrite };
        command.SetAction(parse => Guarded(() =>
        {
            var file = parse.GetValue(examples)!;
            var list = HeadExamplesFile.Read(file);
            using var services = HeadTooling.Open(parse.GetValue(model)!);
            var head = services.Heads.FitAsync(new FitHeadSpec
            {
                Name = parse.GetValue(name)!, Task = parse.GetValue(task)!, Examples = list, Hidden = parse.GetValue(hidden),
                L2 = parse.GetValue(l2), ValidationFraction = parse.GetValue(validation), Overwrite = parse.GetValue(overwrite),
            }, CancellationToken.None).GetAwaiter().GetResult();
            var m = head.Metrics;
            Console.WriteLine($"fitted head '{head.Name}' ({head.Task}, {head.Labels.Count} classes, {(m.Hidden > 0 ? $"MLP hidden {m.Hidden}" : "linear")}) on model {head.Model.Id}");
            Console.WriteLine($"  train accuracy {m.TrainAccuracy:P1} on {m.TrainExamples} examples; validation accuracy {(m.ValidationAccuracy is { } v ? v.ToString("P1") : "n/a")} on {m.ValidationExamples}; {m.Epochs} epochs in {m.Seconds:F1} s{(m.StoppedByTimeLimit ? " (time limit)" : "")}");
            return 0;
        }));
        return command;
    }

    private static Command GalleryCommand()
    {
        var outDir = new Option<string>("--out") { Description = "folder for the PNGs and index.md", DefaultValueFactory = _ => "docs/gallery" };
        var command = new Command("gallery", "Render the multilingual gallery: every language and layout, shaped and official") { outDir };
        command.SetAction(parse => Guarded(() =>
        {
            var written = Gallery.Write(parse.GetValue(outDir)!);
            Console.WriteLine($"wrote {written} canvases to {parse.GetValue(outDir)}");
            return 0;
        }));
        return command;
    }

    private static Command RenderCommand()
    {
        var model = new Option<string?>("--model") { Description = "model directory whose render profile to use (default: the model the service serves, Model:Path of appsettings.json in the working folder; the official unifont profile at 224 px when there is none)" };
        var text = new Option<string?>("--text") { Description = "text to draw" };
        var image = new Option<string?>("--image") { Description = "image file to preprocess as the encoder sees it" };
        var outFile = new Option<string>("--out") { Description = "output PNG", Required = true };
        var command = new Command("render", "Write the canvas the encoder sees as a PNG") { model, text, image, outFile };
        command.SetAction(parse => Guarded(() =>
        {
            var textValue = parse.GetValue(text);
            var imagePath = parse.GetValue(image);
            if ((textValue is null) == (imagePath is null)) throw new ArgumentException("give exactly one of --text or --image");
            // As the API draws it: the served model's profile unless another model is named.
            var dir = parse.GetValue(model) ?? CliConfiguration.Build(Environment.CurrentDirectory)["Model:Path"];
            var profile = dir is not null && File.Exists(Path.Combine(dir, "manifest.json")) ? ModelDirectory.Load(dir).Manifest : null;
            if (profile is null && parse.GetValue(model) is not null) throw new ArgumentException($"{parse.GetValue(model)} is not a model directory");
            int size = profile?.Input.Height ?? 224;
            var canvases = profile is not null ? new ModelCanvases(profile, UnifontFont.Default) : null;
            var canvas = new float[size * size * 3];
            if (imagePath is not null)
                ImagePreprocessor.ToCanvas(ImageDecoder.Decode(File.ReadAllBytes(imagePath), new ImageLimits()), size, canvas);
            else if (canvases is not null) canvases.RenderText(textValue!, canvas);
            else new UnifontRenderer(UnifontFont.Default, new UnifontProfile()).Render(textValue!, canvas);
            File.WriteAllBytes(parse.GetValue(outFile)!, CanvasPng.Encode(canvas, size, size));
            Console.WriteLine($"wrote {size}x{size} canvas ({(profile is null ? "unifont profile: no model found" : $"{canvases!.ProfileName} profile of {profile.Id}")}) to {parse.GetValue(outFile)}");
            return 0;
        }));
        return command;
    }
}
