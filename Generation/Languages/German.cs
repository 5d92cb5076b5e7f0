namespace VqaApi.Generation;

/// <summary>
/// German: three genders, nominative/accusative/dative, strong/weak/mixed adjective endings, "vom" for "von dem".
/// Emoji are "das Emoji „Name“" (neuter), so the CLDR name needs no article or plural.
/// </summary>
public sealed class German(EmojiCatalog catalog, Lexicon lexicon) : LanguageBase(catalog, lexicon)
{
    public override string Code => "de";

    private enum G { M, F, N }
    private enum Case { Nom, Acc, Dat }
    private enum Det { Def, Indef, Kein, None }

    private sealed record Noun(string Sg, string Pl, G Gender, string? DatSg = null);

    private static readonly Noun[] s_shapes =
    [
        new("Kreis", "Kreise", G.M), new("Quadrat", "Quadrate", G.N), new("Dreieck", "Dreiecke", G.N), new("Stern", "Sterne", G.M),
        new("Herz", "Herzen", G.N, "Herzen"), new("Raute", "Rauten", G.F), new("Sechseck", "Sechsecke", G.N), new("Kreuz", "Kreuze", G.N),
    ];
    private static readonly Noun s_object = new("Objekt", "Objekte", G.N);
    private static readonly Noun s_emoji = new("Emoji", "Emojis", G.N);
    private static readonly Noun s_figure = new("Figur", "Figuren", G.F);

    /// <summary>The noun of objects named by colour alone or by nothing: Objekt, or Figur in <see cref="WithShapeNoun"/>.</summary>
    private Noun _generic = s_object;
    protected override LanguageBase WithShapeNoun() => new German(Catalog, Lexicon) { _generic = s_figure };

    /// <summary>Adjective stems; null ending marks the indeclinable ones (orange, rosa).</summary>
    private static readonly (string Stem, bool Declines)[] s_colors =
        [("rot", true), ("orange", false), ("gelb", true), ("grün", true), ("blau", true), ("violett", true), ("rosa", false), ("schwarz", true)];

    /// <summary>The colours as nouns, for <see cref="LanguageBase.WithColourWord"/>.</summary>
    private static readonly string[] s_colourNouns = ["Rot", "Orange", "Gelb", "Grün", "Blau", "Violett", "Rosa", "Schwarz"];
    protected override int ColourWordStyles => 2;

    private static readonly string[] s_numbers = ["null", "ein", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht"];

    private static string Article(Det det, G g, Case c, bool plural)
    {
        if (det == Det.None) return "";
        if (plural) return det switch { Det.Def => c == Case.Dat ? "den" : "die", Det.Kein => c == Case.Dat ? "keinen" : "keine", _ => "" };
        if (det == Det.Def)
            return (c, g) switch
            {
                (Case.Nom, G.M) => "der", (Case.Acc, G.M) => "den", (Case.Dat, G.F) => "der", (Case.Dat, _) => "dem",
                (_, G.F) => "die", _ => "das",
            };
        string stem = (c, g) switch
        {
            (Case.Acc, G.M) => "einen", (Case.Dat, G.F) => "einer", (Case.Dat, _) => "einem", (_, G.F) => "eine", _ => "ein",
        };
        return det == Det.Kein ? "k" + stem : stem;
    }

    private static string Ending(Det det, G g, Case c, bool plural)
    {
        if (plural) return det == Det.None ? "e" : "en";
        if (det == Det.Def) return c == Case.Nom || (c == Case.Acc && g != G.M) ? "e" : "en";
        if (c == Case.Dat) return "en";
        return g switch { G.M => c == Case.Nom ? "er" : "en", G.F => "e", _ => "es" };
    }

    private Noun NounOf(ObjectQuery q) => q.Emoji is not null ? s_emoji : q.Shape is ShapeKind s ? s_shapes[(int)s] : _generic;

    /// <summary>A noun phrase: determiner, adjective with its ending, noun in the right form, emoji name.</summary>
    private string Np(ObjectQuery q, Det det, Case c, bool plural)
    {
        var noun = NounOf(q);
        var parts = new List<string>(4);
        string art = Article(det, noun.Gender, c, plural);
        if (art.Length > 0) parts.Add(art);
        if (q.Emoji is null && q.Color is ObjectColor col && ColourWordStyle == 0)
        {
            var (stem, declines) = s_colors[(int)col];
            parts.Add(declines ? stem + Ending(det, noun.Gender, c, plural) : stem);
        }
        parts.Add(plural ? noun.Pl : c == Case.Dat && noun.DatSg is not null ? noun.DatSg : noun.Sg);
        // With the word for colour (WithColourWord): "ein Kreis in Rot", "ein Kreis mit der Farbe Rot".
        if (q.Emoji is null && q.Color is ObjectColor named && ColourWordStyle > 0)
            parts.Add((ColourWordStyle == 1 ? "in " : "mit der Farbe ") + s_colourNouns[(int)named]);
        if (q.Emoji is int e) parts.Add($"„{EmojiName(e)}“");
        return string.Join(' ', parts);
    }

    /// <summary>"zwei rote Kreise", "ein roter Kreis" (case for the article of count 1).</summary>
    private string Counted(ObjectQuery q, int n, Case c) =>
        n == 1 ? Np(q, Det.Indef, c, false) : $"{(n < s_numbers.Length ? s_numbers[n] : Digits(n))} {Np(q, Det.None, c, true)}";

    /// <summary>"links vom roten Kreis", "über der roten Raute".</summary>
    private string Located(Relation r, ObjectQuery b)
    {
        string dat = Np(b, Det.Def, Case.Dat, false);
        return r switch
        {
            Relation.LeftOf => "links " + Von(dat),
            Relation.RightOf => "rechts " + Von(dat),
            Relation.Above => "über " + dat,
            _ => "unter " + dat,
        };
    }

    private static string Von(string datPhrase) =>
        datPhrase.StartsWith("dem ", StringComparison.Ordinal) ? "vom " + datPhrase[4..] : "von " + datPhrase;

    protected override string CaptionList(IReadOnlyList<CountFact> groups, Random random)
    {
        var items = groups.Select(g => Counted(g.What, g.Count, Case.Nom)).ToList();
        return random.Next(2) == 0 ? JoinList(items, ", ", " und ") : string.Join(", ", items);
    }

    protected override string CaptionSentence(IReadOnlyList<CountFact> groups, Random random)
    {
        int v = PickIndex(random, 3);
        var c = v == 0 ? Case.Nom : Case.Acc;
        string list = JoinList(groups.Select(g => Counted(g.What, g.Count, c)).ToList(), ", ", " und ");
        bool singular = groups.Count == 1 && groups[0].Count == 1;
        return v switch
        {
            0 => $"Im Bild {(singular ? "ist" : "sind")} {list}.",
            1 => $"Es gibt {list}.",
            _ => $"Das Bild zeigt {list}.",
        };
    }

    protected override string CountSentence(CountFact f, Random random) => f.Count switch
    {
        0 => Pick(random, $"Im Bild ist {Np(f.What, Det.Kein, Case.Nom, false)}.", $"Es gibt {Np(f.What, Det.Kein, Case.Acc, false)}."),
        1 => Pick(random, $"Im Bild ist {Np(f.What, Det.Indef, Case.Nom, false)}.", $"Es gibt genau {Np(f.What, Det.Indef, Case.Acc, false)}."),
        _ => Pick(random, $"Im Bild sind {Counted(f.What, f.Count, Case.Nom)}.", $"Es gibt {Counted(f.What, f.Count, Case.Acc)}."),
    };

    protected override string RelationSentence(RelationFact f, Random random) => Capitalize(Pick(random,
        $"{Np(f.A, Det.Def, Case.Nom, false)} ist {Located(f.Relation, f.B)}.",
        $"{Np(f.A, Det.Def, Case.Nom, false)} befindet sich {Located(f.Relation, f.B)}."));

    protected override string AskCount(ObjectQuery q, Random random) => Pick(random,
        $"Wie viele {Np(q, Det.None, Case.Nom, true)} sind im Bild?", $"Wie viele {Np(q, Det.None, Case.Acc, true)} gibt es?");

    protected override string AskColor(ObjectQuery q, Random random) => Pick(random,
        $"Welche Farbe hat {Np(q, Det.Def, Case.Nom, false)}?", $"Was für eine Farbe hat {Np(q, Det.Def, Case.Nom, false)}?");

    protected override string AskShape(ObjectQuery q, Random random) => Pick(random,
        $"Welche Form hat {Np(q, Det.Def, Case.Nom, false)}?", $"Was für eine Form hat {Np(q, Det.Def, Case.Nom, false)}?");

    protected override string AskExists(ObjectQuery q, Random random) => Pick(random,
        $"Gibt es {Np(q, Det.Indef, Case.Acc, false)}?", $"Ist im Bild {Np(q, Det.Indef, Case.Nom, false)}?");

    protected override string AskSpatial(ObjectQuery a, Relation r, ObjectQuery b, Random random) => Pick(random,
        $"Ist {Np(a, Det.Def, Case.Nom, false)} {Located(r, b)}?", $"Befindet sich {Np(a, Det.Def, Case.Nom, false)} {Located(r, b)}?");

    protected override IReadOnlyList<string> Preambles { get; } = ["Schau dir das Bild an.", "Frage:", "Eine Frage zum Bild:"];

    public override Fillers Fillers { get; } = new(["Hallo!", "Hey,", "Kurze Frage:", "Sag bitte:", "Also:"], [", bitte", " genau", " jetzt"], ["denn", "genau", "bitte", "jetzt", "wohl"]);

    public override IReadOnlyList<string> RareWords { get; } = ["Bestimme", "vorhanden", "Farbton", "Gestalt", "Umriss", "Erkennst", "Findet"];

    protected override string? AskRare(Question question, Random random)
    {
        var q = question.Subject;
        string the = Np(q, Det.Def, Case.Nom, false);
        return question.Type switch
        {
            QuestionType.Count => Pick(random, $"Bestimme, wie viele {Np(q, Det.None, Case.Nom, true)} es gibt.", $"Wie viele {Np(q, Det.None, Case.Nom, true)} sind vorhanden?"),
            QuestionType.Color => Pick(random, $"Welchen Farbton hat {the}?", $"In welchem Farbton ist {the} gehalten?"),
            QuestionType.Shape => Pick(random, $"Welche Gestalt hat {the}?", $"Welchen Umriss hat {the}?"),
            QuestionType.Exists => Pick(random, $"Erkennst du {Np(q, Det.Indef, Case.Acc, false)}?", $"Ist {Np(q, Det.Indef, Case.Nom, false)} vorhanden?",
                $"Findet sich {Np(q, Det.Indef, Case.Nom, false)} darin?"),
            _ => null,
        };
    }

    protected override string? AskColourPredicate(QuestionType type, ObjectQuery what, ObjectColor colour, Random random)
    {
        string c = s_colors[(int)colour].Stem, pl = Np(what, Det.None, Case.Nom, true), sg = Np(what, Det.None, Case.Nom, false);
        var g = NounOf(what).Gender;
        // "einer/eine/eines der Kreise", "irgendein Kreis", "ein Objekt" / "eine Figur".
        string one = g switch { G.M => "einer", G.F => "eine", _ => "eines" }, any = Article(Det.Indef, g, Case.Nom, false);
        string which = g switch { G.M => "Welcher", G.F => "Welche", _ => "Welches" };
        return type switch
        {
            QuestionType.Count => Pick(random, $"Wie viele {pl} sind {c}?", $"Wie viele der {pl} sind {c}?", $"Wie viele {pl} im Bild sind {c}?"),
            QuestionType.Shape => Pick(random, $"{which} der {pl} ist {c}?", $"Was für {any} {sg} ist {c}?", $"Welche Form ist {c}?"),
            QuestionType.Exists => Pick(random, $"Ist {one} der {pl} {c}?", $"Ist irgend{any} {sg} {c}?", $"Gibt es {Np(what, Det.Indef, Case.Acc, false)}, {(g == G.M ? "der" : g == G.F ? "die" : "das")} {c} ist?"),
            _ => null,
        };
    }

    protected override string? AskOther(Question question, Random random)
    {
        var q = question.Subject;
        return question.Type switch
        {
            QuestionType.Count => Pick(random, $"Wie viele {Np(q, Det.None, Case.Acc, true)} siehst du?", $"Wie viele {Np(q, Det.None, Case.Acc, true)} zeigt das Bild?",
                $"Wie viele {Np(q, Det.None, Case.Nom, true)} sind zu sehen?", $"Zähle {Np(q, Det.Def, Case.Acc, true)}.",
                $"Kannst du mir sagen, wie viele {Np(q, Det.None, Case.Acc, true)} es gibt?", $"Weißt du, wie viele {Np(q, Det.None, Case.Acc, true)} das Bild zeigt?",
                Capitalize($"{Np(q, Det.None, Case.Nom, true)}: wie viele?")),
            QuestionType.Color => Pick(random, $"Welche Farbe hat {Np(q, Det.Def, Case.Nom, false)} im Bild?", $"Sag mir, welche Farbe {Np(q, Det.Def, Case.Nom, false)} hat.",
                $"Kannst du mir sagen, welche Farbe {Np(q, Det.Def, Case.Nom, false)} hat?", $"Weißt du, welche Farbe {Np(q, Det.Def, Case.Nom, false)} hat?",
                Capitalize($"{Np(q, Det.Def, Case.Nom, false)}: welche Farbe?")),
            QuestionType.Shape => Pick(random, $"Was ist {Np(q, Det.Def, Case.Nom, false)}?", $"Welche Form hat {Np(q, Det.Def, Case.Nom, false)} im Bild?",
                $"Was für eine Figur ist {Np(q, Det.Def, Case.Nom, false)}?", $"Kannst du mir sagen, welche Form {Np(q, Det.Def, Case.Nom, false)} hat?",
                $"Weißt du, was für eine Form {Np(q, Det.Def, Case.Nom, false)} hat?", Capitalize($"{Np(q, Det.Def, Case.Nom, false)}: welche Form?")),
            QuestionType.Exists => Pick(random, $"Siehst du {Np(q, Det.Indef, Case.Acc, false)}?", $"Enthält das Bild {Np(q, Det.Indef, Case.Acc, false)}?",
                $"Gibt es im Bild {Np(q, Det.Indef, Case.Acc, false)}?", $"Ist {Np(q, Det.Indef, Case.Nom, false)} zu sehen?",
                $"Kannst du mir sagen, ob es {Np(q, Det.Indef, Case.Acc, false)} gibt?", $"Weißt du, ob im Bild {Np(q, Det.Indef, Case.Nom, false)} ist?",
                $"Gibt es {Np(q, Det.Indef, Case.Acc, false)} oder nicht?"),
            QuestionType.Spatial when question.Relation is { } r && question.Other is { } b =>
                $"Liegt {Np(q, Det.Def, Case.Nom, false)} {Located(r, b)}?",
            _ => null,
        };
    }
}
