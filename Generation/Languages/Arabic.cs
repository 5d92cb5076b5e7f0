namespace VqaApi.Generation;

/// <summary>
/// Arabic (MSA, unvocalised): 1 → singular noun + agreeing adjective (+ واحد/واحدة), 2 → dual noun + dual adjective
/// (nominative), 3–10 → numeral of the opposite gender to the singular noun + plural noun + feminine singular
/// adjective (non-human plural). Sentences are verbless nominal sentences ("في الصورة …", "… على يسار …") so no
/// verb agreement is needed. Emoji are "رمز «الاسم»" (masculine: رمز، رمزان، رموز).
/// </summary>
public sealed class Arabic(EmojiCatalog catalog, Lexicon lexicon) : LanguageBase(catalog, lexicon)
{
    public override string Code => "ar";

    /// <summary>Singular, dual (nominative), plural; multi-word nouns take "ال" on every word when definite.</summary>
    private sealed record Noun(string Sg, string Dual, string Pl, bool Feminine);

    private static readonly Noun[] s_shapes =
    [
        new("دائرة", "دائرتان", "دوائر", true), new("مربع", "مربعان", "مربعات", false), new("مثلث", "مثلثان", "مثلثات", false),
        new("نجمة", "نجمتان", "نجمات", true), new("قلب", "قلبان", "قلوب", false), new("معين", "معينان", "معينات", false),
        new("مضلع سداسي", "مضلعان سداسيان", "مضلعات سداسية", false), new("صليب", "صليبان", "صلبان", false),
    ];
    private static readonly Noun s_object = new("عنصر", "عنصران", "عناصر", false);
    private static readonly Noun s_emoji = new("رمز", "رمزان", "رموز", false);
    private static readonly Noun s_shape = new("شكل", "شكلان", "أشكال", false);

    /// <summary>The noun of objects named by colour alone or by nothing: عنصر, or شكل in <see cref="WithShapeNoun"/>.</summary>
    private Noun _generic = s_object;
    protected override LanguageBase WithShapeNoun() => new Arabic(Catalog, Lexicon) { _generic = s_shape };

    /// <summary>Masculine singular, feminine singular, masculine dual, feminine dual.</summary>
    private static readonly string[][] s_colors =
    [
        ["أحمر", "حمراء", "أحمران", "حمراوان"], ["برتقالي", "برتقالية", "برتقاليان", "برتقاليتان"],
        ["أصفر", "صفراء", "أصفران", "صفراوان"], ["أخضر", "خضراء", "أخضران", "خضراوان"],
        ["أزرق", "زرقاء", "أزرقان", "زرقاوان"], ["بنفسجي", "بنفسجية", "بنفسجيان", "بنفسجيتان"],
        ["وردي", "وردية", "ورديان", "ورديتان"], ["أسود", "سوداء", "أسودان", "سوداوان"],
    ];

    /// <summary>3–10 before a masculine noun (with ة) and before a feminine noun (without).</summary>
    private static readonly string[] s_numeralsForMasc = ["", "", "", "ثلاثة", "أربعة", "خمسة", "ستة", "سبعة", "ثمانية", "تسعة", "عشرة"];
    private static readonly string[] s_numeralsForFem = ["", "", "", "ثلاث", "أربع", "خمس", "ست", "سبع", "ثماني", "تسع", "عشر"];

    private enum Num { Sg, Dual, Pl }

    private Noun NounOf(ObjectQuery q) => q.Emoji is not null ? s_emoji : q.Shape is ShapeKind s ? s_shapes[(int)s] : _generic;

    private static string Definite(string words) => string.Join(' ', words.Split(' ').Select(w => "ال" + w));

    /// <summary>Noun + adjective in one number, optionally definite: "دائرة حمراء", "الدوائر الحمراء", "رمز «قرد»".</summary>
    private string Np(ObjectQuery q, Num num, bool definite)
    {
        var n = NounOf(q);
        string noun = num switch { Num.Sg => n.Sg, Num.Dual => n.Dual, _ => n.Pl };
        if (definite) noun = Definite(noun);
        if (q.Emoji is int e) return $"{noun} «{EmojiName(e)}»";
        if (q.Color is not ObjectColor c) return noun;
        // With the word for colour (WithColourWord): "مربع باللون الأحمر" (the colour agrees with اللون, masculine, definite).
        if (ColourWordStyle > 0) return $"{noun} باللون ال{s_colors[(int)c][0]}";
        string adj = num switch
        {
            Num.Sg => s_colors[(int)c][n.Feminine ? 1 : 0],
            Num.Dual => s_colors[(int)c][n.Feminine ? 3 : 2],
            _ => s_colors[(int)c][1], // non-human plural: feminine singular
        };
        return $"{noun} {(definite ? "ال" + adj : adj)}";
    }

    private string Counted(ObjectQuery q, int n, bool withOne)
    {
        var noun = NounOf(q);
        if (n == 1) return withOne ? $"{Np(q, Num.Sg, false)} {(noun.Feminine ? "واحدة" : "واحد")}" : Np(q, Num.Sg, false);
        if (n == 2) return Np(q, Num.Dual, false);
        if (n <= 10) return $"{(noun.Feminine ? s_numeralsForFem : s_numeralsForMasc)[n]} {Np(q, Num.Pl, false)}";
        return $"{Digits(n)} {Np(q, Num.Pl, false)}";
    }

    private string Located(Relation r, ObjectQuery b) => r switch
    {
        Relation.LeftOf => "على يسار " + Np(b, Num.Sg, true),
        Relation.RightOf => "على يمين " + Np(b, Num.Sg, true),
        Relation.Above => "فوق " + Np(b, Num.Sg, true),
        _ => "تحت " + Np(b, Num.Sg, true),
    };

    /// <summary>Arabic "and" is a prefix: "أ وب وج".</summary>
    private static string And(IReadOnlyList<string> items, bool commas) =>
        commas ? JoinList(items, "، ", " و") : string.Join(" و", items);

    protected override string CaptionList(IReadOnlyList<CountFact> groups, Random random)
    {
        var items = groups.Select(g => Counted(g.What, g.Count, false)).ToList();
        return And(items, random.Next(2) == 0);
    }

    protected override string CaptionSentence(IReadOnlyList<CountFact> groups, Random random)
    {
        string list = And(groups.Select(g => Counted(g.What, g.Count, false)).ToList(), true);
        return Pick(random, $"في الصورة {list}.", $"هناك {list} في الصورة.");
    }

    protected override string CountSentence(CountFact f, Random random) => f.Count switch
    {
        0 => Pick(random, $"لا يوجد في الصورة أي {Np(f.What, Num.Sg, false)}.", $"ليس في الصورة أي {Np(f.What, Num.Sg, false)}."),
        _ => Pick(random, $"في الصورة {Counted(f.What, f.Count, true)}.", $"هناك {Counted(f.What, f.Count, true)} في الصورة."),
    };

    protected override string RelationSentence(RelationFact f, Random random) =>
        $"{Np(f.A, Num.Sg, true)} {Located(f.Relation, f.B)}.";

    protected override string AskCount(ObjectQuery q, Random random) => Pick(random,
        $"كم عدد {Np(q, Num.Pl, true)} في الصورة؟", $"ما عدد {Np(q, Num.Pl, true)} في الصورة؟");

    protected override string AskColor(ObjectQuery q, Random random) => Pick(random,
        $"ما لون {Np(q, Num.Sg, true)}؟", $"ما هو لون {Np(q, Num.Sg, true)}؟");

    protected override string AskShape(ObjectQuery q, Random random) => Pick(random,
        $"ما شكل {Np(q, Num.Sg, true)}؟", $"ما هو شكل {Np(q, Num.Sg, true)}؟");

    protected override string AskExists(ObjectQuery q, Random random) => Pick(random,
        $"هل في الصورة {Np(q, Num.Sg, false)}؟", $"هل هناك {Np(q, Num.Sg, false)} في الصورة؟");

    protected override string AskSpatial(ObjectQuery a, Relation r, ObjectQuery b, Random random) =>
        $"هل {Np(a, Num.Sg, true)} {Located(r, b)}؟";

    /// <summary>Frames that keep the noun phrase nominative or genitive (no accusative tanwin to write).</summary>
    protected override IReadOnlyList<string> Preambles { get; } = ["انظر إلى الصورة.", "سؤال:"];

    public override Fillers Fillers { get; } = new(["مرحبا،", "من فضلك،", "سؤال سريع:"], [" من فضلك", " بالضبط", " الآن"], ["بالضبط", "الآن", "فعلا"]);

    public override IReadOnlyList<string> RareWords { get; } = ["يبلغ", "أحص", "درجة", "صبغة", "هيئة", "مظهر", "يظهر", "تظهر", "موجود", "موجودة"];

    protected override string? AskRare(Question question, Random random)
    {
        var q = question.Subject;
        bool fem = NounOf(q).Feminine;
        string the = Np(q, Num.Sg, true);
        return question.Type switch
        {
            QuestionType.Count => Pick(random, $"كم يبلغ عدد {Np(q, Num.Pl, true)}؟", $"أحص {Np(q, Num.Pl, true)} في الصورة."),
            QuestionType.Color => Pick(random, $"ما درجة لون {the}؟", $"ما صبغة {the}؟"),
            QuestionType.Shape => Pick(random, $"ما هيئة {the}؟", $"ما مظهر {the}؟"),
            QuestionType.Exists => Pick(random, $"هل {(fem ? "تظهر" : "يظهر")} {Np(q, Num.Sg, false)} في الصورة؟", $"هل {Np(q, Num.Sg, false)} {(fem ? "موجودة" : "موجود")} هنا؟"),
            _ => null,
        };
    }

    protected override string? AskColourPredicate(QuestionType type, ObjectQuery what, ObjectColor colour, Random random)
    {
        var n = NounOf(what);
        // "its colour is red": لون is masculine, so the colour is too; "its" agrees with the noun (a plural of things: لونها).
        string c = s_colors[(int)colour][0], its = n.Feminine ? "لونها" : "لونه", one = n.Feminine ? "إحدى" : "أحد";
        string sg = Np(what, Num.Sg, false), pl = Np(what, Num.Pl, true), agreeing = s_colors[(int)colour][n.Feminine ? 1 : 0];
        return type switch
        {
            QuestionType.Count => Pick(random, $"كم من {pl} لونها {c}؟", $"ما عدد {pl} التي لونها {c}؟", $"كم عدد {pl} التي لونها {c}؟"),
            QuestionType.Shape => Pick(random, $"أي {sg} {its} {c}؟", $"ما {Definite(n.Sg)} {(n.Feminine ? "التي" : "الذي")} {its} {c}؟", $"أي {pl} {s_colors[(int)colour][1]}؟"),
            QuestionType.Exists => Pick(random, $"هل {one} {pl} {agreeing}؟", $"هل {(n.Feminine ? "توجد" : "يوجد")} {sg} {its} {c}؟", $"هل بين {pl} ما لونه {c}؟"),
            _ => null,
        };
    }

    protected override string? AskOther(Question question, Random random)
    {
        var q = question.Subject;
        return question.Type switch
        {
            QuestionType.Count => Pick(random, $"كم عدد {Np(q, Num.Pl, true)} التي تراها؟", $"احسب عدد {Np(q, Num.Pl, true)} في الصورة.",
                $"أخبرني كم عدد {Np(q, Num.Pl, true)} في الصورة."),
            QuestionType.Color => Pick(random, $"بأي لون {Np(q, Num.Sg, true)}؟", $"ما لون {Np(q, Num.Sg, true)} في الصورة؟",
                $"أخبرني ما لون {Np(q, Num.Sg, true)}.", $"هل تعرف لون {Np(q, Num.Sg, true)}؟"),
            QuestionType.Shape => Pick(random, $"ما شكل {Np(q, Num.Sg, true)} في الصورة؟", $"ما {Np(q, Num.Sg, true)}؟",
                $"أخبرني ما شكل {Np(q, Num.Sg, true)}.", $"هل تعرف شكل {Np(q, Num.Sg, true)}؟"),
            QuestionType.Exists => Pick(random, $"هل {(NounOf(q).Feminine ? "توجد" : "يوجد")} {Np(q, Num.Sg, false)} في الصورة؟",
                $"أخبرني هل {(NounOf(q).Feminine ? "توجد" : "يوجد")} {Np(q, Num.Sg, false)} في الصورة."),
            _ => null,
        };
    }
}
