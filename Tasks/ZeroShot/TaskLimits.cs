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
}
