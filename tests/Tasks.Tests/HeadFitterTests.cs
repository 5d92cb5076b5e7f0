using VqaApi.Tasks.Heads;

namespace VqaApi.Tasks.Tests;

public class HeadFitterTests
{
    private static double Gaussian(Random rng) =>
        Math.Sqrt(-2.0 * Math.Log(1.0 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    /// <summary>Gaussian blobs around 4 x e_c (one basis vector per class), sd 0.5: linearly separable in practice.</summary>
    private static (List<float[]> X, List<int> Y) Blobs(int classes, int perClass, int dim, int seed)
    {
        var rng = new Random(seed);
        var x = new List<float[]>();
        var y = new List<int>();
        for (int i = 0; i < perClass; i++)
            for (int c = 0; c < classes; c++)
            {
                var row = new float[dim];
                for (int j = 0; j < dim; j++) row[j] = (float)(0.5 * Gaussian(rng) + (j == c ? 4 : 0));
                x.Add(row);
                y.Add(c);
            }
        return (x, y);
    }

    /// <summary>XOR of the signs of the first two coordinates (kept away from the axes), plus noise dimensions.</summary>
    private static (List<float[]> X, List<int> Y) Xor(int count, int dim, int seed)
    {
        var rng = new Random(seed);
        var x = new List<float[]>();
        var y = new List<int>();
        while (x.Count < count)
        {
            var row = new float[dim];
            for (int j = 0; j < dim; j++) row[j] = (float)(rng.NextDouble() * 2 - 1);
            if (Math.Abs(row[0]) < 0.1 || Math.Abs(row[1]) < 0.1) continue;
            x.Add(row);
            y.Add(row[0] > 0 ^ row[1] > 0 ? 1 : 0);
        }
        return (x, y);
    }

    private static double Norm(float[] w) => Math.Sqrt(w.Sum(v => (double)v * v));

    [Fact]
    public void LinearHeadSeparatesGaussianBlobs()
    {
        var (x, y) = Blobs(classes: 4, perClass: 50, dim: 16, seed: 1);
        var fit = HeadFitter.Fit(x, y, 4, new FitOptions { Seed = 3 });

        Assert.True(fit.TrainAccuracy >= 0.95, $"train accuracy {fit.TrainAccuracy}");
        Assert.NotNull(fit.ValidationAccuracy);
        Assert.True(fit.ValidationAccuracy >= 0.95, $"validation accuracy {fit.ValidationAccuracy}");
        Assert.Equal(40, fit.ValidationExamples); // 10 of each 50
        Assert.Equal(160, fit.TrainExamples);
        Assert.Equal(300, fit.Epochs);
        Assert.False(fit.StoppedByTimeLimit);
        Assert.True(fit.FinalTrainLoss is > 0 and < 0.5, $"final loss {fit.FinalTrainLoss}");

        var w = fit.Weights;
        Assert.Equal((16, 0, 4), (w.InputDim, w.Hidden, w.Classes));
        Assert.Empty(w.W1);
        Assert.Empty(w.B1);
        Assert.Equal(16 * 4, w.W2.Length);
        int correct = 0;
        for (int i = 0; i < x.Count; i++)
        {
            var p = w.Probabilities(x[i]);
            Assert.Equal(4, p.Length);
            Assert.All(p, v => Assert.InRange(v, 0f, 1f));
            Assert.Equal(1.0, p.Sum(v => (double)v), 5);
            int argmax = Array.IndexOf(p, p.Max());
            Assert.Equal(argmax, w.Predict(x[i]));
            var logits = w.Logits(x[i]);
            Assert.Equal(argmax, Array.IndexOf(logits, logits.Max()));
            if (w.Predict(x[i]) == y[i]) correct++;
        }
        Assert.True(correct >= 0.95 * x.Count);
    }

    [Fact]
    public void ProbabilitiesAreStableForHugeLogits()
    {
        var w = new HeadWeights(2, 0, 3, [], [], [1e6f, -1e6f, 0, 0, 0, 0], [0, 0, 0]);
        var p = w.Probabilities([50f, 0f]);
        Assert.All(p, v => Assert.True(float.IsFinite(v)));
        Assert.Equal(1f, p[0]);
        Assert.Equal(0, w.Predict([50f, 0f]));
        Assert.Equal(1, w.Predict([-50f, 0f]));
    }

    [Fact]
    public void MlpSolvesXorThatALinearHeadCannot()
    {
        var (x, y) = Xor(600, dim: 4, seed: 5);
        var linear = HeadFitter.Fit(x, y, 2, new FitOptions { Seed = 1, ValidationFraction = 0.25 });
        var mlp = HeadFitter.Fit(x, y, 2, new FitOptions { Seed = 1, ValidationFraction = 0.25, Hidden = 32 });

        Assert.True(linear.ValidationAccuracy < 0.75, $"linear validation accuracy {linear.ValidationAccuracy}");
        Assert.True(mlp.ValidationAccuracy >= 0.9, $"MLP validation accuracy {mlp.ValidationAccuracy}");
        Assert.True(mlp.TrainAccuracy >= 0.9, $"MLP train accuracy {mlp.TrainAccuracy}");
        Assert.True(mlp.FinalTrainLoss < linear.FinalTrainLoss);

        var w = mlp.Weights;
        Assert.Equal((4, 32, 2), (w.InputDim, w.Hidden, w.Classes));
        Assert.Equal((4 * 32, 32, 32 * 2, 2), (w.W1.Length, w.B1.Length, w.W2.Length, w.B2.Length));
        for (int i = 0; i < 50; i++)
        {
            var p = w.Probabilities(x[i]);
            Assert.Equal(1.0, p.Sum(v => (double)v), 5);
            Assert.Equal(Array.IndexOf(p, p.Max()), w.Predict(x[i]));
        }
    }

    [Fact]
    public void TrainAccuracyMatchesTheReturnedWeights()
    {
        var (x, y) = Xor(300, dim: 3, seed: 11);
        var fit = HeadFitter.Fit(x, y, 2, new FitOptions { Hidden = 16, ValidationFraction = 0, MaxEpochs = 100 });
        Assert.Null(fit.ValidationAccuracy);
        Assert.Equal(0, fit.ValidationExamples);
        Assert.Equal(300, fit.TrainExamples);
        double accuracy = Enumerable.Range(0, x.Count).Count(i => fit.Weights.Predict(x[i]) == y[i]) / (double)x.Count;
        Assert.InRange(accuracy, fit.TrainAccuracy - 0.005, fit.TrainAccuracy + 0.005);
    }

    [Fact]
    public void LargerL2GivesSmallerWeights()
    {
        var (x, y) = Blobs(classes: 3, perClass: 40, dim: 16, seed: 2);
        var weak = HeadFitter.Fit(x, y, 3, new FitOptions { L2 = 1e-4 });
        var strong = HeadFitter.Fit(x, y, 3, new FitOptions { L2 = 1 });
        Assert.True(Norm(strong.Weights.W2) < 0.5 * Norm(weak.Weights.W2), $"{Norm(strong.Weights.W2)} vs {Norm(weak.Weights.W2)}");

        var weakMlp = HeadFitter.Fit(x, y, 3, new FitOptions { L2 = 1e-4, Hidden = 8 });
        var strongMlp = HeadFitter.Fit(x, y, 3, new FitOptions { L2 = 1, Hidden = 8 });
        Assert.True(Norm(strongMlp.Weights.W1) + Norm(strongMlp.Weights.W2) < Norm(weakMlp.Weights.W1) + Norm(weakMlp.Weights.W2));
    }

    [Fact]
    public void ValidationSplitIsStratifiedAndDeterministic()
    {
        // Class sizes 50, 30, 7, 2, 1 and 0 (class 5 absent).
        int[] sizes = [50, 30, 7, 2, 1, 0];
        var labels = sizes.SelectMany((n, c) => Enumerable.Repeat(c, n)).ToList();
        var split = HeadFitter.SplitValidation(labels, 6, 0.2, seed: 7);

        int[] expectedHeld = [10, 6, 1, 0, 0, 0]; // round(0.2 x count); 2 x 0.2 rounds to 0; a single example always trains
        for (int c = 0; c < sizes.Length; c++)
        {
            Assert.Equal(expectedHeld[c], split.Validation.Count(i => labels[i] == c));
            Assert.Equal(sizes[c] - expectedHeld[c], split.Train.Count(i => labels[i] == c));
        }
        Assert.Equal(Enumerable.Range(0, labels.Count), split.Train.Concat(split.Validation).Order());
        Assert.Equal(split.Train.Order(), split.Train);

        var again = HeadFitter.SplitValidation(labels, 6, 0.2, seed: 7);
        Assert.Equal(split.Validation, again.Validation);
        var other = HeadFitter.SplitValidation(labels, 6, 0.2, seed: 8);
        Assert.NotEqual(split.Validation, other.Validation);

        // At least one example of each class trains, however large the fraction.
        var most = HeadFitter.SplitValidation(labels, 6, 0.99, seed: 7);
        for (int c = 0; c < 5; c++) Assert.Equal(1, most.Train.Count(i => labels[i] == c));

        var none = HeadFitter.SplitValidation(labels, 6, 0, seed: 7);
        Assert.Empty(none.Validation);
    }

    [Fact]
    public void SameSeedGivesIdenticalWeightsAndAnotherSeedAnotherSplit()
    {
        var (x, y) = Blobs(classes: 3, perClass: 30, dim: 16, seed: 4);
        var options = new FitOptions { Hidden = 12, Seed = 21, MaxEpochs = 50 };
        var a = HeadFitter.Fit(x, y, 3, options);
        var b = HeadFitter.Fit(x, y, 3, options);
        Assert.Equal(a.Weights.W1, b.Weights.W1);
        Assert.Equal(a.Weights.B1, b.Weights.B1);
        Assert.Equal(a.Weights.W2, b.Weights.W2);
        Assert.Equal(a.Weights.B2, b.Weights.B2);
        Assert.Equal(a.FinalTrainLoss, b.FinalTrainLoss);
        Assert.Equal(a.ValidationAccuracy, b.ValidationAccuracy);

        // A linear head starts at zero, so only the split can make a different seed differ.
        var linear = HeadFitter.Fit(x, y, 3, new FitOptions { Seed = 21, MaxEpochs = 50 });
        var linearAgain = HeadFitter.Fit(x, y, 3, new FitOptions { Seed = 21, MaxEpochs = 50 });
        var linearOther = HeadFitter.Fit(x, y, 3, new FitOptions { Seed = 22, MaxEpochs = 50 });
        Assert.Equal(linear.Weights.W2, linearAgain.Weights.W2);
        Assert.NotEqual(linear.Weights.W2, linearOther.Weights.W2);
        Assert.Equal(linear.ValidationExamples, linearOther.ValidationExamples);
        Assert.NotEqual(HeadFitter.SplitValidation(y, 3, 0.2, 21).Validation, HeadFitter.SplitValidation(y, 3, 0.2, 22).Validation);
    }

    [Fact]
    public void LargeProblemIsDeterministicAcrossParallelRuns()
    {
        // Big enough that the kernels run in parallel, with dimensions that are not multiples of the vector width.
        var rng = new Random(9);
        var x = Enumerable.Range(0, 700).Select(_ => Enumerable.Range(0, 131).Select(_ => (float)Gaussian(rng)).ToArray()).ToList();
        var y = x.Select(r => (r[0] + r[1] > 0 ? 1 : 0) + (r[2] > 0.5 ? 2 : 0)).ToList();
        var options = new FitOptions { Hidden = 37, MaxEpochs = 20, Seed = 3 };
        var a = HeadFitter.Fit(x, y, 4, options);
        var b = HeadFitter.Fit(x, y, 4, options);
        Assert.Equal(a.Weights.W1, b.Weights.W1);
        Assert.Equal(a.Weights.W2, b.Weights.W2);
        Assert.Equal(a.Weights.B1, b.Weights.B1);
        Assert.Equal(a.Weights.B2, b.Weights.B2);
    }

    [Fact]
    public void TimeLimitStopsEarly()
    {
        var rng = new Random(1);
        var x = Enumerable.Range(0, 2000).Select(_ => Enumerable.Range(0, 64).Select(_ => (float)Gaussian(rng)).ToArray()).ToList();
        var y = x.Select(r => r[0] > 0 ? 1 : 0).ToList();
        var fit = HeadFitter.Fit(x, y, 2, new FitOptions { Hidden = 64, MaxEpochs = 1_000_000, MaxTime = TimeSpan.FromMilliseconds(1) });
        Assert.True(fit.StoppedByTimeLimit);
        Assert.InRange(fit.Epochs, 1, 999_999);
        Assert.NotNull(fit.ValidationAccuracy);
    }

    [Fact]
    public void CancellationThrows()
    {
        var (x, y) = Blobs(classes: 3, perClass: 20, dim: 16, seed: 1);
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => HeadFitter.Fit(x, y, 3, new FitOptions(), cancelled.Token));

        using var later = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        Assert.ThrowsAny<OperationCanceledException>(() =>
            HeadFitter.Fit(x, y, 3, new FitOptions { Hidden = 16, MaxEpochs = int.MaxValue, MaxTime = TimeSpan.FromHours(1) }, later.Token));
    }

    [Fact]
    public void BadInputsAreRefusedWithTheirProblemNamed()
    {
        var options = new FitOptions();
        float[] a = [1, 2], b = [3, 4];

        Assert.Contains("no examples", Assert.Throws<ArgumentException>(() => HeadFitter.Fit([], [], 2, options)).Message);
        Assert.Contains("ragged", Assert.Throws<ArgumentException>(() => HeadFitter.Fit([a, [1, 2, 3]], [0, 1], 2, options)).Message);
        Assert.Contains("finite", Assert.Throws<ArgumentException>(() => HeadFitter.Fit([a, [float.NaN, 1]], [0, 1], 2, options)).Message);
        Assert.Contains("finite", Assert.Throws<ArgumentException>(() => HeadFitter.Fit([a, [float.PositiveInfinity, 1]], [0, 1], 2, options)).Message);
        Assert.Contains("label out of range", Assert.Throws<ArgumentException>(() => HeadFitter.Fit([a, b], [0, 2], 2, options)).Message);
        Assert.Contains("label out of range", Assert.Throws<ArgumentException>(() => HeadFitter.Fit([a, b], [-1, 0], 2, options)).Message);
        Assert.Contains("only one class", Assert.Throws<ArgumentException>(() => HeadFitter.Fit([a, b], [1, 1], 3, options)).Message);
        Assert.Contains("at least 2 classes", Assert.Throws<ArgumentException>(() => HeadFitter.Fit([a, b], [0, 0], 1, options)).Message);
        Assert.Contains("labels", Assert.Throws<ArgumentException>(() => HeadFitter.Fit([a, b], [0], 2, options)).Message);
        Assert.Contains("MaxEpochs", Assert.Throws<ArgumentException>(() => HeadFitter.Fit([a, b], [0, 1], 2, new FitOptions { MaxEpochs = 0 })).Message);
        Assert.Contains("ValidationFraction", Assert.Throws<ArgumentException>(() => HeadFitter.Fit([a, b], [0, 1], 2, new FitOptions { ValidationFraction = 1 })).Message);
        Assert.Contains("Hidden", Assert.Throws<ArgumentException>(() => HeadFitter.Fit([a, b], [0, 1], 2, new FitOptions { Hidden = -1 })).Message);
        Assert.Contains("L2", Assert.Throws<ArgumentException>(() => HeadFitter.Fit([a, b], [0, 1], 2, new FitOptions { L2 = double.NaN })).Message);
    }

    [Fact]
    public void TwoExamplesTrainWithoutValidation()
    {
        var fit = HeadFitter.Fit([[1f, 0f], [0f, 1f]], [0, 1], 2, new FitOptions { MaxEpochs = 50 });
        Assert.Null(fit.ValidationAccuracy);
        Assert.Equal((2, 0), (fit.TrainExamples, fit.ValidationExamples));
        Assert.Equal(1.0, fit.TrainAccuracy);
        Assert.Equal(0, fit.Weights.Predict([1f, 0f]));
        Assert.Equal(1, fit.Weights.Predict([0f, 1f]));
    }

    [Fact]
    public void WeightsValidateTheirShapes()
    {
        var ok = new HeadWeights(3, 2, 2, new float[6], new float[2], new float[4], new float[2]);
        Assert.Contains("dimension 4", Assert.Throws<ArgumentException>(() => ok.Logits(new float[4])).Message);
        Assert.Equal([0.5f, 0.5f], ok.Probabilities(new float[3]));

        Assert.Contains("w1", Assert.Throws<ArgumentException>(() => new HeadWeights(3, 2, 2, new float[5], new float[2], new float[4], new float[2])).Message);
        Assert.Contains("b1", Assert.Throws<ArgumentException>(() => new HeadWeights(3, 2, 2, new float[6], new float[3], new float[4], new float[2])).Message);
        Assert.Contains("w2", Assert.Throws<ArgumentException>(() => new HeadWeights(3, 0, 2, [], [], new float[4], new float[2])).Message);
        Assert.Contains("b2", Assert.Throws<ArgumentException>(() => new HeadWeights(3, 0, 2, [], [], new float[6], new float[3])).Message);
        Assert.Contains("finite", Assert.Throws<ArgumentException>(() => new HeadWeights(3, 0, 2, [], [], [0, 0, 0, float.NaN, 0, 0], new float[2])).Message);
        Assert.ThrowsAny<ArgumentException>(() => new HeadWeights(3, 0, 1, [], [], new float[3], new float[1]));

        // The arrays are copied: changing the caller's array does not change the head.
        var w2 = new float[] { 1, 0, 0, 1, 0, 0 };
        var linear = new HeadWeights(3, 0, 2, [], [], w2, new float[2]);
        w2[0] = -100;
        Assert.Equal(1f, linear.Logits([1, 0, 0])[0]);
    }
}
