namespace VqaApi.Generation;

/// <summary>
/// Spanish: gender and number agreement (adjective after the noun; naranja and rosa invariable), un/una,
/// el/la, del, ningún/ninguna, cuántos/cuántas. Emoji are "el emoji «nombre»" (masculine).
/// </summary>
public sealed class Spanish(EmojiCatalog catalog, Lexicon lexicon) : LanguageBase(catalog, lexicon)
{
    public override string Code => "es";

    private sealed record Noun(string Sg, string Pl, bool Feminine);

    private static readonly Noun[] s_shapes =
    [
        new("círculo", "círculos", false), new("cuadrado", "cuadrados", false), new("triángulo", "triángulos", false),
        new("estrella", "estrellas", true), new("corazón", "corazones", false), new("rombo", "rombos", false),
        new("hexágono", "hexágonos", false), new("cruz", "cruces", true),
    ];
    private static readonly Noun s_object = new("objeto", "objetos", false);
    private static readonly Noun s_emoji = new("emoji", "emojis", false);
    private static readonly Noun s_figure = new("figura", "figuras", true);

    /// <summary>The noun of objects named by colour alone or by nothing: objeto, or figura in <see cref="WithShapeNoun"/>.</summary>
    private Noun _generic = s_object;
    protected override LanguageBase WithShapeNoun() => new Spanish(Catalog, Lexicon) { _generic = s_figure };

    private static readonly string[][] s_colors =
    [
        ["rojo", "roja", "rojos", "rojas"], ["naranja", "naranja", "naranja", "naranja"], ["amarillo", "amarilla", "amarillos", "amarillas"],
        ["verde", "verde", "verdes", "verdes"], ["azul", "azul", "azules", "azules"], ["morado", "morada", "morados", "moradas"],
        ["rosa", "rosa", "rosa", "rosa"], ["negro", "negra", "negros", "negras"],
    ];

    private static readonly string[] s_numbers = ["cero", "un", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho"];

    private Noun NounOf(ObjectQuery q) => q.Emoji is not null ? s_emoji : q.Shape is ShapeKind s ? s_shapes[(int)s] : _generic;

    private bool Fem(ObjectQuery q) => NounOf(q).Feminine;

    private string Bare(ObjectQuery q, bool plural)
    {
        var n = NounOf(q);
        string s = plural ? n.Pl : n.Sg;
        if (q.Emoji is int e) return $"{s} «{EmojiName(e)}»";
        // With the word for colour (WithColourWord): "en color rojo" (the colour agrees with "color").
        if (q.Color is ObjectColor c) s += ColourWordStyle > 0 ? " en color " + s_colors[(int)c][0] : " " + s_colors[(int)c][(n.Feminine ? 1 : 0) + (plural ? 2 : 0)];
        return s;
    }

    private string Indefinite(ObjectQuery q) => (Fem(q) ? "una " : "un ") + Bare(q, false);
    private string Definite(ObjectQuery q) => (Fem(q) ? "la " : "el ") + Bare(q, false);
    private string OfDefinite(ObjectQuery q) => (Fem(q) ? "de la " : "del ") + Bare(q, false);

    private string Counted(ObjectQuery q, int n) =>
        n == 1 ? Indefinite(q) : $"{(n < s_numbers.Length ? s_numbers[n] : Digits(n))} {Bare(q, true)}";

    private string Located(Relation r, ObjectQuery b) => r switch
    {
        Relation.LeftOf => "a la izquierda " + OfDefinite(b),
        Relation.RightOf => "a la derecha " + OfDefinite(b),
        Relation.Above => "encima " + OfDefinite(b),
        _ => "debajo " + OfDefinite(b),
    };

    protected override string CaptionList(IReadOnlyList<CountFact> groups, Random random)
    {
        var items = groups.Select(g => Counted(g.What, g.Count)).ToList();
        return random.Next(2) == 0 ? JoinList(items, ", ", " y ") : string.Join(", ", items);
    }

    protected override string CaptionSentence(IReadOnlyList<CountFact> groups, Random random)
    {
        string list = JoinList(groups.Select(g => Counted(g.What, g.Count)).ToList(), ", ", " y ");
        return Pick(random, $"Hay {list}.", $"En la imagen hay {list}.", $"La imagen muestra {list}.");
    }

    protected override string CountSentence(CountFact f, Random random) => f.Count switch
    {
        0 => Pick(random, $"No hay {(Fem(f.What) ? "ninguna" : "ningún")} {Bare(f.What, false)}.",
                          $"En la imagen no hay {(Fem(f.What) ? "ninguna" : "ningún")} {Bare(f.What, false)}."),
        1 => Pick(random, $"Hay {Indefinite(f.What)}.", $"En la imagen hay exactamente {Indefinite(f.What)}."),
        _ => Pick(random, $"Hay {Counted(f.What, f.Count)}.", $"En la imagen hay {Counted(f.What, f.Count)}."),
    };

    protected override string RelationSentence(RelationFact f, Random random) =>
        Capitalize($"{Definite(f.A)} está {Located(f.Relation, f.B)}.");

    protected override string AskCount(ObjectQuery q, Random random)
    {
        string how = Fem(q) ? "Cuántas" : "Cuántos";
        return Pick(random, $"¿{how} {Bare(q, true)} hay?", $"¿{how} {Bare(q, true)} hay en la imagen?");
    }

    protected override string AskColor(ObjectQuery q, Random random) => Pick(random,
        $"¿De qué color es {Definite(q)}?", $"¿Qué color tiene {Definite(q)}?");

    protected override string AskShape(ObjectQuery q, Random random) => Pick(random,
        $"¿Qué forma tiene {Definite(q)}?", $"¿De qué forma es {Definite(q)}?");

    protected override string AskExists(ObjectQuery q, Random random) => Pick(random,
        $"¿Hay {Indefinite(q)}?", $"¿Hay {(Fem(q) ? "alguna" : "algún")} {Bare(q, false)} en la imagen?");

    protected override string AskSpatial(ObjectQuery a, Relation r, ObjectQuery b, Random random) => Pick(random,
        $"¿Está {Definite(a)} {Located(r, b)}?", $"¿{Capitalize(Definite(a))} está {Located(r, b)}?");

    protected override IReadOnlyList<string> Preambles { get; } = ["Mira la imagen.", "Pregunta:", "Una pregunta sobre la imagen:"];

    public override Fillers Fillers { get; } = new(["Hola,", "Oye,", "Bueno,", "Una duda:", "Perdona,"], [", por favor", " exactamente", " ahora"], ["exactamente", "ahora", "realmente", "pues"]);

    protected override bool LowercaseAfterComma => true;

    public override IReadOnlyList<string> RareWords { get; } = ["número", "cantidad", "tono", "tonalidad", "silueta", "contorno", "Distingues", "Notas", "presente"];

    protected override string? AskRare(Question question, Random random)
    {
        var q = question.Subject;
        return question.Type switch
        {
            QuestionType.Count => Pick(random, $"¿Cuál es el número de {Bare(q, true)}?", $"¿Qué cantidad de {Bare(q, true)} hay?"),
            QuestionType.Color => Pick(random, $"¿Qué tono tiene {Definite(q)}?", $"¿De qué tonalidad es {Definite(q)}?"),
            QuestionType.Shape => Pick(random, $"¿Qué silueta tiene {Definite(q)}?", $"¿Qué contorno tiene {Definite(q)}?"),
            QuestionType.Exists => Pick(random, $"¿Distingues {Indefinite(q)}?", $"¿Notas {Indefinite(q)}?", $"¿Está presente {Indefinite(q)}?"),
            _ => null,
        };
    }

    protected override string? AskColourPredicate(QuestionType type, ObjectQuery what, ObjectColor colour, Random random)
    {
        bool fem = Fem(what);
        string[] forms = s_colors[(int)colour];
        string c = forms[fem ? 1 : 0], cPl = forms[fem ? 3 : 2], pl = Bare(what, true), sg = Bare(what, false);
        string how = fem ? "cuántas" : "cuántos", art = fem ? "la" : "el", arts = fem ? "las" : "los", one = fem ? "una" : "uno", some = fem ? "alguna" : "algún";
        return type switch
        {
            // Not "¿Cuántas figuras son rojas?": one of training/paraphrase_check.py's own wordings, kept out of training.
            QuestionType.Count => Pick(random, $"¿{Capitalize(how)} de {arts} {pl} son {cPl}?", $"De {arts} {pl}, ¿{how} son {cPl}?", $"¿{Capitalize(how)} {pl} de la imagen son {cPl}?"),
            QuestionType.Shape => Pick(random, $"¿Cuál de {arts} {pl} es {c}?", $"¿Qué forma es {c}?", $"¿Cuál es {art} {sg} que es {c}?"),
            QuestionType.Exists => Pick(random, $"¿Es {c} {some} {sg}?", $"¿{Capitalize(one)} de {arts} {pl} es {c}?", $"¿Hay {Indefinite(what)} que sea {c}?"),
            _ => null,
        };
    }

    protected override string? AskOther(Question question, Random random)
    {
        var q = question.Subject;
        string how = Fem(q) ? "Cuántas" : "Cuántos";
        return question.Type switch
        {
            QuestionType.Count => Pick(random, $"¿{how} {Bare(q, true)} ves?", $"¿{how} {Bare(q, true)} aparecen en la imagen?",
                $"¿{how} {Bare(q, true)} se ven?", $"Cuenta {(Fem(q) ? "las" : "los")} {Bare(q, true)}.",
                $"¿Puedes decirme {how.ToLowerInvariant()} {Bare(q, true)} hay?", $"¿Sabes {how.ToLowerInvariant()} {Bare(q, true)} muestra la imagen?",
                $"{(Fem(q) ? "Las" : "Los")} {Bare(q, true)}: ¿{how.ToLowerInvariant()} hay?"),
            QuestionType.Color => Pick(random, $"¿De qué color es {Definite(q)} de la imagen?", $"¿Cuál es el color {OfDefinite(q)}?",
                $"¿Puedes decirme de qué color es {Definite(q)}?", $"¿Sabes qué color tiene {Definite(q)}?", $"{Capitalize(Definite(q))}: ¿qué color tiene?"),
            QuestionType.Shape => Pick(random, $"¿Qué forma tiene {Definite(q)} en la imagen?", $"¿Cuál es la forma {OfDefinite(q)}?",
                $"¿Puedes decirme qué forma tiene {Definite(q)}?", $"¿Sabes de qué forma es {Definite(q)}?", $"{Capitalize(Definite(q))}: ¿qué forma tiene?"),
            QuestionType.Exists => Pick(random, $"¿Ves {Indefinite(q)}?", $"¿Aparece {Indefinite(q)} en la imagen?", $"¿La imagen contiene {Indefinite(q)}?",
                $"¿Puedes decirme si hay {Indefinite(q)}?", $"¿Sabes si la imagen tiene {Indefinite(q)}?", $"¿Hay {Indefinite(q)} o no?"),
            _ => null,
        };
    }
}
