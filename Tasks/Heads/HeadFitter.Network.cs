using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;

namespace VqaApi.Tasks.Heads;

public static partial class HeadFitter
{
    /// <summary>A set of examples, packed row-major, with the activation and gradient buffers of a pass over them.</summary>
    private sealed class Batch
    {
        public required int N, D;
        public required float[] X;          // [N, D]
        public required int[] Y;            // [N]
        public required float[] Hidden;     // [N, hidden], after ReLU
        public required float[] HiddenGrad; // [N, hidden]
        public required float[] Logits;     // [N, classes]
        public required float[] LogitGrad;  // [N, classes]
        public required double[] Loss;      // [N]
        public required bool[] Correct;     // [N]

        public static Batch Gather(IReadOnlyList<float[]> features, IReadOnlyList<int> labels, int[] indices, int d, int hidden, int classes)
        {
            int n = indices.Length;
            var x = new float[(long)n * d];
            var y = new int[n];
            for (int i = 0; i < n; i++)
            {
                features[indices[i]].CopyTo(x, (long)i * d);
                y[i] = labels[indices[i]];
            }
            return new Batch
            {
                N = n, D = d, X = x, Y = y,
                Hidden = new float[(long)n * hidden], HiddenGrad = new float[(long)n * hidden],
                Logits = new float[(long)n * classes], LogitGrad = new float[(long)n * classes],
                Loss = new double[n], Correct = new bool[n],
            };
        }
    }

    /// <summary>
    /// The head while it trains, with weights stored transposed ([out, in], one row per unit) so that both the forward pass
    /// and the weight gradients are contiguous, vectorised loops over the input dimension.
    /// </summary>
    private sealed class Network
    {
        public readonly int D, H, C, Mid;
        public readonly float[] W1T, B1, W2T, B2; // [H, D], [H], [C, Mid], [C]

        public Network(int d, int hidden, int classes, Random rng)
        {
            (D, H, C, Mid) = (d, hidden, classes, hidden > 0 ? hidden : d);
            W1T = new float[(long)H * D];
            B1 = new float[H];
            W2T = new float[(long)C * Mid];
            B2 = new float[C];
            if (H > 0)
            {
                // He initialisation for the ReLU layer; LeCun-scaled for the output layer. The linear head starts at zero.
                double s1 = Math.Sqrt(2.0 / D), s2 = Math.Sqrt(1.0 / H);
                for (int i = 0; i < W1T.Length; i++) W1T[i] = (float)(s1 * Gaussian(rng));
                for (int i = 0; i < W2T.Length; i++) W2T[i] = (float)(s2 * Gaussian(rng));
            }
        }

        public float[][] Parameters => [W1T, B1, W2T, B2];
        public static bool IsWeight(int parameter) => parameter is 0 or 2;

        public bool IsFinite => Parameters.All(p => Array.TrueForAll(p, float.IsFinite));

        public double SquaredWeightNorm()
        {
            double sum = 0;
            foreach (var w in new[] { W1T, W2T }) foreach (var v in w) sum += (double)v * v;
            return sum;
        }

        public void Forward(Batch b)
        {
            if (H > 0)
            {
                Kernels.DotRows(b.X, b.N, D, W1T, B1, H, b.Hidden, relu: true);
                Kernels.DotRows(b.Hidden, b.N, H, W2T, B2, C, b.Logits, relu: false);
            }
            else Kernels.DotRows(b.X, b.N, D, W2T, B2, C, b.Logits, relu: false);
        }

        /// <summary>Per-example loss and correctness, and dLoss/dLogits of the mean loss; returns the summed loss and the number correct.</summary>
        public (double Loss, int Correct) SoftmaxGradient(Batch b)
        {
            int c = C;
            float inv = 1f / b.N;
            Kernels.For(b.N, 8.0 * c, (n0, n1) =>
            {
                Span<double> e = c <= 256 ? stackalloc double[c] : new double[c];
                for (int n = n0; n < n1; n++)
                {
                    var z = b.Logits.AsSpan(n * c, c);
                    var g = b.LogitGrad.AsSpan(n * c, c);
                    int best = 0;
                    for (int k = 1; k < c; k++) if (z[k] > z[best]) best = k;
                    double max = z[best], sum = 0;
                    for (int k = 0; k < c; k++) sum += e[k] = Math.Exp(z[k] - max);
                    int y = b.Y[n];
                    for (int k = 0; k < c; k++) g[k] = (float)((e[k] / sum - (k == y ? 1 : 0)) * inv);
                    b.Loss[n] = Math.Log(sum) - (z[y] - max);
                    b.Correct[n] = best == y;
                }
            });
            double loss = 0;
            int correct = 0;
            for (int n = 0; n < b.N; n++) { loss += b.Loss[n]; if (b.Correct[n]) correct++; }
            return (loss, correct);
        }

        /// <summary>Gradients of the mean loss (without the L2 term) into <paramref name="grads"/>, laid out like <see cref="Parameters"/>.</summary>
        public void Backward(Batch b, float[][] grads)
        {
            var input2 = H > 0 ? b.Hidden : b.X;
            Kernels.OuterSum(grads[2], b.LogitGrad, input2, b.N, C, Mid);
            Kernels.ColumnSums(grads[3], b.LogitGrad, b.N, C);
            if (H == 0) return;
            int h = H, c = C;
            var w2t = W2T;
            Kernels.For(b.N, 2.0 * h * c, (n0, n1) =>
            {
                for (int n = n0; n < n1; n++)
                {
                    var gh = b.HiddenGrad.AsSpan(n * h, h);
                    var a = b.Hidden.AsSpan(n * h, h);
                    gh.Clear();
                    for (int k = 0; k < c; k++)
                    {
                        float gz = b.LogitGrad[n * c + k];
                        if (gz != 0) HeadWeights.Axpy(gz, w2t.AsSpan(k * h, h), gh);
                    }
                    for (int j = 0; j < h; j++) if (!(a[j] > 0)) gh[j] = 0;
                }
            });
            Kernels.OuterSum(grads[0], b.HiddenGrad, b.X, b.N, H, D);
            Kernels.ColumnSums(grads[1], b.HiddenGrad, b.N, H);
        }

        public HeadWeights ToWeights()
        {
            var w1 = new float[W1T.Length];
            for (int j = 0; j < H; j++)
                for (int i = 0; i < D; i++) w1[i * H + j] = W1T[j * D + i];
            var w2 = new float[W2T.Length];
            for (int k = 0; k < C; k++)
                for (int i = 0; i < Mid; i++) w2[i * C + k] = W2T[k * Mid + i];
            return new HeadWeights(D, H, C, w1, B1, w2, B2);
        }

        private static double Gaussian(Random rng) =>
            Math.Sqrt(-2.0 * Math.Log(1.0 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
    }
}
