using System.ComponentModel.DataAnnotations;

namespace VqaApi.Tasks.ZeroShot;

/// <summary>Limits of the embedding-comparison tasks (section "Tasks").</summary>
public sealed class TaskLimits
{
    public const string Section = "Tasks";

    [Range(1, 100_000)] public int MaxLabels { get; set; } = 1000;
    [Range(1, 64)] public int MaxTemplates { get; set; } = 16;
    [Range(1, 1000)] public int MaxLabelCharacters { get; set; } = 200;
    [Range(1, 10_000)] public int MaxCandidateAnswers { get; set; } = 200;
    /// <summary>Characters of one hypothesis template (the label is put into it, and the prompt is drawn and cached).</summary>
    [Range(3, 100_000)] public int MaxTemplateCharacters { get; set; } = 500;
    /// <summary>Prompts (labels x templates) one zero-shot request may draw: each is a canvas for the encoder.</summary>
    [Range(1, 1_000_000)] public int MaxPromptsPerRequest { get; set; } = 2048;
}
