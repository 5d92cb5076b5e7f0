namespace VqaApi.Generation;

/// <summary>
/// A language-independent description of a set of objects: a shape and/or a colour, or one emoji kind. A null
/// part matches anything ("red objects", "circles"); all null means "objects".
/// </summary>
public sealed record ObjectQuery(ShapeKind? Shape = null, ObjectColor? Color = null, int? Emoji = null)
{
    public bool Matches(SceneObject o) =>
        Emoji is int e ? o.Emoji == e
        : (Shape is null || o.Shape == Shape) && (Color is null || o.Color == Color) && (Shape is null && Color is null || !o.IsEmoji);

    public static ObjectQuery Of(SceneObject o) => o.IsEmoji ? new(Emoji: o.Emoji) : new(o.Shape, o.Color);
}

/// <summary>A statement about a scene, drawn in any language by <see cref="ILanguage"/>.</summary>
public abstract record Fact;

/// <summary>"There are <see cref="Count"/> <see cref="What"/>" (0 means "there is no ...").</summary>
public sealed record CountFact(ObjectQuery What, int Count) : Fact;

/// <summary>"The <see cref="A"/> is <see cref="Relation"/> the <see cref="B"/>" (A and B are each unique in the scene).</summary>
public sealed record RelationFact(ObjectQuery A, Relation Relation, ObjectQuery B) : Fact;

/// <summary>
/// A whole-scene caption: every object, grouped (same shape and colour, or same emoji) with its count, in the
/// order given, optionally followed by one spatial relation.
/// </summary>
public sealed record SceneCaption(IReadOnlyList<CountFact> Groups, RelationFact? Relation) : Fact;

public enum QuestionType { Count, Color, Shape, Exists, Spatial }

/// <summary>
/// A question about a scene. Count: how many <see cref="Subject"/>? Color: what colour is the (unique)
/// <see cref="Subject"/>? Shape: what shape is the (unique) <see cref="Subject"/>? Exists: is there a
/// <see cref="Subject"/>? Spatial: is the <see cref="Subject"/> <see cref="Relation"/> the <see cref="Other"/>?
/// </summary>
public sealed record Question(QuestionType Type, ObjectQuery Subject, string AnswerId, Relation? Relation = null, ObjectQuery? Other = null);

/// <summary>The answers a VQA head predicts: language-independent ids, with localised labels from <see cref="ILanguage"/>.</summary>
public static class Answers
{
    public const int MaxCount = 8;
    public const string Yes = "yes", No = "no";
    public static string Count(int n) => $"count_{n}";
    public static string Color(ObjectColor c) => $"color_{c.ToString().ToLowerInvariant()}";
    public static string Shape(ShapeKind s) => $"shape_{s.ToString().ToLowerInvariant()}";

    /// <summary>Every answer id, in a fixed order (the class index of a VQA head).</summary>
    public static readonly IReadOnlyList<string> All =
        [.. Enumerable.Range(0, MaxCount + 1).Select(Count), .. Enum.GetValues<ObjectColor>().Select(Color), .. Enum.GetValues<ShapeKind>().Select(Shape), Yes, No];
}

/// <summary>Sentence-pair classes: entailment, contradiction, neutral (GLUE/MNLI order), plus paraphrase pairs.</summary>
public enum PairLabel { Entailment, Contradiction, Neutral }

/// <summary>A language's words that add nothing to a question: <paramref name="LeadIns"/> go before it ("Hey,", "Kurze
/// Frage:"), <paramref name="Tails"/> before its closing mark, with their own separator (", please", "呢"), and
/// <paramref name="Inserts"/> between two of its words ("exactly", "denn"); empty where a language has none of a kind.</summary>
public sealed record Fillers(IReadOnlyList<string> LeadIns, IReadOnlyList<string> Tails, IReadOnlyList<string> Inserts)
{
    public static Fillers None { get; } = new([], [], []);
}

/// <summary>
/// One language's lexicon and grammar: turns facts, captions and questions into natural text. Implementations
/// are deterministic given the random source (which picks among phrasings).
/// </summary>
public interface ILanguage
{
    /// <summary>BCP 47 code: en, de, fr, es, ru, ar, he, hi, th, zh, ja, ko.</summary>
    string Code { get; }
    /// <summary>A whole-scene caption. <paramref name="style"/> 0 is the shortest form ("two red circles, a star"), higher is fuller sentences.</summary>
    string Caption(SceneCaption caption, int style, Random random);
    /// <summary>A single statement (count or relation) as a sentence.</summary>
    string Statement(Fact fact, Random random);
    string Ask(Question question, Random random);
    /// <summary>
    /// The question in other words than <see cref="Ask"/>'s templates, as users word it: other sentence frames, and
    /// "shape" for the objects a colour alone names ("how many blue shapes"), or for every object when
    /// <paramref name="onlyShapes"/> says the scene holds no emoji. A language without other wordings asks its templates.
    /// </summary>
    string AskInOtherWords(Question question, bool onlyShapes, Random random);
    /// <summary>A count, shape or existence question about an object named with a colour, asked with the colour as the
    /// predicate ("How many circles are red?", "Which shape is red?", "Is one of the circles red?"); null where the
    /// question names no colour (or an emoji), asks a colour or a position, or the language has no such wording.
    /// <paramref name="onlyShapes"/> as in <see cref="AskInOtherWords"/>.</summary>
    string? AskWithColourPredicate(Question question, bool onlyShapes, Random random);
    /// <summary>A count, colour, shape or existence question worded with less common words for what it asks ("What hue
    /// is the circle?", "Can you spot a star?", "Welchen Farbton hat der Kreis?"); null for a position question or where
    /// the language has no such wordings. <paramref name="onlyShapes"/> as in <see cref="AskInOtherWords"/>.</summary>
    string? AskInRareWords(Question question, bool onlyShapes, Random random);
    /// <summary>The words <see cref="AskInRareWords"/> asks with (each of its wordings holds at least one).</summary>
    IReadOnlyList<string> RareWords { get; }
    /// <summary>A copy of this language that says an object's colour with its word for colour ("the shape in red", "die
    /// Figur in Rot", "la forme de couleur rouge", "赤色の図形", "颜色是红色的图形") wherever a question's subject names
    /// one; <paramref name="random"/> picks among the language's ways of saying it. Captions and answers are unchanged.</summary>
    ILanguage WithColourWord(Random random);
    /// <summary>Words users add to a question that change nothing it asks ("Hey,", ", please", "exactly"), for
    /// <see cref="WithFillers"/>.</summary>
    Fillers Fillers { get; }
    /// <summary>The question with one or two of <see cref="Fillers"/> added: a lead-in before it, a tail before its closing
    /// mark, or (where words are spaced) a word between two of its words.</summary>
    string WithFillers(string question, Random random);
    /// <summary>The localised label of an answer id from <see cref="Answers.All"/>.</summary>
    string AnswerLabel(string answerId);
}
