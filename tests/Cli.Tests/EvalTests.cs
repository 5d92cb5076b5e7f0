using System.Text.Json;
using VqaApi.Cli;
using VqaApi.Cli.Eval;
using VqaApi.Tasks.Checkpoints;
using VqaApi.Tasks.Conversion;

using VqaApi.Api.Tests;

namespace VqaApi.Cli.Tests;

/// <summary>The eval suite starts its own app in process; it runs alone (no other host is being built meanwhile, no console sharing).</summary>
[CollectionDefinition("eval", DisableParallelization = true)]
public sealed class EvalCollection;

/// <summary>
/// The eval suite on random-weight models: every number must sit at its chance level (so the suite cannot report
/// success for an untrained model), every section must be there, and the report files must be written.
/// </summary>
[Collection("eval")]
public sealed class EvalTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vqaapi-eval-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);

    private static readonly Dictionary<string, string?> CpuSettings = new() { ["Encoder:UseCuda"] = "false", ["Encoder:WarmUp"] = "false" };

    private string RandomModel(string profile)
    {
        var path = Path.Combine(_dir, "model-" + profile);
        CheckpointConverter.Convert(RandomCheckpoint.Create(ApiFactory.Architecture, seed: 11), "random.npz", path,
            new ConvertOptions { Id = "eval-random-" + profile, RenderProfile = profile });
        return path;
    }

    /// <summary>Four binomial standard deviations around chance, plus a margin for what random features do pick up (text length matches real parallel sentences a little).</summary>
    private static double Tolerance(EvalMetric m) => 4 * Math.Sqrt(m.Chance * (1 - m.Chance) / m.N) + 0.15;

    [Fact]
    public async Task A_random_shaped_model_scores_at_chance_in_every_section()
    {
        var model = RandomModel("shaped");
        var outDir = Path.Combine(_dir, "out");
        var settings = EvalSettings.QuickSizes with
        {
            Gallery = 40, VqaPerLanguage = 8, PairsPerLanguage = 8, ZeroShotPerLanguage = 6, ExtraLanguages = 1, Facts = 40, Parallel = 40,
            FitExamples = 150, Concurrency = 4,
        };
        var log = new StringWriter();
        var result = await EvalCommand.RunAsync(model, outDir, settings, [], CpuSettings, log, CancellationToken.None);

        string[] expected = ["vqa", "entailment", "paraphrase", "retrieval", "cross-lingual", "parallel", "zero-shot"];
        Assert.Equal(expected, result.Sections.Select(s => s.Id));
        foreach (var s in result.Sections)
        {
            // Real parallel sentences need this machine's gettext catalogues; everything else must run.
            if (s.Id == "parallel" && s.Status == EvalSection.Skipped) continue;
            Assert.True(s.Status == EvalSection.Ok, $"{s.Id}: {s.Status} {s.Note}\n{log}");
            Assert.NotEmpty(s.Metrics);
        }
        var all = result.Sections.SelectMany(s => s.Metrics.Select(m => (s.Id, m))).ToList();
        foreach (var (section, m) in all)
        {
            Assert.InRange(m.Chance, 1e-4, 0.75);
            Assert.True(Math.Abs(m.Value - m.Chance) <= Tolerance(m),
                $"{section} {m.Name} [{m.Group}] = {m.Value:P1}, chance {m.Chance:P1}, n {m.N}: a random model must score at chance");
        }
        // Every core language has its row in every per-language section.
        foreach (var code in VqaApi.Generation.Languages.Codes)
        {
            Assert.Contains(all, x => x.Id == "vqa" && x.m.Group == code);
            Assert.Contains(all, x => x.Id == "retrieval" && x.m.Group == code);
            Assert.Contains(all, x => x.Id == "zero-shot" && x.m.Group == code);
        }
        Assert.Contains(result.Notes, n => n.Contains("gen-vqa") && n.Contains("fitted by this suite"));
        Assert.Contains(result.Notes, n => n.Contains("gen-paraphrase") && n.Contains("fitted by this suite"));

        var md = await File.ReadAllTextAsync(Path.Combine(outDir, "eval.md"), CancellationToken.None);
        foreach (var s in result.Sections) Assert.Contains("## " + s.Title, md);
        Assert.Contains(" / ", md); // value / chance in every cell
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(outDir, "eval.json"), CancellationToken.None));
        Assert.Equal(expected, json.RootElement.GetProperty("sections").EnumerateArray().Select(s => s.GetProperty("id").GetString()));
        Assert.Equal(all.Count, json.RootElement.GetProperty("sections").EnumerateArray().Sum(s => s.GetProperty("metrics").GetArrayLength()));
    }

    [Fact]
    public async Task The_eval_verb_reports_layout_sections_as_not_available_under_unifont_and_carries_on()
    {
        var model = RandomModel("unifont");
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var (previousOut, previousError) = (Console.Out, Console.Error);
        Console.SetOut(stdout);
        Console.SetError(stderr);
        int exit;
        try
        {
            exit = await CommandLine.RunAsync(["eval", "--model", model, "--quick", "--languages", "en,de", "--gallery", "10", "--zero-shot-per-language", "3",
                "--extra-languages", "0", "--facts", "10", "--parallel", "10", "--update-model-card", "--Encoder:UseCuda=false", "--Encoder:WarmUp=false"]);
        }
        finally { Console.SetOut(previousOut); Console.SetError(previousError); }
        Assert.True(exit == 0, stderr.ToString());

        var report = stdout.ToString();
        Assert.StartsWith("# Evaluation of `eval-random-unifont`", report);
        Assert.Equal(3, report.Split("not available for this render profile").Length - 1);
        Assert.Contains("| en | ", report);
        Assert.True(File.Exists(Path.Combine(model, "eval", "eval.json")));
        Assert.Equal(report, await File.ReadAllTextAsync(Path.Combine(model, "eval", "eval.md"), CancellationToken.None));
        Assert.False(Directory.Exists(Path.Combine(model, "heads")) && Directory.EnumerateFiles(Path.Combine(model, "heads")).Any());
    }
}
