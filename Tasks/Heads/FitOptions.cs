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
