using System.ComponentModel.DataAnnotations;

namespace VqaApi.Tasks.Heads;

/// <summary>Limits on heads (section "Heads").</summary>
public sealed class HeadOptions
{
    public const string Section = "Heads";

    [Range(2, 1_000_000)] public int MaxExamples { get; set; } = 10_000;
    [Range(2, 100_000)] public int MaxClasses { get; set; } = 1000;
    [Range(0, 4096)] public int MaxHidden { get; set; } = 1024;
    [Range(0.1, 3600)] public double MaxFitSeconds { get; set; } = 120;
    [Range(1, 100_000)] public int MaxEpochs { get; set; } = 2000;
}
