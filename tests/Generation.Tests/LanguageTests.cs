using System.Globalization;
using System.Text.Json;
using VqaApi.Generation;

namespace VqaApi.Generation.Tests;

/// <summary>A random source whose every choice is 0: the first phrasing of each template.</summary>
internal sealed class FirstChoice : Random
{
    public override int Next(int maxValue) => 0;
    public override int Next(int minValue, int maxValue) => minValue;
    public override int Next() => 0;
}

public class LanguageTests
{
    /// <summary>A small catalogue with names in all 12 languages (CLDR-style short names).</summary>
    internal static readonly EmojiCatalog Catalog = new(
    [
        new EmojiEntry("🐶", new Dictionary<string, string>
        {
            ["en"] = "dog face", ["de"] = "Hundegesicht", ["fr"] = "tête de chien", ["es"] = "cara de perro", ["ru"] = "морда собаки",
            ["ar"] = "وجه كلب", ["he"] = "פרצוף של כלב", ["hi"] = "कुत्ते का चेहरा", ["th"] = "หน้าสุนัข", ["zh"] = "狗脸", ["ja"] = "犬の顔", ["ko"] = "강아지 얼굴",
        }),
        new EmojiEntry("🍎", new Dictionary<string, string>
        {
            ["en"] = "red apple", ["de"] = "roter Apfel", ["fr"] = "pomme rouge", ["es"] = "manzana roja", ["ru"] = "красное яблоко",
            ["ar"] = "تفاحة حمراء", ["he"] = "תפוח אדום", ["hi"] = "लाल सेब", ["th"] = "แอปเปิ้ลแดง", ["zh"] = "红苹果", ["ja"] = "赤いリンゴ", ["ko"] = "빨간 사과",
        }),
        new EmojiEntry("🐒", new Dictionary<string, string>
        {
            ["en"] = "monkey", ["de"] = "Affe", ["fr"] = "singe", ["es"] = "mono", ["ru"] = "обезьяна",
            ["ar"] = "قرد", ["he"] = "קוף", ["hi"] = "बंदर", ["th"] = "ลิง", ["zh"] = "猴子", ["ja"] = "サル", ["ko"] = "원숭이",
        }),
    ]);

    internal static readonly IReadOnlyList<ILanguage> All = Languages.Create(Catalog);

    internal static ILanguage L(string code) => Languages.Get(All, code);

    public static TheoryData<string> Codes() => [.. Languages.Codes];

    [Fact]
    public void Registry_is_in_format_order()
    {
        string[] expected = ["en", "de", "fr", "es", "ru", "ar", "he", "hi", "th", "zh", "ja", "ko"];
        Assert.Equal(expected, Languages.Codes);
        Assert.Equal(expected, All.Select(l => l.Code));
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(i, Languages.IndexOf(expected[i]));
            Assert.Equal(expected[i], Languages.Get(All, expected[i]).Code);
        }
        Assert.Equal(-1, Languages.IndexOf("xx"));
        Assert.Throws<KeyNotFoundException>(() => Languages.Get(All, "xx"));
    }

    [Fact]
    public void Default_registry_uses_the_shipped_catalogue()
    {
        Assert.Equal(Languages.Codes, Languages.All.Select(l => l.Code));
        Assert.Equal("de", Languages.Get("de").Code);
        // emoji 0 of the shipped catalogue has a German name, so a German count sentence about it works
        string s = Languages.Get("de").Statement(new CountFact(new ObjectQuery(Emoji: 0), 2), new Random(1));
        Assert.Contains("zwei Emojis „", s);
    }

    private static bool IsScript(char c, string code) => code switch
    {
        "en" or "de" or "fr" or "es" => c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '\u00C0' and <= '\u024F',
        "ru" => c is >= '\u0400' and <= '\u04FF',
        "ar" => c is >= '\u0600' and <= '\u06FF',
        "he" => c is >= '\u0590' and <= '\u05FF',
        "hi" => c is >= '\u0900' and <= '\u097F',
        "th" => c is >= '\u0E00' and <= '\u0E7F',
        "zh" => c is >= '\u4E00' and <= '\u9FFF',
        "ja" => c is >= '\u3040' and <= '\u30FF' or >= '\u4E00' and <= '\u9FFF',
        "ko" => c is >= '\uAC00' and <= '\uD7A3',
        _ => false,
    };

    private static ObjectQuery RandomQuery(Random r, bool allowEmpty = true) => r.Next(allowEmpty ? 5 : 4) switch
    {
        0 => new ObjectQuery((ShapeKind)r.Next(8), (ObjectColor)r.Next(8)),
        1 => new ObjectQuery(Shape: (ShapeKind)r.Next(8)),
        2 => new ObjectQuery(Color: (ObjectColor)r.Next(8)),
        3 => new ObjectQuery(Emoji: r.Next(Catalog.Items.Count)),
        _ => new ObjectQuery(),
    };

    /// <summary>A spread of facts, captions and questions (deterministic).</summary>
    private static IEnumerable<Func<ILanguage, Random, string>> Texts()
    {
        var r = new Random(12345);
        for (int i = 0; i < 150; i++)
        {
            var q = RandomQuery(r);
            int n = r.Next(0, 9);
            yield return (l, rnd) => l.Statement(new CountFact(q, n), rnd);
            var a = RandomQuery(r, false);
            var b = RandomQuery(r, false);
            var rel = (Relation)r.Next(4);
            yield return (l, rnd) => l.Statement(new RelationFact(a, rel, b), rnd);
            var groups = Enumerable.Range(0, r.Next(1, 5)).Select(_ => new CountFact(RandomQuery(r, false), r.Next(1, 9))).ToList();
            int style = r.Next(3);
            var cap = new SceneCaption(groups, r.Next(2) == 0 ? null : new RelationFact(a, rel, b));
            yield return (l, rnd) => l.Caption(cap, style, rnd);
            var type = (QuestionType)r.Next(5);
            var question = new Question(type, q, Answers.Yes, type == QuestionType.Spatial ? rel : null, type == QuestionType.Spatial ? b : null);
            yield return (l, rnd) => l.Ask(question, rnd);
        }
    }

    [Theory]
    [MemberData(nameof(Codes))]
    public void Texts_are_nonempty_in_script_without_placeholders_and_deterministic(string code)
    {
        var lang = L(code);
        int seed = 0;
        foreach (var make in Texts())
        {
            seed++;
            string text = make(lang, new Random(seed));
            Assert.False(string.IsNullOrWhiteSpace(text));
            Assert.DoesNotContain("{", text);
            Assert.DoesNotContain("}", text);
            Assert.DoesNotContain("  ", text);
            Assert.Equal(text.Trim(), text);
            Assert.True(text.Any(c => IsScript(c, code)), $"{code}: no {code} script in '{text}'");
            Assert.Equal(text, make(lang, new Random(seed)));
            Assert.True(text.Length < 400, $"{code}: too long: {text}");
        }
    }

    [Theory]
    [MemberData(nameof(Codes))]
    public void Phrasings_vary_with_the_random_source(string code)
    {
        var lang = L(code);
        var q = new Question(QuestionType.Count, new ObjectQuery(ShapeKind.Circle, ObjectColor.Red), Answers.Count(2));
        var seen = Enumerable.Range(0, 50).Select(s => lang.Ask(q, new Random(s))).ToHashSet();
        Assert.True(seen.Count >= 2, $"{code}: one phrasing only");
    }

    [Theory]
    [MemberData(nameof(Codes))]
    public void Answer_labels_cover_every_id_and_are_distinct(string code)
    {
        var lang = L(code);
        var labels = Answers.All.Select(lang.AnswerLabel).ToList();
        Assert.All(labels, l => Assert.False(string.IsNullOrWhiteSpace(l)));
        Assert.Equal(labels.Count, labels.Distinct().Count());
        Assert.All(labels.Where(l => !l.All(char.IsAsciiDigit)), l => Assert.Contains(l, c => IsScript(c, code)));
        Assert.Throws<KeyNotFoundException>(() => lang.AnswerLabel("nope"));
    }

    [Fact]
    public void Lexicon_file_records_how_each_language_was_checked()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, Lexicon.DefaultRelativePath)));
        var langs = doc.RootElement.GetProperty("languages");
        foreach (var code in Languages.Codes)
        {
            var c = langs.GetProperty(code).GetProperty("checked");
            Assert.True(c.GetProperty("rules").GetArrayLength() > 0, code);
            Assert.True(c.GetProperty("verified_examples").GetArrayLength() > 0, code);
            Assert.False(string.IsNullOrWhiteSpace(Lexicon.Default.CheckedNote(code)));
        }
    }

    [Fact]
    public void All_languages_handle_counts_zero_to_eight_for_every_noun()
    {
        foreach (var lang in All)
            foreach (var q in Enum.GetValues<ShapeKind>().SelectMany(s => Enum.GetValues<ObjectColor>().Select(c => new ObjectQuery(s, c)))
                         .Concat([new ObjectQuery(), new ObjectQuery(Emoji: 0), new ObjectQuery(Color: ObjectColor.Blue)]))
                for (int n = 0; n <= Answers.MaxCount; n++)
                    Assert.False(string.IsNullOrWhiteSpace(lang.Statement(new CountFact(q, n), new Random(n))));
    }
}
