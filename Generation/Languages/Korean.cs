namespace VqaApi.Generation;

/// <summary>
/// Korean: colour determiner before the noun (빨간 원), native numeral determiners with the counter 개 (한 개, 두 개,
/// 세 개 …), particles chosen by the final syllable's batchim (이/가, 은/는, 와/과), formal -습니다 endings.
/// Emoji are '이름' 이모지.
/// </summary>
public sealed class Korean(EmojiCatalog catalog, Lexicon lexicon) : LanguageBase(catalog, lexicon)
{
    public override string Code => "ko";

    private static readonly string[] s_shapes = ["원", "정사각형", "삼각형", "별", "하트", "마름모", "육각형", "십자형"];
    private static readonly string[] s_colors = ["빨간", "주황색", "노란", "초록색", "파란", "보라색", "분홍색", "검은"];
    private static readonly string[] s_numbers = ["영", "한", "두", "세", "네", "다섯", "여섯", "일곱", "여덟"];

    /// <summary>True when the last Hangul syllable has a final consonant (batchim).</summary>
    public static bool HasBatchim(string word)
    {
        for (int i = word.Length - 1; i >= 0; i--)
        {
            char ch = word[i];
            if (ch is >= '\uAC00' and <= '\uD7A3') return (ch - 0xAC00) % 28 != 0;
            if (char.IsLetterOrDigit(ch)) return false;
        }
        return false;
    }

    /// <summary>The word with the particle form its last syllable needs ("원이", "별은", "하트가").</summary>
    public static string Josa(string word, string afterConsonant, string afterVowel) =>
        word + (HasBatchim(word) ? afterConsonant : afterVowel);

    /// <summary>The noun of every object (a query naming nothing): 물체, or 도형 in <see cref="WithShapeNoun"/>.</summary>
    private string _all = "물체";
    protected override LanguageBase WithShapeNoun() => new Korean(Catalog, Lexicon) { _all = "도형" };

    private string Np(ObjectQuery q)
    {
        if (q.Emoji is int e) return $"'{EmojiName(e)}' 이모지";
        string noun = q.Shape is ShapeKind s ? s_shapes[(int)s] : q.Color is not null ? "도형" : _all;
        if (q.Color is not ObjectColor c) return noun;
        // With the word for colour (WithColourWord): "색깔이 빨간색인 도형".
        return ColourWordStyle > 0 ? $"색깔이 {s_colourNouns[(int)c]}인 {noun}" : $"{s_colors[(int)c]} {noun}";
    }

    /// <summary>The colours as nouns, for <see cref="LanguageBase.WithColourWord"/>.</summary>
    private static readonly string[] s_colourNouns = ["빨간색", "주황색", "노란색", "초록색", "파란색", "보라색", "분홍색", "검은색"];

    private static string Count(int n) => (n < s_numbers.Length ? s_numbers[n] : Digits(n)) + " 개";

    private string Counted(ObjectQuery q, int n) => $"{Np(q)} {Count(n)}";

    private string Located(Relation r, ObjectQuery b) => Np(b) + r switch
    {
        Relation.LeftOf => "의 왼쪽에",
        Relation.RightOf => "의 오른쪽에",
        Relation.Above => "의 위에",
        _ => "의 아래에",
    };

    /// <summary>"A, B와 C": 와/과 on the item before the last.</summary>
    private static string Join(IReadOnlyList<string> items)
    {
        if (items.Count == 1) return items[0];
        var head = string.Join(", ", items.Take(items.Count - 1));
        return Josa(head, "과", "와") + " " + items[^1];
    }

    protected override string CaptionList(IReadOnlyList<CountFact> groups, Random random)
    {
        var items = groups.Select(g => Counted(g.What, g.Count)).ToList();
        return random.Next(2) == 0 ? Join(items) : string.Join(", ", items);
    }

    protected override string CaptionSentence(IReadOnlyList<CountFact> groups, Random random)
    {
        string list = Join(groups.Select(g => Counted(g.What, g.Count)).ToList());
        return Pick(random, $"그림에 {Josa(list, "이", "가")} 있습니다.", $"그림에는 {Josa(list, "이", "가")} 있어요.");
    }

    protected override string CountSentence(CountFact f, Random random) => f.Count switch
    {
        0 => Pick(random, $"그림에 {Josa(Np(f.What), "은", "는")} 없습니다.", $"그림에는 {Josa(Np(f.What), "이", "가")} 없어요."),
        _ => Pick(random, $"그림에 {Josa(Np(f.What), "이", "가")} {Count(f.Count)} 있습니다.", $"그림에는 {Josa(Np(f.What), "이", "가")} {Count(f.Count)} 있어요."),
    };

    protected override string RelationSentence(RelationFact f, Random random) => Pick(random,
        $"{Josa(Np(f.A), "은", "는")} {Located(f.Relation, f.B)} 있습니다.", $"{Josa(Np(f.A), "은", "는")} {Located(f.Relation, f.B)} 있어요.");

    protected override string AskCount(ObjectQuery q, Random random) => Pick(random,
        $"그림에 {Josa(Np(q), "이", "가")} 몇 개 있습니까?", $"{Josa(Np(q), "은", "는")} 몇 개 있나요?");

    protected override string AskColor(ObjectQuery q, Random random) => Pick(random,
        $"{Josa(Np(q), "은", "는")} 무슨 색입니까?", $"{Np(q)}의 색은 무엇인가요?");

    protected override string AskShape(ObjectQuery q, Random random) => Pick(random,
        $"{Josa(Np(q), "은", "는")} 어떤 모양입니까?", $"{Np(q)}의 모양은 무엇인가요?");

    protected override string AskExists(ObjectQuery q, Random random) => Pick(random,
        $"그림에 {Josa(Np(q), "이", "가")} 있습니까?", $"{Josa(Np(q), "이", "가")} 있나요?");

    protected override string AskSpatial(ObjectQuery a, Relation r, ObjectQuery b, Random random) => Pick(random,
        $"{Josa(Np(a), "은", "는")} {Located(r, b)} 있습니까?", $"{Josa(Np(a), "이", "가")} {Located(r, b)} 있나요?");

    protected override IReadOnlyList<string> Preambles { get; } = ["그림을 보세요.", "질문:"];

    public override Fillers Fillers { get; } = new(["안녕하세요,", "저기요,", "질문 하나:"], [], ["정확히", "지금", "혹시"]);

    public override IReadOnlyList<string> RareWords { get; } = ["총", "수량은", "색상은", "띠는", "형상은", "윤곽은", "존재합니까", "발견할"];

    protected override string? AskRare(Question question, Random random)
    {
        string n = Np(question.Subject);
        return question.Type switch
        {
            QuestionType.Count => Pick(random, $"{Josa(n, "은", "는")} 총 몇 개입니까?", $"{n}의 수량은 얼마입니까?"),
            QuestionType.Color => Pick(random, $"{n}의 색상은 무엇입니까?", $"{Josa(n, "이", "가")} 띠는 색은 무엇인가요?"),
            QuestionType.Shape => Pick(random, $"{n}의 형상은 무엇입니까?", $"{n}의 윤곽은 어떤 모양입니까?"),
            QuestionType.Exists => Pick(random, $"{Josa(n, "이", "가")} 존재합니까?", $"{Josa(n, "을", "를")} 발견할 수 있나요?"),
            _ => null,
        };
    }

    /// <summary>Colours as nouns, for a colour said of an object ("어느 도형이 빨간색입니까?").</summary>
    private static readonly string[] s_colorNouns = ["빨간색", "주황색", "노란색", "초록색", "파란색", "보라색", "분홍색", "검은색"];

    protected override string? AskColourPredicate(QuestionType type, ObjectQuery what, ObjectColor colour, Random random)
    {
        string c = s_colorNouns[(int)colour], n = Np(what);
        return type switch
        {
            QuestionType.Count => Pick(random, $"{n} 중에 {c}인 것은 몇 개입니까?", $"{c}인 {Josa(n, "은", "는")} 몇 개 있나요?", $"색이 {c}인 {Josa(n, "은", "는")} 몇 개입니까?"),
            QuestionType.Shape => Pick(random, $"어느 {Josa(n, "이", "가")} {c}입니까?", $"{c}인 {Josa(n, "은", "는")} 어떤 모양입니까?", $"{n} 중에서 {c}인 것은 무엇입니까?"),
            QuestionType.Exists => Pick(random, $"{n} 중에 {c}인 것이 있습니까?", $"{c}인 {Josa(n, "이", "가")} 있나요?", $"{n} 가운데 {c}도 있어요?"),
            _ => null,
        };
    }

    protected override string? AskOther(Question question, Random random)
    {
        var q = question.Subject;
        return question.Type switch
        {
            QuestionType.Count => Pick(random, $"{Josa(Np(q), "이", "가")} 몇 개 보입니까?", $"{Np(q)}의 개수는 몇 개입니까?",
                $"{Josa(Np(q), "이", "가")} 몇 개인지 알려 주세요.", $"{Np(q)} 개수를 알려 주세요."),
            QuestionType.Color => Pick(random, $"{Np(q)}의 색깔은 무엇입니까?", $"{Josa(Np(q), "은", "는")} 어떤 색인가요?",
                $"{Np(q)}의 색을 알려 주세요.", $"{Josa(Np(q), "이", "가")} 무슨 색인지 알려 주세요."),
            QuestionType.Shape => Pick(random, $"{Josa(Np(q), "은", "는")} 무슨 모양인가요?", $"{Np(q)}의 형태는 무엇입니까?",
                $"{Np(q)}의 모양을 알려 주세요.", $"{Josa(Np(q), "이", "가")} 어떤 모양인지 알려 주세요."),
            QuestionType.Exists => Pick(random, $"{Josa(Np(q), "이", "가")} 보입니까?", $"그림 속에 {Josa(Np(q), "이", "가")} 있나요?",
                $"{Josa(Np(q), "이", "가")} 있는지 알려 주세요.", $"그림에 {Josa(Np(q), "이", "가")} 있어요?"),
            _ => null,
        };
    }
}
