using Microsoft.Extensions.Logging.Abstractions;
using VqaApi.Tasks.Checkpoints;
using VqaApi.Tasks.Conversion;
using VqaApi.Tasks.Encoders;
using VqaApi.Tasks.Models;

namespace VqaApi.Tasks.Tests;

/// <summary>The converted ONNX encoder against big_vision's own outputs and against the plain C# reference.</summary>
public sealed class ConversionParityTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    private static EncoderResult[] Encode(ModelDirectory model, float[] nhwc)
    {
        var encoder = Encoder.Create(model, new EncoderOptions { UseCuda = false, Workers = 1 }, NullLogger.Instance);
        try { return encoder.Run(nhwc); }
        finally { encoder.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
    }

    private static double MaxAbs(float[] actual, ReadOnlySpan<float> expected)
    {
        Assert.Equal(expected.Length, actual.Length);
        double max = 0;
        for (int i = 0; i < actual.Length; i++) max = Math.Max(max, Math.Abs(actual[i] - expected[i]));
        return max;
    }

    [Theory]
    [InlineData(EncoderAttention.Fused)]
    [InlineData(EncoderAttention.Standard)]
    public void Fp32_conversion_reproduces_big_vision_zimg_and_pre_logits(EncoderAttention attention)
    {
        var io = TestData.Mu3Io();
        var model = CheckpointConverter.Convert(TestData.Mu3Checkpoint, _tmp.File("mu3"), new ConvertOptions { Attention = attention });
        var graph = Onnx.ModelProto.Parser.ParseFrom(File.ReadAllBytes(model.EncoderPath)).Graph;
        // Fused: one MultiHeadAttention per block, and no product of two activations outside the MAP head's two.
        Assert.Equal(attention == EncoderAttention.Fused ? 3 : 0, graph.Node.Count(n => n.OpType == "MultiHeadAttention" && n.Domain == OnnxEncoderBuilder.MicrosoftDomain));
        var weights = graph.Initializer.Select(t => t.Name).ToHashSet();
        int activationProducts = graph.Node.Count(n => n.OpType == "MatMul" && !weights.Contains(n.Input[1]));
        Assert.Equal(attention == EncoderAttention.Fused ? 2 : 2 * (3 + 1), activationProducts);
        var images = io["images_nhwc"];
        Assert.Equal([3, 64, 64, 3], images.Shape);
        var results = Encode(model, images.Data);

        for (int i = 0; i < 3; i++)
        {
            Assert.True(MaxAbs(results[i].Embedding, io["zimg"].Data.AsSpan(i * 64, 64)) < 1e-4, $"zimg[{i}]");
            Assert.True(MaxAbs(results[i].PreLogits, io["pre_logits"].Data.AsSpan(i * 96, 96)) < 1e-4, $"pre_logits[{i}]");
        }
        Assert.Equal(io["t"].Data[0], model.Manifest.Temperature, 5);
        Assert.Equal(new VitArchitecture(96, 3, 4, 256, 16, 64, PoolType.Map, 64), model.Manifest.Architecture);
        Assert.Equal("float32", model.Manifest.WeightsDType);
        Assert.Equal("unifont", model.Manifest.RenderProfile.Kind);
        Assert.Equal(64, model.Manifest.RenderProfile.Unifont!.ImageSize);
        Assert.Equal(64, model.Manifest.Source.Sha256.Length);
    }

    [Fact]
    public void Fp16_conversion_keeps_cosine_similarity_to_zimg()
    {
        var io = TestData.Mu3Io();
        var fp32 = CheckpointConverter.Convert(TestData.Mu3Checkpoint, _tmp.File("mu3"));
        var fp16 = CheckpointConverter.Convert(TestData.Mu3Checkpoint, _tmp.File("mu3-fp16"), new ConvertOptions { Fp16 = true });
        Assert.Equal("float16", fp16.Manifest.WeightsDType);
        Assert.True(new FileInfo(fp16.EncoderPath).Length < 0.6 * new FileInfo(fp32.EncoderPath).Length, "fp16 weights halve the file");

        var results = Encode(fp16, io["images_nhwc"].Data);
        for (int i = 0; i < 3; i++)
        {
            var expected = io["zimg"].Data.AsSpan(i * 64, 64);
            double dot = 0, na = 0, nb = 0;
            for (int k = 0; k < 64; k++) { dot += results[i].Embedding[k] * expected[k]; na += results[i].Embedding[k] * results[i].Embedding[k]; nb += expected[k] * expected[k]; }
            double cosine = dot / Math.Sqrt(na * nb);
            Assert.True(cosine >= 0.999, $"cosine {cosine} for image {i}");
            Assert.True(MaxAbs(results[i].Embedding, expected) > 1e-7, "fp16 weights really are rounded");
        }
    }

    [Fact]
    public void Reference_forward_pass_itself_matches_big_vision()
    {
        var io = TestData.Mu3Io();
        var ckpt = ClippoCheckpoint.Load(TestData.Mu3Checkpoint);
        var reference = new ReferenceVit(ckpt.Parameters);
        for (int i = 0; i < 3; i++)
        {
            var (pre, _, emb) = reference.Forward(io["images_nhwc"].Data, i);
            Assert.True(MaxAbs(emb.Select(v => (float)v).ToArray(), io["zimg"].Data.AsSpan(i * 64, 64)) < 1e-4);
            Assert.True(MaxAbs(pre.Select(v => (float)v).ToArray(), io["pre_logits"].Data.AsSpan(i * 96, 96)) < 1e-4);
        }
    }

    public static TheoryData<int, int, int, int, int, int, string, int> Shapes => new()
    {
        // width, depth, heads, mlp, patch, image, pool, outDim (0 = no head)
        { 64, 1, 2, 128, 8, 32, "map", 32 },
        { 48, 2, 3, 100, 16, 48, "gap", 24 },
        { 32, 2, 8, 64, 4, 24, "map", 0 },
        { 80, 4, 5, 160, 8, 40, "gap", 0 },
        { 128, 2, 1, 96, 14, 28, "map", 128 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Any_shape_matches_the_reference_forward_pass(int width, int depth, int heads, int mlp, int patch, int image, string pool, int outDim)
    {
        foreach (var attention in new[] { EncoderAttention.Fused, EncoderAttention.Standard })
            ShapeMatchesReference(width, depth, heads, mlp, patch, image, pool, outDim, attention);
    }

    private void ShapeMatchesReference(int width, int depth, int heads, int mlp, int patch, int image, string pool, int outDim, EncoderAttention attention)
    {
        var arch = new VitArchitecture(width, depth, heads, mlp, patch, image, pool == "map" ? PoolType.Map : PoolType.Gap, outDim == 0 ? null : outDim);
        var parameters = RandomCheckpoint.CreateParameters(arch, seed: width * 31 + depth);
        var path = _tmp.File("ckpt.npz");
        RandomCheckpoint.Save(path, parameters);
        var model = CheckpointConverter.Convert(path, _tmp.File($"model-{attention}"), new ConvertOptions { Attention = attention });
        Assert.Equal(arch, model.Manifest.Architecture);

        var images = RandomImages(2, image, seed: 7);
        var results = Encode(model, images);
        var reference = new ReferenceVit(parameters);
        for (int i = 0; i < 2; i++)
        {
            var (pre, _, emb) = reference.Forward(images, i);
            Assert.Equal(arch.EmbeddingDim, results[i].Embedding.Length);
            Assert.True(MaxAbs(results[i].PreLogits, pre.Select(v => (float)v).ToArray()) < 1e-4, $"pre_logits ({attention})");
            Assert.True(MaxAbs(results[i].Embedding, emb.Select(v => (float)v).ToArray()) < 1e-4, $"embedding ({attention})");
        }
    }

    [Fact]
    public void Bfloat16_checkpoint_converts_with_its_rounded_values()
    {
        var arch = new VitArchitecture(64, 2, 4, 128, 8, 32, PoolType.Map, 48);
        var parameters = RandomCheckpoint.CreateParameters(arch, seed: 3);
        var path = _tmp.File("bf16.npz");
        RandomCheckpoint.Save(path, parameters, NpyDType.BFloat16);
        var ckpt = ClippoCheckpoint.Load(path);
        Assert.Equal(NpyDType.BFloat16, ckpt.StoredAs);
        var rounded = parameters.ToDictionary(kv => kv.Key, kv => new NpyArray(kv.Value.Shape, kv.Value.Data.Select(NpyArray.RoundToBFloat16).ToArray()));
        Assert.Equal(rounded["img/head/kernel"].Data, ckpt.Parameters["img/head/kernel"].Data);

        var model = CheckpointConverter.Convert(path, _tmp.File("model"));
        var images = RandomImages(1, 32, seed: 11);
        var result = Encode(model, images)[0];
        var (_, _, emb) = new ReferenceVit(rounded).Forward(images, 0);
        Assert.True(MaxAbs(result.Embedding, emb.Select(v => (float)v).ToArray()) < 1e-4);
        Assert.Equal("bfloat16", model.Manifest.Source.StoredDType);
    }

    internal static float[] RandomImages(int count, int size, int seed)
    {
        var rng = new Random(seed);
        var data = new float[count * size * size * 3];
        for (int i = 0; i < data.Length; i++) data[i] = rng.Next(256) / 255f * 2f - 1f;
        return data;
    }
}
