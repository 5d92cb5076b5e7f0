using Google.Protobuf;
using Onnx;

namespace VqaApi.Tasks.Conversion;

/// <summary>Which matrix products of an encoder become int8 (by the name of their weight initializer).</summary>
public sealed record Int8Plan
{
    /// <summary>Weights whose name starts with one of these stay float (e.g. "MAPHead_0", "head", "embedding").</summary>
    public IReadOnlyList<string> KeepFloat { get; init; } = [];

    public bool Quantizes(string weightName) => !KeepFloat.Any(prefix => weightName.StartsWith(prefix, StringComparison.Ordinal));

    /// <summary>Also the products between two activations (attention's query-key and probabilities-value products): both
    /// sides quantized per call (<c>DynamicQuantizeLinear</c>) into one <c>com.microsoft.MatMulIntegerToFloat</c>. Dynamic
    /// quantization only.</summary>
    public bool ActivationProducts { get; init; }

    /// <summary>A weighted product whose bias Add feeds only a tanh-approximated <c>Gelu</c> (the MLP's first layer) keeps
    /// its bias out of <c>DynamicQuantizeMatMul</c> and ends in one <c>com.microsoft.FastGelu(x, bias)</c>: the same
    /// function on another kernel. Dynamic quantization only. Measured no faster on this CPU (B/16 1-2% slower, S/16
    /// within the rounds' spread; docs/benchmarks.md, `benchmarks -- precision --gelu`), so off by default.</summary>
    public bool FastGelu { get; init; }

    /// <summary>0: per-column weight scales on <c>com.microsoft.DynamicQuantizeMatMul</c> (the default). A power of two of at
    /// least 16: each product as <c>com.microsoft.MatMulNBits</c> with 8-bit weights, one scale per <c>BlockSize</c> rows of each
    /// column, and <c>accuracy_level</c> 4 (activations quantized to int8 per block inside the kernel, integer dot products).
    /// Dynamic quantization only.</summary>
    public int BlockSize { get; init; }

    /// <summary>Per-column weights (the default kind) as integers in [-WeightLevels, WeightLevels]. <see cref="PortableWeightLevels"/>
    /// (7 bits, the default) is right on every CPU; <see cref="FullWeightLevels"/> is a little closer to the float model but
    /// wrong on x86 CPUs without VNNI (AVX2 alone, AVX-512 without VNNI): there ONNX Runtime's uint8 x int8 kernel adds two
    /// products in a saturating 16-bit sum (<c>vpmaddubsw</c>), and 255 x 127 x 2 overflows it where 255 x 64 x 2 does not.
    /// Measured on an AVX2-only EPYC: cosine to big_vision 0.94-0.96 with full-range weights.</summary>
    public int WeightLevels { get; init; } = PortableWeightLevels;

    public const int PortableWeightLevels = Models.Quantization.PortableWeightLevels;
    public const int FullWeightLevels = Models.Quantization.FullWeightLevels;
}

/// <summary>What a quantization did.</summary>
public sealed record Int8Report(int Quantized, int KeptFloat, long FloatWeightBytes, long Int8WeightBytes, IReadOnlyList<string> KeptWeights);

/// <summary>
/// Rewrites an encoder graph (ours, as <see cref="OnnxEncoderBuilder"/> writes it, float32 or float16 weights) so that its
/// matrix products with constant weights run on ONNX Runtime's integer kernels: <c>MatMul(x, W)</c>, with the <c>Add</c>
/// of a constant bias that follows it, becomes one <c>com.microsoft.DynamicQuantizeMatMul(x, W8, scale, zero_point, bias)</c>.
/// Weights are quantized per output column, symmetric (scale = max |column| / <see cref="Int8Plan.WeightLevels"/>, 64 by
/// default, zero point 0); activations are
/// quantized per call to uint8 by the kernel itself (dynamic quantization, no calibration data). LayerNorm, softmax,
/// GELU, the attention products between activations (unless <see cref="Int8Plan.ActivationProducts"/>), and every weight
/// the plan keeps stay float32.
/// ONNX Runtime's quantization tool is Python; this rewrite needs only the graph we already build, so it is ours.
/// </summary>
public static class OnnxInt8Quantizer
{
    public const string MicrosoftDomain = OnnxEncoderBuilder.MicrosoftDomain;

    public static (ModelProto Model, Int8Report Report) Quantize(ModelProto source, Int8Plan plan)
    {
        var model = source.Clone();
        var graph = model.Graph;
        var initializers = graph.Initializer.ToDictionary(t => t.Name);
        var producer = Producers(graph);
        var consumers = new Dictionary<string, List<NodeProto>>();
        foreach (var node in graph.Node)
            foreach (var input in node.Input)
            {
                if (!consumers.TryGetValue(input, out var list)) consumers[input] = list = [];
                list.Add(node);
            }
        var graphOutputs = graph.Output.Select(o => o.Name).ToHashSet();

        var removed = new HashSet<NodeProto>();
        var replacements = new Dictionary<NodeProto, NodeProto>();
        var weights = new Int8Weights(plan);
        int counter = 0;

        foreach (var (matmul, weight) in WeightedProducts(graph, initializers, producer))
        {
            if (weights.Add(weight) is not { } baseName) continue; // kept float
            int n = (int)weight.Dims[1];

            // The bias Add that follows, when the product feeds only it and its other input is a constant of n values.
            string output = matmul.Output[0];
            string? bias = null;
            NodeProto? add = null;
            if (!graphOutputs.Contains(output) && consumers.TryGetValue(output, out var users) && users is [{ OpType: "Add" } only])
            {
                var other = only.Input[0] == output ? only.Input[1] : only.Input[0];
                if (Constant(other, initializers, producer) is { Dims: [var len] } b && len == n)
                {
                    bias = $"{baseName}_bias_{counter}";
                    weights.Initializers.Add(FloatTensor(bias, b.Values, [n]));
                    add = only;
                    output = only.Output[0];
                    if (plan.FastGelu && !graphOutputs.Contains(output) && consumers.TryGetValue(output, out var next)
                        && next is [{ OpType: "Gelu", Domain: "" or null } gelu] && gelu.Attribute.Any(a => a.Name == "approximate" && a.S.ToStringUtf8() == "tanh"))
                    {
                        // MatMul -> Add(bias) -> Gelu(tanh) becomes DynamicQuantizeMatMul -> FastGelu(bias).
                        string product = $"{baseName}_product_{counter}";
                        replacements[gelu] = new NodeProto
                        {
                            OpType = "FastGelu", Domain = MicrosoftDomain, Name = $"int8_fast_gelu_{counter}",
                            Input = { product, bias }, Output = { gelu.Output[0] },
                        };
                        output = product;
                        bias = null;
                    }
                }
            }
            NodeProto fused;
            if (plan.BlockSize > 0)
            {
                // MatMulNBits(A, B, scales, zero_points, g_idx, bias): no zero points (8-bit weights stored around 128), no g_idx.
                fused = new NodeProto { OpType = "MatMulNBits", Domain = MicrosoftDomain, Name = $"int8_matmul_{counter++}" };
                fused.Input.AddRange([matmul.Input[0], baseName + "_blocks", baseName + "_block_scales"]);
                if (bias is not null) fused.Input.AddRange(["", "", bias]);
                fused.Attribute.AddRange([IntAttribute("K", weight.Dims[0]), IntAttribute("N", n), IntAttribute("bits", 8),
                    IntAttribute("block_size", plan.BlockSize), IntAttribute("accuracy_level", 4)]);
            }
            else
            {
                fused = new NodeProto { OpType = "DynamicQuantizeMatMul", Domain = MicrosoftDomain, Name = $"int8_matmul_{counter++}" };
                fused.Input.AddRange([matmul.Input[0], baseName, baseName + "_scale", baseName + "_zero_point"]);
                if (bias is not null) fused.Input.Add(bias);
            }
            fused.Output.Add(output);
            replacements[matmul] = fused;
            if (add is not null) removed.Add(add);
        }

        // Products of two activations: each side quantized per call to uint8, the product on the integer kernel, scaled back.
        var expanded = new Dictionary<NodeProto, NodeProto[]>();
        if (plan.ActivationProducts)
            foreach (var matmul in graph.Node.Where(n => n.OpType == "MatMul" && n.Domain is "" or null && !replacements.ContainsKey(n)).ToList())
            {
                if (matmul.Input.Any(i => Constant(i, initializers, producer) is not null || initializers.ContainsKey(i))) continue;
                string name = $"int8_activation_matmul_{counter++}";
                var qa = new NodeProto { OpType = "DynamicQuantizeLinear", Name = name + "_qa", Input = { matmul.Input[0] }, Output = { name + "_a", name + "_a_scale", name + "_a_zero_point" } };
                var qb = new NodeProto { OpType = "DynamicQuantizeLinear", Name = name + "_qb", Input = { matmul.Input[1] }, Output = { name + "_b", name + "_b_scale", name + "_b_zero_point" } };
                var product = new NodeProto
                {
                    OpType = "MatMulIntegerToFloat", Domain = MicrosoftDomain, Name = name,
                    Input = { name + "_a", name + "_b", name + "_a_scale", name + "_b_scale", name + "_a_zero_point", name + "_b_zero_point" },
                    Output = { matmul.Output[0] },
                };
                expanded[matmul] = [qa, qb, product];
            }

        // Rebuild the node list in order; then drop what nothing reads any more (the float weights and their Casts).
        var nodes = graph.Node.Where(n => !removed.Contains(n))
            .SelectMany(n => expanded.TryGetValue(n, out var three) ? three : [replacements.GetValueOrDefault(n, n)]).ToList();
        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        graph.Initializer.AddRange(weights.Initializers);
        RemoveUnused(graph);
        if (!model.OpsetImport.Any(o => o.Domain == MicrosoftDomain))
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = MicrosoftDomain, Version = 1 });
        return (model, weights.Report());
    }

    /// <summary>The matrix products (default domain) whose second input is a 2-D constant weight, float or float16 behind a
    /// Cast, with that weight, in graph order: the products a plan may quantize. Products of two activations are not among them.</summary>
    private static List<(NodeProto MatMul, ConstantTensor Weight)> WeightedProducts(GraphProto graph, Dictionary<string, TensorProto> initializers,
        Dictionary<string, NodeProto> producer) =>
        [.. graph.Node.Where(n => n.OpType == "MatMul" && n.Domain is "" or null)
            .Select(n => (MatMul: n, Weight: Constant(n.Input[1], initializers, producer)))
            .Where(p => p.Weight is { Dims.Length: 2 })
            .Select(p => (p.MatMul, p.Weight!))];

    private static Dictionary<string, NodeProto> Producers(GraphProto graph)
    {
        var producer = new Dictionary<string, NodeProto>();
        foreach (var node in graph.Node) foreach (var output in node.Output) producer[output] = node;
        return producer;
    }

    /// <summary>
    /// The int8 weights of one rewrite, both forms share them: per product, a weight the plan quantizes gets W8 (per-column
    /// symmetric int8), its scales and zero points, made once however many products share it; a weight the plan keeps is
    /// counted as kept. Products are counted per product, bytes per weight.
    /// </summary>
    private sealed class Int8Weights(Int8Plan plan)
    {
        public List<TensorProto> Initializers { get; } = [];
        private readonly List<string> _kept = [];
        private readonly HashSet<string> _made = new(StringComparer.Ordinal);
        private int _quantized;
        private long _floatBytes, _int8Bytes;

        /// <summary>The base name of the weight's int8 tensors (W8, W8_scale, W8_zero_point), or null when it stays float.</summary>
        public string? Add(ConstantTensor weight)
        {
            if (!plan.Quantizes(weight.Name))
            {
                _kept.Add(weight.Name);
                return null;
            }
            _quantized++;
            string baseName = $"{weight.Name}_int8";
            if (plan.BlockSize > 0)
            {
                if (_made.Add(baseName))
                {
                    int k = (int)weight.Dims[0], n = (int)weight.Dims[1];
                    var (blocks, scales) = QuantizeBlocks(weight.Values, k, n, plan.BlockSize);
                    int kBlocks = (k + plan.BlockSize - 1) / plan.BlockSize;
                    var t = Uint8Tensor(baseName + "_blocks", blocks);
                    t.Dims.AddRange([n, kBlocks, plan.BlockSize]);
                    Initializers.Add(t);
                    Initializers.Add(FloatTensor(baseName + "_block_scales", scales, [(long)n * kBlocks]));
                    _floatBytes += 4L * k * n;
                    _int8Bytes += blocks.Length + 4L * scales.Length;
                }
                return baseName;
            }
            if (_made.Add(baseName))
            {
                int k = (int)weight.Dims[0], n = (int)weight.Dims[1];
                var (q, scale) = QuantizeColumns(weight.Values, k, n, plan.WeightLevels);
                Initializers.Add(Int8Tensor(baseName, q, [k, n]));
                Initializers.Add(FloatTensor(baseName + "_scale", scale, [n]));
                Initializers.Add(Int8Tensor(baseName + "_zero_point", new sbyte[n], [n]));
                _floatBytes += 4L * k * n;
                _int8Bytes += (long)k * n + 4L * n;
            }
            return baseName;
        }

        public Int8Report Report() => new(_quantized, _kept.Count, _floatBytes, _int8Bytes, _kept);
    }

    /// <summary>The observed range of one activation (calibration), for static quantization.</summary>
    public readonly record struct ActivationRange(float Min, float Max);

    /// <summary>The activations that feed the matrix products <paramref name="plan"/> quantizes: what a calibration observes.</summary>
    public static IReadOnlyList<string> ActivationsToCalibrate(ModelProto source, Int8Plan plan)
    {
        return WeightedProducts(source.Graph, source.Graph.Initializer.ToDictionary(t => t.Name), Producers(source.Graph))
            .Where(p => plan.Quantizes(p.Weight.Name)).Select(p => p.MatMul.Input[0]).Distinct().ToList();
    }

    /// <summary>
    /// Static quantization in QDQ form, the alternative to <see cref="Quantize"/>: each activation that feeds a quantized product
    /// goes through <c>QuantizeLinear</c>/<c>DequantizeLinear</c> with a fixed uint8 scale and zero point from its calibrated
    /// range (min/max over calibration canvases, widened to include 0), and each weight is stored int8 per output column
    /// (symmetric, as in <see cref="Quantize"/>) behind a per-axis <c>DequantizeLinear</c>. ONNX Runtime's graph optimizer
    /// turns each <c>DQ(x), DQ(W) -> MatMul</c> into an integer kernel; the bias <c>Add</c> stays as it is.
    /// </summary>
    public static (ModelProto Model, Int8Report Report) QuantizeStatic(ModelProto source, Int8Plan plan, IReadOnlyDictionary<string, ActivationRange> ranges)
    {
        var model = source.Clone();
        var graph = model.Graph;
        var inserted = new Dictionary<NodeProto, List<NodeProto>>(); // nodes to put before a MatMul
        var weights = new Int8Weights(plan);
        var newInitializers = weights.Initializers;
        var dequantized = new Dictionary<string, string>(StringComparer.Ordinal); // activation or weight -> its DQ output
        foreach (var (matmul, weight) in WeightedProducts(graph, graph.Initializer.ToDictionary(t => t.Name), Producers(graph)))
        {
            if (weights.Add(weight) is not { } w8) continue; // kept float
            var before = new List<NodeProto>();
            string x = matmul.Input[0];
            if (!dequantized.TryGetValue(x, out var xdq))
            {
                if (!ranges.TryGetValue(x, out var range)) throw new ArgumentException($"no calibrated range for activation '{x}'");
                float min = Math.Min(range.Min, 0), max = Math.Max(range.Max, 0);
                float scale = max > min ? (max - min) / 255f : 1f;
                byte zero = (byte)Math.Clamp(MathF.Round(-min / scale), 0, 255);
                string name = $"qdq_{dequantized.Count}";
                newInitializers.Add(FloatTensor(name + "_scale", [scale], []));
                newInitializers.Add(Uint8Tensor(name + "_zero_point", [zero]));
                var q = new NodeProto { OpType = "QuantizeLinear", Name = name + "_q", Input = { x, name + "_scale", name + "_zero_point" }, Output = { name + "_u8" } };
                var dq = new NodeProto { OpType = "DequantizeLinear", Name = name + "_dq", Input = { name + "_u8", name + "_scale", name + "_zero_point" }, Output = { name + "_x" } };
                before.AddRange([q, dq]);
                dequantized[x] = xdq = name + "_x";
            }
            if (!dequantized.TryGetValue(w8, out var wdq))
            {
                var dq = new NodeProto { OpType = "DequantizeLinear", Name = w8 + "_dq", Input = { w8, w8 + "_scale", w8 + "_zero_point" }, Output = { w8 + "_w" } };
                dq.Attribute.Add(new AttributeProto { Name = "axis", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
                before.Add(dq);
                dequantized[w8] = wdq = w8 + "_w";
            }
            matmul.Input[0] = xdq;
            matmul.Input[1] = wdq;
            inserted[matmul] = before;
        }
        var nodes = graph.Node.SelectMany(n => inserted.TryGetValue(n, out var before) ? [.. before, n] : new[] { n }).ToList();
        graph.Node.Clear();
        graph.Node.AddRange(nodes);
        graph.Initializer.AddRange(newInitializers);
        RemoveUnused(graph);
        return (model, weights.Report());
    }

    private static TensorProto Uint8Tensor(string name, byte[] values)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Uint8 };
        t.RawData = ByteString.CopyFrom(values);
        return t;
    }

    /// <summary>Symmetric per-column int8: column j of the [k, n] row-major weights as round(w / scale_j) in [-levels, levels],
    /// scale_j = max|w_j| / levels (<see cref="Int8Plan.WeightLevels"/>).</summary>
    public static (sbyte[] Values, float[] Scales) QuantizeColumns(float[] w, int k, int n, int levels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(levels, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(levels, Int8Plan.FullWeightLevels);
        var scale = new float[n];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < n; j++) scale[j] = Math.Max(scale[j], Math.Abs(w[i * n + j]));
        for (int j = 0; j < n; j++) scale[j] = scale[j] > 0 ? scale[j] / levels : 1f;
        var q = new sbyte[w.Length];
        for (int i = 0; i < k; i++)
            for (int j = 0; j < n; j++)
                q[i * n + j] = (sbyte)Math.Clamp(MathF.Round(w[i * n + j] / scale[j], MidpointRounding.ToEven), -levels, levels);
        return (q, scale);
    }

    /// <summary>8-bit blocks as <c>MatMulNBits</c> reads them: for each column j of the [k, n] row-major weights and each block of
    /// <paramref name="blockSize"/> rows (the last one padded with zeros), round(w / scale) + 128 as bytes, scale = max|w| / 127
    /// over the block; laid out [n, k blocks, block size], scales [n * k blocks].</summary>
    public static (byte[] Blocks, float[] Scales) QuantizeBlocks(float[] w, int k, int n, int blockSize)
    {
        int kBlocks = (k + blockSize - 1) / blockSize;
        var blocks = new byte[(long)n * kBlocks * blockSize];
        var scales = new float[n * kBlocks];
        for (int j = 0; j < n; j++)
            for (int b = 0; b < kBlocks; b++)
            {
                int lo = b * blockSize, hi = Math.Min(k, lo + blockSize);
                float max = 0;
                for (int i = lo; i < hi; i++) max = Math.Max(max, Math.Abs(w[i * n + j]));
                float scale = max > 0 ? max / 127f : 1f;
                scales[j * kBlocks + b] = scale;
                long at = ((long)j * kBlocks + b) * blockSize;
                for (int i = 0; i < blockSize; i++)
                    blocks[at + i] = (byte)(128 + (lo + i < hi ? (int)Math.Clamp(MathF.Round(w[(lo + i) * n + j] / scale, MidpointRounding.ToEven), -127, 127) : 0));
            }
        return (blocks, scales);
    }

    private static AttributeProto IntAttribute(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    /// <summary>A constant tensor behind a value: an initializer, or a float16 initializer cast to float32.</summary>
    private static ConstantTensor? Constant(string value, Dictionary<string, TensorProto> initializers, Dictionary<string, NodeProto> producer)
    {
        if (initializers.TryGetValue(value, out var t) && t.DataType == (int)TensorProto.Types.DataType.Float)
            return new ConstantTensor(t.Name, [.. t.Dims], ReadFloats(t));
        if (producer.TryGetValue(value, out var cast) && cast.OpType == "Cast" && initializers.TryGetValue(cast.Input[0], out var half)
            && half.DataType == (int)TensorProto.Types.DataType.Float16
            && cast.Attribute.FirstOrDefault(a => a.Name == "to")?.I == (long)TensorProto.Types.DataType.Float)
        {
            var bytes = half.RawData.Span;
            var values = new float[bytes.Length / 2];
            for (int i = 0; i < values.Length; i++) values[i] = (float)BitConverter.ToHalf(bytes.Slice(i * 2, 2));
            var name = half.Name.EndsWith("_fp16", StringComparison.Ordinal) ? half.Name[..^5] : half.Name;
            return new ConstantTensor(name, [.. half.Dims], values);
        }
        return null;
    }

    private sealed record ConstantTensor(string Name, long[] Dims, float[] Values);

    private static float[] ReadFloats(TensorProto t)
    {
        if (t.RawData.Length > 0)
        {
            var values = new float[t.RawData.Length / 4];
            Buffer.BlockCopy(t.RawData.ToByteArray(), 0, values, 0, t.RawData.Length);
            return values;
        }
        return [.. t.FloatData];
    }

    private static TensorProto Int8Tensor(string name, sbyte[] values, long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int8 };
        t.Dims.AddRange(dims);
        var bytes = new byte[values.Length];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        t.RawData = ByteString.CopyFrom(bytes);
        return t;
    }

    private static TensorProto FloatTensor(string name, float[] values, long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        t.RawData = ByteString.CopyFrom(bytes);
        return t;
    }

    /// <summary>Removes nodes whose outputs nothing reads (and are not graph outputs), then initializers nothing reads.</summary>
    private static void RemoveUnused(GraphProto graph)
    {
        var outputs = graph.Output.Select(o => o.Name).ToHashSet();
        bool changed = true;
        while (changed)
        {
            var read = graph.Node.SelectMany(n => n.Input).ToHashSet();
            var dead = graph.Node.Where(n => n.Output.All(o => !read.Contains(o) && !outputs.Contains(o))).ToList();
            changed = dead.Count > 0;
            foreach (var node in dead) graph.Node.Remove(node);
        }
        var used = graph.Node.SelectMany(n => n.Input).ToHashSet();
        var unused = graph.Initializer.Where(t => !used.Contains(t.Name)).ToList();
        foreach (var t in unused) graph.Initializer.Remove(t);
    }
}
