using System.Diagnostics;
using System.Numerics;
using System.Runtime.InteropServices;

namespace VqaApi.Tasks.Heads;

/// <summary>
/// Fits a head on frozen embeddings by full-batch Adam on mean softmax cross-entropy plus L2/2 x |W|^2 (weights only).
/// Deterministic for a given seed on a given machine: examples are processed in parallel, but every sum runs over the
/// examples in a fixed order, whatever the number of threads.
/// </summary>
public static partial class HeadFitter
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
}
