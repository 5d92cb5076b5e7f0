namespace VqaApi.Generation;

/// <summary>
/// Russian: numeral government (1 → nominative singular, 2–4 → genitive singular noun with genitive plural
/// adjective for masculine/neuter and nominative plural for feminine, 5+ → genitive plural), gender of один/два,
/// "нет" + genitive plural, "слева/справа от" + genitive, "над/под" + instrumental. Emoji are
/// "эмодзи «название»" (indeclinable, neuter).
/// </summary>
public sealed class Russian(EmojiCatalog catalog, Lexicon lexicon) : LanguageBase(catalog, lexicon)
{
    public override string Code => "ru";

    private enum G { M, F, N }
    private enum F { NomSg, GenSg, InsSg, NomPl, GenPl }

    /// <summary>Forms in <see cref="F"/> order.</summary>
    private sealed record Noun(G Gender, params string[] Forms);

    private static readonly Noun[] s_shapes =
    [
        new(G.M, "круг", "круга", "кругом", "круги", "кругов"),
        new(G.M, "квадрат", "квадрата", "квадратом", "квадраты", "квадратов"),
        new(G.M, "треугольник", "треугольника", "треугольником", "треугольники", "треугольников"),
        new(G.F, "звезда", "звезды", "звездой", "звёзды", "звёзд"),
        new(G.N, "сердце", "сердца", "сердцем", "сердца", "сердец"),
        new(G.M, "ромб", "ромба", "ромбом", "ромбы", "ромбов"),
        new(G.M, "шестиугольник", "шестиугольника", "шестиугольником", "шестиугольники", "шестиугольников"),
        new(G.M, "крест", "креста", "крестом", "кресты", "крестов"),
    ];
    private static readonly Noun s_object = new(G.M, "предмет", "предмета", "предметом", "предметы", "предметов");
    private static readonly Noun s_figure = new(G.F, "фигура", "фигуры", "фигурой", "фигуры", "фигур");

    /// <summary>The noun of objects named by colour alone or by nothing: предмет, or фигура in <see cref="WithShapeNoun"/>.</summary>
    private Noun _generic = s_object;
    protected override LanguageBase WithShapeNoun() => new Russian(Catalog, Lexicon) { _generic = s_figure };

    private static readonly (string Stem, bool Soft)[] s_colors =
        [("красн", false), ("оранжев", false), ("жёлт", false), ("зелён", false), ("син", true), ("фиолетов", false), ("розов", false), ("чёрн", false)];

    private static readonly string[] s_numbersM = ["ноль", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь"];

    private static string Adjective(ObjectColor c, G g, F form)
    {
        var (stem, soft) = s_colors[(int)c];
        string end = form switch
        {
            F.NomSg => g switch { G.M => soft ? "ий" : "ый", G.F => soft ? "яя" : "ая", _ => soft ? "ее" : "ое" },
            F.GenSg => g == G.F ? (soft ? "ей" : "ой") : (soft ? "его" : "ого"),
            F.InsSg => g == G.F ? (soft ? "ей" : "ой") : (soft ? "им" : "ым"),
            F.NomPl => soft ? "ие" : "ые",
            _ => soft ? "их" : "ых",
        };
        return stem + end;
    }

    private Noun NounOf(ObjectQuery q) => q.Shape is ShapeKind s ? s_shapes[(int)s] : _generic;

    private G GenderOf(ObjectQuery q) => q.Emoji is not null ? G.N : NounOf(q).Gender;

    /// <summary>The phrase in one case/number form; the adjective form may differ from the noun's (2–4).</summary>
    private string Np(ObjectQuery q, F nounForm, F? adjForm = null)
    {
        if (q.Emoji is int e) return $"эмодзи «{EmojiName(e)}»";
        var noun = NounOf(q);
        string n = noun.Forms[(int)nounForm];
        if (q.Color is not ObjectColor c) return n;
        // With the word for colour (WithColourWord): "круг красного цвета" (the colour in the genitive of цвет, whatever the noun's form).
        return ColourWordStyle > 0 ? $"{n} {Adjective(c, G.M, F.GenSg)} цвета" : $"{Adjective(c, noun.Gender, adjForm ?? nounForm)} {n}";
    }

    private static string Numeral(int n, G g) => n switch
    {
        1 => g switch { G.M => "один", G.F => "одна", _ => "одно" },
        2 => g == G.F ? "две" : "два",
        _ => n < s_numbersM.Length ? s_numbersM[n] : Digits(n),
    };

    /// <summary>Numeral and noun phrase with Russian government; count 1 without the numeral unless asked.</summary>
    private string Counted(ObjectQuery q, int n, bool numeralOne)
    {
        G g = GenderOf(q);
        int last = n % 10, lastTwo = n % 100;
        if (last == 1 && lastTwo != 11)
            return numeralOne || n != 1 ? $"{Numeral(n, g)} {Np(q, F.NomSg)}" : Np(q, F.NomSg);
        if (last is >= 2 and <= 4 && lastTwo is < 12 or > 14)
            return $"{Numeral(n, g)} {Np(q, F.GenSg, g == G.F ? F.NomPl : F.GenPl)}";
        return $"{Numeral(n, g)} {Np(q, F.GenPl)}";
    }

    private string Located(Relation r, ObjectQuery b) => r switch
    {
        Relation.LeftOf => "слева от " + Np(b, F.GenSg),
        Relation.RightOf => "справа от " + Np(b, F.GenSg),
        Relation.Above => "над " + Np(b, F.InsSg),
        _ => "под " + Np(b, F.InsSg),
    };

    protected override string CaptionList(IReadOnlyList<CountFact> groups, Random random)
    {
        bool numeral = random.Next(2) == 1;
        var items = groups.Select(g => Counted(g.What, g.Count, numeral)).ToList();
        return numeral ? string.Join(", ", items) : JoinList(items, ", ", " и ");
    }

    protected override string CaptionSentence(IReadOnlyList<CountFact> groups, Random random)
    {
        string list = JoinList(groups.Select(g => Counted(g.What, g.Count, false)).ToList(), ", ", " и ");
        return Pick(random, $"На картинке {list}.", $"На картинке есть {list}.", $"Здесь есть {list}.");
    }

    protected override string CountSentence(CountFact f, Random random) => f.Count switch
    {
        0 => Pick(random, $"На картинке нет {Np(f.What, F.GenPl)}.", $"{Capitalize(Np(f.What, F.GenPl))} на картинке нет."),
        _ => Pick(random, $"На картинке {Counted(f.What, f.Count, true)}.", $"На картинке есть {Counted(f.What, f.Count, true)}."),
    };

    protected override string RelationSentence(RelationFact f, Random random) => Capitalize(Pick(random,
        $"{Np(f.A, F.NomSg)} находится {Located(f.Relation, f.B)}.", $"{Np(f.A, F.NomSg)} расположен{GenderSuffix(f.A)} {Located(f.Relation, f.B)}."));

    /// <summary>Short participle ending: расположен / расположена / расположено.</summary>
    private string GenderSuffix(ObjectQuery q) => GenderOf(q) switch { G.M => "", G.F => "а", _ => "о" };

    protected override string AskCount(ObjectQuery q, Random random) => Pick(random,
        $"Сколько {Np(q, F.GenPl)} на картинке?", $"Сколько на картинке {Np(q, F.GenPl)}?");

    protected override string AskColor(ObjectQuery q, Random random) => Pick(random,
        $"Какого цвета {Np(q, F.NomSg)}?", $"Какой цвет у {Np(q, F.GenSg)}?");

    protected override string AskShape(ObjectQuery q, Random random) => Pick(random,
        $"Какой формы {Np(q, F.NomSg)}?", $"Какая форма у {Np(q, F.GenSg)}?");

    protected override string AskExists(ObjectQuery q, Random random) => Pick(random,
        $"Есть ли на картинке {Np(q, F.NomSg)}?", $"На картинке есть {Np(q, F.NomSg)}?");

    protected override string AskSpatial(ObjectQuery a, Relation r, ObjectQuery b, Random random) => Pick(random,
        $"Находится ли {Np(a, F.NomSg)} {Located(r, b)}?", Capitalize($"{Np(a, F.NomSg)} находится {Located(r, b)}?"));

    protected override IReadOnlyList<string> Preambles { get; } = ["Посмотри на картинку.", "Вопрос:"];

    public override Fillers Fillers { get; } = new(["Привет!", "Слушай,", "Итак,", "Вопрос такой:"], [", пожалуйста", " сейчас"], ["же", "именно", "сейчас", "вообще"]);

    protected override bool LowercaseAfterComma => true;

    public override IReadOnlyList<string> RareWords { get; } = ["количество", "число", "оттенок", "оттенка", "очертания", "контур", "Имеется", "Присутствует"];

    protected override string? AskRare(Question question, Random random)
    {
        var q = question.Subject;
        return question.Type switch
        {
            QuestionType.Count => Pick(random, $"Какое количество {Np(q, F.GenPl)}?", $"Каково число {Np(q, F.GenPl)}?"),
            QuestionType.Color => Pick(random, $"Какой оттенок у {Np(q, F.GenSg)}?", $"Какого оттенка {Np(q, F.NomSg)}?"),
            QuestionType.Shape => Pick(random, $"Какие очертания у {Np(q, F.GenSg)}?", $"Какой контур у {Np(q, F.GenSg)}?"),
            QuestionType.Exists => Pick(random, $"Имеется ли {Np(q, F.NomSg)}?", $"Присутствует ли на картинке {Np(q, F.NomSg)}?"),
            _ => null,
        };
    }

    protected override string? AskColourPredicate(QuestionType type, ObjectQuery what, ObjectColor colour, Random random)
    {
        G g = GenderOf(what);
        string c = Adjective(colour, g, F.NomSg), ofColour = Adjective(colour, G.M, F.GenSg) + " цвета";
        string which = g switch { G.M => "Какой", G.F => "Какая", _ => "Какое" }, any = which.ToLowerInvariant() + "-нибудь";
        return type switch
        {
            QuestionType.Count => Pick(random, $"Сколько {Np(what, F.GenPl)} {ofColour}?", $"Сколько среди {Np(what, F.GenPl)} {Adjective(colour, g, F.GenPl)}?",
                $"Сколько {Np(what, F.GenPl)} покрашено в {Adjective(colour, G.M, F.NomSg)} цвет?"),
            QuestionType.Shape => Pick(random, $"{which} {Np(what, F.NomSg)} {c}?", $"{which} из {Np(what, F.GenPl)} {c}?", $"{which} {Np(what, F.NomSg)} {ofColour}?"),
            QuestionType.Exists => Pick(random, $"Есть ли среди {Np(what, F.GenPl)} {c}?", Capitalize($"{any} {Np(what, F.NomSg)} {c}?"), $"Есть ли {Np(what, F.NomSg)} {ofColour}?"),
            _ => null,
        };
    }

    protected override string? AskOther(Question question, Random random)
    {
        var q = question.Subject;
        return question.Type switch
        {
            QuestionType.Count => Pick(random, $"Сколько {Np(q, F.GenPl)} ты видишь?", $"Сколько {Np(q, F.GenPl)} изображено?",
                $"Какое количество {Np(q, F.GenPl)} на картинке?",
                $"Можешь сказать, сколько здесь {Np(q, F.GenPl)}?", $"Скажи, сколько {Np(q, F.GenPl)} на картинке."),
            QuestionType.Color => Pick(random, $"Какого цвета {Np(q, F.NomSg)} на картинке?", $"Скажи, какого цвета {Np(q, F.NomSg)}.",
                $"Можешь сказать, какого цвета {Np(q, F.NomSg)}?", $"Какой цвет у {Np(q, F.GenSg)}?"),
            QuestionType.Shape => Pick(random, $"Какую форму имеет {Np(q, F.NomSg)}?", $"Какой формы {Np(q, F.NomSg)} на картинке?",
                $"Можешь сказать, какой формы {Np(q, F.NomSg)}?", $"Какая форма у {Np(q, F.GenSg)}?"),
            QuestionType.Exists => Pick(random, $"Есть ли {Np(q, F.NomSg)} на картинке?", $"Имеется ли на картинке {Np(q, F.NomSg)}?",
                $"Можешь сказать, есть ли на картинке {Np(q, F.NomSg)}?", $"На картинке есть {Np(q, F.NomSg)}?"),
            _ => null,
        };
    }
}
