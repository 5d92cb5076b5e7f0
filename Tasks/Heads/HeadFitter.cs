using System.Diagnostics;

namespace VqaApi.Tasks.Heads;

/// <summary>
/// Fits a head by full-batch Adam on mean softmax cross-entropy plus L2/2 x |W|^2 (weights only), with a
/// stratified, seeded validation split. Deterministic for a given seed.
/// </summary>
public static class HeadFitter
{
    public static FitResult Fit(IReadOnlyList<float[]> features, IReadOnlyList<int> labels, int classes, FitOptions options, CancellationToken cancellationToken = default)
    {
        if (features.Count == 0) throw new ArgumentException("no examples to fit");
        if (features.Count != labels.Count) throw new ArgumentException("features and labels differ in count");
        int d = features[0].Length;
        if (d == 0) throw new ArgumentException("features are empty");
        for (int i = 0; i < features.Count; i++)
        {
            if (features[i].Length != d) throw new ArgumentException($"example {i} has {features[i].Length} features, not {d}");
            foreach (var f in features[i]) if (!float.IsFinite(f)) throw new ArgumentException($"example {i} has a non-finite feature");
            if (labels[i] < 0 || labels[i] >= classes) throw new ArgumentException($"example {i} has label {labels[i]}, outside 0..{classes - 1}");
        }
        if (labels.Distinct().Count() < 2) throw new ArgumentException("fewer than 2 classes are present");

        var (train, validation) = Split(labels, options.ValidationFraction, options.Seed);
        var sw = Stopwatch.StartNew();
        int h = options.Hidden, mid = h > 0 ? h : d;
        var rng = new Random(options.Seed);
        var w1 = new float[h > 0 ? d * h : 0];
        for (int i = 0; i < w1.Length; i++) w1[i] = (float)(Gaussian(rng) * Math.Sqrt(2.0 / d));
        var b1 = new float[h];
        var w2 = new float[mid * classes];
        if (h > 0) for (int i = 0; i < w2.Length; i++) w2[i] = (float)(Gaussian(rng) * Math.Sqrt(1.0 / h));
        var b2 = new float[classes];
        var parameters = new[] { w1, b1, w2, b2 };
        var grads = parameters.Select(p => new float[p.Length]).ToArray();
        var m = parameters.Select(p => new double[p.Length]).ToArray();
        var v = parameters.Select(p => new double[p.Length]).ToArray();
        double lr = options.LearningRate, beta1 = 0.9, beta2 = 0.999;
        int epoch = 0;
        double loss = double.NaN;
        bool timeUp = false;
        var hidden = new float[h];
        var logits = new float[classes];
        var dh = new float[h];
        for (; epoch < options.MaxEpochs; epoch++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (sw.Elapsed > options.MaxTime) { timeUp = true; break; }
            foreach (var g in grads) Array.Clear(g);
            loss = 0;
            foreach (int n in train)
            {
                var x = features[n];
                ReadOnlySpan<float> a = x;
                if (h > 0)
                {
                    HeadWeights.Affine(x, w1, b1, hidden);
                    for (int j = 0; j < h; j++) hidden[j] = Math.Max(0, hidden[j]);
                    a = hidden;
                }
                HeadWeights.Affine(a, w2, b2, logits);
                var p = Softmax(logits);
                loss -= Math.Log(Math.Max(p[labels[n]], 1e-12));
                p[labels[n]] -= 1; // dL/dlogits
                for (int c = 0; c < classes; c++) grads[3][c] += p[c];
                for (int i = 0; i < mid; i++)
                {
                    float ai = a[i];
                    if (ai == 0) continue;
                    var row = grads[2].AsSpan(i * classes, classes);
                    for (int c = 0; c < classes; c++) row[c] += ai * p[c];
                }
                if (h > 0)
                {
                    for (int j = 0; j < h; j++)
                    {
                        if (hidden[j] <= 0) { dh[j] = 0; continue; }
                        float s = 0;
                        var row = w2.AsSpan(j * classes, classes);
                        for (int c = 0; c < classes; c++) s += row[c] * p[c];
                        dh[j] = s;
                    }
                    for (int j = 0; j < h; j++) grads[1][j] += dh[j];
                    for (int i = 0; i < d; i++)
                    {
                        float xi = x[i];
                        if (xi == 0) continue;
                        var row = grads[0].AsSpan(i * h, h);
                        for (int j = 0; j < h; j++) row[j] += xi * dh[j];
                    }
                }
            }
            double inv = 1.0 / train.Count;
            double penalty = 0;
            foreach (var w in new[] { w1, w2 }) foreach (var wi in w) penalty += wi * wi;
            loss = loss * inv + options.L2 / 2 * penalty;
            for (int k = 0; k < parameters.Length; k++)
            {
                bool isWeight = k is 0 or 2;
                var prm = parameters[k];
                var g = grads[k];
                double c1 = 1 - Math.Pow(beta1, epoch + 1), c2 = 1 - Math.Pow(beta2, epoch + 1);
                for (int i = 0; i < prm.Length; i++)
                {
                    double gi = g[i] * inv + (isWeight ? options.L2 * prm[i] : 0);
                    m[k][i] = beta1 * m[k][i] + (1 - beta1) * gi;
                    v[k][i] = beta2 * v[k][i] + (1 - beta2) * gi * gi;
                    prm[i] -= (float)(lr * (m[k][i] / c1) / (Math.Sqrt(v[k][i] / c2) + 1e-8));
                }
            }
        }
        var weights = new HeadWeights(d, h, classes, w1, b1, w2, b2);
        double Accuracy(List<int> set) => set.Count(n => ArgMax(weights.Logits(features[n])) == labels[n]) / (double)set.Count;
        return new FitResult(weights, Accuracy(train), validation.Count > 0 ? Accuracy(validation) : null, train.Count, validation.Count,
            epoch, sw.Elapsed.TotalSeconds, loss, timeUp);
    }

    /// <summary>Per class, a seeded shuffle, and round(fraction x count) held out when the class has at least 2 examples.</summary>
    private static (List<int> Train, List<int> Validation) Split(IReadOnlyList<int> labels, double fraction, int seed)
    {
        var rng = new Random(seed);
        var train = new List<int>();
        var validation = new List<int>();
        foreach (var group in Enumerable.Range(0, labels.Count).GroupBy(i => labels[i]).OrderBy(g => g.Key))
        {
            var items = group.OrderBy(_ => rng.Next()).ToList();
            int held = items.Count >= 2 ? Math.Min(items.Count - 1, (int)Math.Round(fraction * items.Count)) : 0;
            validation.AddRange(items.Take(held));
            train.AddRange(items.Skip(held));
        }
        train.Sort();
        validation.Sort();
        return (train, validation);
    }

    public static float[] Softmax(ReadOnlySpan<float> logits)
    {
        float max = float.NegativeInfinity;
        foreach (var l in logits) max = Math.Max(max, l);
        var p = new float[logits.Length];
        double sum = 0;
        for (int i = 0; i < p.Length; i++) { p[i] = MathF.Exp(logits[i] - max); sum += p[i]; }
        for (int i = 0; i < p.Length; i++) p[i] = (float)(p[i] / sum);
        return p;
    }

    private static int ArgMax(float[] values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }

    private static double Gaussian(Random rng) =>
        Math.Sqrt(-2.0 * Math.Log(1.0 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
