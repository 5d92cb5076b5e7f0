using VqaApi.Rendering;
using VqaApi.Rendering.Shaped;

namespace VqaApi.Generation;

public enum ExampleKind : byte { Caption = 0, TextPair = 1, Vqa = 2, Pair = 3 }

public enum Split : byte { Train = 0, HeldOut = 1, Novel = 2 }

/// <summary>A real parallel sentence pair: the same message in two languages (BCP 47 codes).</summary>
public sealed record ParallelPair(string LanguageA, string TextA, string LanguageB, string TextB);

/// <summary>
/// One generated example before rendering: its kind, the scene (if any), the texts of canvases A and B, the
/// languages and the label. <see cref="Render"/> turns it into the two canvases the stream carries.
/// </summary>
/// <remarks><see cref="ContentKey"/> is the hash of what the example says (<see cref="Generation.ContentKey"/>); 0 when unknown.</remarks>
public sealed record Example(ExampleKind Kind, long Index, Scene? Scene, string? TextA, string? TextB, int LanguageA, int LanguageB, int Label, byte QuestionType, ulong ContentKey = 0)
{
    /// <summary>What the canvases show or name (<see cref="ContentAttributes"/>); none by default.</summary>
    public ContentAttributes Attributes { get; init; }

    /// <summary>The VQA question (kind <see cref="ExampleKind.Vqa"/> only), for metadata.</summary>
    public Question? Question { get; init; }
}

/// <summary>How often each kind of example is drawn.</summary>
public sealed record ExampleMix(double Caption, double TextPair, double Vqa, double Pair)
{
    public static readonly ExampleMix Default = new(4, 2, 3, 1);

    /// <summary>Parses "caption=4,text=2,vqa=3,pair=1" (missing kinds get 0).</summary>
    public static ExampleMix Parse(string text)
    {
        double c = 0, t = 0, v = 0, p = 0;
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split('=', 2);
            if (kv.Length != 2 || !double.TryParse(kv[1], System.Globalization.CultureInfo.InvariantCulture, out var w) || w < 0 || !double.IsFinite(w))
                throw new FormatException($"mix entry '{part}' must look like kind=weight with a weight >= 0");
            switch (kv[0])
            {
                case "caption": c = w; break;
                case "text": t = w; break;
                case "vqa": v = w; break;
                case "pair": p = w; break;
                default: throw new FormatException($"unknown kind '{kv[0]}' in the mix: use caption, text, vqa, pair");
            }
        }
        if (c + t + v + p <= 0) throw new FormatException("the mix gives every kind weight 0");
        return new ExampleMix(c, t, v, p);
    }

    public ExampleKind Pick(Random random)
    {
        double u = random.NextDouble() * (Caption + TextPair + Vqa + Pair);
        if ((u -= Caption) < 0) return ExampleKind.Caption;
        if ((u -= TextPair) < 0) return ExampleKind.TextPair;
        if ((u -= Vqa) < 0) return ExampleKind.Vqa;
        return ExampleKind.Pair;
    }
}

/// <summary>
/// Seeded examples: example i of (split, seed) is drawn from its own random source, so any worker can make any
/// example and the same seed gives the same bytes. Seeds of different splits never coincide: the split is in the
/// low two bits of every example's 31-bit seed.
/// </summary>
public sealed class ExampleGenerator
{
    private readonly WorldSampler _world;
    private readonly IReadOnlyList<ILanguage> _languages;
    private readonly IReadOnlyList<ParallelPair> _parallel;
    private readonly ScenePainter _painter;
    private readonly ShapedRenderer _renderer;
    private readonly Dictionary<string, int> _languageIndex;
    private readonly int[] _languageChoices;

    public ExampleGenerator(ShapedRenderer renderer, IReadOnlyList<ILanguage> languages, EmojiCatalog emoji, IReadOnlyList<ParallelPair>? parallel = null,
        WorldOptions? world = null)
    {
        _renderer = renderer;
        _languages = languages;
        _painter = new ScenePainter(emoji);
        _world = new WorldSampler(renderer.Size, emoji.Items.Count, world);
        _languageIndex = languages.Select((l, i) => (l.Code, i)).ToDictionary(p => p.Code, p => p.i);
        var chosen = _world.Options.Languages;
        _languageChoices = chosen is null ? [.. Enumerable.Range(0, languages.Count)]
            : [.. chosen.Select(c => _languageIndex.TryGetValue(c, out var i) ? i : throw new ArgumentException($"language '{c}' is not one of the generator's"))];
        // Real parallel sentences only between the chosen languages.
        _parallel = chosen is null ? parallel ?? [] : (parallel ?? []).Where(p => chosen.Contains(p.LanguageA) && chosen.Contains(p.LanguageB)).ToList();
    }

    public WorldSampler World => _world;
    public ScenePainter Painter => _painter;
    public ShapedRenderer Renderer => _renderer;
    public IReadOnlyList<ILanguage> Languages => _languages;
    public int Size => _renderer.Size;

    /// <summary>The seed of example <paramref name="index"/>: a SplitMix64 hash of (seed, index), split in the low two bits.</summary>
    public static int ExampleSeed(Split split, ulong seed, long index)
    {
        ulong z = seed * 0x9E3779B97F4A7C15UL + (ulong)index + 0x632BE59BD9B4E019UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return (int)((z & 0x1FFF_FFFFUL) << 2) | (int)split;
    }

    public Example Sample(Split split, ulong seed, long index, ExampleMix mix)
    {
        var random = new Random(ExampleSeed(split, seed, index));
        var kind = mix.Pick(random);
        int la = _languageChoices[random.Next(_languageChoices.Length)];
        var lang = _languages[la];
        var styles = _world.Options.CaptionStyles;
        switch (kind)
        {
            case ExampleKind.Caption:
            {
                var scene = _world.RandomScene(random, novel: split == Split.Novel);
                int style = styles[random.Next(styles.Count)];
                if (style == WorldOptions.WordStyle)
                {
                    if (scene.Objects is [{ IsEmoji: false } only])
                    {
                        // One shape, named by its colour or its shape alone: the key is the word's meaning, the
                        // attributes (the whole scene) are the image's only.
                        string answer = random.Next(2) == 0 ? Answers.Color(only.Color!.Value) : Answers.Shape(only.Shape!.Value);
                        var at = ContentAttributes.OfScene(scene);
                        return new Example(kind, index, scene, null, lang.AnswerLabel(answer), -1, la, -1, 0, ContentKey.Hash("word: " + answer))
                            { Attributes = at with { Flags = (byte)(at.Flags & ~ContentAttributes.OnB) } };
                    }
                    style = 0;
                }
                var caption = WorldSampler.CaptionOf(scene, random, withRelation: style == 2);
                return new Example(kind, index, scene, null, lang.Caption(caption, style, random), -1, la, -1, 0,
                    ContentKey.Hash(ContentKey.Of(caption with { Relation = null }))) { Attributes = ContentAttributes.OfScene(scene) };
            }
            case ExampleKind.TextPair:
            {
                if (_parallel.Count > 0 && random.Next(2) == 0)
                {
                    int pi = random.Next(_parallel.Count);
                    var p = _parallel[pi];
                    return new Example(kind, index, null, p.TextA, p.TextB, LanguageIndex(p.LanguageA), LanguageIndex(p.LanguageB), -1, 0,
                        ContentKey.Hash($"parallel: {p.LanguageA} {p.TextA}"));
                }
                if (_world.Options.QuestionPairsShare > 0 && random.NextDouble() < _world.Options.QuestionPairsShare)
                {
                    var item = _world.RandomVqa(random);
                    int lq = _languageChoices[random.Next(_languageChoices.Length)];
                    string first = WorldSampler.AskEitherWay(lang, item, random);
                    // Two wordings, not one twice (a few draws: some languages have few wordings for a question).
                    string second = WorldSampler.AskEitherWay(_languages[lq], item, random);
                    for (int retry = 0; retry < 8 && second == first; retry++) second = WorldSampler.AskEitherWay(_languages[lq], item, random);
                    return new Example(kind, index, null, first, second, la, lq, -1, 0, ContentKey.Hash("asked: " + ContentKey.OfAsked(item.Question)))
                        { Attributes = ContentAttributes.OfQuestion(item.Question) };
                }
                var scene = _world.RandomScene(random, novel: split == Split.Novel);
                var fact = random.Next(4) == 0 ? WorldSampler.CaptionOf(scene, random, withRelation: false) : _world.RandomFact(scene, random);
                int lb = _languageChoices[random.Next(_languageChoices.Length)];
                return new Example(kind, index, null, Say(lang, fact, random), Say(_languages[lb], fact, random), la, lb, -1, 0, ContentKey.Hash(ContentKey.Of(fact)))
                    { Attributes = ContentAttributes.OfFact(fact) };
            }
            case ExampleKind.Vqa:
            {
                var item = _world.RandomVqa(random);
                string question = _world.Ask(lang, item, random);
                return new Example(kind, index, item.Scene, question, null, la, 255, item.AnswerClass, (byte)item.Question.Type,
                    ContentKey.Hash(ContentKey.Of(item.Question))) { Question = item.Question, Attributes = ContentAttributes.OfImage(item.Scene) };
            }
            default:
            {
                var item = _world.RandomPair(random);
                return new Example(kind, index, item.Scene, lang.Caption(item.Premise, 1, random), lang.Statement(item.Hypothesis, random), la, la, (int)item.Label, 0,
                    ContentKey.Hash($"{ContentKey.Of(item.Premise)} => {ContentKey.Of(item.Hypothesis)}: {item.Label}"));
            }
        }
    }

    private static string Say(ILanguage language, Fact fact, Random random) =>
        fact is SceneCaption c ? language.Caption(c, random.Next(2), random) : language.Statement(fact, random);

    private int LanguageIndex(string code) => _languageIndex.TryGetValue(code, out var i) ? i : 255;

    [ThreadStatic] private static byte[]? _sceneRgb;

    /// <summary>Draws the example's two canvases (each Size x Size x 3 bytes); B is zero where the kind has none.</summary>
    public void Render(Example example, Span<byte> a, Span<byte> b)
    {
        switch (example.Kind)
        {
            case ExampleKind.Caption:
                _painter.Paint(example.Scene!, a);
                _renderer.RenderTextRgb(example.TextB!, b);
                break;
            case ExampleKind.TextPair:
                _renderer.RenderTextRgb(example.TextA!, a);
                _renderer.RenderTextRgb(example.TextB!, b);
                break;
            case ExampleKind.Vqa:
            {
                var rgb = _sceneRgb is { } s && s.Length == Size * Size * 3 ? s : (_sceneRgb = new byte[Size * Size * 3]);
                _painter.Paint(example.Scene!, rgb);
                _renderer.RenderVqaRgb(example.TextA!, new DecodedImage(Size, Size, rgb, "png", 1), a);
                b.Clear();
                break;
            }
            default:
                _renderer.RenderPairRgb(example.TextA!, example.TextB!, a);
                b.Clear();
                break;
        }
    }
}
