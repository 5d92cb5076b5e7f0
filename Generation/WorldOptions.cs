using System.Globalization;

namespace VqaApi.Generation;

/// <summary>
/// Which part of the generated world examples are drawn from: a curriculum starts with one or two plain shapes in two
/// languages and grows to <see cref="Full"/> (1 to 8 objects, 30% emoji, 8 shapes x 8 colours, 12 languages, three
/// caption styles, five question types). The answer classes never change (<see cref="Answers.All"/>), so heads keep
/// their shape from one stage to the next. The defaults give exactly the bytes the generator gave before these
/// options existed: every random draw happens in the same order, only over the chosen subsets.
/// </summary>
public sealed record WorldOptions
{
    public static readonly IReadOnlyList<ShapeKind> AllShapes = Enum.GetValues<ShapeKind>();
    public static readonly IReadOnlyList<ObjectColor> AllColors = Enum.GetValues<ObjectColor>();
    public static readonly IReadOnlyList<QuestionType> AllQuestions = Enum.GetValues<QuestionType>();
    /// <summary>
    /// Caption styles by name: 0-2 in <see cref="ILanguage.Caption"/>'s numbering; 3 ("word") names one object's colour
    /// or shape with the bare answer word ("red", "Kreis"), for scenes of one shape (others get a list caption), which is
    /// what zero-shot classification over words compares images with.
    /// </summary>
    public static readonly IReadOnlyList<string> CaptionStyleNames = ["list", "sentence", "relation", "word"];
    public const int WordStyle = 3;

    public static WorldOptions Full { get; } = new();

    /// <summary>Objects per scene (captions, text pairs, sentence pairs); VQA scenes stay in this range where the answer allows.</summary>
    public int MinObjects { get; init; } = 1;
    public int MaxObjects { get; init; } = SceneSampler.MaxObjects;
    /// <summary>The chance that a randomly drawn object is an emoji (0: never).</summary>
    public double EmojiShare { get; init; } = 0.3;
    public IReadOnlyList<ShapeKind> Shapes { get; init; } = AllShapes;
    public IReadOnlyList<ObjectColor> Colors { get; init; } = AllColors;
    /// <summary>Language codes examples are written in (null: all 12).</summary>
    public IReadOnlyList<string>? Languages { get; init; }
    /// <summary>Caption styles (0 list, 1 sentence, 2 sentence + relation, 3 word).</summary>
    public IReadOnlyList<int> CaptionStyles { get; init; } = [0, 1, 2];
    public IReadOnlyList<QuestionType> Questions { get; init; } = AllQuestions;
    /// <summary>Flat backgrounds, no noise, no blur.</summary>
    public bool PlainScenes { get; init; }
    /// <summary>Object radii are multiplied by this (larger objects read better on small canvases).</summary>
    public float ObjectScale { get; init; } = 1f;
    /// <summary>Centres of two objects are at least this times their summed radii apart: 0.8 (the default) lets objects
    /// overlap a little, legibly; from 1.5 on no two shapes touch, not even squares' corners (a square reaches sqrt(2) radii).</summary>
    public float Separation { get; init; } = 0.8f;
    /// <summary>Count questions name their subject by one attribute only ("how many circles", "how many red objects") instead
    /// of one or both ("how many red circles") as well: a curriculum's first stages.</summary>
    public bool CountBySingleAttribute { get; init; }
    /// <summary>The share of count questions about every object in the scene ("how many objects are there?"), whose
    /// answers are spread over the world's object range; 0 (the default) keeps the generator as it was.</summary>
    public double CountAllShare { get; init; }
    /// <summary>The share of VQA questions asked in other words than the templates ("how many blue shapes", "what is
    /// the red shape?", "count the circles", "does the picture contain ..."): users word questions their own way, and a
    /// model that has read only the templates answers other wordings at chance. 0 (the default) keeps the generator as
    /// it was. Languages without extra wordings fall back to their templates.</summary>
    public double OtherWordingsShare { get; init; }
    /// <summary>The share of generated text pairs (not the real parallel sentences) that are one question asked twice, in
    /// two languages or two wordings (each side in the templates or, half the time, in other words): the same question
    /// in other words is then a positive and every other question a negative, so a model learns what a question asks
    /// from its words, whatever its frame. 0 (the default) keeps the generator as it was.</summary>
    public double QuestionPairsShare { get; init; }
    /// <summary>The share of VQA questions (not position questions, whose word order is their meaning) whose words are put
    /// in a random order ("cross the colour What is?"): the answer then follows from which words the question holds, not
    /// from where they stand, so a model must find a question's type word wherever a user puts it. Languages written
    /// without spaces between words (Chinese, Japanese; Thai between phrases) are scrambled where they have spaces.
    /// 0 (the default) keeps the generator as it was.</summary>
    public double ScrambledWordsShare { get; init; }
    /// <summary>The share of VQA questions given one or two words that change nothing they ask, from the language's
    /// <see cref="Fillers"/>: a lead-in ("Hey,", "请问，"), a tail before the closing mark (", please", "呢") or a word
    /// between two words ("exactly", "denn"). Users wrap questions in such words; a model that has read only bare
    /// questions takes them for the question. Added after the wording, before any scrambling. 0 (the default) keeps the
    /// generator as it was.</summary>
    public double FillerWordsShare { get; init; }
    /// <summary>The share of count, shape and existence questions about an object named with a colour that say the colour
    /// of it as a predicate ("How many circles are red?", "Which shape is red?", "Is one of the circles red?") instead of
    /// before or after its noun ("How many red circles are there?"). Users ask both ways; a model that has read only the
    /// second takes "... is red?" for a yes-or-no question. Worded before any filler words and scrambling. 0 (the
    /// default) keeps the generator as it was.</summary>
    public double ColourPredicateShare { get; init; }
    /// <summary>The share of count, colour, shape and existence questions worded with less common words for what they ask
    /// (<see cref="ILanguage.RareWords"/>: "What hue is the circle?", "Can you spot a star?", "Welchen Farbton hat der
    /// Kreis?", "图中存在圆形吗？"), none of them a word of training/paraphrase_check.py's own wordings. A model that knows
    /// one or two words for each thing asked takes any other for another question. Worded before any filler words and
    /// scrambling. 0 (the default) keeps the generator as it was.</summary>
    public double RareWordsShare { get; init; }
    /// <summary>The share of existence questions about a shape that ask about its shape alone or its colour alone (half
    /// each: "Is there a star?", "Is there anything red?") instead of both ("Is there a red star?"); a "no" scene then holds
    /// nothing of that shape (or colour). Without it every existence question names both, while every colour question
    /// names a shape alone: a model learns that a shape alone asks for a colour, and answers "Is there a star?" with one.
    /// 0 (the default) keeps the generator as it was.</summary>
    public double SingleAttributeExistsShare { get; init; }
    /// <summary>The share of count questions about a shape, a colour or both whose scene always holds at least one object
    /// that does not match (unless the answer is the world's maximum): the answer is then not the number of all objects.
    /// Without it about two in five such answers are that number, and with <see cref="CountAllShare"/> a model that counts
    /// everything is right on most count questions; it answers "How many red shapes are there?" with the number of shapes.
    /// 0 (the default) keeps the generator as it was.</summary>
    public double CountDistractorShare { get; init; }
    /// <summary>The share of count, shape and existence questions whose subject names a colour that say it with the
    /// language's word for colour ("How many shapes with the colour red are there?", "What shape is the red-coloured
    /// object?", "Gibt es einen Kreis in Rot?", "¿Hay un círculo de color rojo?", "色が赤の図形はいくつありますか？",
    /// "颜色是红色的图形是什么形状？"). Without it the word for colour is in colour questions only, and a model takes any
    /// question with it for one: v7 answers "Which shape is coloured red?" with a colour. 0 (the default) keeps the
    /// generator as it was.</summary>
    public double ColourWordShare { get; init; }

    public bool IsFull => Describe().Length == 0;

    /// <summary>Refuses combinations the samplers cannot satisfy, naming the option.</summary>
    public WorldOptions Validated()
    {
        static void Check(bool ok, string message) { if (!ok) throw new ArgumentException(message); }
        Check(MinObjects >= 1 && MaxObjects <= SceneSampler.MaxObjects && MinObjects <= MaxObjects, $"--objects must be a range within 1-{SceneSampler.MaxObjects}");
        Check(EmojiShare is >= 0 and <= 1, "--emoji-share must be 0..1");
        Check(Shapes.Count >= 2 && Shapes.Distinct().Count() == Shapes.Count, "--shapes needs at least two different shapes");
        Check(Colors.Count >= 2 && Colors.Distinct().Count() == Colors.Count, "--colors needs at least two different colours");
        Check(CaptionStyles.Count >= 1 && CaptionStyles.All(s => s is >= 0 and <= WordStyle), "--caption-styles needs some of list, sentence, relation, word");
        Check(Questions.Count >= 1, "--questions needs some of count, color, shape, exists, spatial");
        Check(!Questions.Contains(QuestionType.Spatial) || MaxObjects >= 2, "spatial questions need --objects up to at least 2");
        Check(Languages is null || (Languages.Count >= 1 && Languages.All(VqaApi.Generation.Languages.Codes.Contains)),
            $"--languages must name some of {string.Join(",", VqaApi.Generation.Languages.Codes)}");
        Check(ObjectScale is >= 0.5f and <= 2.5f, "--object-scale must be 0.5..2.5");
        Check(Separation is >= 0.5f and <= 3f, "--separation must be 0.5..3");
        Check(CountAllShare is >= 0 and <= 1, "--count-all must be 0..1");
        Check(OtherWordingsShare is >= 0 and <= 1, "--other-wordings must be 0..1");
        Check(QuestionPairsShare is >= 0 and <= 1, "--question-pairs must be 0..1");
        Check(ScrambledWordsShare is >= 0 and <= 1, "--scrambled-words must be 0..1");
        Check(FillerWordsShare is >= 0 and <= 1, "--filler-words must be 0..1");
        Check(ColourPredicateShare is >= 0 and <= 1, "--colour-predicates must be 0..1");
        Check(RareWordsShare is >= 0 and <= 1, "--rare-words must be 0..1");
        Check(SingleAttributeExistsShare is >= 0 and <= 1, "--single-attribute-exists must be 0..1");
        Check(CountDistractorShare is >= 0 and <= 1, "--count-distractors must be 0..1");
        Check(ColourWordShare is >= 0 and <= 1, "--colour-word must be 0..1");
        return this;
    }

    /// <summary>The options as the command-line flags that give them (empty for the full world): for logs and run configs.</summary>
    public string Describe()
    {
        var parts = new List<string>();
        if (MinObjects != 1 || MaxObjects != SceneSampler.MaxObjects) parts.Add($"--objects {MinObjects}-{MaxObjects}");
        if (EmojiShare != 0.3) parts.Add($"--emoji-share {EmojiShare.ToString(CultureInfo.InvariantCulture)}");
        if (!Shapes.SequenceEqual(AllShapes)) parts.Add("--shapes " + string.Join(",", Shapes.Select(s => s.ToString().ToLowerInvariant())));
        if (!Colors.SequenceEqual(AllColors)) parts.Add("--colors " + string.Join(",", Colors.Select(c => c.ToString().ToLowerInvariant())));
        if (Languages is not null && !Languages.SequenceEqual(VqaApi.Generation.Languages.Codes)) parts.Add("--languages " + string.Join(",", Languages));
        if (!CaptionStyles.SequenceEqual([0, 1, 2])) parts.Add("--caption-styles " + string.Join(",", CaptionStyles.Select(s => CaptionStyleNames[s])));
        if (!Questions.SequenceEqual(AllQuestions)) parts.Add("--questions " + string.Join(",", Questions.Select(q => q.ToString().ToLowerInvariant())));
        if (PlainScenes) parts.Add("--plain-scenes");
        if (ObjectScale != 1f) parts.Add($"--object-scale {ObjectScale.ToString(CultureInfo.InvariantCulture)}");
        if (Separation != 0.8f) parts.Add($"--separation {Separation.ToString(CultureInfo.InvariantCulture)}");
        if (CountBySingleAttribute) parts.Add("--count-single-attribute");
        if (CountAllShare != 0) parts.Add($"--count-all {CountAllShare.ToString(CultureInfo.InvariantCulture)}");
        if (OtherWordingsShare != 0) parts.Add($"--other-wordings {OtherWordingsShare.ToString(CultureInfo.InvariantCulture)}");
        if (QuestionPairsShare != 0) parts.Add($"--question-pairs {QuestionPairsShare.ToString(CultureInfo.InvariantCulture)}");
        if (ScrambledWordsShare != 0) parts.Add($"--scrambled-words {ScrambledWordsShare.ToString(CultureInfo.InvariantCulture)}");
        if (FillerWordsShare != 0) parts.Add($"--filler-words {FillerWordsShare.ToString(CultureInfo.InvariantCulture)}");
        if (ColourPredicateShare != 0) parts.Add($"--colour-predicates {ColourPredicateShare.ToString(CultureInfo.InvariantCulture)}");
        if (RareWordsShare != 0) parts.Add($"--rare-words {RareWordsShare.ToString(CultureInfo.InvariantCulture)}");
        if (SingleAttributeExistsShare != 0) parts.Add($"--single-attribute-exists {SingleAttributeExistsShare.ToString(CultureInfo.InvariantCulture)}");
        if (CountDistractorShare != 0) parts.Add($"--count-distractors {CountDistractorShare.ToString(CultureInfo.InvariantCulture)}");
        if (ColourWordShare != 0) parts.Add($"--colour-word {ColourWordShare.ToString(CultureInfo.InvariantCulture)}");
        return string.Join(" ", parts);
    }

    /// <summary>Parses "1-3" (or "2": exactly two).</summary>
    public static (int Min, int Max) ParseRange(string text)
    {
        var parts = text.Split('-', 2, StringSplitOptions.TrimEntries);
        if (parts.Length == 1 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out var n)) return (n, n);
        if (parts.Length == 2 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out var a) && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var b)) return (a, b);
        throw new ArgumentException($"'{text}' is not a range like 1-3");
    }

    /// <summary>Parses a comma-separated list of enum names (case-insensitive; "colour" spellings accepted).</summary>
    public static IReadOnlyList<T> ParseList<T>(string text, string option) where T : struct, Enum
    {
        var list = new List<T>();
        foreach (var item in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var name = item.Replace("colour", "color", StringComparison.OrdinalIgnoreCase);
            if (!Enum.TryParse<T>(name, ignoreCase: true, out var value) || int.TryParse(name, out _))
                throw new ArgumentException($"{option}: unknown value '{item}'; use some of {string.Join(",", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}");
            list.Add(value);
        }
        return list;
    }

    public static IReadOnlyList<int> ParseCaptionStyles(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => CaptionStyleNames.IndexOf(s.ToLowerInvariant()) is var i and >= 0 ? i
                : throw new ArgumentException($"--caption-styles: unknown style '{s}'; use some of {string.Join(",", CaptionStyleNames)}"))
            .ToList();
}

internal static class ListExtensions
{
    public static int IndexOf<T>(this IReadOnlyList<T> list, T value)
    {
        for (int i = 0; i < list.Count; i++) if (EqualityComparer<T>.Default.Equals(list[i], value)) return i;
        return -1;
    }
}
