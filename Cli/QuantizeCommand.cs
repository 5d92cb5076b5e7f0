using System.CommandLine;
using VqaApi.Generation;
using VqaApi.Rendering;
using VqaApi.Rendering.Shaped;
using VqaApi.Tasks.Encoders;
using VqaApi.Tasks.Models;
using VqaApi.Tasks.Precision;

namespace VqaApi.Cli;

/// <summary>
/// <c>vqa quantize</c>: an int8 copy of a model directory (and <c>convert --int8</c>, which converts and then quantizes).
/// The fidelity canvases are held-out examples of the project's generator at the model's size: scenes, captions drawn as
/// text, and questions drawn above scenes, so the measure covers both kinds of input the encoder reads.
/// </summary>
public static class QuantizeCommand
{
    public const int DefaultFidelityCanvases = 512;

    public static Command Create(Func<Func<int>, int> guarded)
    {
        var source = new Argument<string>("model-dir") { Description = "the float model directory (float32 or float16 weights)" };
        var target = new Argument<string>("int8-dir") { Description = "the int8 model directory to create" };
        var options = Options();
        var command = new Command("quantize", "Make an int8 copy of a model: matrix products on ONNX Runtime's integer kernels, fidelity measured against the float model")
            { source, target };
        foreach (var o in options.All) command.Options.Add(o);
        command.SetAction(parse => guarded(() =>
        {
            var model = ModelDirectory.Load(parse.GetValue(source)!);
            Report(Run(model, parse.GetValue(target)!, parse, options));
            return 0;
        }));
        return command;
    }

    public sealed record Int8Options(Option<string?> Id, Option<string[]> KeepFloat, Option<int> Fidelity, Option<ulong> Seed, Option<bool> Overwrite, Option<bool> NoHeads,
        Option<string> Activations, Option<int> Calibration, Option<bool> FullRangeWeights)
    {
        public IEnumerable<Option> All => [Id, KeepFloat, Fidelity, Seed, Overwrite, NoHeads, Activations, Calibration, FullRangeWeights];
    }

    public const int DefaultCalibrationCanvases = 128;

    public static Int8Options Options() => new(
        new Option<string?>("--id") { Description = "the int8 model's id (default: the float model's id + '-int8')" },
        new Option<string[]>("--keep-float") { Description = "weights left float, by name prefix (e.g. MAPHead_0 for the pooling head); repeatable", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [] },
        new Option<int>("--fidelity-canvases") { Description = "generated canvases both encoders embed to measure the int8 model's fidelity", DefaultValueFactory = _ => DefaultFidelityCanvases },
        new Option<ulong>("--seed") { Description = "seed of the fidelity canvases (held-out split)", DefaultValueFactory = _ => 20261205 },
        new Option<bool>("--overwrite") { Description = "replace an existing directory" },
        new Option<bool>("--no-heads") { Description = "do not copy the float model's heads" },
        ActivationsOption(),
        new Option<int>("--calibration-canvases") { Description = "with --activations static: generated canvases (another seed than the fidelity ones) whose activation ranges fix the scales", DefaultValueFactory = _ => DefaultCalibrationCanvases },
        new Option<bool>("--full-range-weights")
        {
            Description = "weights over [-127, 127] instead of [-64, 64]: a little closer to the float model on CPUs with VNNI (AVX512-VNNI, " +
                          "AVX-VNNI) or ARM, but wrong on AVX2-only CPUs, where ONNX Runtime's integer kernel saturates; the default is right on every CPU",
        });

    private static Option<string> ActivationsOption()
    {
        var o = new Option<string>("--activations")
        {
            Description = "dynamic (quantized per call, the default: faster and closer in docs/benchmarks.md) or static (fixed scales from calibration canvases, QDQ)",
            DefaultValueFactory = _ => "dynamic",
        };
        o.AcceptOnlyFromAmong("dynamic", "static");
        return o;
    }

    public static ModelDirectory Run(ModelDirectory model, string target, ParseResult parse, Int8Options o)
    {
        int count = parse.GetValue(o.Fidelity);
        if (count < 0) throw new ArgumentException("--fidelity-canvases must be 0 or more");
        var canvases = FidelityCanvases(model.Manifest.Architecture.ImageSize, count, parse.GetValue(o.Seed));
        bool isStatic = parse.GetValue(o.Activations) == "static";
        int calibration = parse.GetValue(o.Calibration);
        if (isStatic && calibration < 1) throw new ArgumentException("--calibration-canvases must be 1 or more with --activations static");
        return ModelQuantizer.Quantize(model, target, new QuantizeOptions
        {
            Id = parse.GetValue(o.Id), KeepFloat = parse.GetValue(o.KeepFloat) ?? [], Overwrite = parse.GetValue(o.Overwrite), CopyHeads = !parse.GetValue(o.NoHeads),
            FullRangeWeights = parse.GetValue(o.FullRangeWeights),
            Calibration = isStatic ? FidelityCanvases(model.Manifest.Architecture.ImageSize, calibration, parse.GetValue(o.Seed) + 1) : null,
            FidelityCanvases = $"{count} held-out generated canvases (scenes, captions, questions above scenes; seed {parse.GetValue(o.Seed)})",
        }, canvases);
    }

    public static void Report(ModelDirectory int8)
    {
        var m = int8.Manifest;
        var q = m.Quantization!;
        Console.WriteLine($"quantized {q.FromId} ({q.FromWeightsDType}) -> {int8.Path} ({q.Method}" +
                          (q.WeightLevels is { } levels ? $", weights in [-{levels}, {levels}]" + (q.NeedsVnni ? ": for CPUs with VNNI or ARM only" : "") : "") + ")");
        Console.WriteLine($"  id {m.Id}; {q.QuantizedMatMuls} matrix products int8" + (q.KeptFloat.Count > 0 ? $", kept float: {string.Join(", ", q.KeptFloat)}" : "") +
                          $"; encoder.onnx {new FileInfo(int8.EncoderPath).Length / 1e6:F1} MB");
        if (q.Fidelity is { } f)
            Console.WriteLine($"  cosine to {q.FromId} over {f.Canvases} canvases: min {f.MinCosine:F4}, mean {f.MeanCosine:F4}; " +
                              (q.CompatibleWithSource ? $"its heads and collections are served (min >= {Quantization.CompatibleCosine})"
                                                      : $"below {Quantization.CompatibleCosine}: heads and collections of {q.FromId} are refused; refit them on {m.Id}"));
        else Console.WriteLine($"  fidelity not measured (--fidelity-canvases 0): heads and collections of {q.FromId} are refused on {m.Id}");
        if (CpuIntegerDotProducts.FullRangeWeightsSafe() == false)
            Console.WriteLine("  note: this CPU has no VNNI, and on such a CPU (an AVX2-only EPYC) int8 B/16 and S/16 encoders ran no faster than float32 " +
                              "(0.96-1.02x, docs/benchmarks.md); the int8 copy pays on CPUs with AVX512-VNNI or AVX-VNNI" +
                              (q.NeedsVnni ? ", and its full-range weights are wrong here" : ""));
    }

    /// <summary>Held-out generated examples at the model's size, as model inputs in [-1, 1]: captions (scene, caption text) and
    /// VQA (question above the scene), exactly <paramref name="count"/> of them, drawn as they are read into one reused array
    /// (the reader copies each before asking for the next: <see cref="ModelQuantizer.Measure"/>).</summary>
    public static IEnumerable<float[]> FidelityCanvases(int size, int count, ulong seed)
    {
        if (count == 0) yield break;
        var catalog = EmojiCatalog.Default;
        var generator = new ExampleGenerator(new ShapedRenderer(ShapedProfile.ForImageSize(size)), Languages.Create(catalog), catalog);
        var mix = new ExampleMix(Caption: 2, TextPair: 0, Vqa: 1, Pair: 0);
        var a = new byte[size * size * 3];
        var b = new byte[size * size * 3];
        var canvas = new float[size * size * 3];
        int made = 0;
        for (long i = 0; made < count; i++)
        {
            var e = generator.Sample(Split.HeldOut, seed, i, mix);
            generator.Render(e, a, b);
            made++;
            PixelValues.NormalizeAll(a, canvas);
            yield return canvas;
            if (e.Kind == ExampleKind.Caption && made < count)
            {
                made++;
                PixelValues.NormalizeAll(b, canvas);
                yield return canvas;
            }
        }
    }
}
