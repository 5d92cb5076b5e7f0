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
    /// <summary>Examples with an image (image and VQA heads): each is fetched, decoded and encoded.</summary>
    [Range(2, 1_000_000)] public int MaxImageExamples { get; set; } = 2000;
    /// <summary>Characters of a label, and of each display name of a label.</summary>
    [Range(1, 10_000)] public int MaxLabelCharacters { get; set; } = 200;
    /// <summary>Languages of display names per label (label_names).</summary>
    [Range(0, 1000)] public int MaxLanguagesPerLabel { get; set; } = 64;
}
