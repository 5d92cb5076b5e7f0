using System.ComponentModel;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using VqaApi.Api.Hosting;
using VqaApi.Tasks.Embeddings;
using VqaApi.Tasks.ZeroShot;

namespace VqaApi.Api.Inputs;

public static class Labels
{
    /// <summary>Non-empty, distinct, bounded in number and length; refused with a 400 that names the problem.</summary>
    public static List<string> Validate(List<string>? labels, string field, TaskLimits tasks, LimitsOptions limits)
    {
        if (labels is null || labels.Count == 0) throw ApiProblem.BadRequest($"'{field}' is missing or empty; send at least one label", "no_labels");
        if (labels.Count > tasks.MaxLabels)
            throw ApiProblem.BadRequest($"{labels.Count:N0} labels sent; at most {tasks.MaxLabels:N0} per request (Tasks:MaxLabels)", "too_many_labels");
        for (int i = 0; i < labels.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(labels[i])) throw ApiProblem.BadRequest($"{field}[{i}] is empty", "empty_label");
            if (labels[i].Length > tasks.MaxLabelCharacters)
                throw ApiProblem.BadRequest($"{field}[{i}] has {labels[i].Length} characters; at most {tasks.MaxLabelCharacters} (Tasks:MaxLabelCharacters)", "label_too_long");
        }
        var duplicate = labels.GroupBy(l => l).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw ApiProblem.BadRequest($"label '{duplicate.Key}' appears more than once in '{field}'", "duplicate_label");
        return labels;
    }
}
