using System.Globalization;
using System.Text;

namespace VqaApi.Generation;

/// <summary>
/// Shared plumbing for the hand-written languages: dispatch of facts and questions to the per-language grammar,
/// phrasing choice with the random source, emoji names, and the answer labels from lexicon/lexicon.json.
/// </summary>
public abstract class LanguageBase : ILanguage
{
    private readonly EmojiCatalog _catalog;
    private readonly IReadOnlyDictionary<string, string> _labels;

    protected LanguageBase(EmojiCatalog catalog, Lexicon lexicon)
    {
        _catalog = catalog;
        Lexicon = lexicon;
        _labels = lexicon.Labels(Code);
    }

    public abstract string Code { get; }

    protected EmojiCatalog Catalog => _catalog;
    protected Lexicon Lexicon { get; }

    public string Caption(SceneCaption caption, int style, Random random)
    {
        var groups = caption.Groups.Where(g => g.Count > 0).ToList();
        if (groups.Count == 0) return CountSentence(new CountFact(new ObjectQuery(), 0), random);
        string text = style <= 0 ? CaptionList(groups, random) : CaptionSentence(groups, random);
        if (style >= 2 && caption.Relation is { } rel) text += SentenceSeparator + RelationSentence(rel, random);
        return text;
    }

    public string Statement(Fact fact, Random random) => fact switch
    {
        CountFact c => CountSentence(c, random),
        RelationFact r => RelationSentence(r, random),
        SceneCaption s => Caption(s, 1, random),
        _ => throw new ArgumentException($"unknown fact {fact.GetType().Name}", nameof(fact)),
    };

    public string Ask(Question question, Random random) => question.Type switch
    {
        QuestionType.Count => AskCount(question.Subject, random),
        QuestionType.Color => AskColor(question.Subject, random),
        QuestionType.Shape => AskShape(question.Subject, random),
        QuestionType.Exists => AskExists(question.Subject, random),
        QuestionType.Spatial => AskSpatial(question.Subject,
            question.Relation ?? throw new ArgumentException("a spatial question needs a relation", nameof(question)),
            question.Other ?? throw new ArgumentException("a spatial question needs another object", nameof(question)), random),
        _ => throw new ArgumentException($"unknown question type {question.Type}", nameof(question)),
    };

    public string AskInOtherWords(Question question, bool onlyShapes, Random random)
    {
        var s = question.Subject;
        // "Shape" names the objects a colour alone names (only shapes have colours), and every object where all are shapes.
        bool shapeNounFits = s.Emoji is null && s.Shape is null && (s.Color is not null || onlyShapes)
            && question.Type is QuestionType.Count or QuestionType.Shape;
        var speaker = shapeNounFits && random.Next(3) != 0 ? LazyInitializer.EnsureInitialized(ref _shapeNounSpeaker, WithShapeNoun) : this;
        string asked = speaker.AskOther(question, random) ?? speaker.Ask(question, random);
        // A quarter of them come after a few words users put first ("Look at the picture.", "Frage:"), so the question's
        // type must be read from its words wherever they stand, not from where the canvas's first line begins.
        return Preambles.Count > 0 && random.Next(4) == 0 ? Preambles[random.Next(Preambles.Count)] + SentenceSeparator + asked : asked;
    }

    /// <summary>What users write before a question in this language ("Look at the picture.", "Question:"), for
    /// <see cref="AskInOtherWords"/>.</summary>
    protected virtual IReadOnlyList<string> Preambles => [];

    private LanguageBase? _shapeNounSpeaker;

    /// <summary>A copy of this language with "shape" (Form, forme, фигура, 图形 ...) as the noun of objects named by colour
    /// alone or by nothing, made once for <see cref="AskInOtherWords"/>.</summary>
    protected abstract LanguageBase WithShapeNoun();

    /// <summary>The question in a wording other than the templates, or null where the language has none for the question's
    /// type (then <see cref="AskInOtherWords"/> asks the templates, with the "shape" noun where it fits).</summary>
    protected virtual string? AskOther(Question question, Random random) => null;

    public string AnswerLabel(string answerId) =>
        _labels.TryGetValue(answerId, out var label) ? label : throw new KeyNotFoundException($"{Code}: no label for answer id '{answerId}'");

    /// <summary>What goes between two sentences (a space; none for languages written without spaces).</summary>
    protected virtual string SentenceSeparator => " ";

    /// <summary>The whole scene as a noun-phrase list (style 0).</summary>
    protected abstract string CaptionList(IReadOnlyList<CountFact> groups, Random random);
    /// <summary>The whole scene as a sentence (style 1 and up).</summary>
    protected abstract string CaptionSentence(IReadOnlyList<CountFact> groups, Random random);
    protected abstract string CountSentence(CountFact fact, Random random);
    protected abstract string RelationSentence(RelationFact fact, Random random);
    protected abstract string AskCount(ObjectQuery what, Random random);
    protected abstract string AskColor(ObjectQuery what, Random random);
    protected abstract string AskShape(ObjectQuery what, Random random);
    protected abstract string AskExists(ObjectQuery what, Random random);
    protected abstract string AskSpatial(ObjectQuery a, Relation relation, ObjectQuery b, Random random);

    /// <summary>The CLDR short name of an emoji in this language (English, then the emoji itself, when missing).</summary>
    protected string EmojiName(int index)
    {
        if ((uint)index >= (uint)_catalog.Items.Count)
            throw new ArgumentOutOfRangeException(nameof(index), $"emoji index {index} is not in the catalogue ({_catalog.Items.Count} items)");
        var e = _catalog.Items[index];
        return e.Names.TryGetValue(Code, out var n) ? n : e.Names.TryGetValue("en", out var en) ? en : e.Text;
    }

    protected static string Pick(Random random, params string[] options) => options[random.Next(options.Length)];

    protected static int PickIndex(Random random, int count) => random.Next(count);

    /// <summary>Items joined with <paramref name="comma"/>, the last one with <paramref name="and"/>.</summary>
    protected static string JoinList(IReadOnlyList<string> items, string comma, string and)
    {
        if (items.Count == 0) return "";
        if (items.Count == 1) return items[0];
        var sb = new StringBuilder();
        for (int i = 0; i < items.Count; i++)
        {
            if (i > 0) sb.Append(i == items.Count - 1 ? and : comma);
            sb.Append(items[i]);
        }
        return sb.ToString();
    }

    protected static string Capitalize(string s)
    {
        if (s.Length == 0) return s;
        int i = 0;
        while (i < s.Length && !char.IsLetter(s[i])) i++;
        if (i == s.Length) return s;
        return string.Concat(s.AsSpan(0, i), char.ToUpper(s[i], CultureInfo.InvariantCulture).ToString(), s.AsSpan(i + 1));
    }

    protected static string Digits(int n) => n.ToString(CultureInfo.InvariantCulture);
}
