using Microsoft.ML.OnnxRuntime;
using Onnx;
using VqaApi.Tasks.Conversion;

namespace VqaApi.Tasks.Precision;

/// <summary>
/// Calibration for static int8 (<see cref="OnnxInt8Quantizer.QuantizeStatic"/>): the float encoder runs on calibration canvases
/// with every activation that feeds a quantized product exposed as an extra output, and the range (min, max) of each is kept.
/// Canvases are read lazily, 8 at a time, into one reused array.
/// </summary>
public static class StaticCalibration
{
    public static Dictionary<string, OnnxInt8Quantizer.ActivationRange> Ranges(ModelProto floatGraph, Int8Plan plan, IEnumerable<float[]> canvases, int height, int width)
    {
        const int batch = 8;
        var names = OnnxInt8Quantizer.ActivationsToCalibrate(floatGraph, plan);
        var observed = floatGraph.Clone();
        var existing = observed.Graph.Output.Select(o => o.Name).ToHashSet();
        foreach (var name in names.Where(n => !existing.Contains(n)))
        {
            var info = new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } } };
            observed.Graph.Output.Add(info);
        }
        using var so = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC };
        using var session = new InferenceSession(Google.Protobuf.MessageExtensions.ToByteArray(observed), so);
        string input = session.InputMetadata.Keys.Single();
        var ranges = names.ToDictionary(n => n, _ => new OnnxInt8Quantizer.ActivationRange(float.PositiveInfinity, float.NegativeInfinity));
        int length = height * width * 3, filled = 0, seen = 0;
        var pixels = new float[batch * length];
        using var ro = new RunOptions();
        void Flush()
        {
            if (filled == 0) return;
            using var value = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, pixels.AsMemory(0, filled * length), [filled, height, width, 3]);
            using var outputs = session.Run(ro, [input], [value], names);
            for (int i = 0; i < names.Count; i++)
            {
                var span = outputs[i].GetTensorDataAsSpan<float>();
                var r = ranges[names[i]];
                ranges[names[i]] = new OnnxInt8Quantizer.ActivationRange(Math.Min(r.Min, System.Numerics.Tensors.TensorPrimitives.Min(span)),
                    Math.Max(r.Max, System.Numerics.Tensors.TensorPrimitives.Max(span)));
            }
            seen += filled;
            filled = 0;
        }
        foreach (var canvas in canvases)
        {
            if (canvas.Length != length) throw new ArgumentException($"calibration canvases must be {height}x{width}x3");
            canvas.CopyTo(pixels, filled++ * length);
            if (filled == batch) Flush();
        }
        Flush();
        if (seen == 0) throw new ArgumentException("static quantization needs at least one calibration canvas");
        return ranges;
    }
}
