using System.Diagnostics;
using System.Text.Json;
using VqaApi.Generation;
using VqaApi.Tasks.Serving;

namespace VqaApi.Cli.Eval;

/// <summary>
/// The evaluation suite: held-out generated data sent through the public endpoints of a running app (<see cref="EvalApi"/>),
/// scored here. Sections that the model's render profile cannot draw (pair and VQA layouts under unifont) are
/// reported as not available and the rest goes on.
/// </summary>
public sealed class EvalSuite(EvalApi api, EvalSettings settings, TextWriter log)
{
    public const string VqaHead = "gen-vqa", PairHead = "gen-pair", ParaphraseHead = "gen-paraphrase";
    private const string Same = "same", Different = "different";
    private readonly Stopwatch _clock = new();
    private readonly List<string> _notes = [];
    private EvalData _data = null!;

    /// <summary>Preferred extra CLDR locales for zero-shot (widely spoken, varied scripts); others fill in when one is missing.</summary>
    private static readonly string[] PreferredExtraLanguages = ["pt", "it", "nl", "pl", "tr", "vi", "id", "uk", "sv", "fa", "el", "cs", "ta", "bn", "sw", "fi", "hu", "ro", "da", "ms"];

    public async Task<EvalResult> RunAsync(CancellationToken ct)
    {
        _clock.Restart();
        var model = (await api.GetAsync("/v1/models", ct))[0];
        string id = model.GetProperty("id").GetString()!;
        bool random = model.GetProperty("randomlyInitialized").GetBoolean();
        var profile = model.GetProperty("renderProfile");
        string profileKind = profile.GetProperty("kind").GetString()!;
        int size = model.GetProperty("input").GetProperty("height").GetInt32();
        string provider = model.GetProperty("executionProvider").GetString() ?? "?";
        Log($"model {id} ({profileKind}, {size} px, {provider}){(random ? ", randomly initialised" : "")}");
        _data = new EvalData(size, settings.Seed, settings.Languages, settings.World);
        if (!settings.World.IsFull) _notes.Add($"data from part of the generated world: {settings.World.Describe()}");
        if (random) _notes.Add("the model is randomly initialised: every number should be at its chance level");

        var sections = new List<EvalSection>
        {
            await SectionAsync("vqa", "VQA accuracy (head gen-vqa, VQA layout)", VqaAsync, ct),
            await SectionAsync("entailment", "Sentence-pair entailment accuracy (head gen-pair, pair layout)", EntailmentAsync, ct),
            await SectionAsync("paraphrase", "Cross-lingual paraphrase accuracy (head gen-paraphrase, pair layout)", ParaphraseAsync, ct),
            await SectionAsync("retrieval", "Image-caption retrieval", RetrievalAsync, ct),
            await SectionAsync("cross-lingual", "Cross-lingual text-to-text retrieval: generated facts", FactsAsync, ct),
            await SectionAsync("parallel", "Cross-lingual text-to-text retrieval: real parallel sentences (held-out gettext messages)", ParallelAsync, ct),
            await SectionAsync("zero-shot", "Zero-shot emoji classification with CLDR names (template \"{}\")", ZeroShotAsync, ct),
        };
        return new EvalResult(id, random, profileKind + (profile.TryGetProperty(profileKind, out var p) && p.ValueKind == JsonValueKind.Object && p.TryGetProperty("name", out var n) ? $" ({n.GetString()})" : ""),
            size, provider, settings, _notes, sections, _clock.Elapsed.TotalSeconds, DateTimeOffset.UtcNow);
    }

    private void Log(string message) => log.WriteLine($"[eval {_clock.Elapsed:mm\\:ss}] {message}");

    private Action<int> Progress(string what, int total)
    {
        int step = Math.Max(1, total / 5), last = 0;
        return done =>
        {
            int mark = done / step;
            if (mark > Volatile.Read(ref last) && Interlocked.Exchange(ref last, mark) < mark && done < total) Log($"  {what}: {done}/{total}");
        };
    }

    private async Task<EvalSection> SectionAsync(string sectionId, string title, Func<CancellationToken, Task<(IReadOnlyList<EvalMetric> Metrics, string? Note)>> run, CancellationToken ct)
    {
        Log($"{sectionId} ...");
        var started = _clock.Elapsed;
        try
        {
            var (metrics, note) = await run(ct);
            Log($"{sectionId} done in {(_clock.Elapsed - started).TotalSeconds:F0} s");
            return new EvalSection(sectionId, title, metrics.Count > 0 ? EvalSection.Ok : EvalSection.Skipped, note, metrics);
        }
        catch (EvalApiException e) when (e.LayoutNotSupported)
        {
            Log($"{sectionId}: not available for this render profile");
            return new EvalSection(sectionId, title, EvalSection.NotAvailable, e.Detail ?? e.Message, []);
        }
        catch (SectionSkipped e)
        {
            Log($"{sectionId}: skipped, {e.Message}");
            return new EvalSection(sectionId, title, EvalSection.Skipped, e.Message, []);
        }
        catch (Exception e) when (e is EvalApiException or HttpRequestException or InvalidOperationException or KeyNotFoundException or ArgumentException or IOException)
        {
            Log($"{sectionId} FAILED: {e.Message}");
            return new EvalSection(sectionId, title, EvalSection.Failed, e.Message, []);
        }
    }

    private sealed class SectionSkipped(string message) : Exception(message);

    // ---- heads ----

    /// <summary>
    /// Makes sure the head exists for the served model: reused when it does (unless --refit-heads), otherwise
    /// fitted through POST /v1/heads on train-split examples. Probes the layout first, so a profile that cannot draw
    /// it costs one small request.
    /// </summary>
    private async Task EnsureHeadAsync(string name, string task, int hidden, Func<object> probe, Func<IReadOnlyList<object>> examples, CancellationToken ct,
        Dictionary<string, Dictionary<string, string>>? labelNames = null)
    {
        await api.PostAsync("/v1/render", probe(), ct); // 400 layout_not_supported under the unifont profile
        var heads = await api.GetAsync("/v1/heads", ct);
        var existing = heads.EnumerateArray().FirstOrDefault(h => h.GetProperty("name").GetString() == name);
        if (existing.ValueKind == JsonValueKind.Object && !settings.RefitHeads && existing.GetProperty("fittedOnServedModel").GetBoolean()
            && existing.GetProperty("task").GetString() == task)
        {
            _notes.Add($"head {name}: the model directory's own (validation accuracy {Accuracy(existing.GetProperty("metrics"))})");
            return;
        }
        Log($"  fitting head {name} ({task}) on {settings.FitExamples} train-split examples ...");
        var list = examples();
        var fitted = await api.PostAsync("/v1/heads", new
        {
            name, task, examples = list, hidden, validation_fraction = 0.1, seed = (int)(settings.Seed % int.MaxValue), overwrite = true,
            label_names = labelNames,
        }, ct);
        var m = fitted.GetProperty("metrics");
        string note = $"head {name}: **fitted by this suite** ({(settings.RefitHeads ? "--refit-heads" : "the model had none")}) through POST /v1/heads on {list.Count:N0} " +
                      $"train-split examples, {(hidden > 0 ? $"hidden {hidden}" : "linear")}: train accuracy {m.GetProperty("trainAccuracy").GetDouble():P1}, " +
                      $"validation accuracy {Accuracy(m)}, {m.GetProperty("seconds").GetDouble():F0} s" +
                      (task == "vqa" ? $" (the examples' images travel in that one request: the suite's own server accepts bodies up to {api.Limits.MaxRequestBodyBytes / (1 << 20):N0} MiB)" : "");
        _notes.Add(note);
        Log("  " + note.Replace("**", ""));
    }

    private static string Accuracy(JsonElement metrics) =>
        metrics.TryGetProperty("validationAccuracy", out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble().ToString("P1") : "n/a";

    private string ProbePng() => Convert.ToBase64String(_data.Png(_data.EmojiScene(0, new Random(1))));

    // ---- VQA ----

    private async Task<(IReadOnlyList<EvalMetric>, string?)> VqaAsync(CancellationToken ct)
    {
        await EnsureHeadAsync(VqaHead, "vqa", settings.VqaHidden,
            () => new { question = "?", image = new { data = ProbePng() } },
            () =>
            {
                var items = Enumerable.Range(0, settings.FitExamples).Select(i =>
                {
                    var random = _data.Random(Split.Train, EvalData.VqaBlock, i);
                    var item = _data.World.RandomVqa(random);
                    var language = _data.Selected[random.Next(_data.Selected.Count)];
                    return (item, question: _data.World.Ask(language, item, random));
                }).ToList();
                var pngs = _data.Pngs(items.Select(x => x.item.Scene).ToList());
                return items.Select((x, i) => (object)new { label = x.item.Question.AnswerId, image = new { data = Convert.ToBase64String(pngs[i]) }, question = x.question }).ToList();
            }, ct,
            // Every answer id with its label in each language, so the head's answers can be shown to users.
            Answers.All.ToDictionary(id => id, id => _data.All.ToDictionary(l => l.Code, l => l.AnswerLabel(id))));

        int n = settings.VqaPerLanguage;
        var items = _data.Selected.SelectMany(language => Enumerable.Range(0, n).Select(j =>
        {
            var random = _data.Random(Split.HeldOut, EvalData.VqaBlock, Languages.IndexOf(language.Code) * (long)n + j);
            var item = _data.World.RandomVqa(random);
            return (language: language.Code, item, question: _data.World.Ask(language, item, random));
        })).ToList();
        var pngs = _data.Pngs(items.Select(x => x.item.Scene).ToList());
        var answers = await api.MapAsync(Enumerable.Range(0, items.Count).ToList(), async (i, token) =>
        {
            var answer = await api.PostAsync("/v1/vqa", new { image = new { data = Convert.ToBase64String(pngs[i]) }, question = items[i].question, head = VqaHead, top_k = 1 }, token);
            return answer.GetProperty("answers")[0].GetProperty("label").GetString();
        }, Progress("questions", items.Count), ct);

        var scored = items.Select((x, i) => (x.language, type: x.item.Question.Type, correct: answers[i] == x.item.Question.AnswerId ? 1.0 : 0.0,
            chance: 1.0 / _data.AnswersOfType(x.item.Question.Type))).ToList();
        var metrics = new List<EvalMetric> { Mean("accuracy", "all", scored.Select(s => (s.correct, s.chance))) };
        metrics.AddRange(scored.GroupBy(s => s.language).Select(g => Mean("accuracy", g.Key, g.Select(s => (s.correct, s.chance)))));
        metrics.AddRange(scored.GroupBy(s => s.type).OrderBy(g => g.Key).Select(g => Mean("accuracy", $"type: {g.Key.ToString().ToLowerInvariant()}", g.Select(s => (s.correct, s.chance)))));
        return (metrics, $"Chance: a uniform guess among the answers of the question's type (count 1/{_data.AnswersOfType(QuestionType.Count)}, colour 1/{_data.AnswersOfType(QuestionType.Color)}, shape 1/{_data.AnswersOfType(QuestionType.Shape)}, yes/no 1/2); answers are balanced within each type.");
    }

    private static EvalMetric Mean(string name, string group, IEnumerable<(double Correct, double Chance)> items)
    {
        var list = items.ToList();
        return new EvalMetric(name, group, list.Average(x => x.Correct), list.Average(x => x.Chance), list.Count);
    }

    // ---- sentence pairs ----

    private (string Premise, string Hypothesis, string Label) EntailmentItem(Split split, long index, ILanguage? language)
    {
        var random = _data.Random(split, EvalData.PairBlock, index);
        var item = _data.World.RandomPair(random);
        var lang = language ?? _data.Selected[random.Next(_data.Selected.Count)];
        return (lang.Caption(item.Premise, 1, random), lang.Statement(item.Hypothesis, random), item.Label.ToString().ToLowerInvariant());
    }

    private async Task<(IReadOnlyList<EvalMetric>, string?)> EntailmentAsync(CancellationToken ct)
    {
        await EnsureHeadAsync(PairHead, "pair", settings.PairHidden, () => new { pair = new { first = "a", second = "b" } },
            () => Enumerable.Range(0, settings.FitExamples).Select(i => EntailmentItem(Split.Train, i, null))
                .Select(x => (object)new { label = x.Label, pair = new { premise = x.Premise, hypothesis = x.Hypothesis } }).ToList(), ct);
        int n = settings.PairsPerLanguage;
        var items = _data.Selected.SelectMany(l => Enumerable.Range(0, n).Select(j => (language: l.Code, item: EntailmentItem(Split.HeldOut, Languages.IndexOf(l.Code) * (long)n + j, l)))).ToList();
        var metrics = await ClassifyPairsAsync(PairHead, items, 1.0 / 3, ct);
        return (metrics, "Premise: a whole-scene caption; hypothesis: a count or relation that it entails, contradicts, or leaves open (labels uniform, chance 1/3).");
    }

    private (string Premise, string Hypothesis, string Label) ParaphraseItem(Split split, long index, ILanguage? language)
    {
        var random = _data.Random(split, EvalData.ParaphraseBlock, index);
        var a = language ?? _data.Selected[random.Next(_data.Selected.Count)];
        var others = _data.Selected.Where(l => l.Code != a.Code).ToList();
        var b = others.Count > 0 ? others[random.Next(others.Count)] : a;
        var fact = _data.RandomTextFact(random);
        bool same = random.Next(2) == 0;
        var second = fact;
        if (!same)
        {
            // Another fact, about a fresh scene, never the same claim.
            do second = _data.RandomTextFact(random); while (EvalData.Key(second) == EvalData.Key(fact));
        }
        var first = EvalData.Say(a, fact, random);
        return (first, EvalData.Say(b, second, random), same ? Same : Different);
    }

    private async Task<(IReadOnlyList<EvalMetric>, string?)> ParaphraseAsync(CancellationToken ct)
    {
        await EnsureHeadAsync(ParaphraseHead, "pair", settings.PairHidden, () => new { pair = new { first = "a", second = "b" } },
            () => Enumerable.Range(0, settings.FitExamples).Select(i => ParaphraseItem(Split.Train, i, null))
                .Select(x => (object)new { label = x.Label, pair = new { premise = x.Premise, hypothesis = x.Hypothesis } }).ToList(), ct);
        int n = settings.PairsPerLanguage;
        var items = _data.Selected.SelectMany(l => Enumerable.Range(0, n).Select(j => (language: l.Code, item: ParaphraseItem(Split.HeldOut, Languages.IndexOf(l.Code) * (long)n + j, l)))).ToList();
        var metrics = await ClassifyPairsAsync(ParaphraseHead, items, 0.5, ct);
        return (metrics, "The same fact in the row's language and another language, or two different facts (50/50, chance 1/2).");
    }

    private async Task<List<EvalMetric>> ClassifyPairsAsync(string head, List<(string Language, (string Premise, string Hypothesis, string Label) Item)> items, double chance, CancellationToken ct)
    {
        var predicted = await api.MapAsync(items, async (x, token) =>
        {
            var answer = await api.PostAsync("/v1/classify/text", new { head, pair = new { premise = x.Item.Premise, hypothesis = x.Item.Hypothesis }, top_k = 1 }, token);
            return answer.GetProperty("labels")[0].GetProperty("label").GetString();
        }, Progress("pairs", items.Count), ct);
        var scored = items.Select((x, i) => (x.Language, correct: predicted[i] == x.Item.Label ? 1.0 : 0.0)).ToList();
        var metrics = new List<EvalMetric> { Mean("accuracy", "all", scored.Select(s => (s.correct, chance))) };
        metrics.AddRange(scored.GroupBy(s => s.Language).Select(g => Mean("accuracy", g.Key, g.Select(s => (s.correct, chance)))));
        return metrics;
    }

    // ---- retrieval ----

    private async Task<(IReadOnlyList<EvalMetric>, string?)> RetrievalAsync(CancellationToken ct)
    {
        int g = settings.Gallery;
        var scenes = new List<Scene>(g);
        var captions = new List<SceneCaption>(g);
        for (int i = 0; i < g; i++)
        {
            var random = _data.Random(Split.HeldOut, EvalData.RetrievalBlock, i);
            var scene = _data.World.RandomScene(random);
            scenes.Add(scene);
            captions.Add(WorldSampler.CaptionOf(scene, random, withRelation: false));
        }
        var keys = captions.Select(c => EvalData.Key(c)).ToArray();
        Log($"  painting {g} scenes ...");
        var pngs = _data.Pngs(scenes);
        Log($"  embedding {g} images ...");
        var images = await api.EmbedImagesAsync(pngs, Progress("images", g), ct);
        var metrics = new List<EvalMetric>();
        foreach (var language in _data.Selected)
        {
            int li = Languages.IndexOf(language.Code);
            var texts = captions.Select((c, i) =>
            {
                var random = _data.Random(Split.HeldOut, EvalData.RetrievalBlock + 100_000, i * 16L + li);
                return language.Caption(c, random.Next(2), random);
            }).ToList();
            var embedded = await api.EmbedTextsAsync(texts, null, ct);
            var (i2t, i2tChance) = Ranking.Recall(images, keys, embedded, keys, [1, 5]);
            var (t2i, t2iChance) = Ranking.Recall(embedded, keys, images, keys, [1, 5]);
            metrics.Add(new EvalMetric("image→caption R@1", language.Code, i2t[0], i2tChance[0], g));
            metrics.Add(new EvalMetric("image→caption R@5", language.Code, i2t[1], i2tChance[1], g));
            metrics.Add(new EvalMetric("caption→image R@1", language.Code, t2i[0], t2iChance[0], g));
            metrics.Add(new EvalMetric("caption→image R@5", language.Code, t2i[1], t2iChance[1], g));
            Log($"  {language.Code}: image→caption R@1 {i2t[0]:P1}, caption→image R@1 {t2i[0]:P1}");
        }
        int distinct = keys.Distinct().Count();
        return (metrics, $"{g} held-out scenes sent as PNG, each captioned in every language (style 0 or 1); cosine ranking. " +
                         $"{distinct} distinct captions: a scene with the same content as the query counts as correct, and chance counts it too.");
    }

    // ---- cross-lingual text ----

    private async Task<(IReadOnlyList<EvalMetric>, string?)> FactsAsync(CancellationToken ct)
    {
        var pivot = _data.Selected.FirstOrDefault(l => l.Code == "en") ?? _data.Selected[0];
        var others = _data.Selected.Where(l => l != pivot).ToList();
        if (others.Count == 0) throw new SectionSkipped("needs at least two languages");
        int f = settings.Facts;
        var facts = Enumerable.Range(0, f).Select(i => _data.RandomTextFact(_data.Random(Split.HeldOut, EvalData.FactBlock, i))).ToList();
        var keys = facts.Select(EvalData.Key).ToArray();
        string[] Texts(ILanguage language) => facts.Select((fact, i) =>
            EvalData.Say(language, fact, _data.Random(Split.HeldOut, EvalData.FactBlock + 100_000, i * 16L + Languages.IndexOf(language.Code)))).ToArray();
        var pivotEmbedded = await api.EmbedTextsAsync(Texts(pivot), null, ct);
        var metrics = new List<EvalMetric>();
        foreach (var language in others)
        {
            var embedded = await api.EmbedTextsAsync(Texts(language), null, ct);
            var (a, aChance) = Ranking.Recall(pivotEmbedded, keys, embedded, keys, [1]);
            var (b, bChance) = Ranking.Recall(embedded, keys, pivotEmbedded, keys, [1]);
            metrics.Add(new EvalMetric($"{pivot.Code}→xx R@1", language.Code, a[0], aChance[0], f));
            metrics.Add(new EvalMetric($"xx→{pivot.Code} R@1", language.Code, b[0], bChance[0], f));
            metrics.Add(new EvalMetric("mean R@1", language.Code, (a[0] + b[0]) / 2, (aChance[0] + bChance[0]) / 2, f));
        }
        return (metrics, $"{f} held-out facts (counts, relations, a quarter whole-scene captions), said in {pivot.Code} and in each other language; the same claim counts as correct.");
    }

    private async Task<(IReadOnlyList<EvalMetric>, string?)> ParallelAsync(CancellationToken ct)
    {
        if (!_data.Selected.Any(l => l.Code != "en")) throw new SectionSkipped("needs a language other than English");
        Log($"  loading gettext catalogues under {settings.ParallelRoot} ...");
        var corpus = ParallelCorpus.Load(settings.ParallelRoot);
        if (corpus.Pairs(heldOut: true).Count == 0) throw new SectionSkipped($"no parallel sentences found under {settings.ParallelRoot}");
        const int minimum = 10;
        var perLanguage = new List<(string Code, List<(string En, string Xx)> Pairs)>();
        foreach (var language in _data.Selected.Where(l => l.Code != "en"))
        {
            // Unique on both sides, so exactly one gallery item is right.
            var pairs = corpus.Pairs("en", language.Code, heldOut: true).Select(p => (En: p.A.Text, Xx: p.B.Text)).ToList();
            var enDup = pairs.GroupBy(p => p.En).Where(x => x.Count() > 1).Select(x => x.Key).ToHashSet();
            var xxDup = pairs.GroupBy(p => p.Xx).Where(x => x.Count() > 1).Select(x => x.Key).ToHashSet();
            var kept = pairs.Where(p => !enDup.Contains(p.En) && !xxDup.Contains(p.Xx)).Take(settings.Parallel).ToList();
            if (kept.Count >= minimum) perLanguage.Add((language.Code, kept));
        }
        if (perLanguage.Count == 0) throw new SectionSkipped($"fewer than {minimum} held-out parallel sentences with English for every language");
        var english = perLanguage.SelectMany(l => l.Pairs.Select(p => p.En)).Distinct().ToList();
        Log($"  embedding {english.Count} English sentences ...");
        var englishEmbedded = english.Zip(await api.EmbedTextsAsync(english, Progress("English sentences", english.Count), ct)).ToDictionary(p => p.First, p => p.Second);
        var metrics = new List<EvalMetric>();
        foreach (var (code, pairs) in perLanguage)
        {
            var xx = await api.EmbedTextsAsync(pairs.Select(p => p.Xx).ToList(), null, ct);
            var en = pairs.Select(p => englishEmbedded[p.En]).ToArray();
            var keys = pairs.Select(p => p.En).ToArray();
            var (a, aChance) = Ranking.Recall(en, keys, xx, keys, [1]);
            var (b, bChance) = Ranking.Recall(xx, keys, en, keys, [1]);
            metrics.Add(new EvalMetric("en→xx R@1", code, a[0], aChance[0], pairs.Count));
            metrics.Add(new EvalMetric("xx→en R@1", code, b[0], bChance[0], pairs.Count));
            metrics.Add(new EvalMetric("mean R@1", code, (a[0] + b[0]) / 2, (aChance[0] + bChance[0]) / 2, pairs.Count));
        }
        var missing = _data.Selected.Where(l => l.Code != "en" && perLanguage.All(p => p.Code != l.Code)).Select(l => l.Code).ToList();
        return (metrics, $"Up to {settings.Parallel} held-out messages per language from this machine's gettext catalogues ({corpus.Stats.CataloguesRead} read), " +
                         $"English against the translation, each side unique; the gallery is that language's messages." +
                         (missing.Count > 0 ? $" Too few (< {minimum}) for: {string.Join(", ", missing)}." : ""));
    }

    // ---- zero-shot ----

    private async Task<(IReadOnlyList<EvalMetric>, string?)> ZeroShotAsync(CancellationToken ct)
    {
        var emoji = _data.SceneEmoji.Items;
        var languages = _data.Selected.Select(l => l.Code).ToList();
        var core = EmojiCatalog.CoreLanguages.ToHashSet();
        var covered = emoji.SelectMany(e => e.Names.Keys).Distinct()
            .Where(code => !core.Contains(code) && emoji.Count(e => e.NameIn(code) is not null) >= emoji.Count * 9 / 10).ToList();
        languages.AddRange(covered.OrderBy(code => Array.IndexOf(PreferredExtraLanguages, code) is var i && i >= 0 ? i : int.MaxValue)
            .ThenBy(code => code, StringComparer.Ordinal).Take(settings.ExtraLanguages));
        int n = settings.ZeroShotPerLanguage;
        var metrics = new List<EvalMetric>();
        var chance = new List<(double Correct, double Chance)>();
        foreach (var code in languages)
        {
            // Candidates: the CLDR names of the scene emoji in this language; a name two emoji share is ambiguous and left out.
            var named = Enumerable.Range(0, emoji.Count).Where(e => emoji[e].NameIn(code) is not null).ToList();
            var ambiguous = named.GroupBy(e => emoji[e].NameIn(code)!).Where(x => x.Count() > 1).Select(x => x.Key).ToHashSet();
            var valid = named.Where(e => !ambiguous.Contains(emoji[e].NameIn(code)!)).ToList();
            var labels = valid.Select(e => emoji[e].NameIn(code)!).ToList();
            long slot = Languages.IndexOf(code) is var li && li >= 0 ? li : 12 + Fnv(code) % 10_000;
            var items = Enumerable.Range(0, n).Select(j =>
            {
                var random = _data.Random(Split.HeldOut, EvalData.ZeroShotBlock, slot * 100_000 + j);
                int e = valid[random.Next(valid.Count)];
                return (emoji: e, scene: _data.EmojiScene(e, random));
            }).ToList();
            var pngs = _data.Pngs(items.Select(x => x.scene).ToList());
            async Task<string?> Classify(int i, CancellationToken token)
            {
                var answer = await api.PostAsync("/v1/classify/zero-shot",
                    new { image = new { data = Convert.ToBase64String(pngs[i]) }, candidate_labels = labels, hypothesis_template = "{}", top_k = 1 }, token);
                return answer.GetProperty("labels")[0].GetProperty("label").GetString();
            }
            // The first request alone fills the server's prompt cache; concurrent first requests would each encode every label.
            var first = await Classify(0, ct);
            var predicted = (await api.MapAsync(Enumerable.Range(1, n - 1).ToList(), Classify, null, ct)).Prepend(first).ToArray();
            var scored = items.Select((x, i) => (predicted[i] == emoji[x.emoji].NameIn(code) ? 1.0 : 0.0, 1.0 / labels.Count)).ToList();
            chance.AddRange(scored);
            var metric = Mean("accuracy", code + (core.Contains(code) ? "" : " (extra)"), scored);
            metrics.Add(metric);
            Log($"  {code}: {metric.Value:P1} over {labels.Count} labels");
        }
        metrics.Insert(0, Mean("accuracy", "all", chance));
        return (metrics, $"One emoji in a held-out scene; the candidates are the CLDR names of the {emoji.Count} scene emoji in the row's language " +
                         $"(names two emoji share left out); {settings.ExtraLanguages} extra CLDR locales beyond the core languages.");
    }

    private static long Fnv(string s)
    {
        uint h = 2166136261;
        foreach (char c in s) { h ^= c; h *= 16777619; }
        return h;
    }
}
