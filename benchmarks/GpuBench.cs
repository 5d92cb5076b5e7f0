using System.Diagnostics;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using VqaApi.Tasks.Checkpoints;
using VqaApi.Tasks.Conversion;

/// <summary>
/// The encoder through ONNX Runtime's CUDA provider from C# (the same encoder.onnx the service runs), at several batch
/// sizes, plain and with IO binding (outputs left on the device), next to PyTorch eager bfloat16 on the same card running
/// the same checkpoint. Without a loadable CUDA provider it says why and exits 3: nothing is measured on the CPU here.
/// Usage: dotnet run -c Release --project benchmarks -- gpu [--arch b16|s16] [--fp16] [--batches 1,32,256] [--seconds 10] [--device 0] [--no-torch]
/// On the GPU machine this runs from a self-contained publish (benchmarks/gpu/README.md).
/// </summary>
static class GpuBench
{
    public static void Run(string work, string[] args)
    {
        var archName = Bench.OptionValue(args, "--arch") ?? "b16";
        var arch = archName == "s16" ? new VitArchitecture(384, 12, 6, 1536, 16, 224, PoolType.Map, 384) : new VitArchitecture(768, 12, 12, 3072, 16, 224, PoolType.Map, 768);
        bool fp16 = args.Contains("--fp16");
        var batches = (Bench.OptionValue(args, "--batches") ?? "1,32,256").Split(',').Select(int.Parse).ToArray();
        double seconds = double.Parse(Bench.OptionValue(args, "--seconds") ?? "10", System.Globalization.CultureInfo.InvariantCulture);
        int device = int.Parse(Bench.OptionValue(args, "--device") ?? "0");
        var attention = Bench.OptionValue(args, "--attention") == "fused" ? EncoderAttention.Fused : EncoderAttention.Standard;
        Console.WriteLine();
        Console.WriteLine($"## Encoder on the GPU: ViT-{archName.ToUpperInvariant()} 224 px, random weights{(fp16 ? ", float16-stored weights" : "")}, {attention.ToString().ToLowerInvariant()} attention, ONNX Runtime {OrtEnv.Instance().GetVersionString()} CUDA provider, device {device}");

        var checkpoint = Path.Combine(work, archName + ".npz");
        RandomCheckpoint.Save(checkpoint, RandomCheckpoint.CreateParameters(arch, 1));
        var model = CheckpointConverter.Convert(checkpoint, Path.Combine(work, archName), new ConvertOptions { Fp16 = fp16, Attention = attention });

        using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        try { options.AppendExecutionProvider_CUDA(device); }
        catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
        {
            Console.WriteLine($"CUDA provider did not load: {e.Message.Split('\n')[0].Trim()}. Nothing measured.");
            Environment.ExitCode = 3;
            return;
        }
        using var session = new InferenceSession(model.EncoderPath, options);
        Console.WriteLine("CUDA provider loaded.");
        Console.WriteLine();
        Console.WriteLine("| runtime | batch | images/s | ms/batch |");
        Console.WriteLine("|---|---:|---:|---:|");
        var results = new Dictionary<(string, int), double>();
        foreach (int batch in batches)
        {
            var inputs = new float[batch * 224 * 224 * 3];
            var rng = new Random(batch);
            for (int i = 0; i < inputs.Length; i++) inputs[i] = (float)(rng.NextDouble() * 2 - 1);
            using var input = OrtValue.CreateTensorValueFromMemory(inputs, [batch, 224, 224, 3]);
            using var ro = new RunOptions();
            string[] outputs = ["embedding"];

            double plain = Time(() => session.Run(ro, ["pixels"], [input], outputs).Dispose(), seconds, batch);
            results[("plain", batch)] = plain;
            Console.WriteLine($"| ONNX Runtime CUDA, C# | {batch} | {plain:F1} | {1000.0 * batch / plain:F1} |");

            // IO binding: the input copied once per call by ONNX Runtime, the output left in device memory (what a server
            // that only needs the top answers would do).
            using var binding = session.CreateIoBinding();
            using var cuda = new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, device, OrtMemType.Default);
            binding.BindInput("pixels", input);
            binding.BindOutputToDevice("embedding", cuda);
            double bound = Time(() => { session.RunWithBinding(ro, binding); binding.SynchronizeBoundOutputs(); }, seconds, batch);
            results[("binding", batch)] = bound;
            Console.WriteLine($"| ONNX Runtime CUDA, C#, IO binding | {batch} | {bound:F1} | {1000.0 * batch / bound:F1} |");

            if (!args.Contains("--no-torch") && Torch(work, checkpoint, inputs, batch, seconds) is { } torch)
            {
                results[("torch", batch)] = torch;
                Console.WriteLine($"| PyTorch eager bfloat16 (autocast), same card | {batch} | {torch:F1} | {1000.0 * batch / torch:F1} |");
            }
        }
        if (results.Keys.Any(k => k.Item1 == "torch"))
        {
            Console.WriteLine();
            Console.WriteLine("| batch | ONNX Runtime / PyTorch bf16 | with IO binding |");
            Console.WriteLine("|---:|---:|---:|");
            foreach (int batch in batches)
                if (results.TryGetValue(("torch", batch), out var t))
                    Console.WriteLine($"| {batch} | {100 * results[("plain", batch)] / t:F0}% | {100 * results[("binding", batch)] / t:F0}% |");
        }
    }

    static double Time(Action run, double seconds, int batch)
    {
        run();
        run();
        int runs = 0;
        var sw = Stopwatch.StartNew();
        while (runs < 3 || sw.Elapsed.TotalSeconds < seconds) { run(); runs++; }
        return runs * batch / sw.Elapsed.TotalSeconds;
    }

    /// <summary>PyTorch eager bfloat16 on the same card (the trainer's model code), or null when PyTorch with CUDA is not there.</summary>
    static double? Torch(string work, string checkpoint, float[] inputs, int batch, double seconds)
    {
        var inputPath = Path.Combine(work, $"inputs-{batch}.npy");
        using (var f = File.Create(inputPath)) new NpyArray([batch, 224, 224, 3], inputs).Write(f);
        var script = Path.Combine(AppContext.BaseDirectory, "torch_vit.py");
        int iters = Math.Max(3, (int)(seconds * 200 / batch));
        var psi = new ProcessStartInfo("python3", [script, checkpoint, inputPath, batch.ToString(), iters.ToString(), "4", Path.Combine(work, "torch-out.npy"), "cuda", "bfloat16"])
        { RedirectStandardOutput = true, RedirectStandardError = true };
        try
        {
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEnd();
            var stderr = p.StandardError.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode != 0)
            {
                Console.WriteLine($"(PyTorch side skipped: {stderr.Trim().Split('\n').LastOrDefault()})");
                return null;
            }
            return JsonDocument.Parse(stdout.Trim().Split('\n').Last()).RootElement.GetProperty("images_per_s").GetDouble();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Console.WriteLine($"(PyTorch side skipped: {e.Message})");
            return null;
        }
    }
}
