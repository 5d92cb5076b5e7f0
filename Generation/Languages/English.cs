namespace VqaApi.Generation;

/// <summary>English: a/an by the next word's sound, -s/-es plurals, adjective before noun.</summary>
public sealed class English(EmojiCatalog catalog, Lexicon lexicon) : LanguageBase(catalog, lexicon)
{
    public override string Code => "en";

    private static readonly string[] s_shapes = ["circle", "square", "triangle", "star", "heart", "diamond", "hexagon", "cross"];
    private static readonly string[] s_shapesPl = ["circles", "squares", "triangles", "stars", "hearts", "diamonds", "hexagons", "crosses"];
    private static readonly string[] s_colors = ["red", "orange", "yellow", "green", "blue", "purple", "pink", "black"];
    private static readonly string[] s_numbers = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight"];

    /// <summary>The noun of objects named by colour alone or by nothing: "object", or "shape" in <see cref="WithShapeNoun"/>.</summary>
    private (string Sg, string Pl) _generic = ("object", "objects");
    protected override LanguageBase WithShapeNoun() => new English(Catalog, Lexicon) { _generic = ("shape", "shapes") };

    private static string Number(int n) => n < s_numbers.Length ? s_numbers[n] : Digits(n);

    /// <summary>The phrase without determiner: "red circle", "red circles", "dog face", "“dog face” emoji".</summary>
    private string Bare(ObjectQuery q, bool plural)
    {
        if (q.Emoji is int e) return plural ? $"“{EmojiName(e)}” emoji" : EmojiName(e);
        string noun = q.Shape is ShapeKind s ? (plural ? s_shapesPl[(int)s] : s_shapes[(int)s]) : plural ? _generic.Pl : _generic.Sg;
        if (q.Color is not ObjectColor c) return noun;
        // With the word for colour (WithColourWord): "circle with the colour red", "red-coloured circle".
        return ColourWordStyle switch { 1 => $"{noun} with the colour {s_colors[(int)c]}", 2 => $"{s_colors[(int)c]}-coloured {noun}", _ => $"{s_colors[(int)c]} {noun}" };
    }

    protected override int ColourWordStyles => 2;

    public static string IndefiniteArticle(string word)
    {
        string w = word.TrimStart('“', '"').ToLowerInvariant();
        if (w.StartsWith("one", StringComparison.Ordinal) || w.StartsWith("uni", StringComparison.Ordinal) || w.StartsWith("use", StringComparison.Ordinal)
            || w.StartsWith("usu", StringComparison.Ordinal) || w.StartsWith("eu", StringComparison.Ordinal) || w.StartsWith("ufo", StringComparison.Ordinal))
            return "a";
        if (w.StartsWith("hour", StringComparison.Ordinal) || w.StartsWith("honest", StringComparison.Ordinal)) return "an";
        return w.Length > 0 && "aeiou".Contains(w[0]) ? "an" : "a";
    }

    private string Indefinite(ObjectQuery q)
    {
        string bare = Bare(q, false);
        return $"{IndefiniteArticle(bare)} {bare}";
    }

    private string Definite(ObjectQuery q) => "the " + Bare(q, false);

    /// <summary>"two red circles"; count 1 as "a red circle" or, with <paramref name="numeralOne"/>, "one red circle".</summary>
    private string Counted(ObjectQuery q, int n, bool numeralOne) =>
        n == 1 ? (numeralOne ? "one " + Bare(q, false) : Indefinite(q)) : $"{Number(n)} {Bare(q, true)}";

    private static string RelationPhrase(Relation r, Random random) => r switch
    {
        Relation.LeftOf => Pick(random, "left of", "to the left of"),
        Relation.RightOf => Pick(random, "right of", "to the right of"),
        Relation.Above => Pick(random, "above", "over"),
        _ => Pick(random, "below", "under"),
    };

    protected override string CaptionList(IReadOnlyList<CountFact> groups, Random random)
    {
        bool numeral = random.Next(2) == 1;
        var items = groups.Select(g => Counted(g.What, g.Count, numeral)).ToList();
        return numeral ? string.Join(", ", items) : JoinList(items, ", ", " and ");
    }

    protected override string CaptionSentence(IReadOnlyList<CountFact> groups, Random random)
    {
        string list = JoinList(groups.Select(g => Counted(g.What, g.Count, false)).ToList(), ", ", " and ");
        string be = groups[0].Count == 1 ? "is" : "are";
        return PickIndex(random, 3) switch
        {
            0 => $"There {be} {list}.",
            1 => $"The picture shows {list}.",
            _ => $"In this image there {be} {list}.",
        };
    }

    protected override string CountSentence(CountFact f, Random random) => f.Count switch
    {
        0 => Pick(random, $"There is no {Bare(f.What, false)}.", $"There are no {Bare(f.What, true)}."),
        1 => Pick(random, $"There is {Indefinite(f.What)}.", $"There is exactly one {Bare(f.What, false)}.", $"The picture shows {Indefinite(f.What)}."),
        _ => Pick(random, $"There are {Counted(f.What, f.Count, false)}.", $"The picture shows {Counted(f.What, f.Count, false)}."),
    };

    protected override string RelationSentence(RelationFact f, Random random) =>
        Capitalize($"{Definite(f.A)} is {RelationPhrase(f.Relation, random)} {Definite(f.B)}.");

    protected override string AskCount(ObjectQuery q, Random random) => Pick(random,
        $"How many {Bare(q, true)} are there?", $"How many {Bare(q, true)} are in the picture?", $"How many {Bare(q, true)} can you see?");

    protected override string AskColor(ObjectQuery q, Random random) => Pick(random,
        $"What colour is {Definite(q)}?", $"What is the colour of {Definite(q)}?", $"Which colour does {Definite(q)} have?");

    protected override string AskShape(ObjectQuery q, Random random) => Pick(random,
        $"What shape is {Definite(q)}?", $"What is the shape of {Definite(q)}?");

    protected override string AskExists(ObjectQuery q, Random random) => Pick(random,
        $"Is there {Indefinite(q)}?", $"Is there {Indefinite(q)} in the picture?", $"Can you see {Indefinite(q)}?");

    protected override string AskSpatial(ObjectQuery a, Relation r, ObjectQuery b, Random random) =>
        Capitalize($"is {Definite(a)} {RelationPhrase(r, random)} {Definite(b)}?");

    protected override IReadOnlyList<string> Preambles { get; } = ["Look at the picture.", "Question:", "A question about the image:"];

    public override Fillers Fillers { get; } = new(["Hey,", "Okay,", "So,", "Quick question:", "Please answer:", "Hi!"], [", please", " right now", ", if possible", " currently"], ["exactly", "really", "now", "please", "just"]);

    protected override bool LowercaseAfterComma => true;

    public override IReadOnlyList<string> RareWords { get; } = ["quantity", "tally", "depicted", "hue", "shade", "outline", "contour", "spot", "notice", "present"];

    protected override string? AskRare(Question question, Random random)
    {
        var q = question.Subject;
        string pl = Bare(q, true);
        return question.Type switch
        {
            QuestionType.Count => Pick(random, $"What quantity of {pl} is there?", $"Give me the tally of {pl}.", $"How many {pl} are depicted?"),
            QuestionType.Color => Pick(random, $"What hue is {Definite(q)}?", $"Which shade does {Definite(q)} have?"),
            QuestionType.Shape => Pick(random, $"What outline does {Definite(q)} have?", $"What contour does {Definite(q)} have?"),
            QuestionType.Exists => Pick(random, $"Can you spot {Indefinite(q)}?", $"Do you notice {Indefinite(q)}?", $"Is {Indefinite(q)} depicted?", $"Is {Indefinite(q)} present?"),
            _ => null,
        };
    }

    protected override string? AskColourPredicate(QuestionType type, ObjectQuery what, ObjectColor colour, Random random)
    {
        string c = s_colors[(int)colour], sg = Bare(what, false), pl = Bare(what, true);
        return type switch
        {
            QuestionType.Count => Pick(random, $"How many {pl} are {c}?", $"How many {pl} in the picture are {c}?", $"Count the {pl} that are {c}."),
            QuestionType.Shape => Pick(random, $"Which {sg} is {c}?", $"What shape is {c}?", $"Which {sg} in the picture is {c}?", $"What is the {sg} that is {c}?"),
            QuestionType.Exists => Pick(random, $"Is any {sg} {c}?", $"Is one of the {pl} {c}?", $"Are any of the {pl} {c}?", $"Is there {Indefinite(what)} that is {c}?"),
            _ => null,
        };
    }

    protected override string? AskOther(Question question, Random random)
    {
        var q = question.Subject;
        string pl = Bare(q, true);
        return question.Type switch
        {
            QuestionType.Count => Pick(random, $"How many {pl} do you see?", $"How many {pl} are in the image?", $"How many {pl} are shown?",
                $"How many {pl} does the picture show?", $"Count the {pl}.", $"What is the number of {pl}?", $"How many {pl} are there in this image?",
                $"Can you tell me how many {pl} there are?", $"Do you know how many {pl} the picture has?", $"Number of {pl}?", $"{Capitalize(pl)}: how many?"),
            QuestionType.Color => Pick(random, $"What color is {Definite(q)}?", $"What is the color of {Definite(q)}?", $"Which color is {Definite(q)}?",
                $"What colour does {Definite(q)} have?", $"What color does {Definite(q)} have?", $"Tell me the colour of {Definite(q)}.",
                Capitalize($"{Definite(q)} is what colour?"), $"Can you tell me what colour {Definite(q)} is?", $"Do you know the colour of {Definite(q)}?",
                $"Colour of {Definite(q)}?", Capitalize($"{Definite(q)}: what colour?"), $"What colour would you say {Definite(q)} is?"),
            QuestionType.Shape => Pick(random, $"What is {Definite(q)}?", $"What shape does {Definite(q)} have?", $"Which shape is {Definite(q)}?",
                $"What kind of shape is {Definite(q)}?", $"Tell me the shape of {Definite(q)}.",
                q.Color is ObjectColor c ? $"What shape is the {s_colors[(int)c]} one?" : $"What shape is {Definite(q)} in the picture?",
                $"Can you tell me what shape {Definite(q)} is?", $"Do you know the shape of {Definite(q)}?", $"Shape of {Definite(q)}?",
                Capitalize($"{Definite(q)}: which shape?")),
            QuestionType.Exists => Pick(random, $"Do you see {Indefinite(q)}?", $"Is {Indefinite(q)} in the image?", $"Does the picture contain {Indefinite(q)}?",
                $"Is there any {Bare(q, false)}?", $"Are there any {pl}?", $"Do you see {Indefinite(q)} in this image?",
                $"Is there {Indefinite(q)} in this image?", $"Can you find {Indefinite(q)}?", $"Can you tell me if there is {Indefinite(q)}?",
                $"Do you know whether the picture has {Indefinite(q)}?", $"Is there {Indefinite(q)} or not?", $"Does the image have {Indefinite(q)}?"),
            QuestionType.Spatial when question.Relation is { } r && question.Other is { } b => Pick(random,
                Capitalize($"is {Definite(q)} placed {RelationPhrase(r, random)} {Definite(b)}?"),
                Capitalize($"does {Definite(q)} appear {RelationPhrase(r, random)} {Definite(b)}?"),
                $"Is it true that {Definite(q)} is {RelationPhrase(r, random)} {Definite(b)}?"),
            _ => null,
        };
    }
}
