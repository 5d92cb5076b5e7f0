namespace VqaApi.Generation;

/// <summary>
/// Thai: noun + colour (สี…) + numeral + classifier (วงกลม…วง, ดาว/หัวใจ…ดวง, other figures…รูป, กากบาท…อัน,
/// วัตถุ…ชิ้น, อีโมจิ…ตัว); no inflection; words run together, spaces between list items and clauses; questions
/// with กี่/อะไร/ไหม/ใช่ไหม and no question mark.
/// </summary>
public sealed class Thai(EmojiCatalog catalog, Lexicon lexicon) : LanguageBase(catalog, lexicon)
{
    public override string Code => "th";

    private static readonly (string Noun, string Classifier)[] s_shapes =
    [
        ("วงกลม", "วง"), ("สี่เหลี่ยมจัตุรัส", "รูป"), ("สามเหลี่ยม", "รูป"), ("ดาว", "ดวง"),
        ("หัวใจ", "ดวง"), ("สี่เหลี่ยมขนมเปียกปูน", "รูป"), ("หกเหลี่ยม", "รูป"), ("กากบาท", "อัน"),
    ];
    private static readonly string[] s_colors = ["สีแดง", "สีส้ม", "สีเหลือง", "สีเขียว", "สีน้ำเงิน", "สีม่วง", "สีชมพู", "สีดำ"];
    private static readonly string[] s_numbers = ["ศูนย์", "หนึ่ง", "สอง", "สาม", "สี่", "ห้า", "หก", "เจ็ด", "แปด"];

    /// <summary>The noun and classifier of objects named by colour alone or by nothing: วัตถุ…ชิ้น, or รูปทรง…รูป in
    /// <see cref="WithShapeNoun"/>.</summary>
    private (string Noun, string Classifier) _generic = ("วัตถุ", "ชิ้น");
    protected override LanguageBase WithShapeNoun() => new Thai(Catalog, Lexicon) { _generic = ("รูปทรง", "รูป") };

    private string Np(ObjectQuery q)
    {
        if (q.Emoji is int e) return $"อีโมจิ “{EmojiName(e)}”";
        string noun = q.Shape is ShapeKind s ? s_shapes[(int)s].Noun : _generic.Noun;
        if (q.Color is not ObjectColor c) return noun;
        // With the word for colour (WithColourWord): "วงกลมที่มีสีแดง" (a circle that has the colour red).
        return ColourWordStyle > 0 ? noun + "ที่มี" + s_colors[(int)c] : noun + s_colors[(int)c];
    }

    private string Classifier(ObjectQuery q) =>
        q.Emoji is not null ? "ตัว" : q.Shape is ShapeKind s ? s_shapes[(int)s].Classifier : _generic.Classifier;

    /// <summary>"วงกลมสีแดงสามวง"; after a quoted emoji name a space keeps the numeral apart.</summary>
    private string Counted(ObjectQuery q, int n)
    {
        string num = (n < s_numbers.Length ? s_numbers[n] : Digits(n)) + Classifier(q);
        return q.Emoji is not null ? $"{Np(q)} {num}" : Np(q) + num;
    }

    private string Located(Relation r, ObjectQuery b) => r switch
    {
        Relation.LeftOf => "อยู่ทางซ้ายของ" + Np(b),
        Relation.RightOf => "อยู่ทางขวาของ" + Np(b),
        Relation.Above => "อยู่เหนือ" + Np(b),
        _ => "อยู่ใต้" + Np(b),
    };

    private static string Join(IReadOnlyList<string> items) => JoinList(items, " ", " และ");

    protected override string CaptionList(IReadOnlyList<CountFact> groups, Random random)
    {
        var items = groups.Select(g => Counted(g.What, g.Count)).ToList();
        return random.Next(2) == 0 ? Join(items) : string.Join(" ", items);
    }

    protected override string CaptionSentence(IReadOnlyList<CountFact> groups, Random random)
    {
        string list = Join(groups.Select(g => Counted(g.What, g.Count)).ToList());
        return Pick(random, "ในภาพมี" + list, "ภาพนี้มี" + list);
    }

    protected override string CountSentence(CountFact f, Random random) => f.Count switch
    {
        0 => Pick(random, "ในภาพไม่มี" + Np(f.What), "ภาพนี้ไม่มี" + Np(f.What)),
        _ => Pick(random, "ในภาพมี" + Counted(f.What, f.Count), "ภาพนี้มี" + Counted(f.What, f.Count)),
    };

    protected override string RelationSentence(RelationFact f, Random random) => Np(f.A) + Located(f.Relation, f.B);

    protected override string AskCount(ObjectQuery q, Random random) => Pick(random,
        $"ในภาพมี{Np(q)}กี่{Classifier(q)}", $"{Np(q)}ในภาพมีกี่{Classifier(q)}");

    protected override string AskColor(ObjectQuery q, Random random) => Pick(random, $"{Np(q)}เป็นสีอะไร", $"{Np(q)}มีสีอะไร");

    protected override string AskShape(ObjectQuery q, Random random) => Pick(random, $"{Np(q)}เป็นรูปอะไร", $"{Np(q)}มีรูปร่างอะไร");

    protected override string AskExists(ObjectQuery q, Random random) => Pick(random, $"ในภาพมี{Np(q)}ไหม", $"ในภาพมี{Np(q)}หรือไม่");

    protected override string AskSpatial(ObjectQuery a, Relation r, ObjectQuery b, Random random) =>
        Np(a) + Located(r, b) + Pick(random, "ใช่ไหม", "หรือไม่");

    protected override IReadOnlyList<string> Preambles { get; } = ["ดูภาพนี้", "คำถาม:"];

    public override Fillers Fillers { get; } = new(["สวัสดี", "ขอถามหน่อย", "ช่วยตอบที"], [" ครับ", " คะ", " หน่อย"], []);

    public override IReadOnlyList<string> RareWords { get; } = ["ทั้งสิ้น", "ปริมาณ", "โทนสี", "ระบาย", "ลักษณะ", "โครงร่าง", "มองเห็น", "ปรากฏ"];

    protected override string? AskRare(Question question, Random random)
    {
        var q = question.Subject;
        string n = Np(q);
        return question.Type switch
        {
            QuestionType.Count => Pick(random, $"มี{n}ทั้งสิ้นกี่{Classifier(q)}", $"ปริมาณของ{n}คือเท่าไร"),
            QuestionType.Color => Pick(random, $"{n}เป็นโทนสีอะไร", $"{n}ถูกระบายด้วยสีอะไร"),
            QuestionType.Shape => Pick(random, $"{n}มีลักษณะเป็นรูปอะไร", $"โครงร่างของ{n}เป็นแบบไหน"),
            QuestionType.Exists => Pick(random, $"มองเห็น{n}หรือไม่", $"มี{n}ปรากฏอยู่ไหม"),
            _ => null,
        };
    }

    protected override string? AskColourPredicate(QuestionType type, ObjectQuery what, ObjectColor colour, Random random)
    {
        string c = s_colors[(int)colour], n = Np(what), cl = Classifier(what);
        return type switch
        {
            QuestionType.Count => Pick(random, $"มี{n}กี่{cl}ที่เป็น{c}", $"{n}ที่เป็น{c}มีกี่{cl}"),
            QuestionType.Shape => Pick(random, $"{n}{cl}ไหนเป็น{c}", $"{n}ที่เป็น{c}เป็นรูปอะไร"),
            QuestionType.Exists => Pick(random, $"มี{n}ที่เป็น{c}ไหม", $"{n}สัก{cl}เป็น{c}หรือไม่"),
            _ => null,
        };
    }

    protected override string? AskOther(Question question, Random random)
    {
        var q = question.Subject;
        return question.Type switch
        {
            QuestionType.Count => Pick(random, $"คุณเห็น{Np(q)}กี่{Classifier(q)}", $"มี{Np(q)}ทั้งหมดกี่{Classifier(q)}", $"นับจำนวน{Np(q)}ในภาพ",
                $"ช่วยบอกหน่อยว่ามี{Np(q)}กี่{Classifier(q)}"),
            QuestionType.Color => Pick(random, $"{Np(q)}ในภาพเป็นสีอะไร", $"บอกสีของ{Np(q)}",
                $"ช่วยบอกหน่อยว่า{Np(q)}เป็นสีอะไร", $"{Np(q)}สีอะไร"),
            QuestionType.Shape => Pick(random, $"{Np(q)}ในภาพเป็นรูปทรงอะไร", $"{Np(q)}มีรูปทรงแบบไหน",
                $"ช่วยบอกหน่อยว่า{Np(q)}เป็นรูปทรงอะไร"),
            QuestionType.Exists => Pick(random, $"คุณเห็น{Np(q)}ไหม", $"ในภาพนี้มี{Np(q)}อยู่หรือเปล่า",
                $"ช่วยบอกหน่อยว่ามี{Np(q)}ไหม"),
            _ => null,
        };
    }
}
