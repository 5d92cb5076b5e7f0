namespace VqaApi.Generation;

/// <summary>
/// Hebrew: gender and number agreement of adjectives (after the noun, with ה on both when definite), numerals by
/// gender (masculine שלושה… / feminine שלוש…, construct שני/שתי before the noun, אחד/אחת after it), ל + ה
/// contracted ("לעיגול"), ו attached to the next word. Emoji are "אימוג'י "שם"" (masculine, invariable).
/// </summary>
public sealed class Hebrew(EmojiCatalog catalog, Lexicon lexicon) : LanguageBase(catalog, lexicon)
{
    public override string Code => "he";

    private sealed record Noun(string Sg, string Pl, bool Feminine);

    private static readonly Noun[] s_shapes =
    [
        new("עיגול", "עיגולים", false), new("ריבוע", "ריבועים", false), new("משולש", "משולשים", false), new("כוכב", "כוכבים", false),
        new("לב", "לבבות", false), new("מעוין", "מעוינים", false), new("משושה", "משושים", false), new("צלב", "צלבים", false),
    ];
    /// <summary>Colour-only queries count shapes (feminine צורה); "what shape" asks about a פריט (item).</summary>
    private static readonly Noun s_shape = new("צורה", "צורות", true);
    private static readonly Noun s_item = new("פריט", "פריטים", false);
    private static readonly Noun s_emoji = new("אימוג'י", "אימוג'י", false);

    private static readonly string[] s_colorStems = ["אדומ", "כתומ", "צהוב", "ירוק", "כחול", "סגול", "ורוד", "שחור"];

    private static readonly string[] s_numM = ["", "אחד", "שני", "שלושה", "ארבעה", "חמישה", "שישה", "שבעה", "שמונה"];
    private static readonly string[] s_numF = ["", "אחת", "שתי", "שלוש", "ארבע", "חמש", "שש", "שבע", "שמונה"];

    /// <summary>Masculine singular ends in final mem (אדום); other forms use the stem (אדומה, אדומים, אדומות).</summary>
    private static string Adjective(ObjectColor c, bool fem, bool plural)
    {
        string stem = s_colorStems[(int)c];
        if (!plural && !fem) return stem.EndsWith('מ') ? stem[..^1] + "ם" : stem;
        return stem + (plural ? (fem ? "ות" : "ים") : "ה");
    }

    /// <summary>The noun of every object (a query naming nothing): פריט, or צורה in <see cref="WithShapeNoun"/>.</summary>
    private Noun _all = s_item;
    protected override LanguageBase WithShapeNoun() => new Hebrew(Catalog, Lexicon) { _all = s_shape };

    private Noun NounOf(ObjectQuery q, bool item = false) =>
        q.Emoji is not null ? s_emoji : q.Shape is ShapeKind s ? s_shapes[(int)s] : q.Color is not null ? (item ? s_item : s_shape) : _all;

    private bool Fem(ObjectQuery q, bool item = false) => NounOf(q, item).Feminine;

    /// <summary>Indefinite or definite phrase; <paramref name="item"/> names a colour-only subject פריט instead of צורה.</summary>
    private string Np(ObjectQuery q, bool plural, bool definite, bool item = false)
    {
        var n = NounOf(q, item);
        string h = definite ? "ה" : "";
        string noun = h + (plural ? n.Pl : n.Sg);
        if (q.Emoji is int e) return $"{noun} \"{EmojiName(e)}\"";
        if (q.Color is not ObjectColor c) return noun;
        // With the word for colour (WithColourWord): "עיגול בצבע אדום" (the colour agrees with צבע, masculine singular).
        return ColourWordStyle > 0 ? $"{noun} בצבע {Adjective(c, false, false)}" : $"{noun} {h}{Adjective(c, n.Feminine, plural)}";
    }

    /// <summary>ל + definite phrase: the ה of the noun is absorbed ("לעיגול האדום").</summary>
    private string ToDefinite(ObjectQuery q) => "ל" + Np(q, false, true)[1..];

    private string Counted(ObjectQuery q, int n, bool withOne)
    {
        bool fem = Fem(q);
        if (n == 1) return withOne ? $"{Np(q, false, false)} {(fem ? "אחת" : "אחד")}" : Np(q, false, false);
        string num = n < s_numM.Length ? (fem ? s_numF : s_numM)[n] : Digits(n);
        return $"{num} {Np(q, true, false)}";
    }

    private string Located(Relation r, ObjectQuery b) => r switch
    {
        Relation.LeftOf => "משמאל " + ToDefinite(b),
        Relation.RightOf => "מימין " + ToDefinite(b),
        Relation.Above => "מעל " + Np(b, false, true),
        _ => "מתחת " + ToDefinite(b),
    };

    private static string Join(IReadOnlyList<string> items) => JoinList(items, ", ", " ו");

    protected override string CaptionList(IReadOnlyList<CountFact> groups, Random random)
    {
        bool one = random.Next(2) == 1;
        return Join(groups.Select(g => Counted(g.What, g.Count, one)).ToList());
    }

    protected override string CaptionSentence(IReadOnlyList<CountFact> groups, Random random)
    {
        string list = Join(groups.Select(g => Counted(g.What, g.Count, false)).ToList());
        return Pick(random, $"בתמונה יש {list}.", $"בתמונה רואים {list}.");
    }

    protected override string CountSentence(CountFact f, Random random) => f.Count switch
    {
        0 => Pick(random, $"בתמונה אין {Np(f.What, true, false)}.", $"אין בתמונה אף {Np(f.What, false, false)}."),
        _ => Pick(random, $"בתמונה יש {Counted(f.What, f.Count, true)}.", $"יש בתמונה {Counted(f.What, f.Count, true)}."),
    };

    protected override string RelationSentence(RelationFact f, Random random) => Pick(random,
        $"{Np(f.A, false, true)} {Located(f.Relation, f.B)}.",
        $"{Np(f.A, false, true)} {(Fem(f.A) ? "נמצאת" : "נמצא")} {Located(f.Relation, f.B)}.");

    protected override string AskCount(ObjectQuery q, Random random) => Pick(random,
        $"כמה {Np(q, true, false)} יש בתמונה?", $"כמה {Np(q, true, false)} רואים בתמונה?");

    protected override string AskColor(ObjectQuery q, Random random) => Pick(random,
        $"באיזה צבע {Np(q, false, true, item: true)}?", $"מה הצבע של {Np(q, false, true, item: true)}?");

    protected override string AskShape(ObjectQuery q, Random random) => Pick(random,
        $"מה הצורה של {Np(q, false, true, item: true)}?", $"איזו צורה יש ל{Np(q, false, true, item: true)[1..]}?");

    protected override string AskExists(ObjectQuery q, Random random) => Pick(random,
        $"האם יש בתמונה {Np(q, false, false)}?", $"יש בתמונה {Np(q, false, false)}?");

    protected override string AskSpatial(ObjectQuery a, Relation r, ObjectQuery b, Random random) => Pick(random,
        $"האם {Np(a, false, true)} {Located(r, b)}?",
        $"האם {Np(a, false, true)} {(Fem(a) ? "נמצאת" : "נמצא")} {Located(r, b)}?");

    protected override IReadOnlyList<string> Preambles { get; } = ["הסתכל בתמונה.", "שאלה:"];

    public override Fillers Fillers { get; } = new(["שלום,", "בבקשה,", "שאלה קצרה:"], [" בבקשה", " בדיוק", " עכשיו"], ["בדיוק", "עכשיו", "בעצם"]);

    public override IReadOnlyList<string> RareWords { get; } = ["מספר", "נמצאים", "נמצאות", "הגוון", "המתאר", "התבנית", "קיים", "קיימת", "נראה", "נראית"];

    protected override string? AskRare(Question question, Random random)
    {
        var q = question.Subject;
        bool fem = Fem(q);
        string the = Np(q, false, true, item: true);
        return question.Type switch
        {
            QuestionType.Count => Pick(random, $"מהו מספר {Np(q, true, true)}?", $"כמה {Np(q, true, false)} {(fem ? "נמצאות" : "נמצאים")} בתמונה?"),
            QuestionType.Color => Pick(random, $"מה הגוון של {the}?"),
            QuestionType.Shape => Pick(random, $"מה המתאר של {the}?", $"מה התבנית של {the}?"),
            QuestionType.Exists => Pick(random, $"האם {(fem ? "קיימת" : "קיים")} {Np(q, false, false)} בתמונה?", $"האם {(fem ? "נראית" : "נראה")} {Np(q, false, false)} בתמונה?"),
            _ => null,
        };
    }

    protected override string? AskColourPredicate(QuestionType type, ObjectQuery what, ObjectColor colour, Random random)
    {
        var n = NounOf(what);
        bool fem = n.Feminine;
        string c = Adjective(colour, fem, false), cPl = Adjective(colour, fem, true), which = fem ? "איזו" : "איזה", it = fem ? "היא" : "הוא";
        return type switch
        {
            QuestionType.Count => Pick(random, $"כמה מה{n.Pl} {cPl}?", $"כמה {n.Pl} בתמונה {(fem ? "הן" : "הם")} {cPl}?", $"מבין ה{n.Pl}, כמה {cPl}?"),
            QuestionType.Shape => Pick(random, $"{which} {n.Sg} {it} {c}?", $"{which} מה{n.Pl} {c}?", $"מה ה{n.Sg} ש{it} {c}?"),
            QuestionType.Exists => Pick(random, $"האם {(fem ? "אחת" : "אחד")} מה{n.Pl} {c}?", $"יש {n.Sg} ש{it} {c}?", $"האם יש בין ה{n.Pl} {c}?"),
            _ => null,
        };
    }

    protected override string? AskOther(Question question, Random random)
    {
        var q = question.Subject;
        return question.Type switch
        {
            QuestionType.Count => Pick(random, $"כמה {Np(q, true, false)} אתה רואה?", $"ספור את {Np(q, true, true)}.",
                $"תגיד לי כמה {Np(q, true, false)} יש בתמונה."),
            QuestionType.Color => Pick(random, $"איזה צבע יש ל{Np(q, false, true, item: true)[1..]}?", $"מהו הצבע של {Np(q, false, true, item: true)}?",
                $"תגיד לי מה הצבע של {Np(q, false, true, item: true)}.", $"אתה יודע מה הצבע של {Np(q, false, true, item: true)}?"),
            // "What is the blue shape?": a colour-only subject is a צורה here, as users say it.
            QuestionType.Shape => Pick(random, $"מהי הצורה של {Np(q, false, true, item: true)}?", $"מה {Np(q, false, true)}?",
                $"תגיד לי מה הצורה של {Np(q, false, true, item: true)}.", $"אתה יודע מה הצורה של {Np(q, false, true, item: true)}?"),
            QuestionType.Exists => Pick(random, $"האם אתה רואה {Np(q, false, false)}?", $"האם רואים בתמונה {Np(q, false, false)}?",
                $"תגיד לי אם יש בתמונה {Np(q, false, false)}.", $"יש בתמונה {Np(q, false, false)}?"),
            _ => null,
        };
    }
}
