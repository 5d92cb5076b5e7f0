using Google.Protobuf;
using Onnx;
using VqaApi.Tasks.Checkpoints;

namespace VqaApi.Tasks.Conversion;

/// <summary>
/// Builds the ONNX graph of a CLIPPO one_tower ViT from its big_vision parameters.
/// Input <c>pixels</c>: float32 [batch, S, S, 3], channels last, values in [-1, 1] (big_vision's own layout).
/// Outputs: <c>embedding</c> [batch, E] (L2-normalised logits), <c>logits</c> [batch, E], <c>pre_logits</c> [batch, D].
/// Standard ONNX operators (opset 20: LayerNormalization, Gelu with tanh approximation); with
/// <see cref="EncoderAttention.Fused"/> the self-attention of each block is one product for query, key and value and
/// ONNX Runtime's <c>com.microsoft.MultiHeadAttention</c> kernel instead of reshapes, transposes, two products and a softmax.
/// </summary>
public sealed class OnnxEncoderBuilder
{
    public const string InputName = "pixels";
    public const string EmbeddingOutput = "embedding";
    public const string LogitsOutput = "logits";
    public const string PreLogitsOutput = "pre_logits";
    public const int Opset = 20;
    public const string MicrosoftDomain = "com.microsoft";
    private const long IrVersion = 9;

    private readonly ClippoCheckpoint _ckpt;
    private readonly bool _fp16;
    private readonly EncoderAttention _attention;
    private readonly GraphProto _graph = new() { Name = "clippo_encoder" };
    private int _counter;

    private OnnxEncoderBuilder(ClippoCheckpoint checkpoint, bool fp16, EncoderAttention attention)
    {
        _ckpt = checkpoint;
        _fp16 = fp16;
        _attention = attention;
    }

    /// <param name="fp16">Store weights as float16 (half the file size); they are cast to float32 in the graph,
    /// so arithmetic stays float32 on every execution provider.</param>
    /// <param name="attention">How self-attention is written: standard operators only, or ONNX Runtime's fused kernel.</param>
    public static ModelProto Build(ClippoCheckpoint checkpoint, bool fp16, string docString, EncoderAttention attention = EncoderAttention.Standard)
    {
        var builder = new OnnxEncoderBuilder(checkpoint, fp16, attention);
        var model = new ModelProto
        {
            IrVersion = IrVersion,
            ProducerName = "VqaApi",
            ProducerVersion = typeof(OnnxEncoderBuilder).Assembly.GetName().Version?.ToString() ?? "0",
            DocString = docString,
            Graph = builder.BuildGraph(),
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = Opset });
        if (attention == EncoderAttention.Fused)
            model.OpsetImport.Add(new OperatorSetIdProto { Domain = MicrosoftDomain, Version = 1 });
        return model;
    }

    private GraphProto BuildGraph()
    {
        var a = _ckpt.Architecture;
        int d = a.Width, g = a.Grid, pch = a.PatchSize;
        _graph.Input.Add(TensorInfo(InputName, ["batch", a.ImageSize, a.ImageSize, 3]));

        // Patchify without a convolution: NHWC -> [N, g, P, g, P, 3] -> [N, g, g, P, P, 3] -> [N, g*g, P*P*3],
        // then one MatMul with the HWIO kernel flattened to [P*P*3, D] (same (row, col, channel) order).
        var x = Node("Reshape", [InputName, Int64s("patch_grid", [-1, g, pch, g, pch, 3])]);
        x = Node("Transpose", [x], Perm(0, 1, 3, 2, 4, 5));
        x = Node("Reshape", [x, Int64s("patch_tokens", [-1, a.Patches, pch * pch * 3])]);
        x = Dense(x, "embedding", _ckpt.Img("embedding/kernel").Data, pch * pch * 3, d, _ckpt.Img("embedding/bias").Data);
        x = Node("Add", [x, Weight("pos_embedding", _ckpt.Img("pos_embedding").Data, [1, a.Patches, d])]);

        for (int i = 0; i < a.Depth; i++)
        {
            var b = $"Transformer/encoderblock_{i}";
            var y = LayerNorm(x, b + "/LayerNorm_0");
            x = Node("Add", [x, SelfAttention(y, b + "/MultiHeadDotProductAttention_0")]);
            y = LayerNorm(x, b + "/LayerNorm_1");
            x = Node("Add", [x, Mlp(y, b + "/MlpBlock_0")]);
        }
        x = LayerNorm(x, "Transformer/encoder_norm");

        string pooled;
        if (a.Pool == PoolType.Map)
        {
            var y = ProbeAttention(x, "MAPHead_0/MultiHeadDotProductAttention_0"); // [N, 1, D]
            var z = LayerNorm(y, "MAPHead_0/LayerNorm_0");
            y = Node("Add", [y, Mlp(z, "MAPHead_0/MlpBlock_0")]);
            pooled = Node("Reshape", [y, Int64s("pooled_shape", [-1, d])]);
        }
        else
        {
            pooled = Node("ReduceMean", [x, Int64s("token_axis", [1])], Attr("keepdims", 0));
        }
        Rename(pooled, PreLogitsOutput);

        string logits = a.OutDim is { } e
            ? Dense(PreLogitsOutput, "head", _ckpt.Img("head/kernel").Data, d, e, _ckpt.Img("head/bias").Data)
            : Node("Identity", [PreLogitsOutput]);
        Rename(logits, LogitsOutput);

        var norm = Node("ReduceL2", [LogitsOutput, Int64s("feature_axis", [1])], Attr("keepdims", 1));
        norm = Node("Add", [norm, Floats("norm_epsilon", [1e-8f], [])]);
        var embedding = Node("Div", [LogitsOutput, norm]);
        Rename(embedding, EmbeddingOutput);

        _graph.Output.Add(TensorInfo(EmbeddingOutput, ["batch", a.EmbeddingDim]));
        _graph.Output.Add(TensorInfo(LogitsOutput, ["batch", a.EmbeddingDim]));
        _graph.Output.Add(TensorInfo(PreLogitsOutput, ["batch", d]));
        return _graph;
    }

    private string LayerNorm(string x, string prefix) =>
        Node("LayerNormalization",
            [x, Weight(prefix + "/scale", _ckpt.Img(prefix + "/scale").Data, [_ckpt.Architecture.Width]),
             Weight(prefix + "/bias", _ckpt.Img(prefix + "/bias").Data, [_ckpt.Architecture.Width])],
            Attr("axis", -1), Attr("epsilon", 1e-6f));

    private string Mlp(string x, string prefix)
    {
        var a = _ckpt.Architecture;
        var h = Dense(x, prefix + "/Dense_0", _ckpt.Img(prefix + "/Dense_0/kernel").Data, a.Width, a.MlpDim, _ckpt.Img(prefix + "/Dense_0/bias").Data);
        h = Node("Gelu", [h], new AttributeProto { Name = "approximate", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8("tanh") });
        return Dense(h, prefix + "/Dense_1", _ckpt.Img(prefix + "/Dense_1/kernel").Data, a.MlpDim, a.Width, _ckpt.Img(prefix + "/Dense_1/bias").Data);
    }

    /// <summary>Multi-head self-attention over [N, T, D]. The 1/sqrt(head_dim) query scale is folded into the query weights.</summary>
    private string SelfAttention(string x, string prefix)
    {
        var a = _ckpt.Architecture;
        float scale = 1f / MathF.Sqrt(a.HeadDim);
        if (_attention == EncoderAttention.Fused) return FusedSelfAttention(x, prefix, scale);
        var q = Dense(x, prefix + "/query", Scaled(_ckpt.Img(prefix + "/query/kernel").Data, scale), a.Width, a.Width, Scaled(_ckpt.Img(prefix + "/query/bias").Data, scale));
        var k = Dense(x, prefix + "/key", _ckpt.Img(prefix + "/key/kernel").Data, a.Width, a.Width, _ckpt.Img(prefix + "/key/bias").Data);
        var v = Dense(x, prefix + "/value", _ckpt.Img(prefix + "/value/kernel").Data, a.Width, a.Width, _ckpt.Img(prefix + "/value/bias").Data);
        var heads = Int64s(null, [0, -1, a.Heads, a.HeadDim]);
        q = Node("Transpose", [Node("Reshape", [q, heads])], Perm(0, 2, 1, 3)); // [N, H, T, hd]
        k = Node("Transpose", [Node("Reshape", [k, heads])], Perm(0, 2, 3, 1)); // [N, H, hd, T]
        v = Node("Transpose", [Node("Reshape", [v, heads])], Perm(0, 2, 1, 3)); // [N, H, T, hd]
        return AttentionOutput(q, k, v, prefix);
    }

    /// <summary>
    /// The same attention as one product for query, key and value ([D, 3D], the query's columns scaled by 1/sqrt(head_dim)),
    /// split into three [N, T, D] tensors for <c>com.microsoft.MultiHeadAttention</c> (scale 1: it is in the weights).
    /// </summary>
    private string FusedSelfAttention(string x, string prefix, float scale)
    {
        var a = _ckpt.Architecture;
        int d = a.Width;
        var kernel = new float[d * 3 * d];
        var bias = new float[3 * d];
        string[] parts = ["query", "key", "value"];
        for (int p = 0; p < 3; p++)
        {
            float s = p == 0 ? scale : 1f;
            var w = _ckpt.Img($"{prefix}/{parts[p]}/kernel").Data; // [D, D], row-major (in, out)
            var b = _ckpt.Img($"{prefix}/{parts[p]}/bias").Data;
            for (int i = 0; i < d; i++)
                for (int o = 0; o < d; o++) kernel[i * 3 * d + p * d + o] = w[i * d + o] * s;
            for (int o = 0; o < d; o++) bias[p * d + o] = b[o] * s;
        }
        var qkv = Dense(x, prefix + "/qkv", kernel, d, 3 * d, bias);
        var (q, k, v) = Split3(qkv, d);
        var ctx = Node("MultiHeadAttention", [q, k, v], MicrosoftDomain, Attr("num_heads", (long)a.Heads), Attr("scale", 1f));
        return Dense(ctx, prefix + "/out", _ckpt.Img(prefix + "/out/kernel").Data, d, d, _ckpt.Img(prefix + "/out/bias").Data);
    }

    private (string, string, string) Split3(string x, int size)
    {
        var name = $"split_{_counter++}";
        var node = new NodeProto { OpType = "Split", Name = name };
        node.Input.AddRange([x, Int64s(null, [size, size, size])]);
        node.Output.AddRange([name + "_0", name + "_1", name + "_2"]);
        node.Attribute.Add(Attr("axis", -1L));
        _graph.Node.Add(node);
        return (name + "_0", name + "_1", name + "_2");
    }

    /// <summary>MAP pooling: the learned probe is the only query, so its projection is a constant computed here.</summary>
    private string ProbeAttention(string x, string prefix)
    {
        var a = _ckpt.Architecture;
        int d = a.Width;
        var probe = _ckpt.Img("MAPHead_0/probe").Data;
        var wq = _ckpt.Img(prefix + "/query/kernel").Data;
        var bq = _ckpt.Img(prefix + "/query/bias").Data;
        double scale = 1.0 / Math.Sqrt(a.HeadDim);
        var q = new float[d];
        for (int o = 0; o < d; o++)
        {
            double s = bq[o];
            for (int i = 0; i < d; i++) s += (double)probe[i] * wq[i * d + o];
            q[o] = (float)(s * scale);
        }
        var qc = Floats(prefix + "/probe_query", q, [1, a.Heads, 1, a.HeadDim]); // kept float32: tiny
        var heads = Int64s(null, [0, -1, a.Heads, a.HeadDim]);
        var k = Dense(x, prefix + "/key", _ckpt.Img(prefix + "/key/kernel").Data, d, d, _ckpt.Img(prefix + "/key/bias").Data);
        var v = Dense(x, prefix + "/value", _ckpt.Img(prefix + "/value/kernel").Data, d, d, _ckpt.Img(prefix + "/value/bias").Data);
        k = Node("Transpose", [Node("Reshape", [k, heads])], Perm(0, 2, 3, 1));
        v = Node("Transpose", [Node("Reshape", [v, heads])], Perm(0, 2, 1, 3));
        return AttentionOutput(qc, k, v, prefix);
    }

    private string AttentionOutput(string q, string kT, string v, string prefix)
    {
        var a = _ckpt.Architecture;
        var weights = Node("Softmax", [Node("MatMul", [q, kT])], Attr("axis", -1));
        var ctx = Node("Transpose", [Node("MatMul", [weights, v])], Perm(0, 2, 1, 3)); // [N, T, H, hd]
        ctx = Node("Reshape", [ctx, Int64s(null, [0, 0, a.Width])]);
        return Dense(ctx, prefix + "/out", _ckpt.Img(prefix + "/out/kernel").Data, a.Width, a.Width, _ckpt.Img(prefix + "/out/bias").Data);
    }

    private string Dense(string x, string name, float[] kernel, int fanIn, int fanOut, float[] bias)
    {
        var y = Node("MatMul", [x, Weight(name + "/kernel", kernel, [fanIn, fanOut])]);
        return Node("Add", [y, Weight(name + "/bias", bias, [fanOut])]);
    }

    private static float[] Scaled(float[] values, float scale) => values.Select(v => v * scale).ToArray();

    /// <summary>A weight initializer: float32, or float16 followed by a Cast to float32.</summary>
    private string Weight(string name, float[] values, long[] dims)
    {
        if (!_fp16) return Floats(name, values, dims);
        var t = new TensorProto { Name = name + "_fp16", DataType = (int)TensorProto.Types.DataType.Float16 };
        t.Dims.AddRange(dims);
        var bytes = new byte[values.Length * 2];
        for (int i = 0; i < values.Length; i++) BitConverter.TryWriteBytes(bytes.AsSpan(i * 2), (Half)values[i]);
        t.RawData = ByteString.CopyFrom(bytes);
        _graph.Initializer.Add(t);
        return Node("Cast", [t.Name], Attr("to", (int)TensorProto.Types.DataType.Float));
    }

    private string Floats(string name, float[] values, long[] dims)
    {
        var t = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Float };
        t.Dims.AddRange(dims);
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        t.RawData = ByteString.CopyFrom(bytes);
        _graph.Initializer.Add(t);
        return name;
    }

    private string Int64s(string? name, long[] values)
    {
        var t = new TensorProto { Name = name ?? $"const_{_counter++}", DataType = (int)TensorProto.Types.DataType.Int64 };
        t.Dims.Add(values.Length);
        t.Int64Data.AddRange(values);
        _graph.Initializer.Add(t);
        return t.Name;
    }

    private string Node(string op, string[] inputs, params AttributeProto[] attributes) => Node(op, inputs, "", attributes);

    private string Node(string op, string[] inputs, string domain, params AttributeProto[] attributes)
    {
        var output = $"{op.ToLowerInvariant()}_{_counter++}";
        var node = new NodeProto { OpType = op, Name = output, Domain = domain };
        node.Input.AddRange(inputs);
        node.Output.Add(output);
        node.Attribute.AddRange(attributes);
        _graph.Node.Add(node);
        return output;
    }

    /// <summary>Gives the node that produced <paramref name="value"/> a public output name.</summary>
    private void Rename(string value, string newName)
    {
        var node = _graph.Node.Last(n => n.Output.Contains(value));
        node.Output[node.Output.IndexOf(value)] = newName;
    }

    private static AttributeProto Attr(string name, long value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };
    private static AttributeProto Attr(string name, float value) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    private static AttributeProto Perm(params long[] perm)
    {
        var attr = new AttributeProto { Name = "perm", Type = AttributeProto.Types.AttributeType.Ints };
        attr.Ints.AddRange(perm);
        return attr;
    }

    private static ValueInfoProto TensorInfo(string name, object[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in dims)
            shape.Dim.Add(dim is string s ? new TensorShapeProto.Types.Dimension { DimParam = s } : new TensorShapeProto.Types.Dimension { DimValue = Convert.ToInt64(dim) });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } },
        };
    }
}

/// <summary>How an encoder graph writes self-attention.</summary>
public enum EncoderAttention
{
    /// <summary>Standard ONNX operators only (reshapes, transposes, two products, softmax): runs on any ONNX runtime.</summary>
    Standard,

    /// <summary>One query/key/value product and ONNX Runtime's fused <c>com.microsoft.MultiHeadAttention</c> kernel.</summary>
    Fused,
}
