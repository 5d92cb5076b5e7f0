using System.Security.Cryptography;
using System.Text.Json.Serialization;

namespace VqaApi.Tasks.Checkpoints;

[JsonConverter(typeof(JsonStringEnumConverter<PoolType>))]
public enum PoolType { Map, Gap }

/// <summary>The shape of a big_vision ViT image tower as CLIPPO uses it (one tower for images and text).</summary>
public sealed record VitArchitecture(
    int Width, int Depth, int Heads, int MlpDim, int PatchSize, int ImageSize, PoolType Pool, int? OutDim)
{
    [JsonIgnore] public int HeadDim => Width / Heads;
    [JsonIgnore] public int Grid => ImageSize / PatchSize;
    [JsonIgnore] public int Patches => Grid * Grid;
    [JsonIgnore] public int EmbeddingDim => OutDim ?? Width;

    /// <summary>Multiply-adds of one canvas through the encoder (patch embedding, and per block the four attention
    /// projections, the MLP and the attention products; the MAP head's one query left out): what its speed follows.</summary>
    public long MultiplyAddsPerCanvas()
    {
        long d = Width, m = MlpDim, n = Patches;
        return n * (PatchSize * PatchSize * 3L * d + Depth * (4 * d * d + 2 * d * m + 2 * n * d));
    }

    public long ParameterCount()
    {
        long d = Width, m = MlpDim, p = PatchSize;
        long block = 4 * d + 4 * (d * d + d) + (d * m + m) + (m * d + d);
        long total = p * p * 3 * d + d + Patches * d + Depth * block + 2 * d + 1;
        if (Pool == PoolType.Map) total += d + block - 2 * d; // probe + MHA + one LayerNorm + MLP
        if (OutDim is { } e) total += d * e + e;
        return total;
    }
}

/// <summary>
/// The <c>params/</c> tree of a big_vision CLIPPO checkpoint (.npz), validated against the layout in
/// big_vision's one_tower + vit models. Everything outside <c>params/</c> (optimizer state) is ignored.
/// </summary>
public sealed class ClippoCheckpoint
{
    public const string Prefix = "params/";
    private readonly Dictionary<string, NpyArray> _params;

    private ClippoCheckpoint(Dictionary<string, NpyArray> parameters, VitArchitecture architecture, string sha256, NpyDType storedAs)
    {
        _params = parameters;
        Architecture = architecture;
        Sha256 = sha256;
        StoredAs = storedAs;
    }

    public VitArchitecture Architecture { get; }
    public string Sha256 { get; }
    public NpyDType StoredAs { get; }

    /// <summary>The learned log-temperature <c>t</c>; contrastive scores use exp(t).</summary>
    public float LogTemperature => _params["t"].Data[0];

    public IReadOnlyDictionary<string, NpyArray> Parameters => _params;

    /// <summary>A parameter by its path below <c>params/img/</c>, e.g. "embedding/kernel".</summary>
    public NpyArray Img(string path) => _params["img/" + path];

    public static ClippoCheckpoint Load(string path)
    {
        if (!File.Exists(path)) throw new CheckpointFormatException($"checkpoint file '{path}' does not exist");
        string sha;
        using (var file = File.OpenRead(path)) sha = Convert.ToHexStringLower(SHA256.HashData(file));
        var raw = NpzFile.Read(path, key => key.StartsWith(Prefix, StringComparison.Ordinal));
        return FromParameters(raw.ToDictionary(kv => kv.Key[Prefix.Length..], kv => kv.Value), sha, Path.GetFileName(path));
    }

    /// <summary>Validates a parameter tree (keys without the <c>params/</c> prefix) and infers its architecture.</summary>
    public static ClippoCheckpoint FromParameters(Dictionary<string, NpyArray> p, string sha256, string displayName)
    {
        if (p.Count == 0)
            throw new CheckpointFormatException($"'{displayName}' is not a CLIPPO checkpoint: it has no 'params/' arrays");
        if (!p.ContainsKey("img/embedding/kernel"))
            throw new CheckpointFormatException(
                $"'{displayName}' is not a CLIPPO checkpoint: missing key 'params/img/embedding/kernel' " +
                $"(found {string.Join(", ", p.Keys.Order().Take(5).Select(k => "params/" + k))}{(p.Count > 5 ? ", ..." : "")})");

        var kernel = p["img/embedding/kernel"];
        if (kernel.Shape.Length != 4 || kernel.Shape[0] != kernel.Shape[1] || kernel.Shape[2] != 3)
            throw Shape("img/embedding/kernel", kernel, "(P, P, 3, width)");
        int patch = kernel.Shape[0], width = kernel.Shape[3];

        var pos = Require(p, "img/pos_embedding");
        if (pos.Shape.Length != 3 || pos.Shape[0] != 1 || pos.Shape[2] != width) throw Shape("img/pos_embedding", pos, $"(1, N, {width})");
        int grid = (int)Math.Round(Math.Sqrt(pos.Shape[1]));
        if (grid * grid != pos.Shape[1])
            throw new CheckpointFormatException($"params/img/pos_embedding has {pos.Shape[1]} positions, not a square grid of patches");

        int depth = 0;
        while (p.ContainsKey($"img/Transformer/encoderblock_{depth}/LayerNorm_0/scale")) depth++;
        if (depth == 0) throw Missing("img/Transformer/encoderblock_0/LayerNorm_0/scale");

        var query = Require(p, "img/Transformer/encoderblock_0/MultiHeadDotProductAttention_0/query/kernel");
        if (query.Shape.Length != 3 || query.Shape[0] != width) throw Shape("img/Transformer/encoderblock_0/MultiHeadDotProductAttention_0/query/kernel", query, $"({width}, heads, head_dim)");
        int heads = query.Shape[1];
        if (heads * query.Shape[2] != width)
            throw new CheckpointFormatException($"attention heads ({heads}) x head dim ({query.Shape[2]}) must equal the width ({width})");
        var mlp0 = Require(p, "img/Transformer/encoderblock_0/MlpBlock_0/Dense_0/kernel");
        if (mlp0.Shape.Length != 2) throw Shape("img/Transformer/encoderblock_0/MlpBlock_0/Dense_0/kernel", mlp0, $"({width}, mlp_dim)");
        int mlp = mlp0.Shape[1];

        var pool = p.ContainsKey("img/MAPHead_0/probe") ? PoolType.Map : PoolType.Gap;
        int? outDim = null;
        if (p.TryGetValue("img/head/kernel", out var head))
        {
            if (head.Shape.Length != 2) throw Shape("img/head/kernel", head, $"({width}, out_dim)");
            outDim = head.Shape[1];
        }
        var arch = new VitArchitecture(width, depth, heads, mlp, patch, grid * patch, pool, outDim);

        // Every expected key with its exact shape; anything else under params/ is an unknown architecture.
        var expected = ExpectedShapes(arch);
        foreach (var (key, shape) in expected)
        {
            var array = Require(p, key);
            if (!array.Shape.SequenceEqual(shape) && !(key == "t" && array.Shape.Length == 0))
                throw Shape(key, array, "(" + string.Join(", ", shape) + ")");
        }
        var unexpected = p.Keys.Where(k => !expected.ContainsKey(k)).Order().ToList();
        if (unexpected.Count > 0)
            throw new CheckpointFormatException(
                $"'{displayName}' has parameters this converter does not know ({string.Join(", ", unexpected.Take(5).Select(k => "params/" + k))}" +
                $"{(unexpected.Count > 5 ? $", and {unexpected.Count - 5} more" : "")}); only big_vision's CLIPPO one_tower ViT is supported");

        var storedAs = kernel.StoredAs;
        return new ClippoCheckpoint(p, arch, sha256, storedAs);
    }

    /// <summary>The exact parameter layout of a CLIPPO one_tower ViT (keys without <c>params/</c>).</summary>
    public static Dictionary<string, int[]> ExpectedShapes(VitArchitecture a)
    {
        int d = a.Width, h = a.Heads, hd = a.HeadDim, m = a.MlpDim, pp = a.PatchSize;
        var shapes = new Dictionary<string, int[]>
        {
            ["img/embedding/kernel"] = [pp, pp, 3, d],
            ["img/embedding/bias"] = [d],
            ["img/pos_embedding"] = [1, a.Patches, d],
            ["img/Transformer/encoder_norm/scale"] = [d],
            ["img/Transformer/encoder_norm/bias"] = [d],
            ["t"] = [1],
        };
        void Attention(string prefix)
        {
            foreach (var n in new[] { "query", "key", "value" })
            {
                shapes[$"{prefix}/{n}/kernel"] = [d, h, hd];
                shapes[$"{prefix}/{n}/bias"] = [h, hd];
            }
            shapes[$"{prefix}/out/kernel"] = [h, hd, d];
            shapes[$"{prefix}/out/bias"] = [d];
        }
        void LayerNorm(string prefix) { shapes[prefix + "/scale"] = [d]; shapes[prefix + "/bias"] = [d]; }
        void Mlp(string prefix)
        {
            shapes[prefix + "/Dense_0/kernel"] = [d, m];
            shapes[prefix + "/Dense_0/bias"] = [m];
            shapes[prefix + "/Dense_1/kernel"] = [m, d];
            shapes[prefix + "/Dense_1/bias"] = [d];
        }
        for (int i = 0; i < a.Depth; i++)
        {
            var b = $"img/Transformer/encoderblock_{i}";
            LayerNorm(b + "/LayerNorm_0");
            Attention(b + "/MultiHeadDotProductAttention_0");
            LayerNorm(b + "/LayerNorm_1");
            Mlp(b + "/MlpBlock_0");
        }
        if (a.Pool == PoolType.Map)
        {
            shapes["img/MAPHead_0/probe"] = [1, 1, d];
            Attention("img/MAPHead_0/MultiHeadDotProductAttention_0");
            LayerNorm("img/MAPHead_0/LayerNorm_0");
            Mlp("img/MAPHead_0/MlpBlock_0");
        }
        if (a.OutDim is { } e)
        {
            shapes["img/head/kernel"] = [d, e];
            shapes["img/head/bias"] = [e];
        }
        return shapes;
    }

    private static NpyArray Require(Dictionary<string, NpyArray> p, string key) =>
        p.TryGetValue(key, out var a) ? a : throw Missing(key);

    private static CheckpointFormatException Missing(string key) =>
        new($"not a complete CLIPPO checkpoint: missing key 'params/{key}'");

    private static CheckpointFormatException Shape(string key, NpyArray a, string expected) =>
        new($"wrong shape for 'params/{key}': {a.ShapeText}, expected {expected}");
}
