namespace VqaApi.Cli.Eval;

/// <summary>What the suite measures and how much of it. <see cref="Full"/> and <see cref="QuickSizes"/> are the two presets.</summary>
public sealed record EvalSettings
{
    /// <summary>Default eval seed; the data is always drawn from the held-out split, heads are fitted on the train split.</summary>
    public const ulong DefaultSeed = 20_261_127;

    public ulong Seed { get; init; } = DefaultSeed;
    public bool Quick { get; init; }
    /// <summary>Core languages evaluated (codes of the hand-written grammars).</summary>
    public IReadOnlyList<string> Languages { get; init; } = VqaApi.Generation.Languages.Codes;
    /// <summary>Scenes in the image/caption retrieval gallery (each captioned in every language).</summary>
    public int Gallery { get; init; } = 1000;
    public int VqaPerLanguage { get; init; } = 100;
    /// <summary>Entailment items and paraphrase items per language.</summary>
    public int PairsPerLanguage { get; init; } = 50;
    public int ZeroShotPerLanguage { get; init; } = 50;
    /// <summary>Other CLDR locales for zero-shot emoji classification, beyond the core languages.</summary>
    public int ExtraLanguages { get; init; } = 8;
    /// <summary>Facts in the cross-lingual text-to-text gallery.</summary>
    public int Facts { get; init; } = 500;
    /// <summary>Held-out real parallel sentences per language, at most.</summary>
    public int Parallel { get; init; } = 500;
    /// <summary>Train-split examples per head when the suite fits gen-vqa, gen-pair and gen-paraphrase.</summary>
    public int FitExamples { get; init; } = 1500;
    public int VqaHidden { get; init; } = 256;
    public int PairHidden { get; init; } = 128;
    public bool RefitHeads { get; init; }
    /// <summary>Requests in flight at once (the encoder batches across them).</summary>
    public int Concurrency { get; init; } = 8;
    public string ParallelRoot { get; init; } = VqaApi.Generation.ParallelCorpus.DefaultRoot;
    /// <summary>The part of the generated world the data comes from (a curriculum stage's world; the full world by default).</summary>
    public VqaApi.Generation.WorldOptions World { get; init; } = VqaApi.Generation.WorldOptions.Full;

    public static EvalSettings Full => new();

    /// <summary>Refuses sizes the suite cannot use (each part draws its items from its own block of a million indexes).</summary>
    public EvalSettings Validated()
    {
        static void Check(bool ok, string message) { if (!ok) throw new ArgumentException(message); }
        Check(Languages.Count > 0, "--languages names no language");
        Check(Gallery is >= 5 and <= 50_000, "--gallery must be 5..50000");
        Check(VqaPerLanguage is >= 1 and <= 50_000, "--vqa-per-language must be 1..50000");
        Check(PairsPerLanguage is >= 1 and <= 50_000, "--pairs-per-language must be 1..50000");
        Check(ZeroShotPerLanguage is >= 1 and <= 50_000, "--zero-shot-per-language must be 1..50000");
        Check(ExtraLanguages is >= 0 and <= 200, "--extra-languages must be 0..200");
        Check(Facts is >= 5 and <= 50_000, "--facts must be 5..50000");
        Check(Parallel is >= 10, "--parallel must be at least 10");
        Check(FitExamples is >= 10 and <= 100_000, "--fit-examples must be 10..100000");
        Check(Concurrency is >= 1 and <= 256, "--concurrency must be 1..256");
        return this;
    }

    /// <summary>Small sizes for tests and smoke runs (a minute on a CPU with a small model).</summary>
    public static EvalSettings QuickSizes => new()
    {
        Quick = true, Gallery = 48, VqaPerLanguage = 10, PairsPerLanguage = 10, ZeroShotPerLanguage = 10, ExtraLanguages = 2,
        Facts = 48, Parallel = 48, FitExamples = 240, VqaHidden = 64, PairHidden = 32,
    };
}
