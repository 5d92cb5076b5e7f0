using System.Numerics.Tensors;
using System.Security.Cryptography;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using Onnx;
using VqaApi.Tasks.Encoders;
using VqaApi.Tasks.Models;

using VqaApi.Tasks.Conversion;

namespace VqaApi.Tasks.Precision;

public sealed record QuantizeOptions
{
    /// <summary>The int8 model's id; default: the float model's id + "-int8".</summary>
    public string? Id { get; init; }
    /// <summary>Weights (by name prefix) left float, e.g. "MAPHead_0" for the pooling head.</summary>
    public IReadOnlyList<string> KeepFloat { get; init; } = [];
    public bool Overwrite { get; init; }
    /// <summary>Copy the float model's heads (served by the int8 model when its fidelity is within <see cref="Quantization.CompatibleCosine"/>).</summary>
    public bool CopyHeads { get; init; } = true;
    /// <summary>Describes the fidelity canvases in the manifest (what they were).</summary>
    public string FidelityCanvases { get; init; } = "canvases";
    /// <summary>Static activations (QDQ, <see cref="OnnxInt8Quantizer.QuantizeStatic"/>) calibrated on these canvases, instead of
    /// dynamic ones; null: dynamic (the default, measured faster and closer: docs/benchmarks.md).</summary>
    public IEnumerable<float[]>? Calibration { get; init; }
    /// <summary>Also quantize the products between two activations (attention), per call; dynamic activations only.</summary>
    public bool ActivationProducts { get; init; }
    /// <summary>The MLP's GELU as ONNX Runtime's <c>FastGelu</c> with the bias folded in (<see cref="Int8Plan.FastGelu"/>;
    /// measured no faster, off by default).</summary>
    public bool FastGelu { get; init; }
    /// <summary>8-bit weights in blocks of this many rows on <c>MatMulNBits</c> (<see cref="Int8Plan.BlockSize"/>); 0: per-column
    /// scales on <c>DynamicQuantizeMatMul</c> (the default).</summary>
    public int BlockSize { get; init; }
    /// <summary>Per-column weights over [-127, 127] instead of the portable [-64, 64] (<see cref="Int8Plan.WeightLevels"/>):
    /// only for CPUs with VNNI (or ARM); on AVX2-only CPUs ONNX Runtime's kernel saturates with them.</summary>
    public bool FullRangeWeights { get; init; }
}

/// <summary>
/// Makes an int8 model directory from a float one: the encoder rewritten by <see cref="OnnxInt8Quantizer"/>, the manifest
/// saying where it came from and how close it stays (both encoders run on the canvases given), the heads and the model card copied (the card under a line saying what the copy is).
/// Written into a staging folder and moved into place only when complete.
/// </summary>
public static class ModelQuantizer
{
    /// <param name="fidelityCanvases">model inputs both encoders embed to measure the int8 model's fidelity, read lazily in
    /// small batches (so a thousand 224 px canvases never sit in memory at once); none: nothing is measured.</param>
    public static ModelDirectory Quantize(ModelDirectory source, string targetDirectory, QuantizeOptions options, IEnumerable<float[]> fidelityCanvases)
    {
        if (source.Manifest.Quantization is not null)
            throw new ModelDirectoryException($"'{source.Path}' is already an int8 model (of {source.Manifest.Quantization.FromId}); quantize the float model");
        if (string.Equals(Path.GetFullPath(targetDirectory), source.Path, StringComparison.Ordinal))
            throw new ModelDirectoryException("the int8 model needs its own directory: give another target than the float model's");
        return ModelDirectory.CreateStaged(targetDirectory, options.Overwrite, staging =>
        {
            byte[] encoderBytes = File.ReadAllBytes(source.EncoderPath);
            ModelProto graph;
            try { graph = ModelProto.Parser.ParseFrom(encoderBytes); }
            catch (InvalidProtocolBufferException e) { throw new ModelDirectoryException($"'{source.EncoderPath}' is not an ONNX model: {e.Message}"); }
            if (options.ActivationProducts && options.Calibration is not null)
                throw new ModelDirectoryException("int8 products between activations are quantized per call: they go with dynamic activations, not static ones");
            if (options.FastGelu && options.Calibration is not null)
                throw new ModelDirectoryException("FastGelu is written by the dynamic rewrite only, not with static activations");
            if (options.BlockSize != 0 && (options.BlockSize < 16 || (options.BlockSize & (options.BlockSize - 1)) != 0))
                throw new ModelDirectoryException($"block size {options.BlockSize}: MatMulNBits takes a power of two of at least 16");
            if (options.BlockSize != 0 && (options.Calibration is not null || options.ActivationProducts || options.FastGelu))
                throw new ModelDirectoryException("8-bit blocks (MatMulNBits) go with dynamic activations alone, without static calibration, attention products or FastGelu");
            if (options.FullRangeWeights && options.BlockSize != 0)
                throw new ModelDirectoryException("full-range weights are a choice of per-column weights, not of 8-bit blocks (MatMulNBits)");
            var plan = new Int8Plan
            {
                KeepFloat = options.KeepFloat, ActivationProducts = options.ActivationProducts, FastGelu = options.FastGelu, BlockSize = options.BlockSize,
                WeightLevels = options.FullRangeWeights ? Int8Plan.FullWeightLevels : Int8Plan.PortableWeightLevels,
            };
            var input = source.Manifest.Input;
            var (int8, report) = options.Calibration is { } calibration
                ? OnnxInt8Quantizer.QuantizeStatic(graph, plan, StaticCalibration.Ranges(graph, plan, calibration, input.Height, input.Width))
                : OnnxInt8Quantizer.Quantize(graph, plan);
            if (report.Quantized == 0) throw new ModelDirectoryException($"'{source.EncoderPath}' has no matrix product with constant weights to quantize");
            var m = source.Manifest;
            var encoderName = "encoder.onnx";
            using (var file = File.Create(Path.Combine(staging, encoderName))) int8.WriteTo(file);

            var quantization = new Quantization
            {
                FromId = m.Id, FromWeightsDType = m.WeightsDType, FromEncoderSha256 = Convert.ToHexStringLower(SHA256.HashData(encoderBytes)),
                QuantizedMatMuls = report.Quantized, KeptFloat = report.KeptWeights, WeightLevels = options.BlockSize > 0 ? null : plan.WeightLevels,
                Method = options.Calibration is not null ? "static-int8" : options.ActivationProducts ? "dynamic-int8-attention"
                    : options.BlockSize > 0 ? $"dynamic-int8-blocks-{options.BlockSize}" : "dynamic-int8",
            };
            var manifest = m with
            {
                Id = options.Id ?? m.Id + "-int8",
                Description = $"{m.Description ?? m.Id} (int8: matrix products quantized, {(options.Calibration is null ? "dynamic" : "static, calibrated")} activations)",
                Encoder = encoderName,
                WeightsDType = "int8",
                Quantization = quantization,
                CreatedAt = DateTimeOffset.UtcNow,
            };
            ModelDirectory.WriteManifest(staging, manifest);
            if (Measure(source, ModelDirectory.Load(staging), fidelityCanvases, options.FidelityCanvases) is { } fidelity)
                ModelDirectory.WriteManifest(staging, manifest with { Quantization = quantization with { Fidelity = fidelity } });
            // The float model's card, under a line that says what this copy is: what the model knows does not change.
            if (source.Card is { } card)
                File.WriteAllText(Path.Combine(staging, ModelDirectory.CardFile),
                    $"> **{options.Id ?? m.Id + "-int8"} is an int8 copy of {m.Id}** (`vqa quantize`: matrix products on integer kernels; " +
                    "its manifest records the cosine of its embeddings to the float model's). The card below is the float model's.\n\n" + card);
            var heads = Path.Combine(source.Path, "heads");
            if (options.CopyHeads && Directory.Exists(heads))
            {
                Directory.CreateDirectory(Path.Combine(staging, "heads"));
                foreach (var file in Directory.EnumerateFiles(heads, "*.json"))
                    File.Copy(file, Path.Combine(staging, "heads", Path.GetFileName(file)));
            }
        });
    }

    /// <summary>Both encoders on the same canvases, 16 at a time: the cosine of each pair of embeddings; null for no canvases.
    /// Each canvas is copied into the batch as it is read, so the sequence may hand out one reused array.</summary>
    public static QuantizationFidelity? Measure(ModelDirectory floatModel, ModelDirectory int8Model, IEnumerable<float[]> canvases, string what)
    {
        const int batch = 16;
        var options = new EncoderOptions { UseCuda = false, MaxBatch = batch, WarmUp = false };
        Encoder? a = null, b = null;
        var cosines = new List<double>();
        float[]? input = null;
        int filled = 0, length = 0;
        void Flush()
        {
            if (filled == 0) return;
            a ??= Encoder.Create(floatModel, options, NullLogger.Instance);
            b ??= Encoder.Create(int8Model, options, NullLogger.Instance);
            var x = a.Run(input.AsSpan(0, filled * length));
            var y = b.Run(input.AsSpan(0, filled * length));
            for (int i = 0; i < filled; i++) cosines.Add(TensorPrimitives.CosineSimilarity(x[i].Embedding, y[i].Embedding));
            filled = 0;
        }
        try
        {
            foreach (var canvas in canvases)
            {
                if (input is null) (length, input) = (canvas.Length, new float[batch * canvas.Length]);
                if (canvas.Length != length) throw new ArgumentException("fidelity canvases must all have the model's input size");
                canvas.CopyTo(input, filled++ * length);
                if (filled == batch) Flush();
            }
            Flush();
        }
        finally
        {
            a?.DisposeAsync().AsTask().GetAwaiter().GetResult();
            b?.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return cosines.Count == 0 ? null : new QuantizationFidelity(cosines.Count, Math.Round(cosines.Min(), 6), Math.Round(cosines.Average(), 6), what);
    }
}
