using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;

namespace VqaApi.Tasks.Heads;

public static partial class HeadFitter
{
    /// <summary>
    /// Dense kernels. Every output element is computed by one thread with a fixed order of operations, so results do not
    /// depend on how the work is split between threads.
    /// </summary>
    private static class Kernels
    {
        private const int ExampleBlock = 32, ColumnTile = 128;

        /// <summary>Runs body over [0, count) in ranges, in parallel when the work is worth it.</summary>
        public static void For(int count, double workPerItem, Action<int, int> body)
        {
            int workers = Math.Min(Environment.ProcessorCount, count);
            if (workers <= 1 || count * workPerItem < 200_000) { body(0, count); return; }
            int chunks = Math.Min(count, workers * 4);
            Parallel.For(0, chunks, i => body((int)((long)count * i / chunks), (int)((long)count * (i + 1) / chunks)));
        }

        /// <summary>Y[n, r] = b[r] + X[n, :] . W[r, :] (optionally ReLU), for X [N, K], W [R, K], Y [N, R].</summary>
        public static void DotRows(float[] x, int n, int k, float[] w, float[] bias, int r, float[] y, bool relu)
        {
            int blocks = (n + ExampleBlock - 1) / ExampleBlock;
            For(blocks, 2.0 * ExampleBlock * k * r, (b0, b1) =>
            {
                for (int blk = b0; blk < b1; blk++)
                {
                    int n0 = blk * ExampleBlock, n1 = Math.Min(n, n0 + ExampleBlock);
                    int j = 0;
                    for (; j + 4 <= r; j += 4)
                    {
                        var w0 = w.AsSpan(j * k, k);
                        var w1 = w.AsSpan((j + 1) * k, k);
                        var w2 = w.AsSpan((j + 2) * k, k);
                        var w3 = w.AsSpan((j + 3) * k, k);
                        for (int i = n0; i < n1; i++)
                        {
                            Dot4(x.AsSpan(i * k, k), w0, w1, w2, w3, out float s0, out float s1, out float s2, out float s3);
                            var row = y.AsSpan(i * r, r);
                            row[j] = bias[j] + s0;
                            row[j + 1] = bias[j + 1] + s1;
                            row[j + 2] = bias[j + 2] + s2;
                            row[j + 3] = bias[j + 3] + s3;
                        }
                    }
                    for (; j < r; j++)
                    {
                        var wj = w.AsSpan(j * k, k);
                        for (int i = n0; i < n1; i++) y[i * r + j] = bias[j] + Dot(x.AsSpan(i * k, k), wj);
                    }
                    if (relu)
                        for (int i = n0 * r; i < n1 * r; i++) if (!(y[i] > 0)) y[i] = 0;
                }
            });
        }

        /// <summary>G[r, :] = sum over n of A[n, r] x B[n, :], for A [N, R], B [N, K], G [R, K]; parallel over column tiles of G.</summary>
        public static void OuterSum(float[] g, float[] a, float[] b, int n, int r, int k)
        {
            int tiles = (k + ColumnTile - 1) / ColumnTile;
            For(tiles, 2.0 * n * r * ColumnTile, (t0, t1) =>
            {
                for (int t = t0; t < t1; t++)
                {
                    int k0 = t * ColumnTile, width = Math.Min(k, k0 + ColumnTile) - k0;
                    for (int j = 0; j < r; j++) g.AsSpan(j * k + k0, width).Clear();
                    int i = 0;
                    for (; i + 4 <= n; i += 4)
                    {
                        var x0 = b.AsSpan(i * k + k0, width);
                        var x1 = b.AsSpan((i + 1) * k + k0, width);
                        var x2 = b.AsSpan((i + 2) * k + k0, width);
                        var x3 = b.AsSpan((i + 3) * k + k0, width);
                        int a0 = i * r;
                        for (int j = 0; j < r; j++)
                        {
                            float c0 = a[a0 + j], c1 = a[a0 + r + j], c2 = a[a0 + 2 * r + j], c3 = a[a0 + 3 * r + j];
                            if (c0 == 0 && c1 == 0 && c2 == 0 && c3 == 0) continue;
                            Madd4(g.AsSpan(j * k + k0, width), c0, x0, c1, x1, c2, x2, c3, x3);
                        }
                    }
                    for (; i < n; i++)
                    {
                        var xi = b.AsSpan(i * k + k0, width);
                        for (int j = 0; j < r; j++)
                        {
                            float c0 = a[i * r + j];
                            if (c0 != 0) HeadWeights.Axpy(c0, xi, g.AsSpan(j * k + k0, width));
                        }
                    }
                }
            });
        }

        /// <summary>s[r] = sum over n of A[n, r], in example order.</summary>
        public static void ColumnSums(float[] s, float[] a, int n, int r)
        {
            Array.Clear(s);
            for (int i = 0; i < n; i++)
            {
                var row = a.AsSpan(i * r, r);
                for (int j = 0; j < r; j++) s[j] += row[j];
            }
        }

        private static Vector<float> Mad(Vector<float> a, Vector<float> b, Vector<float> c) => Vector.MultiplyAddEstimate(a, b, c);

        private static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> w)
        {
            var xv = MemoryMarshal.Cast<float, Vector<float>>(x);
            var wv = MemoryMarshal.Cast<float, Vector<float>>(w);
            Vector<float> acc0 = Vector<float>.Zero, acc1 = Vector<float>.Zero;
            int v = 0;
            for (; v + 2 <= xv.Length; v += 2)
            {
                acc0 = Mad(xv[v], wv[v], acc0);
                acc1 = Mad(xv[v + 1], wv[v + 1], acc1);
            }
            if (v < xv.Length) acc0 = Mad(xv[v], wv[v], acc0);
            float s = Vector.Sum(acc0 + acc1);
            for (int i = xv.Length * Vector<float>.Count; i < x.Length; i++) s += x[i] * w[i];
            return s;
        }

        private static void Dot4(ReadOnlySpan<float> x, ReadOnlySpan<float> w0, ReadOnlySpan<float> w1, ReadOnlySpan<float> w2, ReadOnlySpan<float> w3,
            out float s0, out float s1, out float s2, out float s3)
        {
            var xv = MemoryMarshal.Cast<float, Vector<float>>(x);
            var v0 = MemoryMarshal.Cast<float, Vector<float>>(w0);
            var v1 = MemoryMarshal.Cast<float, Vector<float>>(w1);
            var v2 = MemoryMarshal.Cast<float, Vector<float>>(w2);
            var v3 = MemoryMarshal.Cast<float, Vector<float>>(w3);
            Vector<float> a0 = Vector<float>.Zero, a1 = Vector<float>.Zero, a2 = Vector<float>.Zero, a3 = Vector<float>.Zero;
            for (int v = 0; v < xv.Length; v++)
            {
                var xi = xv[v];
                a0 = Mad(xi, v0[v], a0);
                a1 = Mad(xi, v1[v], a1);
                a2 = Mad(xi, v2[v], a2);
                a3 = Mad(xi, v3[v], a3);
            }
            (s0, s1, s2, s3) = (Vector.Sum(a0), Vector.Sum(a1), Vector.Sum(a2), Vector.Sum(a3));
            for (int i = xv.Length * Vector<float>.Count; i < x.Length; i++)
            {
                s0 += x[i] * w0[i];
                s1 += x[i] * w1[i];
                s2 += x[i] * w2[i];
                s3 += x[i] * w3[i];
            }
        }

        /// <summary>g += c0 x0 + c1 x1 + c2 x2 + c3 x3.</summary>
        private static void Madd4(Span<float> g, float c0, ReadOnlySpan<float> x0, float c1, ReadOnlySpan<float> x1,
            float c2, ReadOnlySpan<float> x2, float c3, ReadOnlySpan<float> x3)
        {
            var gv = MemoryMarshal.Cast<float, Vector<float>>(g);
            var v0 = MemoryMarshal.Cast<float, Vector<float>>(x0);
            var v1 = MemoryMarshal.Cast<float, Vector<float>>(x1);
            var v2 = MemoryMarshal.Cast<float, Vector<float>>(x2);
            var v3 = MemoryMarshal.Cast<float, Vector<float>>(x3);
            Vector<float> a0 = new(c0), a1 = new(c1), a2 = new(c2), a3 = new(c3);
            for (int v = 0; v < gv.Length; v++) gv[v] = Mad(a3, v3[v], Mad(a2, v2[v], Mad(a1, v1[v], Mad(a0, v0[v], gv[v]))));
            for (int i = gv.Length * Vector<float>.Count; i < g.Length; i++) g[i] = c3 * x3[i] + (c2 * x2[i] + (c1 * x1[i] + (c0 * x0[i] + g[i])));
        }
    }
}
