namespace VqaApi.Generation;

/// <summary>
/// Chinese (simplified): numeral + measure word 个 + colour + noun ("两个红色圆形": 两 before a measure word, 二 as a
/// bare number); no inflection; lists with 、 and 和; questions with 几/多少, 什么, 吗.
/// </summary>
public sealed class Chinese(EmojiCatalog catalog, Lexicon lexicon) : LanguageBase(catalog, lexicon)
{
    public override string Code => "zh";

    protected override string SentenceSeparator => "";

    private static readonly string[] s_shapes = ["圆形", "正方形", "三角形", "星形", "心形", "菱形", "六边形", "十字形"];
    private static readonly string[] s_colors = ["红色", "橙色", "黄色", "绿色", "蓝色", "紫色", "粉色", "黑色"];
    private static readonly string[] s_numbers = ["零", "一", "两", "三", "四", "五", "六", "七", "八"];

    /// <summary>The noun of objects named by colour alone or by nothing: 物体, or 图形 in <see cref="WithShapeNoun"/>.</summary>
    private string _generic = "物体";
    protected override LanguageBase WithShapeNoun() => new Chinese(Catalog, Lexicon) { _generic = "图形" };

    private string Np(ObjectQuery q)
    {
        if (q.Emoji is int e) return $"“{EmojiName(e)}”表情符号";
        string noun = q.Shape is ShapeKind s ? s_shapes[(int)s] : _generic;
        if (q.Color is not ObjectColor c) return noun;
        // With the word for colour (WithColourWord): "颜色是红色的图形", "颜色为红色的图形".
        return ColourWordStyle switch { 1 => $"颜色是{s_colors[(int)c]}的{noun}", 2 => $"颜色为{s_colors[(int)c]}的{noun}", _ => s_colors[(int)c] + noun };
    }

    protected override int ColourWordStyles => 2;

    private string Counted(ObjectQuery q, int n) => (n < s_numbers.Length ? s_numbers[n] : Digits(n)) + "个" + Np(q);

    private string Located(Relation r, ObjectQuery b) => "在" + Np(b) + r switch
    {
        Relation.LeftOf => "的左边",
        Relation.RightOf => "的右边",
        Relation.Above => "的上方",
        _ => "的下方",
    };

    private static string Join(IReadOnlyList<string> items) => JoinList(items, "、", "和");

    protected override string CaptionList(IReadOnlyList<CountFact> groups, Random random)
    {
        var items = groups.Select(g => Counted(g.What, g.Count)).ToList();
        return random.Next(2) == 0 ? Join(items) : string.Join("，", items);
    }

    protected override string CaptionSentence(IReadOnlyList<CountFact> groups, Random random)
    {
        string list = Join(groups.Select(g => Counted(g.What, g.Count)).ToList());
        return Pick(random, $"图中有{list}。", $"画面里有{list}。", $"这张图片里有{list}。");
    }

    protected override string CountSentence(CountFact f, Random random) => f.Count switch
    {
        0 => Pick(random, $"图中没有{Np(f.What)}。", $"画面里没有{Np(f.What)}。"),
        _ => Pick(random, $"图中有{Counted(f.What, f.Count)}。", $"画面里有{Counted(f.What, f.Count)}。"),
    };

    protected override string RelationSentence(RelationFact f, Random random) => $"{Np(f.A)}{Located(f.Relation, f.B)}。";

    protected override string AskCount(ObjectQuery q, Random random) => Pick(random,
        $"图中有几个{Np(q)}？", $"图中有多少个{Np(q)}？", $"画面里有几个{Np(q)}？");

    protected override string AskColor(ObjectQuery q, Random random) => Pick(random, $"{Np(q)}是什么颜色的？", $"{Np(q)}是什么颜色？");

    protected override string AskShape(ObjectQuery q, Random random) => Pick(random, $"{Np(q)}是什么形状的？", $"{Np(q)}是什么形状？");

    protected override string AskExists(ObjectQuery q, Random random) => Pick(random, $"图中有{Np(q)}吗？", $"画面里有没有{Np(q)}？");

    protected override string AskSpatial(ObjectQuery a, Relation r, ObjectQuery b, Random random) => Pick(random,
        $"{Np(a)}{Located(r, b)}吗？", $"{Np(a)}是不是{Located(r, b)}？");

    protected override IReadOnlyList<string> Preambles { get; } = ["请看图片。", "问题："];

    public override Fillers Fillers { get; } = new(["你好，", "请问，", "麻烦问一下，", "小问题："], ["呢", "呀"], []);

    public override IReadOnlyList<string> RareWords { get; } = ["数量", "统计", "色调", "呈现", "轮廓", "外形", "存在", "发现", "看得见"];

    protected override string? AskRare(Question question, Random random)
    {
        string n = Np(question.Subject);
        return question.Type switch
        {
            QuestionType.Count => Pick(random, $"{n}的数量是多少？", $"统计一下{n}的个数。"),
            QuestionType.Color => Pick(random, $"{n}是什么色调？", $"{n}呈现什么颜色？"),
            QuestionType.Shape => Pick(random, $"{n}的轮廓是什么样的？", $"{n}的外形是什么？"),
            QuestionType.Exists => Pick(random, $"图中存在{n}吗？", $"你发现{n}了没有？", $"看得见{n}吗？"),
            _ => null,
        };
    }

    protected override string? AskColourPredicate(QuestionType type, ObjectQuery what, ObjectColor colour, Random random)
    {
        string c = s_colors[(int)colour], n = Np(what);
        return type switch
        {
            QuestionType.Count => Pick(random, $"{n}中有几个是{c}的？", $"有多少个{n}是{c}的？", $"是{c}的{n}有几个？"),
            QuestionType.Shape => Pick(random, $"哪个{n}是{c}的？", $"{c}的是哪个{n}？", $"{n}里哪一个是{c}的？"),
            QuestionType.Exists => Pick(random, $"有没有{n}是{c}的？", $"{n}中有{c}的吗？", $"是否有{n}是{c}的？"),
            _ => null,
        };
    }

    protected override string? AskOther(Question question, Random random)
    {
        var q = question.Subject;
        return question.Type switch
        {
            QuestionType.Count => Pick(random, $"你能看到几个{Np(q)}？", $"图片里一共有几个{Np(q)}？", $"{Np(q)}有几个？", $"数一数有几个{Np(q)}。",
                $"请告诉我有几个{Np(q)}。", $"{Np(q)}一共有多少个？"),
            QuestionType.Color => Pick(random, $"{Np(q)}的颜色是什么？", $"图中的{Np(q)}是什么颜色？",
                $"请告诉我{Np(q)}是什么颜色。", $"{Np(q)}是哪种颜色？"),
            QuestionType.Shape => Pick(random, $"{Np(q)}的形状是什么？", $"图中的{Np(q)}是什么形状？",
                $"请告诉我{Np(q)}是什么形状。", $"{Np(q)}是哪种形状？"),
            QuestionType.Exists => Pick(random, $"你能看到{Np(q)}吗？", $"图片里有没有{Np(q)}？", $"有{Np(q)}吗？",
                $"请告诉我有没有{Np(q)}。", $"图中是否有{Np(q)}？"),
            _ => null,
        };
    }
}
