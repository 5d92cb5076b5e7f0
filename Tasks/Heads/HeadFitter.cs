using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;

namespace VqaApi.Tasks.Heads;

/// <summary>How to fit a head; see <see cref="HeadFitter.Fit"/>.</summary>
public sealed record FitOptions
{
    /// <summary>L2 penalty on the weights (not the biases), on the mean-loss scale: loss = mean CE + L2/2 x |W|^2.</summary>
    public double L2 { get; init; } = 1e-3;

    /// <summary>0 for a linear head (multinomial logistic regression); otherwise the width of one hidden ReLU layer.</summary>
    public int Hidden { get; init; }

    /// <summary>
    /// Share of the examples held out to measure validation accuracy, in [0, 1): per class, round(fraction x count) of a
    /// seeded shuffle, only for classes with at least 2 examples, and always leaving at least one of each class to train on.
    /// </summary>
    public double ValidationFraction { get; init; } = 0.2;

    /// <summary>Full-batch iterations, at least 1.</summary>
    public int MaxEpochs { get; init; } = 300;

    /// <summary>Training stops after the epoch during which this much time has passed since the fit began.</summary>
    public TimeSpan MaxTime { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Seeds the validation split and, for an MLP, the weight initialisation.</summary>
    public int Seed { get; init; }

    /// <summary>Adam step size.</summary>
    public double LearningRate { get; init; } = 0.05;
}

/// <summary>
/// The outcome of a fit. Accuracies and <see cref="FinalTrainLoss"/> (mean cross-entropy plus the L2 term, the objective
/// minimised) are measured with the final weights. <see cref="ValidationAccuracy"/> is null when nothing was held out.
/// </summary>
public sealed record FitResult(HeadWeights Weights, double TrainAccuracy, double? ValidationAccuracy, int TrainExamples, int ValidationExamples,
    int Epochs, double Seconds, double FinalTrainLoss, bool StoppedByTimeLimit);

/// <summary>Example indices (ascending) used to train and held out to validate.</summary>
public sealed record ValidationSplit(int[] Train, int[] Validation);

/// <summary>
/// Fits a head on frozen embeddings by full-batch Adam on mean softmax cross-entropy plus L2/2 x |W|^2 (weights only).
/// Deterministic for a given seed on a given machine: examples are processed in parallel, but every sum runs over the
/// examples in a fixed order, whatever the number of threads.
/// </summary>
public static class HeadFitter
{
    private const double Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;

    /// <summary>
    /// Fits a head. <paramref name="features"/> are N rows of the same length D, all finite; <paramref name="labels"/> are
    /// in [0, <paramref name="classes"/>), with at least 2 distinct classes present. Throws <see cref="ArgumentException"/>
    /// naming the problem for bad inputs or options, and <see cref="OperationCanceledException"/> (checked each epoch)
    /// when cancelled.
    /// </summary>
    public static FitResult Fit(IReadOnlyList<float[]> features, IReadOnlyList<int> labels, int classes, FitOptions options, CancellationToken cancellationToken = default)
    {
        var stopwatch = Stopwatch.StartNew();
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(options);
        CheckOptions(options);
        int d = CheckExamples(features, labels, classes);
        if ((long)features.Count * options.Hidden > Array.MaxLength)
            throw new ArgumentException($"{features.Count:N0} examples with {options.Hidden} hidden units are too many to fit at once", nameof(options));
        cancellationToken.ThrowIfCancellationRequested();

        var split = SplitValidation(labels, classes, options.ValidationFraction, options.Seed);
        var train = Batch.Gather(features, labels, split.Train, d, options.Hidden, classes);
        var net = new Network(d, options.Hidden, classes, new Random(unchecked(options.Seed * -1640531535 + 0x2545F491)));
        var adam = new Adam(net, options.LearningRate, options.L2);

        int epochs = 0;
        bool timeUp = false;
        while (epochs < options.MaxEpochs)
        {
            cancellationToken.ThrowIfCancellationRequested();
            net.Forward(train);
            net.SoftmaxGradient(train);
            net.Backward(train, adam.Gradients);
            adam.Step();
            epochs++;
            if (epochs < options.MaxEpochs && stopwatch.Elapsed >= options.MaxTime) { timeUp = true; break; }
        }
        if (!net.IsFinite)
            throw new InvalidOperationException("training diverged (the weights are no longer finite); scale the features down or lower the learning rate");

        net.Forward(train);
        var (trainLoss, trainCorrect) = net.SoftmaxGradient(train);
        double? validationAccuracy = null;
        if (split.Validation.Length > 0)
        {
            var validation = Batch.Gather(features, labels, split.Validation, d, options.Hidden, classes);
            net.Forward(validation);
            validationAccuracy = (double)net.SoftmaxGradient(validation).Correct / validation.N;
        }
        return new FitResult(net.ToWeights(), (double)trainCorrect / train.N, validationAccuracy, split.Train.Length, split.Validation.Length,
            epochs, stopwatch.Elapsed.TotalSeconds, trainLoss / train.N + options.L2 / 2 * net.SquaredWeightNorm(), timeUp);
    }

    /// <summary>
    /// The validation split <see cref="Fit"/> uses: for each class in turn, a seeded Fisher-Yates shuffle of its examples, of
    /// which the first round(fraction x count) are held out when the class has at least 2 examples, always leaving at least
    /// one to train on. A class with a single example is only trained on.
    /// </summary>
    public static ValidationSplit SplitValidation(IReadOnlyList<int> labels, int classes, double fraction, int seed)
    {
        ArgumentNullException.ThrowIfNull(labels);
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, "classes must be at least 1");
        if (!(fraction >= 0 && fraction < 1))
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "the validation fraction must be in [0, 1)");
        var members = new List<int>[classes];
        for (int c = 0; c < classes; c++) members[c] = [];
        for (int i = 0; i < labels.Count; i++)
        {
            int y = labels[i];
            if (y < 0 || y >= classes) throw new ArgumentException($"labels[{i}] is {y}, outside the classes 0..{classes - 1}", nameof(labels));
            members[y].Add(i);
        }
        var rng = new Random(seed);
        var train = new List<int>(labels.Count);
        var validation = new List<int>();
        foreach (var list in members)
        {
            for (int i = list.Count - 1; i > 0; i--)
            {
                int j = rng.Next(i + 1);
                (list[i], list[j]) = (list[j], list[i]);
            }
            int held = list.Count >= 2 ? Math.Min(list.Count - 1, (int)Math.Round(fraction * list.Count, MidpointRounding.AwayFromZero)) : 0;
            for (int i = 0; i < list.Count; i++) (i < held ? validation : train).Add(list[i]);
        }
        train.Sort();
        validation.Sort();
        return new ValidationSplit([.. train], [.. validation]);
    }

    /// <summary>Softmax, computed stably (shifted by the maximum, in double precision).</summary>
    public static float[] Softmax(ReadOnlySpan<float> logits)
    {
        var p = new float[logits.Length];
        if (p.Length == 0) return p;
        float max = logits[0];
        for (int i = 1; i < logits.Length; i++) if (logits[i] > max) max = logits[i];
        double sum = 0;
        for (int i = 0; i < logits.Length; i++) sum += Math.Exp((double)logits[i] - max);
        for (int i = 0; i < logits.Length; i++) p[i] = (float)(Math.Exp((double)logits[i] - max) / sum);
        return p;
    }

    private static void CheckOptions(FitOptions o)
    {
        if (!(o.L2 >= 0) || double.IsInfinity(o.L2)) throw new ArgumentException($"L2 must be finite and >= 0, not {o.L2}", nameof(o.L2));
        if (o.Hidden < 0) throw new ArgumentException($"Hidden must be 0 (linear head) or a positive width, not {o.Hidden}", nameof(o.Hidden));
        if (!(o.ValidationFraction >= 0 && o.ValidationFraction < 1))
            throw new ArgumentException($"ValidationFraction must be in [0, 1), not {o.ValidationFraction}", nameof(o.ValidationFraction));
        if (o.MaxEpochs < 1) throw new ArgumentException($"MaxEpochs must be at least 1, not {o.MaxEpochs}", nameof(o.MaxEpochs));
        if (o.MaxTime <= TimeSpan.Zero) throw new ArgumentException($"MaxTime must be positive, not {o.MaxTime}", nameof(o.MaxTime));
        if (!(o.LearningRate > 0) || double.IsInfinity(o.LearningRate))
            throw new ArgumentException($"LearningRate must be finite and > 0, not {o.LearningRate}", nameof(o.LearningRate));
    }

    /// <returns>The feature dimension.</returns>
    private static int CheckExamples(IReadOnlyList<float[]> features, IReadOnlyList<int> labels, int classes)
    {
        if (features.Count == 0) throw new ArgumentException("there are no examples to fit a head on", nameof(features));
        if (labels.Count != features.Count)
            throw new ArgumentException($"there are {features.Count} feature rows but {labels.Count} labels; they must match", nameof(labels));
        if (classes < 2) throw new ArgumentException($"a head needs at least 2 classes, not {classes}", nameof(classes));
        int d = features[0]?.Length ?? throw new ArgumentException("features[0] is null", nameof(features));
        if (d == 0) throw new ArgumentException("features[0] is empty; feature rows need at least one value", nameof(features));
        var present = new bool[classes];
        int distinct = 0;
        for (int i = 0; i < features.Count; i++)
        {
            var row = features[i] ?? throw new ArgumentException($"features[{i}] is null", nameof(features));
            if (row.Length != d)
                throw new ArgumentException($"ragged features: features[{i}] has length {row.Length} but features[0] has length {d}", nameof(features));
            for (int j = 0; j < row.Length; j++)
                if (!float.IsFinite(row[j])) throw new ArgumentException($"features[{i}][{j}] is {row[j]}; features must be finite", nameof(features));
            int y = labels[i];
            if (y < 0 || y >= classes)
                throw new ArgumentException($"label out of range: labels[{i}] is {y}, outside the classes 0..{classes - 1}", nameof(labels));
            if (!present[y]) { present[y] = true; distinct++; }
        }
        long widest = Math.Max(d, classes);
        if ((long)features.Count * widest > Array.MaxLength)
            throw new ArgumentException($"{features.Count:N0} examples of dimension {d} with {classes} classes are too many to fit at once", nameof(features));
        if (distinct < 2)
            throw new ArgumentException($"only one class (label {labels[0]}) is present in the examples; a head needs examples of at least 2 classes", nameof(labels));
        return d;
    }

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

    /// <summary>Adam on the parameters of a <see cref="Network"/>, with the L2 term added to the weights' gradients.</summary>
    private sealed class Adam
    {
        private readonly float[][] _parameters;
        private readonly double[][] _m, _v;
        private readonly double _learningRate, _l2;
        private int _t;

        public Adam(Network net, double learningRate, double l2)
        {
            _parameters = net.Parameters;
            Gradients = _parameters.Select(p => new float[p.Length]).ToArray();
            _m = _parameters.Select(p => new double[p.Length]).ToArray();
            _v = _parameters.Select(p => new double[p.Length]).ToArray();
            (_learningRate, _l2) = (learningRate, l2);
        }

        public float[][] Gradients { get; }

        public void Step()
        {
            _t++;
            double c1 = 1 - Math.Pow(Beta1, _t), c2 = 1 - Math.Pow(Beta2, _t);
            for (int k = 0; k < _parameters.Length; k++)
            {
                var p = _parameters[k];
                var g = Gradients[k];
                var m = _m[k];
                var v = _v[k];
                double l2 = Network.IsWeight(k) ? _l2 : 0;
                for (int i = 0; i < p.Length; i++)
                {
                    double gi = g[i] + l2 * p[i];
                    m[i] = Beta1 * m[i] + (1 - Beta1) * gi;
                    v[i] = Beta2 * v[i] + (1 - Beta2) * gi * gi;
                    p[i] = (float)(p[i] - _learningRate * (m[i] / c1) / (Math.Sqrt(v[i] / c2) + Epsilon));
                }
            }
        }
    }

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
