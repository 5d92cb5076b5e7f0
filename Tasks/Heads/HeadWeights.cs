namespace VqaApi.Tasks.Heads;

public sealed record FitOptions
{
    public double L2 { get; init; } = 1e-3;
    public int Hidden { get; init; }
    public double ValidationFraction { get; init; } = 0.2;
    public int MaxEpochs { get; init; } = 300;
    public TimeSpan MaxTime { get; init; } = TimeSpan.FromSeconds(60);
    public int Seed { get; init; }
    public double LearningRate { get; init; } = 0.05;
}

public sealed record FitResult(HeadWeights Weights, double TrainAccuracy, double? ValidationAccuracy, int TrainExamples, int ValidationExamples,
    int Epochs, double Seconds, double FinalTrainLoss, bool StoppedByTimeLimit);

/// <summary>A linear head (hidden = 0) or a one-hidden-layer ReLU MLP; row-major [in, out] weights.</summary>
public sealed class HeadWeights
{
    public HeadWeights(int inputDim, int hidden, int classes, float[] w1, float[] b1, float[] w2, float[] b2)
    {
        if (inputDim < 1 || hidden < 0 || classes < 2) throw new ArgumentException("a head needs input dim >= 1, hidden >= 0 and >= 2 classes");
        int mid = hidden > 0 ? hidden : inputDim;
        if (w1.Length != (hidden > 0 ? inputDim * hidden : 0) || b1.Length != hidden || w2.Length != mid * classes || b2.Length != classes)
            throw new ArgumentException($"head weights do not match input {inputDim}, hidden {hidden}, classes {classes}");
        (InputDim, Hidden, Classes, W1, B1, W2, B2) = (inputDim, hidden, classes, w1, b1, w2, b2);
    }

    public int InputDim { get; }
    public int Hidden { get; }
    public int Classes { get; }
    public float[] W1 { get; }
    public float[] B1 { get; }
    public float[] W2 { get; }
    public float[] B2 { get; }

    public float[] Logits(ReadOnlySpan<float> x)
    {
        if (x.Length != InputDim) throw new ArgumentException($"the head takes {InputDim}-dimensional inputs, not {x.Length}");
        ReadOnlySpan<float> h = x;
        if (Hidden > 0)
        {
            var a = new float[Hidden];
            Affine(x, W1, B1, a);
            for (int j = 0; j < a.Length; j++) a[j] = Math.Max(0, a[j]);
            h = a;
        }
        var logits = new float[Classes];
        Affine(h, W2, B2, logits);
        return logits;
    }

    public float[] Probabilities(ReadOnlySpan<float> x) => HeadFitter.Softmax(Logits(x));

    internal static void Affine(ReadOnlySpan<float> x, float[] w, float[] b, Span<float> y)
    {
        b.CopyTo(y);
        int outs = y.Length;
        for (int i = 0; i < x.Length; i++)
        {
            float xi = x[i];
            if (xi == 0) continue;
            var row = w.AsSpan(i * outs, outs);
            for (int o = 0; o < outs; o++) y[o] += xi * row[o];
        }
    }
}
