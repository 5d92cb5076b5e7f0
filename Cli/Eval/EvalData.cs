using VqaApi.Rendering;
using VqaApi.Generation;

namespace VqaApi.Cli.Eval;

/// <summary>
/// The generated data of the suite: scenes painted at the model's input size, facts and questions in every language,
/// each item drawn from its own seeded random source (<see cref="ExampleGenerator.ExampleSeed"/>). Evaluation items
/// come from <see cref="Split.HeldOut"/>, head-fitting items from <see cref="Split.Train"/>; each part of the suite
/// uses its own block of indexes, so parts never share items.
/// </summary>
public sealed class EvalData
{
    public const long VqaBlock = 1_000_000, PairBlock = 2_000_000, ParaphraseBlock = 3_000_000, RetrievalBlock = 4_000_000,
        FactBlock = 5_000_000, ZeroShotBlock = 6_000_000;

    private readonly ulong _seed;

    public EvalData(int imageSize, ulong seed, IReadOnlyList<string> languageCodes, WorldOptions? world = null)
    {
        WorldOptions = world ?? WorldOptions.Full;
        _seed = seed;
        Size = imageSize;
        SceneEmoji = new EmojiCatalog(EmojiCatalog.Default.Items.Take(GeneratorCommands.DefaultSceneEmoji).ToList());
        var all = Languages.Create(SceneEmoji);
        foreach (var code in languageCodes)
            if (!all.Any(l => l.Code == code)) throw new ArgumentException($"unknown language '{code}': use some of {string.Join(",", Languages.Codes)}");
        All = all;
        Selected = all.Where(l => languageCodes.Contains(l.Code)).ToList();
        World = new WorldSampler(imageSize, SceneEmoji.Items.Count, WorldOptions);
        Painter = new ScenePainter(SceneEmoji);
        Scenes = new SceneSampler(imageSize, SceneEmoji.Items.Count, new HashSet<ObjectKind>(), WorldOptions);
    }

    public int Size { get; }
    /// <summary>The part of the world the data is drawn from.</summary>
    public WorldOptions WorldOptions { get; }
    public EmojiCatalog SceneEmoji { get; }
    /// <summary>All 12 core languages, in the format's order.</summary>
    public IReadOnlyList<ILanguage> All { get; }
    /// <summary>The core languages evaluated, in the format's order.</summary>
    public IReadOnlyList<ILanguage> Selected { get; }
    public WorldSampler World { get; }
    public ScenePainter Painter { get; }
    public SceneSampler Scenes { get; }

    public Random Random(Split split, long block, long index) => new(ExampleGenerator.ExampleSeed(split, _seed, block + index));

    /// <summary>The scene painted and PNG-encoded, as a client would upload it.</summary>
    public byte[] Png(Scene scene)
    {
        var rgb = new byte[scene.Size * scene.Size * 3];
        Painter.Paint(scene, rgb);
        return CanvasPng.EncodeRgb(rgb, scene.Size);
    }

    /// <summary>PNGs of many scenes, painted on all cores (painting is deterministic per scene).</summary>
    public byte[][] Pngs(IReadOnlyList<Scene> scenes)
    {
        var result = new byte[scenes.Count][];
        Parallel.For(0, scenes.Count, i => result[i] = Png(scenes[i]));
        return result;
    }

    /// <summary>A statement as the generator says it: a caption (style 0 or 1) or a single sentence.</summary>
    public static string Say(ILanguage language, Fact fact, Random random) =>
        fact is SceneCaption c ? language.Caption(c, random.Next(2), random) : language.Statement(fact, random);

    /// <summary>A canonical key of what a fact says (<see cref="ContentKey.Of(Fact)"/>): equal keys mean the same claim.</summary>
    public static string Key(Fact fact) => ContentKey.Of(fact);

    /// <summary>A fact for the text-to-text tasks: a whole-scene caption a quarter of the time, a single statement otherwise (as the generator's text pairs).</summary>
    public Fact RandomTextFact(Random random)
    {
        var scene = World.RandomScene(random);
        return random.Next(4) == 0 ? WorldSampler.CaptionOf(scene, random, withRelation: false) : World.RandomFact(scene, random);
    }

    /// <summary>The answer classes of each question type (what an input-blind guess within the type is right 1 in).</summary>
    public int AnswersOfType(QuestionType type) => type switch
    {
        QuestionType.Count => WorldOptions.MaxObjects + 1,
        QuestionType.Color => WorldOptions.Colors.Count,
        QuestionType.Shape => WorldOptions.Shapes.Count,
        _ => 2,
    };

    /// <summary>A scene with exactly one object: the emoji <paramref name="emoji"/>.</summary>
    public Scene EmojiScene(int emoji, Random random) => Scenes.Build(random, [ObjectKind.OfEmoji(emoji)], 0);
}
