using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace VqaApi.Cli.Eval;

/// <summary>
/// One measured number with what it should be compared with: <see cref="Chance"/> is what an input-blind predictor
/// scores on exactly these items (for retrieval, counting every gallery item that is an equally correct answer).
/// </summary>
public sealed record EvalMetric(string Name, string Group, double Value, double Chance, int N);

/// <summary>A part of the suite: its metrics, or why it has none ("not available for this render profile").</summary>
public sealed record EvalSection(string Id, string Title, string Status, string? Note, IReadOnlyList<EvalMetric> Metrics)
{
    public const string Ok = "ok", NotAvailable = "not-available", Failed = "failed", Skipped = "skipped";
}

public sealed record EvalResult(
    string Model,
    bool RandomlyInitialized,
    string RenderProfile,
    int ImageSize,
    string ExecutionProvider,
    EvalSettings Settings,
    IReadOnlyList<string> Notes,
    IReadOnlyList<EvalSection> Sections,
    double Seconds,
    DateTimeOffset FinishedAt)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>The report: one table per section, rows = group (language, question type), columns = metrics, every value with its chance level.</summary>
    public string ToMarkdown()
    {
        var md = new StringBuilder();
        md.AppendLine($"# Evaluation of `{Model}`").AppendLine();
        md.AppendLine($"- render profile `{RenderProfile}`, {ImageSize} px, {ExecutionProvider}{(RandomlyInitialized ? "; **randomly initialised (placeholder) model: expect chance level everywhere**" : "")}");
        md.AppendLine($"- held-out split, eval seed {Settings.Seed}; languages {string.Join(" ", Settings.Languages)}; gallery {Settings.Gallery}, " +
                      $"VQA {Settings.VqaPerLanguage}/language, pairs {Settings.PairsPerLanguage}/language, zero-shot {Settings.ZeroShotPerLanguage}/language, " +
                      $"facts {Settings.Facts}, parallel ≤ {Settings.Parallel}/language{(Settings.Quick ? " (--quick)" : "")}");
        md.AppendLine($"- measured through the HTTP API of the app started in process; {Seconds:F0} s");
        foreach (var note in Notes) md.AppendLine($"- {note}");
        md.AppendLine();
        md.AppendLine("Each cell: value, with the chance level (an input-blind predictor on the same items) after the `/`.").AppendLine();
        foreach (var s in Sections)
        {
            md.AppendLine($"## {s.Title}").AppendLine();
            if (s.Status != EvalSection.Ok)
            {
                md.AppendLine($"_{StatusText(s.Status)}{(s.Note is null ? "" : $": {s.Note}")}_").AppendLine();
                continue;
            }
            if (s.Note is not null) md.AppendLine(s.Note).AppendLine();
            var names = s.Metrics.Select(m => m.Name).Distinct().ToList();
            var groups = s.Metrics.Select(m => m.Group).Distinct().ToList();
            md.AppendLine($"| | {string.Join(" | ", names)} | n |");
            md.AppendLine($"|---|{string.Concat(names.Select(_ => "---:|"))}---:|");
            foreach (var g in groups)
            {
                var row = names.Select(n => s.Metrics.FirstOrDefault(m => m.Group == g && m.Name == n) is { } m ? $"{Percent(m.Value)} / {Percent(m.Chance)}" : "");
                int n = s.Metrics.Where(m => m.Group == g).Max(m => m.N);
                md.AppendLine($"| {g} | {string.Join(" | ", row)} | {n} |");
            }
            md.AppendLine();
        }
        return md.ToString();
    }

    private static string StatusText(string status) => status switch
    {
        EvalSection.NotAvailable => "not available for this render profile",
        EvalSection.Skipped => "skipped",
        _ => "failed",
    };

    private static string Percent(double v) => (100 * v).ToString(v < 0.01 ? "F2" : "F1", CultureInfo.InvariantCulture) + "%";
}
