namespace VqaApi.Generation;

/// <summary>
/// Japanese: colour adjective/の-noun before the noun (赤い円, 緑の円), counter つ with kanji numerals (一つ…八つ)
/// after the noun and が ("赤い円が三つ"), は for the topic, ありますか for questions; no inflection of nouns.
/// Emoji are 「名前」の絵文字.
/// </summary>
public sealed class Japanese(EmojiCatalog catalog, Lexicon lexicon) : LanguageBase(catalog, lexicon)
{
    public override string Code => "ja";

    protected override string SentenceSeparator => "";

    private static readonly string[] s_shapes = ["円", "正方形", "三角形", "星", "ハート", "ひし形", "六角形", "十字"];
    private static readonly string[] s_colors = ["赤い", "オレンジ色の", "黄色い", "緑の", "青い", "紫の", "ピンクの", "黒い"];
    private static readonly string[] s_counts = ["ゼロ", "一つ", "二つ", "三つ", "四つ", "五つ", "六つ", "七つ", "八つ"];

    private static string Count(int n) => n < s_counts.Length ? s_counts[n] : Digits(n) + "個";

    /// <summary>The noun of every object (a query naming nothing): 物体, or 図形 in <see cref="WithShapeNoun"/>.</summary>
    private string _all = "物体";
    protected override LanguageBase WithShapeNoun() => new Japanese(Catalog, Lexicon) { _all = "図形" };

    private string Np(ObjectQuery q)
    {
        if (q.Emoji is int e) return $"「{EmojiName(e)}」の絵文字";
        // colour-only: 図形 (figure, since only shapes have colours); nothing: 物体 (any object).
        string noun = q.Shape is ShapeKind s ? s_shapes[(int)s] : q.Color is not null ? "図形" : _all;
        if (q.Color is not ObjectColor c) return noun;
        // With the word for colour (WithColourWord): "赤色の図形", "色が赤の図形".
        return ColourWordStyle switch { 1 => s_colourNouns[(int)c][0] + "色の" + noun, 2 => "色が" + s_colourNouns[(int)c][1] + "の" + noun, _ => s_colors[(int)c] + noun };
    }

    /// <summary>The colours as nouns, before 色 and alone, for <see cref="LanguageBase.WithColourWord"/>.</summary>
    private static readonly string[][] s_colourNouns =
        [["赤", "赤"], ["オレンジ", "オレンジ"], ["黄", "黄色"], ["緑", "緑"], ["青", "青"], ["紫", "紫"], ["ピンク", "ピンク"], ["黒", "黒"]];
    protected override int ColourWordStyles => 2;

    private string Located(Relation r, ObjectQuery b) => Np(b) + r switch
    {
        Relation.LeftOf => "の左",
        Relation.RightOf => "の右",
        Relation.Above => "の上",
        _ => "の下",
    };

    protected override string CaptionList(IReadOnlyList<CountFact> groups, Random random) =>
        random.Next(2) == 0
            ? string.Join("、", groups.Select(g => Np(g.What) + Count(g.Count)))
            : string.Join("、", groups.Select(g => $"{Np(g.What)}が{Count(g.Count)}"));

    protected override string CaptionSentence(IReadOnlyList<CountFact> groups, Random random)
    {
        string list = string.Join("、", groups.Select(g => $"{Np(g.What)}が{Count(g.Count)}"));
        return Pick(random, $"{list}あります。", $"画像には{list}あります。");
    }

    protected override string CountSentence(CountFact f, Random random) => f.Count switch
    {
        0 => Pick(random, $"{Np(f.What)}はありません。", $"画像に{Np(f.What)}はありません。"),
        _ => Pick(random, $"{Np(f.What)}が{Count(f.Count)}あります。", $"画像には{Np(f.What)}が{Count(f.Count)}あります。"),
    };

    protected override string RelationSentence(RelationFact f, Random random) => $"{Np(f.A)}は{Located(f.Relation, f.B)}にあります。";

    protected override string AskCount(ObjectQuery q, Random random) => Pick(random,
        $"{Np(q)}はいくつありますか？", $"画像に{Np(q)}はいくつありますか？", $"{Np(q)}は何個ありますか？");

    protected override string AskColor(ObjectQuery q, Random random) => Pick(random, $"{Np(q)}は何色ですか？", $"{Np(q)}の色は何ですか？");

    protected override string AskShape(ObjectQuery q, Random random) => Pick(random, $"{Np(q)}はどんな形ですか？", $"{Np(q)}の形は何ですか？");

    protected override string AskExists(ObjectQuery q, Random random) => Pick(random, $"{Np(q)}はありますか？", $"画像に{Np(q)}はありますか？");

    protected override string AskSpatial(ObjectQuery a, Relation r, ObjectQuery b, Random random) => Pick(random,
        $"{Np(a)}は{Located(r, b)}にありますか？", $"{Np(a)}は{Located(r, b)}側にありますか？");

    protected override IReadOnlyList<string> Preambles { get; } = ["画像を見てください。", "質問："];

    public override Fillers Fillers { get; } = new(["すみません、", "ねえ、", "ちょっと質問です。", "あの、"], ["ね"], []);

    /// <summary>Colours as nouns, for a colour said of an object ("どの図形が赤色ですか？").</summary>
    private static readonly string[] s_colorNouns = ["赤色", "オレンジ色", "黄色", "緑色", "青色", "紫色", "ピンク色", "黒色"];

    public override IReadOnlyList<string> RareWords { get; } = ["合計", "数量", "色合い", "色味", "外形", "輪郭", "存在", "確認"];

    protected override string? AskRare(Question question, Random random)
    {
        string n = Np(question.Subject);
        return question.Type switch
        {
            QuestionType.Count => Pick(random, $"{n}は合計何個ですか？", $"{n}の数量を答えてください。"),
            QuestionType.Color => Pick(random, $"{n}の色合いは何ですか？", $"{n}の色味を教えてください。"),
            QuestionType.Shape => Pick(random, $"{n}の外形は何ですか？", $"{n}の輪郭はどのようですか？"),
            QuestionType.Exists => Pick(random, $"{n}は存在しますか？", $"{n}を確認できますか？"),
            _ => null,
        };
    }

    protected override string? AskColourPredicate(QuestionType type, ObjectQuery what, ObjectColor colour, Random random)
    {
        string c = s_colorNouns[(int)colour], n = Np(what);
        return type switch
        {
            QuestionType.Count => Pick(random, $"{n}のうち、{c}のものはいくつありますか？", $"{c}をした{n}はいくつありますか？", $"{c}に塗られた{n}は何個ありますか？"),
            QuestionType.Shape => Pick(random, $"どの{n}が{c}ですか？", $"{c}なのはどの{n}ですか？", $"{c}をしている{n}の形は何ですか？"),
            QuestionType.Exists => Pick(random, $"{n}の中に{c}のものはありますか？", $"{c}をした{n}はありますか？", $"{n}のどれかが{c}ですか？"),
            _ => null,
        };
    }

    protected override string? AskOther(Question question, Random random)
    {
        var q = question.Subject;
        return question.Type switch
        {
            QuestionType.Count => Pick(random, $"{Np(q)}は何個見えますか？", $"{Np(q)}の数はいくつですか？", $"画像の中に{Np(q)}は何個ありますか？",
                $"{Np(q)}がいくつあるか教えてください。", $"{Np(q)}の数を教えてください。"),
            QuestionType.Color => Pick(random, $"{Np(q)}の色を教えてください。", $"画像の{Np(q)}は何色ですか？",
                $"{Np(q)}が何色か教えてください。", $"{Np(q)}って何色ですか？"),
            QuestionType.Shape => Pick(random, $"{Np(q)}は何の形ですか？", $"画像の{Np(q)}はどんな形ですか？",
                $"{Np(q)}がどんな形か教えてください。", $"{Np(q)}ってどんな形ですか？"),
            QuestionType.Exists => Pick(random, $"{Np(q)}は見えますか？", $"画像の中に{Np(q)}がありますか？",
                $"{Np(q)}があるかどうか教えてください。", $"{Np(q)}はありますか、ありませんか？"),
            _ => null,
        };
    }
}
