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
        var speaker = Speaker(question, onlyShapes, random);
        string asked = speaker.AskOther(question, random) ?? speaker.Ask(question, random);
        // A quarter of them come after a few words users put first ("Look at the picture.", "Frage:"), so the question's
        // type must be read from its words wherever they stand, not from where the canvas's first line begins.
        return Preambles.Count > 0 && random.Next(4) == 0 ? Preambles[random.Next(Preambles.Count)] + SentenceSeparator + asked : asked;
    }

    public string? AskInRareWords(Question question, bool onlyShapes, Random random)
    {
        if (question.Type is not (QuestionType.Count or QuestionType.Color or QuestionType.Shape or QuestionType.Exists)) return null;
        return Speaker(question, onlyShapes, random).AskRare(question, random);
    }

    /// <summary>This language, or (two times in three, where it fits) its copy that calls the objects "shapes": "shape"
    /// names the objects a colour alone names (only shapes have colours), and every object where all are shapes.</summary>
    private LanguageBase Speaker(Question question, bool onlyShapes, Random random)
    {
        var s = question.Subject;
        bool shapeNounFits = s.Emoji is null && s.Shape is null && (s.Color is not null || onlyShapes)
            && question.Type is QuestionType.Count or QuestionType.Shape;
        return shapeNounFits && random.Next(3) != 0 ? ShapeNounSpeaker() : this;
    }

    /// <summary>A count, colour, shape or existence question worded with one of <see cref="RareWords"/> (less common
    /// words for what it asks: "hue", "tally", "spot"), or null where the language has none.</summary>
    protected virtual string? AskRare(Question question, Random random) => null;

    public virtual IReadOnlyList<string> RareWords => [];

    public string? AskWithColourPredicate(Question question, bool onlyShapes, Random random)
    {
        var s = question.Subject;
        if (s.Emoji is not null || s.Color is not ObjectColor colour) return null;
        if (question.Type is not (QuestionType.Count or QuestionType.Exists) && !(question.Type == QuestionType.Shape && s.Shape is null)) return null;
        // Objects named by their colour alone are "shapes" where every object is one, as in AskInOtherWords.
        var speaker = s.Shape is null && onlyShapes ? ShapeNounSpeaker() : this;
        return speaker.AskColourPredicate(question.Type, s with { Color = null }, colour, random);
    }

    /// <summary>A count, shape or existence question with <paramref name="colour"/> as the predicate ("How many circles are
    /// red?", "Which shape is red?", "Is one of the circles red?"); <paramref name="what"/> is the subject without its
    /// colour (a shape, or nothing: the language's noun for any object). Null where the language has no such wording.</summary>
    protected virtual string? AskColourPredicate(QuestionType type, ObjectQuery what, ObjectColor colour, Random random) => null;

    /// <summary>What users write before a question in this language ("Look at the picture.", "Question:"), for
    /// <see cref="AskInOtherWords"/>.</summary>
    protected virtual IReadOnlyList<string> Preambles => [];

    private LanguageBase? _shapeNounSpeaker;

    public virtual Fillers Fillers => Fillers.None;

    /// <summary>Whether a question that follows a lead-in ending in a comma begins in lower case ("Hey, what colour ...").
    /// Off where a capital can be a noun's (German) or where the script has no case.</summary>
    protected virtual bool LowercaseAfterComma => false;

    /// <summary>Quotation marks in a word: «»“”„"「」, and an apostrophe that begins or ends it (not French's "l'étoile").</summary>
    private static int QuoteMarks(string word)
    {
        int n = word.Count(c => c is '«' or '»' or '“' or '”' or '„' or '"' or '「' or '」');
        if (word.Length > 0 && word[0] == '\'') n++;
        if (word.Length > 1 && word[^1] == '\'') n++;
        return n;
    }

    private enum FillerKind { LeadIn, Tail, Insert }

    public string WithFillers(string question, Random random)
    {
        var f = Fillers;
        var kinds = new List<FillerKind>(3);
        if (f.LeadIns.Count > 0) kinds.Add(FillerKind.LeadIn);
        if (f.Tails.Count > 0) kinds.Add(FillerKind.Tail);
        if (f.Inserts.Count > 0 && question.Trim().Contains(' ')) kinds.Add(FillerKind.Insert);
        if (kinds.Count == 0) return question;
        var order = kinds.ToArray();
        random.Shuffle(order);
        // One kind, or (three times in ten) two kinds.
        var chosen = order.Take(random.Next(10) < 7 ? 1 : 2).ToHashSet();
        // The closing mark (with French's space before it) stays last; a word goes between two words, a tail after the last.
        int markAt = question.Length;
        while (markAt > 0 && question[markAt - 1] is '?' or '？' or '.' or '。' or '؟' or '।' or '!' or '！') markAt--;
        string body = question[..markAt], end = question[markAt..];
        if (end.Length > 0 && body.EndsWith(' ')) { body = body.TrimEnd(' '); end = " " + end; }
        if (chosen.Contains(FillerKind.Insert))
        {
            // Never inside a quoted name ("«زهرة التوليب»", "'호랑이'"): only where the quotes before are closed.
            var words = body.Split(' ');
            var between = new List<int>();
            int quotes = 0;
            for (int k = 1; k < words.Length; k++)
            {
                quotes += QuoteMarks(words[k - 1]);
                if (quotes % 2 == 0) between.Add(k);
            }
            if (between.Count > 0)
            {
                int at = between[random.Next(between.Count)];
                body = string.Join(' ', words.Take(at).Append(f.Inserts[random.Next(f.Inserts.Count)]).Concat(words.Skip(at)));
            }
        }
        if (chosen.Contains(FillerKind.Tail)) body += f.Tails[random.Next(f.Tails.Count)];
        string text = body + end;
        if (!chosen.Contains(FillerKind.LeadIn)) return text;
        string lead = f.LeadIns[random.Next(f.LeadIns.Count)];
        if (LowercaseAfterComma && lead.EndsWith(','))
        {
            int i = 0;
            while (i < text.Length && !char.IsLetter(text[i])) i++;
            // "I" and names in capitals ("UFO") keep their capitals.
            if (i + 1 < text.Length && char.IsUpper(text[i]) && char.IsLower(text[i + 1]))
                text = string.Concat(text.AsSpan(0, i), char.ToLower(text[i], CultureInfo.InvariantCulture).ToString(), text.AsSpan(i + 1));
        }
        // Chinese and Japanese lead-ins end in their own full-width mark; the others are followed by a space.
        return lead + (lead[^1] is '、' or '，' or '。' or '：' ? "" : " ") + text;
    }

    /// <summary>A copy of this language with "shape" (Form, forme, фигура, 图形 ...) as the noun of objects named by colour
    /// alone or by nothing, made once for <see cref="AskInOtherWords"/>.</summary>
    protected abstract LanguageBase WithShapeNoun();

    /// <summary>How this copy says an object's colour: 0 with the language's colour adjective (as always), 1 to
    /// <see cref="ColourWordStyles"/> with its word for colour, in the language's own ways (<see cref="WithColourWord"/>).</summary>
    protected int ColourWordStyle { get; private set; }

    /// <summary>How many ways the language has of saying a colour with its word for colour.</summary>
    protected virtual int ColourWordStyles => 1;

    private LanguageBase?[]? _colourWordSpeakers;

    public ILanguage WithColourWord(Random random)
    {
        int style = 1 + random.Next(ColourWordStyles);
        var speakers = LazyInitializer.EnsureInitialized(ref _colourWordSpeakers, () => new LanguageBase?[ColourWordStyles + 1]);
        return speakers[style] ??= WithStyle(this, style);
    }

    /// <summary>A copy of <paramref name="speaker"/> (and of its nouns) that says colours in <paramref name="style"/>.</summary>
    private static LanguageBase WithStyle(LanguageBase speaker, int style)
    {
        var copy = (LanguageBase)speaker.MemberwiseClone();
        copy.ColourWordStyle = style;
        copy._shapeNounSpeaker = null;
        copy._colourWordSpeakers = null;
        return copy;
    }

    /// <summary>This copy's "shape"-noun copy (<see cref="WithShapeNoun"/>), saying colours as this one does.</summary>
    private LanguageBase ShapeNounSpeaker() =>
        LazyInitializer.EnsureInitialized(ref _shapeNounSpeaker, () => ColourWordStyle == 0 ? WithShapeNoun() : WithStyle(WithShapeNoun(), ColourWordStyle));

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
