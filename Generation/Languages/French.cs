namespace VqaApi.Generation;

/// <summary>
/// French: gender and number agreement of adjectives (after the noun; "orange" invariable), un/une, le/la/l',
/// du/de la/de l', aucun/aucune, "combien de/d'". Emoji are "l'emoji « nom »" (masculine).
/// </summary>
public sealed class French(EmojiCatalog catalog, Lexicon lexicon) : LanguageBase(catalog, lexicon)
{
    public override string Code => "fr";

    private sealed record Noun(string Sg, string Pl, bool Feminine, bool Vowel);

    private static readonly Noun[] s_shapes =
    [
        new("cercle", "cercles", false, false), new("carré", "carrés", false, false), new("triangle", "triangles", false, false),
        new("étoile", "étoiles", true, true), new("cœur", "cœurs", false, false), new("losange", "losanges", false, false),
        new("hexagone", "hexagones", false, true), new("croix", "croix", true, false),
    ];
    private static readonly Noun s_object = new("objet", "objets", false, true);
    private static readonly Noun s_emoji = new("emoji", "emojis", false, true);
    private static readonly Noun s_form = new("forme", "formes", true, false);

    /// <summary>The noun of objects named by colour alone or by nothing: objet, or forme in <see cref="WithShapeNoun"/>.</summary>
    private Noun _generic = s_object;
    protected override LanguageBase WithShapeNoun() => new French(Catalog, Lexicon) { _generic = s_form };

    /// <summary>Masculine singular, feminine singular, masculine plural, feminine plural.</summary>
    private static readonly string[][] s_colors =
    [
        ["rouge", "rouge", "rouges", "rouges"], ["orange", "orange", "orange", "orange"], ["jaune", "jaune", "jaunes", "jaunes"],
        ["vert", "verte", "verts", "vertes"], ["bleu", "bleue", "bleus", "bleues"], ["violet", "violette", "violets", "violettes"],
        ["rose", "rose", "roses", "roses"], ["noir", "noire", "noirs", "noires"],
    ];

    private static readonly string[] s_numbers = ["zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit"];

    private Noun NounOf(ObjectQuery q) => q.Emoji is not null ? s_emoji : q.Shape is ShapeKind s ? s_shapes[(int)s] : _generic;

    /// <summary>"cercle rouge", "étoiles bleues", "emoji « tête de chien »".</summary>
    private string Bare(ObjectQuery q, bool plural)
    {
        var n = NounOf(q);
        string s = plural ? n.Pl : n.Sg;
        if (q.Emoji is int e) return $"{s} « {EmojiName(e)} »";
        // With the word for colour (WithColourWord): "de couleur rouge" (the colour agrees with "couleur": verte, bleue).
        if (q.Color is ObjectColor c) s += ColourWordStyle > 0 ? " de couleur " + s_colors[(int)c][1] : " " + s_colors[(int)c][(n.Feminine ? 1 : 0) + (plural ? 2 : 0)];
        return s;
    }

    private string Indefinite(ObjectQuery q) => (NounOf(q).Feminine ? "une " : "un ") + Bare(q, false);

    private string Definite(ObjectQuery q)
    {
        var n = NounOf(q);
        return (n.Vowel ? "l'" : n.Feminine ? "la " : "le ") + Bare(q, false);
    }

    /// <summary>"de" + definite: "du cercle rouge", "de la croix", "de l'étoile".</summary>
    private string OfDefinite(ObjectQuery q)
    {
        var n = NounOf(q);
        return (n.Vowel ? "de l'" : n.Feminine ? "de la " : "du ") + Bare(q, false);
    }

    private string Counted(ObjectQuery q, int n) =>
        n == 1 ? Indefinite(q) : $"{(n < s_numbers.Length ? s_numbers[n] : Digits(n))} {Bare(q, true)}";

    private string Located(Relation r, ObjectQuery b) => r switch
    {
        Relation.LeftOf => "à gauche " + OfDefinite(b),
        Relation.RightOf => "à droite " + OfDefinite(b),
        Relation.Above => "au-dessus " + OfDefinite(b),
        _ => "en dessous " + OfDefinite(b),
    };

    private string HowMany(ObjectQuery q) => (NounOf(q).Vowel ? "combien d'" : "combien de ") + Bare(q, true);

    protected override string CaptionList(IReadOnlyList<CountFact> groups, Random random)
    {
        var items = groups.Select(g => Counted(g.What, g.Count)).ToList();
        return random.Next(2) == 0 ? JoinList(items, ", ", " et ") : string.Join(", ", items);
    }

    protected override string CaptionSentence(IReadOnlyList<CountFact> groups, Random random)
    {
        string list = JoinList(groups.Select(g => Counted(g.What, g.Count)).ToList(), ", ", " et ");
        return Pick(random, $"Il y a {list}.", $"L'image montre {list}.", $"On voit {list}.");
    }

    protected override string CountSentence(CountFact f, Random random) => f.Count switch
    {
        0 => Pick(random, $"Il n'y a {(NounOf(f.What).Feminine ? "aucune" : "aucun")} {Bare(f.What, false)}.",
                          $"L'image ne contient {(NounOf(f.What).Feminine ? "aucune" : "aucun")} {Bare(f.What, false)}."),
        1 => Pick(random, $"Il y a {Indefinite(f.What)}.", $"Il y a exactement {Indefinite(f.What)}."),
        _ => Pick(random, $"Il y a {Counted(f.What, f.Count)}.", $"L'image montre {Counted(f.What, f.Count)}."),
    };

    protected override string RelationSentence(RelationFact f, Random random) => Capitalize(Pick(random,
        $"{Definite(f.A)} est {Located(f.Relation, f.B)}.", $"{Definite(f.A)} se trouve {Located(f.Relation, f.B)}."));

    protected override string AskCount(ObjectQuery q, Random random) => Capitalize(Pick(random,
        $"{HowMany(q)} y a-t-il ?", $"{HowMany(q)} y a-t-il dans l'image ?", $"{HowMany(q)} voit-on ?"));

    protected override string AskColor(ObjectQuery q, Random random) => Pick(random,
        $"De quelle couleur est {Definite(q)} ?", $"Quelle est la couleur {OfDefinite(q)} ?");

    protected override string AskShape(ObjectQuery q, Random random) => Pick(random,
        $"Quelle est la forme {OfDefinite(q)} ?", $"Quelle forme a {Definite(q)} ?");

    protected override string AskExists(ObjectQuery q, Random random) => Pick(random,
        $"Y a-t-il {Indefinite(q)} ?", $"Est-ce qu'il y a {Indefinite(q)} dans l'image ?");

    protected override string AskSpatial(ObjectQuery a, Relation r, ObjectQuery b, Random random) => PickIndex(random, 2) == 0
        ? Capitalize($"{Definite(a)} est-{(NounOf(a).Feminine ? "elle" : "il")} {Located(r, b)} ?")
        : $"Est-ce que {Definite(a)} est {Located(r, b)} ?";

    protected override IReadOnlyList<string> Preambles { get; } = ["Regardez l'image.", "Question :", "Une question sur l'image :"];

    public override Fillers Fillers { get; } = new(["Bonjour,", "Alors,", "Petite question :", "Pardon,"], [", merci", " exactement", " maintenant"], ["donc", "exactement", "maintenant", "alors"]);

    protected override bool LowercaseAfterComma => true;

    public override IReadOnlyList<string> RareWords { get; } = ["décompte", "Dénombre", "teinte", "nuance", "silhouette", "contour", "Remarques", "Distingue", "Repères"];

    protected override string? AskRare(Question question, Random random)
    {
        var q = question.Subject;
        return question.Type switch
        {
            QuestionType.Count => Pick(random, $"Fais le décompte des {Bare(q, true)}.", $"Dénombre les {Bare(q, true)}."),
            QuestionType.Color => Pick(random, $"Quelle teinte a {Definite(q)} ?", $"Quelle est la nuance {OfDefinite(q)} ?"),
            QuestionType.Shape => Pick(random, $"Quelle silhouette a {Definite(q)} ?", $"Quel contour a {Definite(q)} ?"),
            QuestionType.Exists => Pick(random, $"Remarques-tu {Indefinite(q)} ?", $"Distingue-t-on {Indefinite(q)} ?", $"Repères-tu {Indefinite(q)} ?"),
            _ => null,
        };
    }

    protected override string? AskColourPredicate(QuestionType type, ObjectQuery what, ObjectColor colour, Random random)
    {
        var n = NounOf(what);
        string[] forms = s_colors[(int)colour];
        string c = forms[n.Feminine ? 1 : 0], cPl = forms[n.Feminine ? 3 : 2], pl = Bare(what, true), sg = Bare(what, false);
        string the = n.Vowel ? "l'" : n.Feminine ? "la " : "le ", whichOf = n.Feminine ? "Laquelle" : "Lequel";
        string oneOf = n.Feminine ? "une" : "un", of = n.Vowel ? "d'" : "de ";
        return type switch
        {
            // Not "Combien de formes sont rouges ?" either (an own wording of the check).
            QuestionType.Count => Pick(random, $"Il y a combien {of}{pl} qui sont {cPl} ?", $"Combien {of}{pl} de l'image sont {cPl} ?", $"Parmi les {pl}, combien sont {cPl} ?"),
            // Not "Quelle forme est rouge ?": that is one of training/paraphrase_check.py's own wordings, kept out of training.
            QuestionType.Shape => Pick(random, $"{whichOf} des {pl} est {c} ?", $"Parmi les {pl}, {whichOf.ToLowerInvariant()} est {c} ?", $"Quelle est {the}{sg} qui est {c} ?"),
            QuestionType.Exists => Pick(random, $"Est-ce qu'{oneOf} des {pl} est {c} ?", $"{Capitalize(oneOf)} des {pl} est-{(n.Feminine ? "elle" : "il")} {c} ?",
                $"Y a-t-il {Indefinite(what)} qui est {c} ?"),
            _ => null,
        };
    }

    protected override string? AskOther(Question question, Random random)
    {
        var q = question.Subject;
        return question.Type switch
        {
            QuestionType.Count => Capitalize(Pick(random, $"{HowMany(q)} voyez-vous ?", $"{HowMany(q)} l'image contient-elle ?",
                $"quel est le nombre {(NounOf(q).Vowel ? "d'" : "de ")}{Bare(q, true)} ?", $"comptez les {Bare(q, true)}.",
                $"pouvez-vous me dire {HowMany(q)} il y a ?", $"savez-vous {HowMany(q)} montre l'image ?", $"les {Bare(q, true)} : combien ?")),
            QuestionType.Color => Pick(random, $"Quelle couleur a {Definite(q)} ?", Capitalize($"{Definite(q)} est de quelle couleur ?"),
                $"Dites-moi la couleur {OfDefinite(q)}.", $"Pouvez-vous me dire de quelle couleur est {Definite(q)} ?",
                $"Savez-vous quelle est la couleur {OfDefinite(q)} ?", Capitalize($"{Definite(q)} : quelle couleur ?")),
            QuestionType.Shape => Pick(random, $"De quelle forme est {Definite(q)} ?", Capitalize($"{Definite(q)} a quelle forme ?"),
                $"Quelle forme a {Definite(q)} dans l'image ?", $"Pouvez-vous me dire quelle forme a {Definite(q)} ?",
                $"Savez-vous de quelle forme est {Definite(q)} ?", Capitalize($"{Definite(q)} : quelle forme ?")),
            QuestionType.Exists => Pick(random, $"Voit-on {Indefinite(q)} ?", $"L'image contient-elle {Indefinite(q)} ?",
                $"Est-ce qu'on voit {Indefinite(q)} ?", $"Y a-t-il {Indefinite(q)} dans l'image ?", $"Pouvez-vous me dire s'il y a {Indefinite(q)} ?",
                $"Savez-vous si l'image contient {Indefinite(q)} ?", $"Y a-t-il {Indefinite(q)} ou non ?"),
            _ => null,
        };
    }
}
