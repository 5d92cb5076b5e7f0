using System.Diagnostics;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;
using VqaApi.Tasks.Checkpoints;
using VqaApi.Tasks.Conversion;
using VqaApi.Tasks.Encoders;
using VqaApi.Tasks.Precision;
using VqaApi.Tasks.Models;

// The encoder in float32 and int8 (dynamic quantization, OnnxInt8Quantizer), side by side in one run, with the integer
// matrix-multiply peak measured the same way as the float32 one; and whether bfloat16 runs at all on the CPU provider.
static partial class Bench
{
    public static void Precision(string work, bool quick, string[] args)
    {
        if (args.Contains("--workers")) { Workers(work, quick); return; }
        if (args.Contains("--gelu")) { Gelu(work, quick); return; }
        if (args.Contains("--blocks")) { Blocks(work, quick); return; }
        if (args.Contains("--chunks")) { Chunks(work, quick); return; }
        double floatPeak = MatMulPeak(work, quick);
        double intPeak = MatMulIntegerPeak(work, quick);
        Console.WriteLine();
        Console.WriteLine($"## Encoder precision: float32 vs int8 (per-channel weights; activations dynamic, or static QDQ calibrated on 32 other canvases, or dynamic with attention's products between activations too), random weights, CPU ({Environment.ProcessorCount} threads)");
        Console.WriteLine($"float32 matrix-multiply peak measured now (MatMul, best of square 2048 and 6272x768x3072): {floatPeak:F1} GFLOP/s");
        Console.WriteLine($"int8 matrix-multiply peak measured now (MatMulInteger uint8 x int8 -> int32, same shapes): {intPeak:F1} GOP/s ({intPeak / floatPeak:F2}x float32)");
        Console.WriteLine($"VNNI on this CPU (full-range int8 weights safe): {CpuIntegerDotProducts.FullRangeWeightsSafe()?.ToString() ?? "unknown"}; " +
                          "int8 rows use 7-bit weights ([-64, 64], the default) unless they say full range");
        Console.WriteLine();
        Console.WriteLine("| model | precision | batch | images/s | x float32 | G(FL)OP/s | % of its peak | cosine to float32 (min / mean) |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---|");
        foreach (var (name, arch) in new[] { ("B/16", B16), ("S/16", S16) })
        {
            using var f32 = new TempModel(work, name.Replace("/", "").ToLowerInvariant(), arch);
            var int8Dir = Path.Combine(work, name.Replace("/", "").ToLowerInvariant() + "-int8");
            var int8 = ModelQuantizer.Quantize(f32.Directory, int8Dir, new QuantizeOptions(), []);
            // Static int8 (QDQ), calibrated on 32 other random canvases than those measured.
            var calibration = RandomCanvases(32, arch.ImageSize, 11);
            int length = arch.ImageSize * arch.ImageSize * 3;
            var qdq = ModelQuantizer.Quantize(f32.Directory, int8Dir + "-static", new QuantizeOptions
            {
                Calibration = Enumerable.Range(0, 32).Select(i => calibration.AsSpan(i * length, length).ToArray()),
            }, []);
            var int8Attention = ModelQuantizer.Quantize(f32.Directory, int8Dir + "-attention", new QuantizeOptions { ActivationProducts = true }, []);
            var int8Full = ModelQuantizer.Quantize(f32.Directory, int8Dir + "-full", new QuantizeOptions { FullRangeWeights = true }, []);
            double flops = FlopsPerImage(arch);
            foreach (int batch in quick ? new[] { 1, 8 } : new[] { 1, 8, 32 })
            {
                var inputs = RandomCanvases(batch, arch.ImageSize, 3);
                var (floatIps, _) = EncoderSpeed(f32.Directory, batch, quick ? 2 : 6, inputs);
                var (intIps, _) = EncoderSpeed(int8, batch, quick ? 2 : 6, inputs);
                var (staticIps, _) = EncoderSpeed(qdq, batch, quick ? 2 : 6, inputs);
                var (attentionIps, _) = EncoderSpeed(int8Attention, batch, quick ? 2 : 6, inputs);
                var (fullIps, _) = EncoderSpeed(int8Full, batch, quick ? 2 : 6, inputs);
                var (fmin, fmean) = Agreement(f32.Directory, int8Full, inputs, batch);
                var (amin, amean) = Agreement(f32.Directory, int8Attention, inputs, batch);
                var (min, mean) = Agreement(f32.Directory, int8, inputs, batch);
                var (smin, smean) = Agreement(f32.Directory, qdq, inputs, batch);
                Console.WriteLine($"| {name} | float32 | {batch} | {floatIps:F2} | 1.00 | {floatIps * flops / 1e9:F1} | {100 * floatIps * flops / 1e9 / floatPeak:F0}% | |");
                Console.WriteLine($"| {name} | int8 dynamic | {batch} | {intIps:F2} | {intIps / floatIps:F2} | {intIps * flops / 1e9:F1} | {100 * intIps * flops / 1e9 / intPeak:F0}% | {min:F4} / {mean:F4} |");
                Console.WriteLine($"| {name} | int8 static (QDQ) | {batch} | {staticIps:F2} | {staticIps / floatIps:F2} | {staticIps * flops / 1e9:F1} | {100 * staticIps * flops / 1e9 / intPeak:F0}% | {smin:F4} / {smean:F4} |");
                Console.WriteLine($"| {name} | int8 dynamic, attention too | {batch} | {attentionIps:F2} | {attentionIps / floatIps:F2} | {attentionIps * flops / 1e9:F1} | {100 * attentionIps * flops / 1e9 / intPeak:F0}% | {amin:F4} / {amean:F4} |");
                Console.WriteLine($"| {name} | int8 dynamic, full-range weights | {batch} | {fullIps:F2} | {fullIps / floatIps:F2} | {fullIps * flops / 1e9:F1} | {100 * fullIps * flops / 1e9 / intPeak:F0}% | {fmin:F4} / {fmean:F4} |");
            }
        }
        if (args.Contains("--profile"))
            foreach (var (name, arch) in new[] { ("B/16", B16), ("S/16", S16) })
            {
                using var f32 = new TempModel(work, name.Replace("/", "").ToLowerInvariant() + "-p", arch);
                var int8 = ModelQuantizer.Quantize(f32.Directory, f32.Directory.Path + "-int8", new QuantizeOptions { Overwrite = true }, []);
                var qdq = ModelQuantizer.Quantize(f32.Directory, f32.Directory.Path + "-static", new QuantizeOptions
                {
                    Overwrite = true, Calibration = [RandomCanvases(1, arch.ImageSize, 11)],
                }, []);
                var attention = ModelQuantizer.Quantize(f32.Directory, f32.Directory.Path + "-attention", new QuantizeOptions { Overwrite = true, ActivationProducts = true }, []);
                foreach (var (label, dir) in new[] { ("float32", f32.Directory), ("int8 dynamic", int8), ("int8 static", qdq), ("int8 dynamic, attention too", attention) })
                    Profile($"{name} {label}", dir, 8, work);
            }
        Console.WriteLine("(Random weights and random canvases: the cosines show that the graph computes the same function; the fidelity that");
        Console.WriteLine("matters, on real weights and real canvases, is what `vqa quantize` measures and records in the manifest.)");
        Console.WriteLine();
        Console.WriteLine($"bfloat16 on the CPU provider: {Bfloat16Support(work)}");
    }

    /// <summary>float32 and int8 served as the service can serve them on a small CPU: one single-threaded session per core, each
    /// running its own batch (Encoder:Workers and Encoder:IntraOpThreads=1), beside the default (one session, every core),
    /// in alternating order. What one thread does alone (the float work between the integer products: GELU, softmax,
    /// transposes) then overlaps with the other session's products instead of leaving a core idle.</summary>
    static void Workers(string work, bool quick)
    {
        int cores = Environment.ProcessorCount;
        Console.WriteLine();
        Console.WriteLine($"### One single-threaded session per core ({cores}), each running its own batch, beside one session on every core");
        Console.WriteLine();
        Console.WriteLine("| model | batch | float32, 1 session: images/s | int8, 1 session | float32, " + cores + " x 1 thread | int8, " + cores + " x 1 thread | int8 / float32, 1 session | int8 / float32, " + cores + " x 1 | int8 " + cores + " x 1 / float32 1 session |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (name, arch) in new[] { ("B/16", B16), ("S/16", S16) })
        {
            using var f32 = new TempModel(work, name.Replace("/", "").ToLowerInvariant() + "-w", arch);
            var int8 = ModelQuantizer.Quantize(f32.Directory, f32.Directory.Path + "-int8", new QuantizeOptions { Overwrite = true }, []);
            foreach (int batch in quick ? new[] { 8 } : new[] { 1, 8, 32 })
            {
                var inputs = RandomCanvases(batch, arch.ImageSize, 3);
                double seconds = quick ? 2 : 6;
                double f1 = EncoderSpeed(f32.Directory, batch, seconds, inputs).imagesPerSecond;
                double fw = SessionsSpeed(f32.Directory, batch, seconds, inputs, cores);
                double i1 = EncoderSpeed(int8, batch, seconds, inputs).imagesPerSecond;
                double iw = SessionsSpeed(int8, batch, seconds, inputs, cores);
                Console.WriteLine($"| {name} | {batch} | {f1:F2} | {i1:F2} | {fw:F2} | {iw:F2} | {i1 / f1:F2} | {iw / fw:F2} | {iw / f1:F2} |");
            }
        }
    }

    /// <summary>Images per second of <paramref name="sessions"/> single-threaded encoders, each on its own thread running
    /// the same batch over and over for <paramref name="seconds"/>.</summary>
    static double SessionsSpeed(ModelDirectory model, int batch, double seconds, float[] inputs, int sessions)
    {
        var scopes = Enumerable.Range(0, sessions).Select(_ => new EncoderScope(model, batch, threads: 1)).ToList();
        try
        {
            foreach (var scope in scopes) scope.Encoder.Run(inputs); // warm-up
            long images = 0;
            var sw = Stopwatch.StartNew();
            var threads = scopes.Select(scope => new Thread(() =>
            {
                int runs = 0;
                while (runs < 2 || sw.Elapsed.TotalSeconds < seconds) { scope.Encoder.Run(inputs); runs++; }
                Interlocked.Add(ref images, (long)runs * batch);
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
            return images / sw.Elapsed.TotalSeconds;
        }
        finally
        {
            foreach (var scope in scopes) scope.Dispose();
        }
    }

    /// <summary>Where the time of one encoder call goes: ONNX Runtime's own profile, summed by operator type.</summary>
    static void Profile(string title, ModelDirectory model, int batch, string work)
    {
        using var so = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        so.ProfileOutputPathPrefix = Path.Combine(work, "profile-" + Guid.NewGuid().ToString("N")); // read when profiling is enabled: first
        so.EnableProfiling = true;
        using var session = new InferenceSession(model.EncoderPath, so);
        var inputs = RandomCanvases(batch, model.Manifest.Input.Height, 5);
        using var input = OrtValue.CreateTensorValueFromMemory(inputs, [batch, model.Manifest.Input.Height, model.Manifest.Input.Width, 3]);
        using var ro = new RunOptions();
        for (int i = 0; i < 5; i++) session.Run(ro, ["pixels"], [input], ["embedding"]).Dispose();
        var file = session.EndProfiling();
        var byOp = new Dictionary<string, double>();
        var events = System.Text.Json.JsonDocument.Parse(File.ReadAllText(file)).RootElement.Clone();
        File.Delete(file);
        foreach (var e in events.EnumerateArray())
            if (e.GetProperty("cat").GetString() == "Node" && e.TryGetProperty("args", out var a) && a.TryGetProperty("op_name", out var op) && e.GetProperty("name").GetString()!.EndsWith("_kernel_time"))
                byOp[op.GetString()!] = byOp.GetValueOrDefault(op.GetString()!) + e.GetProperty("dur").GetDouble();
        double total = byOp.Values.Sum();
        Console.WriteLine($"{title}, batch {batch}, 5 calls: " + string.Join(", ", byOp.OrderByDescending(p => p.Value).Take(8).Select(p => $"{p.Key} {100 * p.Value / total:F0}%")));
    }

    /// <summary>The int8 graph's GELU: the standard Gelu after a DynamicQuantizeMatMul that adds the bias (the default) against
    /// FastGelu with the bias folded in, in alternating rounds, with the float32 graph as the unit.</summary>
    static void Gelu(string work, bool quick)
    {
        Console.WriteLine();
        Console.WriteLine($"## int8 GELU: standard Gelu against FastGelu, random weights, CPU ({Environment.ProcessorCount} threads)");
        Console.WriteLine();
        Console.WriteLine("| model | batch | round | float32 images/s | int8, Gelu | int8, FastGelu | Gelu x float32 | FastGelu x float32 | cosine FastGelu to Gelu (min) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var (name, arch) in new[] { ("B/16", B16), ("S/16", S16) })
        {
            using var f32 = new TempModel(work, name.Replace("/", "").ToLowerInvariant() + "-g", arch);
            var gelu = ModelQuantizer.Quantize(f32.Directory, f32.Directory.Path + "-gelu", new QuantizeOptions { Overwrite = true }, []);
            var fast = ModelQuantizer.Quantize(f32.Directory, f32.Directory.Path + "-fastgelu", new QuantizeOptions { Overwrite = true, FastGelu = true }, []);
            foreach (int batch in new[] { 1, 8 })
            {
                var inputs = RandomCanvases(batch, arch.ImageSize, 3);
                var (cmin, _) = Agreement(gelu, fast, inputs, batch);
                for (int round = 1; round <= 2; round++)
                {
                    var (floatIps, _) = EncoderSpeed(f32.Directory, batch, quick ? 2 : 5, inputs);
                    var (geluIps, _) = EncoderSpeed(gelu, batch, quick ? 2 : 5, inputs);
                    var (fastIps, _) = EncoderSpeed(fast, batch, quick ? 2 : 5, inputs);
                    Console.WriteLine($"| {name} | {batch} | {round} | {floatIps:F2} | {geluIps:F2} | {fastIps:F2} | {geluIps / floatIps:F2} | {fastIps / floatIps:F2} | {cmin:F6} |");
                }
            }
        }
    }

    /// <summary>A request of 8 canvases run by the encoder in calls of at most 1, 2, 4 or 8 canvases (Encoder:MaxBatch), for
    /// float32 and int8 (the default graph, and attention's products in int8 too), in alternating rounds. Smaller calls keep
    /// each call's activations in the cores' caches; whether that pays differs by precision, so each precision is compared
    /// at its own best chunk as well as at the plain batch of 8.</summary>
    static void Chunks(string work, bool quick)
    {
        const int batch = 8;
        int[] chunks = [1, 2, 4, 8];
        int rounds = 2;
        double seconds = quick ? 2 : 4;
        Console.WriteLine();
        Console.WriteLine($"## A batch of {batch} canvases in encoder calls of at most 1, 2, 4 or 8 (Encoder:MaxBatch), random weights, CPU ({Environment.ProcessorCount} threads), {rounds} alternating rounds, best of the rounds");
        Console.WriteLine();
        Console.WriteLine("| model | precision | " + string.Join(" | ", chunks.Select(c => $"calls of {c}: images/s")) + " | best / float32 at 8 | best / float32 at its best |");
        Console.WriteLine("|---|---|" + string.Concat(chunks.Select(_ => "---:|")) + "---:|---:|");
        foreach (var (name, arch) in new[] { ("S/16", S16), ("B/16", B16) })
        {
            using var f32 = new TempModel(work, name.Replace("/", "").ToLowerInvariant() + "-c", arch);
            var int8 = ModelQuantizer.Quantize(f32.Directory, f32.Directory.Path + "-int8", new QuantizeOptions { Overwrite = true }, []);
            var attention = ModelQuantizer.Quantize(f32.Directory, f32.Directory.Path + "-attention", new QuantizeOptions { Overwrite = true, ActivationProducts = true }, []);
            var variants = new[] { ("float32", f32.Directory), ("int8 dynamic", int8), ("int8 dynamic, attention too", attention) };
            var inputs = RandomCanvases(batch, arch.ImageSize, 3);
            var best = new double[variants.Length, chunks.Length];
            for (int round = 0; round < rounds; round++)
                for (int v = 0; v < variants.Length; v++)
                    for (int c = 0; c < chunks.Length; c++)
                        best[v, c] = Math.Max(best[v, c], EncoderSpeed(variants[v].Item2, batch, seconds, inputs, maxBatch: chunks[c]).imagesPerSecond);
            double floatAt8 = best[0, chunks.Length - 1];
            double floatBest = Enumerable.Range(0, chunks.Length).Max(c => best[0, c]);
            for (int v = 0; v < variants.Length; v++)
            {
                double top = Enumerable.Range(0, chunks.Length).Max(c => best[v, c]);
                Console.WriteLine($"| {name} | {variants[v].Item1} | " + string.Join(" | ", Enumerable.Range(0, chunks.Length).Select(c => $"{best[v, c]:F2}")) +
                                  $" | {top / floatAt8:F2} | {top / floatBest:F2} |");
            }
        }
    }

    /// <summary>8-bit weights in blocks on <c>MatMulNBits</c> (accuracy level 4: int8 activations per block, integer dot
    /// products) against per-column weights on <c>DynamicQuantizeMatMul</c>, in alternating rounds, float32 as the unit.</summary>
    static void Blocks(string work, bool quick)
    {
        Console.WriteLine();
        Console.WriteLine($"## int8 products: per-column weights (DynamicQuantizeMatMul) against 8-bit blocks (MatMulNBits, accuracy level 4), random weights, CPU ({Environment.ProcessorCount} threads)");
        Console.WriteLine();
        int[] sizes = [32, 128];
        Console.WriteLine("| model | batch | round | float32 images/s | int8 per column | " + string.Join(" | ", sizes.Select(b => $"blocks of {b}")) +
                          " | per column x float32 | " + string.Join(" | ", sizes.Select(b => $"blocks of {b} x float32")) + " | cosine to float32 (min): per column / " + string.Join(" / ", sizes.Select(b => $"{b}")) + " |");
        Console.WriteLine("|---|---:|---:|---:|---:|" + string.Concat(sizes.Select(_ => "---:|")) + "---:|" + string.Concat(sizes.Select(_ => "---:|")) + "---|");
        foreach (var (name, arch) in new[] { ("B/16", B16), ("S/16", S16) })
        {
            using var f32 = new TempModel(work, name.Replace("/", "").ToLowerInvariant() + "-b", arch);
            var column = ModelQuantizer.Quantize(f32.Directory, f32.Directory.Path + "-column", new QuantizeOptions { Overwrite = true }, []);
            var blocks = sizes.Select(b => ModelQuantizer.Quantize(f32.Directory, f32.Directory.Path + $"-blocks{b}", new QuantizeOptions { Overwrite = true, BlockSize = b }, [])).ToList();
            foreach (int batch in new[] { 1, 8 })
            {
                var inputs = RandomCanvases(batch, arch.ImageSize, 3);
                var (cmin, _) = Agreement(f32.Directory, column, inputs, batch);
                var bmin = blocks.Select(d => Agreement(f32.Directory, d, inputs, batch).Min).ToList();
                for (int round = 1; round <= 2; round++)
                {
                    var (floatIps, _) = EncoderSpeed(f32.Directory, batch, quick ? 2 : 5, inputs);
                    var (columnIps, _) = EncoderSpeed(column, batch, quick ? 2 : 5, inputs);
                    var blockIps = blocks.Select(d => EncoderSpeed(d, batch, quick ? 2 : 5, inputs).Item1).ToList();
                    Console.WriteLine($"| {name} | {batch} | {round} | {floatIps:F2} | {columnIps:F2} | " + string.Join(" | ", blockIps.Select(v => $"{v:F2}")) +
                                      $" | {columnIps / floatIps:F2} | " + string.Join(" | ", blockIps.Select(v => $"{v / floatIps:F2}")) +
                                      $" | {cmin:F4} / " + string.Join(" / ", bmin.Select(v => $"{v:F4}")) + " |");
                }
            }
        }
    }

    static (double Min, double Mean) Agreement(ModelDirectory a, ModelDirectory b, float[] inputs, int batch)
    {
        using var ea = new EncoderScope(a, batch);
        using var eb = new EncoderScope(b, batch);
        var x = ea.Encoder.Run(inputs);
        var y = eb.Encoder.Run(inputs);
        var cosines = x.Zip(y, (p, q) => (double)System.Numerics.Tensors.TensorPrimitives.CosineSimilarity(p.Embedding, q.Embedding)).ToList();
        return (cosines.Min(), cosines.Average());
    }

    static double MatMulIntegerPeak(string work, bool quick)
    {
        double best = 0;
        foreach (var (m, k, n) in new[] { (2048, 2048, 2048), (6272, 768, 3072) })
        {
            var path = Path.Combine(work, $"matmul-int8-{m}x{k}x{n}.onnx");
            var data = new byte[k * n];
            for (int i = 0; i < data.Length; i++) data[i] = (byte)(sbyte)((i % 11) - 5);
            WriteProductModel(path, "MatMulInteger", TensorProto.Types.DataType.Int8, data, TensorProto.Types.DataType.Uint8, TensorProto.Types.DataType.Int32, k, n);
            using var so = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
            using var session = new InferenceSession(path, so);
            var a = new byte[m * k];
            for (int i = 0; i < a.Length; i++) a[i] = (byte)(i % 200);
            using var input = OrtValue.CreateTensorValueFromMemory(a, [m, k]);
            best = Math.Max(best, 2.0 * m * k * n * CallsPerSecond(session, input, quick) / 1e9);
        }
        return best;
    }

    /// <summary>Whether a bfloat16 MatMul loads and runs on the CPU provider, and how fast against float32 if it does.</summary>
    static string Bfloat16Support(string work)
    {
        const int m = 1024, k = 768, n = 3072;
        var path = Path.Combine(work, "matmul-bf16.onnx");
        var graph = new GraphProto { Name = "matmul_bf16" };
        var b = new TensorProto { Name = "b", DataType = (int)TensorProto.Types.DataType.Bfloat16 };
        b.Dims.AddRange([k, n]);
        b.RawData = ByteString.CopyFrom(new byte[k * n * 2]);
        graph.Initializer.Add(b);
        var cast = new NodeProto { OpType = "Cast", Output = { "a16" }, Input = { "a" } };
        cast.Attribute.Add(new AttributeProto { Name = "to", Type = AttributeProto.Types.AttributeType.Int, I = (int)TensorProto.Types.DataType.Bfloat16 });
        graph.Node.Add(cast);
        graph.Node.Add(new NodeProto { OpType = "MatMul", Input = { "a16", "b" }, Output = { "c" } });
        graph.Input.Add(TypedInfo("a", TensorProto.Types.DataType.Float, -1, k));
        graph.Output.Add(TypedInfo("c", TensorProto.Types.DataType.Bfloat16, -1, n));
        var model = new ModelProto { IrVersion = 9, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 20 });
        using (var f = File.Create(path)) model.WriteTo(f);
        try
        {
            using var session = new InferenceSession(path);
            using var input = OrtValue.CreateTensorValueFromMemory(new float[m * k], [m, k]);
            using var ro = new RunOptions();
            session.Run(ro, ["a"], [input], ["c"]).Dispose();
            int runs = 0;
            var sw = Stopwatch.StartNew();
            while (runs < 3 || sw.Elapsed.TotalSeconds < 2) { session.Run(ro, ["a"], [input], ["c"]).Dispose(); runs++; }
            return $"a bfloat16 MatMul runs at {2.0 * m * k * n * runs / sw.Elapsed.TotalSeconds / 1e9:F1} GFLOP/s";
        }
        catch (OnnxRuntimeException e)
        {
            return $"not available (ONNX Runtime {OrtEnv.Instance().GetVersionString()}: {e.Message.Split('\n')[0].Trim()}); dropped";
        }
    }

    static ValueInfoProto TypedInfo(string name, TensorProto.Types.DataType type, long rows, long cols)
    {
        var info = Info(name, rows, cols);
        info.Type.TensorType.ElemType = (int)type;
        return info;
    }
}
