using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using VqaApi.Rendering;
using VqaApi.Tasks.Checkpoints;
using VqaApi.Tasks.Conversion;
using VqaApi.Tasks.Encoders;
using VqaApi.Tasks.Models;

// Benchmarks print tables; they assert nothing. Usage:
//   dotnet run -c Release --project benchmarks -- [all|encoder|precision [--profile|--workers|--gelu|--blocks|--chunks]|attention|torch|unifont|shaped|tasks] [--quick]
//   dotnet run -c Release --project benchmarks -- ingest [--items 100000] [--dims 768] [--batch 256] [--snapshot-every 20000] [--hnsw-threshold 20000] [--fsync always|os-buffered] [--data rank32|random] [--tail-seconds 3] [--no-compare] [--folder DIR] [--quick]
//   dotnet run -c Release --project benchmarks -- filters [--items 100000] [--exact-below N] [--quick]
//   dotnet run -c Release --project benchmarks -- gpu [--arch b16|s16] [--fp16] [--attention standard|fused] [--batches 1,32,256] [--seconds 10] [--device 0] [--no-torch]
//   dotnet run -c Release --project benchmarks -- service [--model DIR|random-b16|random-s16] [--int8] [--seconds 8] [--concurrency 1,8,32] [--texts-per-request 8] [--quick]
//   dotnet run -c Release --project benchmarks -- backends [--items 100000] [--expansions 40,100,200] [--postgres CONNECTION] [--quick]
//   dotnet run -c Release --project benchmarks -- vectors [--sizes 10000,100000,1000000] [--data random,rank32] [--hnsw f32,f16,f32-unchecked,f16-unchecked] [--threads N] [--build-minutes M] [--expansions 64,128] [--embeddings N] [--quick]
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
string[] verbs = ["all", "encoder", "precision", "attention", "torch", "unifont", "shaped", "tasks", "generator", "vectors", "ingest", "filters", "service", "gpu", "backends"];
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine("usage: dotnet run -c Release --project benchmarks -- [" + string.Join("|", verbs) + "] [options] [--quick]");
    Console.WriteLine("Each verb prints a table (`all`, the default, runs encoder to generator); the options of each verb are listed at the top of benchmarks/Program.cs and in docs/benchmarks.md.");
    return 0;
}
// The verb: the first argument that names one, else a first argument that is not an option (refused below), else all.
var what = args.FirstOrDefault(a => verbs.Contains(a)) ?? (args.Length > 0 && !args[0].StartsWith('-') ? args[0] : "all");
if (!verbs.Contains(what))
{
    Console.Error.WriteLine($"unknown benchmark '{what}'; one of: {string.Join(", ", verbs)} (--help)");
    return 2;
}
bool quick = args.Contains("--quick");
var work = Directory.CreateTempSubdirectory("vqaapi-bench-").FullName;
Console.WriteLine($"# VqaApi benchmarks ({DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}, ONNX Runtime {OrtEnv.Instance().GetVersionString()})");
try
{
    if (what is "all" or "encoder") Bench.Encoder(work, quick);
    if (what is "all" or "precision") Bench.Precision(work, quick, args);
    if (what is "all" or "attention") Bench.Attention(work, quick);
    if (what is "all" or "torch") Bench.Torch(work, quick);
    if (what is "all" or "unifont") Bench.Unifont(quick);
    if (what is "all" or "shaped") Bench.Shaped(quick);
    if (what is "all" or "tasks") await TaskBench.RunAsync(work, quick);
    if (what is "all" or "generator") GeneratorBench.Run(quick);
    if (what is "vectors") await VectorBench.RunAsync(args, quick);
    if (what is "ingest") IngestBench.Run(args, quick);
    if (what is "filters") FilterBench.Run(args, quick);
    if (what is "service") await ServiceBench.RunAsync(args, quick);
    if (what is "gpu") GpuBench.Run(work, args);
    if (what is "backends") await BackendBench.RunAsync(args, quick);
}
finally { Directory.Delete(work, true); }
return 0;

static partial class Bench
{
    /// <summary>The value after <paramref name="name"/> in the arguments, or null when the option is absent.</summary>
    public static string? OptionValue(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        if (i < 0) return null;
        if (i + 1 >= args.Length) throw new ArgumentException($"{name} needs a value");
        return args[i + 1];
    }

    static readonly VitArchitecture B16 = new(768, 12, 12, 3072, 16, 224, PoolType.Map, 768);
    static readonly VitArchitecture S16 = new(384, 12, 6, 1536, 16, 224, PoolType.Map, 384);

    public static void Encoder(string work, bool quick)
    {
        double peak = MatMulPeak(work, quick);
        Console.WriteLine();
        Console.WriteLine($"## Encoder, ViT-B/16 224 px, random weights, CPU ({Environment.ProcessorCount} threads)");
        Console.WriteLine($"float32 matrix-multiply peak measured now (ONNX Runtime MatMul, best of square 2048 and 6272x768x3072): {peak:F1} GFLOP/s");
        Console.WriteLine();
        Console.WriteLine("| batch | images/s | ms/batch | GFLOP/s | % of peak |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        using var model = new TempModel(work, "b16", B16);
        double flops = FlopsPerImage(B16);
        foreach (int batch in quick ? new[] { 1, 8 } : new[] { 1, 8, 32 })
        {
            var (ips, ms) = EncoderSpeed(model.Directory, batch, seconds: quick ? 2 : 6);
            double gflops = ips * flops / 1e9;
            Console.WriteLine($"| {batch} | {ips:F2} | {ms:F0} | {gflops:F1} | {100 * gflops / peak:F0}% |");
        }
    }

    public static void Torch(string work, bool quick)
    {
        Console.WriteLine();
        Console.WriteLine($"## ViT-S/16 224 px: ONNX Runtime (this service) vs PyTorch eager, same checkpoint, same inputs, {Environment.ProcessorCount} threads");
        using var model = new TempModel(work, "s16", S16);
        int batch = 8;
        var inputs = RandomCanvases(batch, 224, 1);
        var inputPath = Path.Combine(work, "inputs.npy");
        using (var f = File.Create(inputPath)) new NpyArray([batch, 224, 224, 3], inputs).Write(f);
        var (onnxIps, _) = EncoderSpeed(model.Directory, batch, quick ? 2 : 6, inputs);
        var torchOut = Path.Combine(work, "torch.npy");
        var script = Path.Combine(AppContext.BaseDirectory, "torch_vit.py");
        var psi = new ProcessStartInfo("/usr/bin/python3", [script, model.Checkpoint, inputPath, batch.ToString(), quick ? "1" : "4", Environment.ProcessorCount.ToString(), torchOut])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        string stdout, stderr;
        int exit;
        try
        {
            using var p = Process.Start(psi)!;
            stdout = p.StandardOutput.ReadToEnd();
            stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            exit = p.ExitCode;
        }
        catch (System.ComponentModel.Win32Exception e) { stdout = ""; stderr = e.Message; exit = -1; }
        if (exit != 0)
        {
            Console.WriteLine($"PyTorch side skipped: {stderr.Trim().Split('\n').Last()} (apt-get install -y python3-torch libopenblas0-pthread)");
            Console.WriteLine($"| runtime | images/s (batch {batch}) |\n|---|---:|\n| ONNX Runtime | {onnxIps:F2} |");
            return;
        }
        var result = JsonDocument.Parse(stdout.Trim().Split('\n').Last()).RootElement;
        double torchIps = result.GetProperty("images_per_s").GetDouble();
        using var encoder = new EncoderScope(model.Directory, batch);
        var ours = encoder.Encoder.Run(inputs);
        NpyArray theirs;
        using (var f = File.OpenRead(torchOut)) theirs = NpyArray.Read(f, "torch.npy");
        double maxDiff = 0;
        for (int i = 0; i < batch; i++)
            for (int k = 0; k < S16.EmbeddingDim; k++)
                maxDiff = Math.Max(maxDiff, Math.Abs(ours[i].Embedding[k] - theirs.Data[i * S16.EmbeddingDim + k]));
        Console.WriteLine();
        Console.WriteLine($"| runtime | images/s (batch {batch}) | ratio |");
        Console.WriteLine("|---|---:|---:|");
        Console.WriteLine($"| ONNX Runtime {OrtEnv.Instance().GetVersionString()} | {onnxIps:F2} | {onnxIps / torchIps:F2}x |");
        Console.WriteLine($"| PyTorch {result.GetProperty("torch").GetString()} eager | {torchIps:F2} | 1.00x |");
        Console.WriteLine($"Same computation: max |embedding difference| between the two = {maxDiff:E2}");
    }

    public static void Unifont(bool quick)
    {
        Console.WriteLine();
        Console.WriteLine("## Official unifont renderer, one thread, 224 px canvases (float32 HWC)");
        var renderer = new UnifontRenderer(UnifontFont.Default, new UnifontProfile());
        var texts = new[]
        {
            "a photo of a dog playing in the snow.",
            "The quick brown fox jumps over the lazy dog, then naps under a big old oak tree near the river bank.",
            "Привет, мир! 你好，世界。 مرحبا بالعالم",
            string.Concat(Enumerable.Repeat("Zero-shot classification with pixels only. ", 18))[..768],
        };
        var canvas = new float[224 * 224 * 3];
        double seconds = quick ? 1 : 3;
        double floor = Rate(() => canvas.AsSpan().Fill(-0.0039215684f), seconds);
        Console.WriteLine();
        Console.WriteLine("| work | canvases/s | x floor time |");
        Console.WriteLine("|---|---:|---:|");
        Console.WriteLine($"| floor: fill the canvas with a constant | {floor:F0} | 1.00 |");
        foreach (var text in texts)
        {
            var utf8 = System.Text.Encoding.UTF8.GetBytes(text);
            double rate = Rate(() => renderer.Render(utf8, canvas), seconds);
            Console.WriteLine($"| render \"{(text.Length > 30 ? text[..30] + "..." : text)}\" ({text.Length} chars) | {rate:F0} | {floor / rate:F2} |");
        }
    }

    public static void Shaped(bool quick)
    {
        Console.WriteLine();
        Console.WriteLine("## Shaped renderer, one thread, 224 px text layout, float32 canvas out");
        Console.WriteLine("Floor: the same glyph runs, shaped and placed beforehand, drawn with Skia alone onto a cleared canvas and read back as the float32 canvas.");
        var renderer = new VqaApi.Rendering.Shaped.ShapedRenderer(new VqaApi.Rendering.Shaped.ShapedProfile());
        var texts = new (string Name, string Text)[]
        {
            ("English, 30 chars", "A photo of a dog on the beach."),
            ("Arabic/English, 200 chars", string.Concat(Enumerable.Repeat("The cat جلس على الحصيرة and slept. ", 8))[..200]),
            ("Chinese, 100 chars", string.Concat(Enumerable.Repeat("一只猫坐在垫子上，然后睡着了。", 8))[..100]),
        };
        double seconds = quick ? 1 : 3;
        var canvas = new float[224 * 224 * 3];
        Console.WriteLine();
        Console.WriteLine("| text | pipeline canvases/s | floor canvases/s | pipeline / floor time |");
        Console.WriteLine("|---|---:|---:|---:|");
        foreach (var (name, text) in texts)
        {
            double pipeline = Rate(() => renderer.RenderText(text, canvas), seconds, warmup: 20, step: 10);
            var placed = renderer.LayoutText(text);
            float size = renderer.RenderText(text).Report.Blocks[0].FontSize;
            var fonts = placed.Select(p => p.Run.Font).Distinct().ToDictionary(f => f, f => new SkiaSharp.SKFont(f.Typeface, size) { Subpixel = true, Hinting = SkiaSharp.SKFontHinting.None, Edging = SkiaSharp.SKFontEdging.Antialias, LinearMetrics = true });
            using var builder = new SkiaSharp.SKTextBlobBuilder();
            foreach (var p in placed)
            {
                var run = builder.AllocatePositionedRun(fonts[p.Run.Font], p.Glyphs.Count);
                var ids = run.Glyphs;
                for (int g = 0; g < p.Glyphs.Count; g++) ids[g] = p.Glyphs[g].Id;
                p.Positions.CopyTo(run.Positions);
            }
            using var blob = builder.Build()!;
            using var paint = new SkiaSharp.SKPaint { Color = SkiaSharp.SKColors.Black, IsAntialias = true };
            using var bitmap = new SkiaSharp.SKBitmap(new SkiaSharp.SKImageInfo(224, 224, SkiaSharp.SKColorType.Rgba8888, SkiaSharp.SKAlphaType.Premul));
            var table = PixelValues.Lookup.ToArray();
            double floor = Rate(() =>
            {
                using (var c = new SkiaSharp.SKCanvas(bitmap)) { c.Clear(SkiaSharp.SKColors.White); c.DrawText(blob, 0, 0, paint); }
                var px = bitmap.GetPixelSpan();
                for (int i = 0, o = 0; o < canvas.Length; i += 4, o += 3) { canvas[o] = table[px[i]]; canvas[o + 1] = table[px[i + 1]]; canvas[o + 2] = table[px[i + 2]]; }
            }, seconds, warmup: 20, step: 10);
            foreach (var f in fonts.Values) f.Dispose();
            Console.WriteLine($"| {name} | {pipeline:F0} | {floor:F0} | {floor / pipeline:F2} |");
        }
    }

    internal static double Rate(Action action, double seconds, int warmup = 200, int step = 100)
    {
        for (int i = 0; i < warmup; i++) action();
        long n = 0;
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed.TotalSeconds < seconds) { for (int i = 0; i < step; i++) action(); n += step; }
        return n / sw.Elapsed.TotalSeconds;
    }

    /// <summary>Images per second and milliseconds per batch of one encoder (every core) given the same batch over and over,
    /// run in calls of at most <paramref name="maxBatch"/> canvases (0: the whole batch in one call).</summary>
    static (double imagesPerSecond, double msPerBatch) EncoderSpeed(ModelDirectory model, int batch, double seconds, float[]? inputs = null, int maxBatch = 0)
    {
        using var scope = new EncoderScope(model, maxBatch > 0 ? maxBatch : batch);
        inputs ??= RandomCanvases(batch, model.Manifest.Input.Height, 2);
        scope.Encoder.Run(inputs); // warm-up
        int runs = 0;
        var sw = Stopwatch.StartNew();
        while (runs < 2 || sw.Elapsed.TotalSeconds < seconds) { scope.Encoder.Run(inputs); runs++; }
        double s = sw.Elapsed.TotalSeconds;
        return (runs * batch / s, 1000 * s / runs);
    }

    static double MatMulPeak(string work, bool quick)
    {
        double best = 0;
        foreach (var (m, k, n) in new[] { (2048, 2048, 2048), (6272, 768, 3072) })
        {
            var path = Path.Combine(work, $"matmul-{m}x{k}x{n}.onnx");
            WriteMatMulModel(path, k, n);
            using var so = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
            using var session = new InferenceSession(path, so);
            var a = new float[m * k];
            new Random(1).NextBytes(new byte[1]);
            for (int i = 0; i < a.Length; i++) a[i] = (i % 7) * 0.1f;
            using var input = OrtValue.CreateTensorValueFromMemory(a, [m, k]);
            best = Math.Max(best, 2.0 * m * k * n * CallsPerSecond(session, input, quick) / 1e9);
        }
        return best;
    }

    /// <summary>Calls per second of a one-input session ("a" to "c"), after a warm-up call, over at least 3 calls and 1 s (3 s unless quick).</summary>
    static double CallsPerSecond(InferenceSession session, OrtValue input, bool quick)
    {
        using var ro = new RunOptions();
        session.Run(ro, ["a"], [input], ["c"]).Dispose();
        int runs = 0;
        var sw = Stopwatch.StartNew();
        while (runs < 3 || sw.Elapsed.TotalSeconds < (quick ? 1 : 3)) { session.Run(ro, ["a"], [input], ["c"]).Dispose(); runs++; }
        return runs / sw.Elapsed.TotalSeconds;
    }

    static void WriteMatMulModel(string path, int k, int n)
    {
        var data = new float[k * n];
        for (int i = 0; i < data.Length; i++) data[i] = (i % 5) * 0.01f;
        var bytes = new byte[data.Length * 4];
        Buffer.BlockCopy(data, 0, bytes, 0, bytes.Length);
        WriteProductModel(path, "MatMul", TensorProto.Types.DataType.Float, bytes, TensorProto.Types.DataType.Float, TensorProto.Types.DataType.Float, k, n);
    }

    /// <summary>A one-node model c = op(a, b) with b a constant [k, n] of the given type and bytes, a [m, k] and c [m, n].</summary>
    static void WriteProductModel(string path, string op, TensorProto.Types.DataType bType, byte[] bBytes, TensorProto.Types.DataType aType,
        TensorProto.Types.DataType cType, int k, int n)
    {
        var graph = new GraphProto { Name = op.ToLowerInvariant() };
        var b = new TensorProto { Name = "b", DataType = (int)bType, RawData = ByteString.CopyFrom(bBytes) };
        b.Dims.AddRange([k, n]);
        graph.Initializer.Add(b);
        graph.Node.Add(new NodeProto { OpType = op, Input = { "a", "b" }, Output = { "c" } });
        graph.Input.Add(TypedInfo("a", aType, -1, k));
        graph.Output.Add(TypedInfo("c", cType, -1, n));
        var model = new ModelProto { IrVersion = 9, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 20 });
        using var f = File.Create(path);
        model.WriteTo(f);
    }

    static ValueInfoProto Info(string name, long rows, long cols)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(rows < 0 ? new TensorShapeProto.Types.Dimension { DimParam = "m" } : new TensorShapeProto.Types.Dimension { DimValue = rows });
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = cols });
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } } };
    }

    /// <summary>Multiply-adds x 2 of one forward pass.</summary>
    static double FlopsPerImage(VitArchitecture a)
    {
        double t = a.Patches, d = a.Width, m = a.MlpDim, p = a.PatchSize;
        double macs = t * p * p * 3 * d + a.Depth * (4 * t * d * d + 2 * t * t * d + 2 * t * d * m);
        if (a.Pool == PoolType.Map) macs += 2 * t * d * d + 2 * t * d + d * d + 2 * d * m;
        if (a.OutDim is { } e) macs += d * e;
        return 2 * macs;
    }

    static float[] RandomCanvases(int count, int size, int seed)
    {
        var rng = new Random(seed);
        var data = new float[count * size * size * 3];
        for (int i = 0; i < data.Length; i++) data[i] = rng.Next(256) / 255f * 2f - 1f;
        return data;
    }

    sealed class TempModel : IDisposable
    {
        public TempModel(string work, string name, VitArchitecture arch)
        {
            Checkpoint = Path.Combine(work, name + ".npz");
            RandomCheckpoint.Save(Checkpoint, RandomCheckpoint.CreateParameters(arch, 1));
            Directory = CheckpointConverter.Convert(Checkpoint, Path.Combine(work, name));
        }
        public string Checkpoint { get; }
        public ModelDirectory Directory { get; }
        /// <summary>Deletes the checkpoint and the model directory, so that a later section of the same run (`all`) can
        /// create a model of the same name.</summary>
        public void Dispose()
        {
            File.Delete(Checkpoint);
            if (System.IO.Directory.Exists(Directory.Path)) System.IO.Directory.Delete(Directory.Path, recursive: true);
        }
    }

    /// <param name="threads">ONNX Runtime's operator threads (0: its default, one a core), without spinning when set.</param>
    sealed class EncoderScope(ModelDirectory model, int batch, int threads = 0) : IDisposable
    {
        public Encoder Encoder { get; } = VqaApi.Tasks.Encoders.Encoder.Create(model,
            new EncoderOptions { UseCuda = false, MaxBatch = batch, LargeModelCpuMaxBatch = 0, WarmUp = false, IntraOpThreads = threads, AllowSpinning = threads == 0 }, NullLogger.Instance);
        public void Dispose() => Encoder.DisposeAsync().AsTask().GetAwaiter().GetResult();
    }
}
