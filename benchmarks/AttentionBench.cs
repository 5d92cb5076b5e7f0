using VqaApi.Tasks.Checkpoints;
using VqaApi.Tasks.Conversion;
using VqaApi.Tasks.Models;
using VqaApi.Tasks.Precision;

// Self-attention written with standard operators against ONNX Runtime's fused MultiHeadAttention kernel
// (EncoderAttention), in float32 and int8, the four side by side in one run, measured in alternating rounds.
static partial class Bench
{
    public static void Attention(string work, bool quick)
    {
        int rounds = quick ? 1 : 3;
        double seconds = quick ? 1.5 : 3;
        Console.WriteLine();
        Console.WriteLine($"## Encoder self-attention: standard operators vs fused MultiHeadAttention, float32 and int8 (dynamic), random weights, CPU ({Environment.ProcessorCount} threads)");
        Console.WriteLine($"best of {rounds} alternating rounds of {seconds} s per cell; ratios to standard float32; cosine of each fused model to its standard one");
        Console.WriteLine();
        Console.WriteLine("| model | batch | float32 std, images/s | float32 fused | int8 std | int8 fused | int8 std / float32 std | int8 fused / float32 std | int8 fused / float32 fused | cosine fused to std, float32 / int8 (min) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        var models = new[] { ("B/16", B16), ("S/16", S16), ("mini 128 px", Mini128) };
        foreach (var (name, arch) in models)
        {
            var stem = name.Replace("/", "").Replace(" ", "").ToLowerInvariant() + "-attn";
            using var temp = new TempModel(work, stem, arch); // standard operators, the converter's default
            var std = temp.Directory;
            var fused = CheckpointConverter.Convert(temp.Checkpoint, Path.Combine(work, stem + "-fused"), new ConvertOptions { Attention = EncoderAttention.Fused });
            var stdInt8 = ModelQuantizer.Quantize(std, Path.Combine(work, stem + "-std-int8"), new QuantizeOptions(), []);
            var fusedInt8 = ModelQuantizer.Quantize(fused, Path.Combine(work, stem + "-fused-int8"), new QuantizeOptions(), []);
            ModelDirectory[] variants = [std, fused, stdInt8, fusedInt8];
            foreach (int batch in quick ? new[] { 1, 8 } : new[] { 1, 8, 32 })
            {
                var inputs = RandomCanvases(batch, arch.ImageSize, 3);
                var best = new double[variants.Length];
                for (int r = 0; r < rounds; r++)
                    for (int v = 0; v < variants.Length; v++)
                        best[v] = Math.Max(best[v], EncoderSpeed(variants[v], batch, seconds, inputs).imagesPerSecond);
                var (fMin, _) = Agreement(std, fused, inputs, batch);
                var (iMin, _) = Agreement(stdInt8, fusedInt8, inputs, batch);
                Console.WriteLine($"| {name} | {batch} | {best[0]:F1} | {best[1]:F1} | {best[2]:F1} | {best[3]:F1} | {best[2] / best[0]:F2} | {best[3] / best[0]:F2} | {best[3] / best[1]:F2} | {fMin:F5} / {iMin:F5} |");
            }
        }
    }

    /// <summary>The shape of the bundled model (clippo-mini128-cpu-*): width 128, depth 4, 4 heads, patch 16, 128 px.</summary>
    static readonly VitArchitecture Mini128 = new(128, 4, 4, 512, 16, 128, PoolType.Map, 128);
}
