using VqaApi.Tasks.Checkpoints;

namespace VqaApi.Tasks.Tests;

/// <summary>
/// An independent forward pass of big_vision's CLIPPO one_tower ViT, written as plain loops over arrays in
/// double precision, straight from the model description (conv patchify, pre-LN blocks, MHA with the
/// query scaled after projection, tanh GELU, MAP or GAP pooling, head, L2 normalisation). No ONNX.
/// </summary>
public sealed class ReferenceVit(IReadOnlyDictionary<string, NpyArray> p)
{
    private float[] W(string key) => p["img/" + key].Data;

    public (double[] PreLogits, double[] Logits, double[] Embedding) Forward(float[] nhwc, int imageIndex)
    {
        var kernel = p["img/embedding/kernel"];
        int P = kernel.Shape[0], D = kernel.Shape[3];
        int N = p["img/pos_embedding"].Shape[1], G = (int)Math.Sqrt(N), S = G * P;
        int H = p["img/Transformer/encoderblock_0/MultiHeadDotProductAttention_0/query/kernel"].Shape[1];
        int offset = imageIndex * S * S * 3;

        // Patch embedding as a stride-P convolution with an HWIO kernel.
        var x = new double[N, D];
        for (int gy = 0; gy < G; gy++)
        for (int gx = 0; gx < G; gx++)
        for (int o = 0; o < D; o++)
        {
            double s = W("embedding/bias")[o];
            for (int ky = 0; ky < P; ky++)
            for (int kx = 0; kx < P; kx++)
            for (int c = 0; c < 3; c++)
                s += nhwc[offset + ((gy * P + ky) * S + gx * P + kx) * 3 + c] * (double)kernel.Data[((ky * P + kx) * 3 + c) * D + o];
            x[gy * G + gx, o] = s + W("pos_embedding")[(gy * G + gx) * D + o];
        }

        for (int blk = 0; p.ContainsKey($"img/Transformer/encoderblock_{blk}/LayerNorm_0/scale"); blk++)
        {
            var b = $"Transformer/encoderblock_{blk}";
            var y = LayerNorm(x, b + "/LayerNorm_0");
            Add(x, Attention(y, y, b + "/MultiHeadDotProductAttention_0", H));
            y = LayerNorm(x, b + "/LayerNorm_1");
            Add(x, Mlp(y, b + "/MlpBlock_0"));
        }
        x = LayerNorm(x, "Transformer/encoder_norm");

        var pooled = new double[D];
        if (p.ContainsKey("img/MAPHead_0/probe"))
        {
            var probe = new double[1, D];
            for (int i = 0; i < D; i++) probe[0, i] = W("MAPHead_0/probe")[i];
            var y = Attention(probe, x, "MAPHead_0/MultiHeadDotProductAttention_0", H);
            Add(y, Mlp(LayerNorm(y, "MAPHead_0/LayerNorm_0"), "MAPHead_0/MlpBlock_0"));
            for (int i = 0; i < D; i++) pooled[i] = y[0, i];
        }
        else
        {
            for (int t = 0; t < N; t++) for (int i = 0; i < D; i++) pooled[i] += x[t, i] / N;
        }

        double[] logits = pooled;
        if (p.TryGetValue("img/head/kernel", out var head))
        {
            int E = head.Shape[1];
            logits = new double[E];
            for (int o = 0; o < E; o++)
            {
                double s = W("head/bias")[o];
                for (int i = 0; i < D; i++) s += pooled[i] * head.Data[i * E + o];
                logits[o] = s;
            }
        }
        double norm = Math.Sqrt(logits.Sum(v => v * v));
        return (pooled, logits, logits.Select(v => v / (norm + 1e-8)).ToArray());
    }

    private double[,] LayerNorm(double[,] x, string prefix)
    {
        int T = x.GetLength(0), D = x.GetLength(1);
        var scale = W(prefix + "/scale");
        var bias = W(prefix + "/bias");
        var y = new double[T, D];
        for (int t = 0; t < T; t++)
        {
            double mean = 0, sq = 0;
            for (int i = 0; i < D; i++) { mean += x[t, i]; sq += x[t, i] * x[t, i]; }
            mean /= D;
            double variance = sq / D - mean * mean;
            double inv = 1.0 / Math.Sqrt(variance + 1e-6);
            for (int i = 0; i < D; i++) y[t, i] = (x[t, i] - mean) * inv * scale[i] + bias[i];
        }
        return y;
    }

    /// <summary>Queries from <paramref name="q"/>, keys and values from <paramref name="kv"/>; kernels [D, H, hd], out [H, hd, D].</summary>
    private double[,] Attention(double[,] q, double[,] kv, string prefix, int H)
    {
        int Tq = q.GetLength(0), Tk = kv.GetLength(0), D = q.GetLength(1), hd = D / H;
        var Q = Project(q, prefix + "/query");
        var K = Project(kv, prefix + "/key");
        var V = Project(kv, prefix + "/value");
        var ctx = new double[Tq, D];
        for (int h = 0; h < H; h++)
        for (int i = 0; i < Tq; i++)
        {
            var scores = new double[Tk];
            double max = double.NegativeInfinity;
            for (int j = 0; j < Tk; j++)
            {
                double s = 0;
                for (int e = 0; e < hd; e++) s += Q[i, h * hd + e] / Math.Sqrt(hd) * K[j, h * hd + e];
                scores[j] = s;
                max = Math.Max(max, s);
            }
            double total = 0;
            for (int j = 0; j < Tk; j++) { scores[j] = Math.Exp(scores[j] - max); total += scores[j]; }
            for (int j = 0; j < Tk; j++)
                for (int e = 0; e < hd; e++) ctx[i, h * hd + e] += scores[j] / total * V[j, h * hd + e];
        }
        var outKernel = W(prefix + "/out/kernel"); // [H, hd, D] = [(h*hd+e), D] row-major
        var outBias = W(prefix + "/out/bias");
        var result = new double[Tq, D];
        for (int i = 0; i < Tq; i++)
        for (int o = 0; o < D; o++)
        {
            double s = outBias[o];
            for (int c = 0; c < D; c++) s += ctx[i, c] * outKernel[c * D + o];
            result[i, o] = s;
        }
        return result;
    }

    private double[,] Project(double[,] x, string prefix)
    {
        int T = x.GetLength(0), D = x.GetLength(1);
        var kernel = W(prefix + "/kernel"); // [D, H, hd] = [D, D] row-major
        var bias = W(prefix + "/bias");     // [H, hd]
        var y = new double[T, D];
        for (int t = 0; t < T; t++)
        for (int o = 0; o < D; o++)
        {
            double s = bias[o];
            for (int i = 0; i < D; i++) s += x[t, i] * kernel[i * D + o];
            y[t, o] = s;
        }
        return y;
    }

    private double[,] Mlp(double[,] x, string prefix)
    {
        int T = x.GetLength(0), D = x.GetLength(1);
        var k0 = p["img/" + prefix + "/Dense_0/kernel"];
        int M = k0.Shape[1];
        var b0 = W(prefix + "/Dense_0/bias");
        var k1 = W(prefix + "/Dense_1/kernel");
        var b1 = W(prefix + "/Dense_1/bias");
        var y = new double[T, D];
        var h = new double[M];
        for (int t = 0; t < T; t++)
        {
            for (int m = 0; m < M; m++)
            {
                double s = b0[m];
                for (int i = 0; i < D; i++) s += x[t, i] * k0.Data[i * M + m];
                h[m] = 0.5 * s * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (s + 0.044715 * s * s * s)));
            }
            for (int o = 0; o < D; o++)
            {
                double s = b1[o];
                for (int m = 0; m < M; m++) s += h[m] * k1[m * D + o];
                y[t, o] = s;
            }
        }
        return y;
    }

    private static void Add(double[,] x, double[,] y)
    {
        for (int i = 0; i < x.GetLength(0); i++) for (int j = 0; j < x.GetLength(1); j++) x[i, j] += y[i, j];
    }
}
