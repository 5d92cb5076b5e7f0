namespace VqaApi.Generation;

/// <summary>
/// Hindi: adjectives in -ा agree in gender, number and case (पीला तारा, पीले तारे, पीली वस्तु; oblique before
/// postpositions: पीले तारे के ऊपर), -ा nouns take -े in the plural and oblique, है/हैं by number, कितने/कितनी and
/// का/की by gender. Counting needs no classifier in Hindi. Emoji are "'नाम' इमोजी" (treated as masculine, invariable).
/// </summary>
public sealed class Hindi(EmojiCatalog catalog, Lexicon lexicon) : LanguageBase(catalog, lexicon)
{
    public override string Code => "hi";

    /// <summary>Direct singular, direct plural, oblique singular; all shapes are masculine, वस्तु is feminine.</summary>
    private sealed record Noun(string Sg, string Pl, string ObliqueSg, bool Feminine);

    private static readonly Noun[] s_shapes =
    [
        new("वृत्त", "वृत्त", "वृत्त", false), new("वर्ग", "वर्ग", "वर्ग", false), new("त्रिभुज", "त्रिभुज", "त्रिभुज", false),
        new("तारा", "तारे", "तारे", false), new("दिल", "दिल", "दिल", false), new("हीरा", "हीरे", "हीरे", false),
        new("षट्भुज", "षट्भुज", "षट्भुज", false), new("क्रॉस", "क्रॉस", "क्रॉस", false),
    ];
    private static readonly Noun s_object = new("वस्तु", "वस्तुएँ", "वस्तु", true);
    private static readonly Noun s_emoji = new("इमोजी", "इमोजी", "इमोजी", false);
    private static readonly Noun s_figure = new("आकृति", "आकृतियाँ", "आकृति", true);

    /// <summary>The noun of objects named by colour alone or by nothing: वस्तु, or आकृति in <see cref="WithShapeNoun"/>.</summary>
    private Noun _generic = s_object;
    protected override LanguageBase WithShapeNoun() => new Hindi(Catalog, Lexicon) { _generic = s_figure };

    /// <summary>Colour words; those ending in -ा inflect (-े masculine plural/oblique, -ी feminine).</summary>
    private static readonly string[] s_colors = ["लाल", "नारंगी", "पीला", "हरा", "नीला", "बैंगनी", "गुलाबी", "काला"];
    private static readonly string[] s_numbers = ["शून्य", "एक", "दो", "तीन", "चार", "पाँच", "छह", "सात", "आठ"];

    private static string Adjective(ObjectColor c, bool fem, bool pluralOrOblique)
    {
        string w = s_colors[(int)c];
        if (!w.EndsWith('ा')) return w;
        return w[..^1] + (fem ? "ी" : pluralOrOblique ? "े" : "ा");
    }

    private Noun NounOf(ObjectQuery q) => q.Emoji is not null ? s_emoji : q.Shape is ShapeKind s ? s_shapes[(int)s] : _generic;

    private bool Fem(ObjectQuery q) => NounOf(q).Feminine;

    private string Np(ObjectQuery q, bool plural, bool oblique = false)
    {
        var n = NounOf(q);
        if (q.Emoji is int e) return $"'{EmojiName(e)}' इमोजी";
        string noun = plural ? n.Pl : oblique ? n.ObliqueSg : n.Sg;
        if (q.Color is not ObjectColor c) return noun;
        // With the word for colour (WithColourWord): "पीले रंग का तारा", "पीले रंग के तारे", "लाल रंग की वस्तु" (the colour
        // oblique before रंग; का/के/की agree with the noun).
        if (ColourWordStyle > 0) return $"{Adjective(c, false, true)} रंग {(n.Feminine ? "की" : plural || oblique ? "के" : "का")} {noun}";
        return $"{Adjective(c, n.Feminine, plural || oblique)} {noun}";
    }

    private string Counted(ObjectQuery q, int n) =>
        $"{(n < s_numbers.Length ? s_numbers[n] : Digits(n))} {Np(q, n != 1)}";

    private string Located(Relation r, ObjectQuery b) => Np(b, false, oblique: true) + r switch
    {
        Relation.LeftOf => " के बाईं ओर",
        Relation.RightOf => " के दाईं ओर",
        Relation.Above => " के ऊपर",
        _ => " के नीचे",
    };

    private static string Join(IReadOnlyList<string> items) => JoinList(items, ", ", " और ");

    protected override string CaptionList(IReadOnlyList<CountFact> groups, Random random)
    {
        var items = groups.Select(g => Counted(g.What, g.Count)).ToList();
        return random.Next(2) == 0 ? Join(items) : string.Join(", ", items);
    }

    protected override string CaptionSentence(IReadOnlyList<CountFact> groups, Random random)
    {
        string list = Join(groups.Select(g => Counted(g.What, g.Count)).ToList());
        string verb = groups.Count == 1 && groups[0].Count == 1 ? "है" : "हैं";
        return Pick(random, $"तस्वीर में {list} {verb}।", $"इस चित्र में {list} {verb}।");
    }

    protected override string CountSentence(CountFact f, Random random) => f.Count switch
    {
        0 => Pick(random, $"तस्वीर में कोई {Np(f.What, false)} नहीं है।", $"इस चित्र में कोई {Np(f.What, false)} नहीं है।"),
        1 => Pick(random, $"तस्वीर में {Counted(f.What, 1)} है।", $"इस चित्र में केवल {Counted(f.What, 1)} है।"),
        _ => Pick(random, $"तस्वीर में {Counted(f.What, f.Count)} हैं।", $"इस चित्र में {Counted(f.What, f.Count)} हैं।"),
    };

    protected override string RelationSentence(RelationFact f, Random random) => Pick(random,
        $"{Np(f.A, false)} {Located(f.Relation, f.B)} है।", $"तस्वीर में {Np(f.A, false)} {Located(f.Relation, f.B)} है।");

    protected override string AskCount(ObjectQuery q, Random random)
    {
        string how = Fem(q) ? "कितनी" : "कितने";
        return Pick(random, $"तस्वीर में {how} {Np(q, true)} हैं?", $"इस चित्र में {how} {Np(q, true)} हैं?");
    }

    protected override string AskColor(ObjectQuery q, Random random) => Pick(random,
        $"{Np(q, false)} किस रंग {(Fem(q) ? "की" : "का")} है?", $"{Np(q, false, oblique: true)} का रंग क्या है?");

    protected override string AskShape(ObjectQuery q, Random random) => Pick(random,
        $"{Np(q, false)} किस आकार {(Fem(q) ? "की" : "का")} है?", $"{Np(q, false, oblique: true)} का आकार क्या है?");

    protected override string AskExists(ObjectQuery q, Random random) => Pick(random,
        $"क्या तस्वीर में कोई {Np(q, false)} है?", $"क्या इस चित्र में {Counted(q, 1)} है?");

    protected override string AskSpatial(ObjectQuery a, Relation r, ObjectQuery b, Random random) =>
        $"क्या {Np(a, false)} {Located(r, b)} है?";

    protected override IReadOnlyList<string> Preambles { get; } = ["तस्वीर देखिए।", "प्रश्न:"];

    public override Fillers Fillers { get; } = new(["नमस्ते,", "ज़रा बताइए:", "एक सवाल:"], [" ज़रा", " अभी"], ["ज़रा", "अभी", "ठीक-ठीक"]);

    public override IReadOnlyList<string> RareWords { get; } = ["गिनकर", "रंगत", "चढ़ा", "बनावट", "ढाँचा", "मौजूद", "नज़र"];

    protected override string? AskRare(Question question, Random random)
    {
        var q = question.Subject;
        bool fem = Fem(q);
        string obl = Np(q, false, oblique: true);
        return question.Type switch
        {
            QuestionType.Count => Pick(random, $"गिनकर बताइए, {(fem ? "कितनी" : "कितने")} {Np(q, true)} हैं?"),
            QuestionType.Color => Pick(random, $"{obl} की रंगत क्या है?", $"{obl} पर कौन सा रंग चढ़ा है?"),
            QuestionType.Shape => Pick(random, $"{obl} की बनावट कैसी है?", $"{obl} का ढाँचा कैसा है?"),
            QuestionType.Exists => Pick(random, $"क्या {Np(q, false)} मौजूद है?", $"क्या {Np(q, false)} नज़र {(fem ? "आती" : "आता")} है?"),
            _ => null,
        };
    }

    protected override string? AskColourPredicate(QuestionType type, ObjectQuery what, ObjectColor colour, Random random)
    {
        bool fem = Fem(what);
        string sg = Np(what, false), pl = Np(what, true), c = Adjective(colour, fem, false), cPl = Adjective(colour, fem, true);
        // "लाल रंग की", "पीले रंग का": the colour before रंग is oblique, का/की agree with the noun.
        string ofColour = $"{Adjective(colour, false, true)} रंग {(fem ? "की" : "का")}", how = fem ? "कितनी" : "कितने", which = fem ? "कौन सी" : "कौन सा";
        return type switch
        {
            QuestionType.Count => Pick(random, $"{how} {pl} {cPl} हैं?", $"तस्वीर में {how} {pl} {cPl} हैं?", $"{(fem ? "ऐसी" : "ऐसे")} {how} {pl} हैं जो {cPl} हैं?"),
            QuestionType.Shape => Pick(random, $"{which} {sg} {c} है?", $"{which} {sg} {ofColour} है?"),
            QuestionType.Exists => Pick(random, $"क्या कोई {sg} {c} है?", $"क्या कोई {sg} {ofColour} है?"),
            _ => null,
        };
    }

    protected override string? AskOther(Question question, Random random)
    {
        var q = question.Subject;
        bool fem = Fem(q);
        return question.Type switch
        {
            QuestionType.Count => Pick(random, $"आपको {(fem ? "कितनी" : "कितने")} {Np(q, true)} दिखाई {(fem ? "देती" : "देते")} हैं?",
                $"तस्वीर में {Np(q, true)} {(fem ? "कितनी" : "कितने")} हैं?",
                $"क्या आप बता सकते हैं कि तस्वीर में {(fem ? "कितनी" : "कितने")} {Np(q, true)} हैं?", $"बताइए, तस्वीर में {Np(q, true)} {(fem ? "कितनी" : "कितने")} हैं।"),
            QuestionType.Color => Pick(random, $"{Np(q, false, oblique: true)} का रंग बताइए।", $"इस तस्वीर में {Np(q, false)} किस रंग {(fem ? "की" : "का")} है?",
                $"क्या आप बता सकते हैं कि {Np(q, false)} किस रंग {(fem ? "की" : "का")} है?"),
            QuestionType.Shape => Pick(random, $"{Np(q, false, oblique: true)} का आकार बताइए।", $"इस तस्वीर में {Np(q, false)} किस आकार {(fem ? "की" : "का")} है?",
                $"क्या आप बता सकते हैं कि {Np(q, false)} किस आकार {(fem ? "की" : "का")} है?"),
            QuestionType.Exists => Pick(random, $"क्या आपको {Np(q, false)} दिखाई {(fem ? "देती" : "देता")} है?", $"क्या इस तस्वीर में कोई {Np(q, false)} है?",
                $"बताइए, क्या तस्वीर में {Np(q, false)} है?"),
            _ => null,
        };
    }
}
