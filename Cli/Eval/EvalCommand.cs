using System.CommandLine;

namespace VqaApi.Cli.Eval;

/// <summary>The <c>eval</c> verb: start the app on a model directory in process, run <see cref="EvalSuite"/> through its HTTP API, write the report.</summary>
public static class EvalCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "model directory to evaluate", Required = true };
        var outDir = new Option<string?>("--out") { Description = "folder for eval.json and eval.md (default: a new folder eval-results/MODEL-TIME in the working folder)" };
        var updateCard = new Option<bool>("--update-model-card") { Description = "write eval.json and eval.md into MODEL_DIR/eval, the model card's numbers, replacing them" };
        var quick = new Option<bool>("--quick") { Description = "small sizes (a smoke run; numbers are noisy)" };
        var gallery = new Option<int?>("--gallery") { Description = "scenes in the image-caption retrieval gallery (default 1000)" };
        var vqa = new Option<int?>("--vqa-per-language") { Description = "VQA questions per language (default 100)" };
        var pairs = new Option<int?>("--pairs-per-language") { Description = "entailment and paraphrase items per language (default 50)" };
        var zeroShot = new Option<int?>("--zero-shot-per-language") { Description = "zero-shot emoji images per language (default 50)" };
        var extra = new Option<int?>("--extra-languages") { Description = "CLDR locales beyond the 12 core languages for zero-shot (default 8)" };
        var facts = new Option<int?>("--facts") { Description = "facts in the cross-lingual text gallery (default 500)" };
        var parallel = new Option<int?>("--parallel") { Description = "held-out real parallel sentences per language, at most (default 500)" };
        var fit = new Option<int?>("--fit-examples") { Description = "train-split examples per head when the suite fits gen-vqa, gen-pair, gen-paraphrase (default 1500)" };
        var seed = new Option<ulong>("--seed") { Description = "eval seed (held-out split)", DefaultValueFactory = _ => EvalSettings.DefaultSeed };
        var refit = new Option<bool>("--refit-heads") { Description = "fit the gen-* heads again even when the model directory has them" };
        var languages = new Option<string?>("--languages") { Description = "comma-separated core languages (default: all 12)" };
        var concurrency = new Option<int>("--concurrency") { Description = "requests in flight", DefaultValueFactory = _ => 8 };
        var world = new VqaApi.Generation.WorldOptionsCli(withLanguages: false);
        var command = new Command("eval", "Evaluate a model directory through the HTTP API (app started in process) on held-out generated data; " +
                                          "further --Section:Key=value arguments configure that app")
        {
            model, outDir, updateCard, quick, gallery, vqa, pairs, zeroShot, extra, facts, parallel, fit, seed, refit, languages, concurrency,
        };
        world.AddTo(command);
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, ct) =>
        {
            var b = parse.GetValue(quick) ? EvalSettings.QuickSizes : EvalSettings.Full;
            VqaApi.Generation.WorldOptions worldOptions;
            try { worldOptions = world.Read(parse); }
            catch (ArgumentException e) { Console.Error.WriteLine($"error: {e.Message}"); return 1; }
            var settings = b with
            {
                Gallery = parse.GetValue(gallery) ?? b.Gallery,
                VqaPerLanguage = parse.GetValue(vqa) ?? b.VqaPerLanguage,
                PairsPerLanguage = parse.GetValue(pairs) ?? b.PairsPerLanguage,
                ZeroShotPerLanguage = parse.GetValue(zeroShot) ?? b.ZeroShotPerLanguage,
                ExtraLanguages = parse.GetValue(extra) ?? b.ExtraLanguages,
                Facts = parse.GetValue(facts) ?? b.Facts,
                Parallel = parse.GetValue(parallel) ?? b.Parallel,
                FitExamples = parse.GetValue(fit) ?? b.FitExamples,
                Seed = parse.GetValue(seed),
                RefitHeads = parse.GetValue(refit),
                Concurrency = parse.GetValue(concurrency),
                World = worldOptions,
                Languages = parse.GetValue(languages) is { } list
                    ? list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    : b.Languages,
            };
            var modelDir = parse.GetValue(model)!;
            try
            {
                if (parse.GetValue(updateCard) && parse.GetValue(outDir) is not null) throw new ArgumentException("give --out or --update-model-card, not both");
                var folder = parse.GetValue(outDir) ?? (parse.GetValue(updateCard) ? Path.Combine(modelDir, "eval")
                    : Path.Combine("eval-results", $"{Path.GetFileName(Path.GetFullPath(modelDir).TrimEnd(Path.DirectorySeparatorChar))}-{DateTime.UtcNow:yyyyMMdd-HHmmss}"));
                var result = await RunAsync(modelDir, folder, settings, parse.UnmatchedTokens.ToArray(), null, Console.Error, ct);
                Console.Out.Write(result.ToMarkdown());
                return 0;
            }
            catch (Exception e) when (e is IOException or ArgumentException or InvalidOperationException or EvalApiException or HttpRequestException
                                          or VqaApi.Tasks.Models.ModelDirectoryException or UnauthorizedAccessException or Microsoft.Extensions.Options.OptionsValidationException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    /// <summary>Starts the app on <paramref name="modelDir"/>, runs the suite, writes eval.json and eval.md to <paramref name="outDir"/> (default MODEL_DIR/eval).</summary>
    public static async Task<EvalResult> RunAsync(string modelDir, string? outDir, EvalSettings settings, string[] hostArgs,
        IReadOnlyDictionary<string, string?>? hostSettings, TextWriter log, CancellationToken ct)
    {
        settings = settings.Validated();
        log.WriteLine($"[eval] starting the API on {modelDir} ...");
        await using var host = await EvalHost.StartAsync(modelDir, hostArgs, hostSettings, ct);
        log.WriteLine($"[eval] serving at {host.Address}");
        var api = new EvalApi(host.Http, host.Limits, settings.Concurrency);
        var result = await new EvalSuite(api, settings, log).RunAsync(ct);
        var folder = outDir ?? Path.Combine(modelDir, "eval");
        Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "eval.json"), result.ToJson(), ct);
        await File.WriteAllTextAsync(Path.Combine(folder, "eval.md"), result.ToMarkdown(), ct);
        log.WriteLine($"[eval] wrote {Path.Combine(folder, "eval.json")} and eval.md in {result.Seconds:F0} s");
        return result;
    }
}
