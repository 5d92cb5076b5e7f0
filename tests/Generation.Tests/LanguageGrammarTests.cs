using VqaApi.Generation;

namespace VqaApi.Generation.Tests;

/// <summary>Exact strings for agreement cases, with the first phrasing of every template.</summary>
public class LanguageGrammarTests
{
    private static readonly Random First = new FirstChoice();

    private static ObjectQuery Q(ShapeKind s, ObjectColor c) => new(s, c);

    /// <summary>The counted noun phrase: a one-group style-0 caption.</summary>
    private static string Np(string code, ObjectQuery q, int n) =>
        LanguageTests.L(code).Caption(new SceneCaption([new CountFact(q, n)], null), 0, First);

    private static string Count(string code, ObjectQuery q, int n) => LanguageTests.L(code).Statement(new CountFact(q, n), First);

    private static string Rel(string code, ObjectQuery a, Relation r, ObjectQuery b) =>
        LanguageTests.L(code).Statement(new RelationFact(a, r, b), First);

    private static string Ask(string code, QuestionType t, ObjectQuery q, Relation? r = null, ObjectQuery? other = null) =>
        LanguageTests.L(code).Ask(new Question(t, q, Answers.Yes, r, other), First);

    private static readonly ObjectQuery Dog = new(Emoji: 0);

    [Fact]
    public void English()
    {
        Assert.Equal("two red circles", Np("en", Q(ShapeKind.Circle, ObjectColor.Red), 2));
        Assert.Equal("an orange square", Np("en", Q(ShapeKind.Square, ObjectColor.Orange), 1));
        Assert.Equal("three black crosses", Np("en", Q(ShapeKind.Cross, ObjectColor.Black), 3));
        Assert.Equal("three “dog face” emoji", Np("en", Dog, 3));
        Assert.Equal("a dog face", Np("en", Dog, 1));
        Assert.Equal("two red circles, a blue star and a dog face",
            LanguageTests.L("en").Caption(new SceneCaption([new(Q(ShapeKind.Circle, ObjectColor.Red), 2), new(Q(ShapeKind.Star, ObjectColor.Blue), 1), new(Dog, 1)], null), 0, First));
        Assert.Equal("There is no red circle.", Count("en", Q(ShapeKind.Circle, ObjectColor.Red), 0));
        Assert.Equal("The red circle is left of the blue star.", Rel("en", Q(ShapeKind.Circle, ObjectColor.Red), Relation.LeftOf, Q(ShapeKind.Star, ObjectColor.Blue)));
        Assert.Equal("How many red objects are there?", Ask("en", QuestionType.Count, new ObjectQuery(Color: ObjectColor.Red)));
        Assert.Equal("What shape is the red object?", Ask("en", QuestionType.Shape, new ObjectQuery(Color: ObjectColor.Red)));
        Assert.Equal("Is there an object?", Ask("en", QuestionType.Exists, new ObjectQuery()));
    }

    [Fact]
    public void German()
    {
        Assert.Equal("zwei rote Kreise", Np("de", Q(ShapeKind.Circle, ObjectColor.Red), 2));
        Assert.Equal("ein blauer Stern", Np("de", Q(ShapeKind.Star, ObjectColor.Blue), 1));
        Assert.Equal("ein rotes Quadrat", Np("de", Q(ShapeKind.Square, ObjectColor.Red), 1));
        Assert.Equal("eine gelbe Raute", Np("de", Q(ShapeKind.Diamond, ObjectColor.Yellow), 1));
        Assert.Equal("zwei orange Kreise", Np("de", Q(ShapeKind.Circle, ObjectColor.Orange), 2));
        Assert.Equal("drei Emojis „Hundegesicht“", Np("de", Dog, 3));
        Assert.Equal("Im Bild ist kein roter Kreis.", Count("de", Q(ShapeKind.Circle, ObjectColor.Red), 0));
        Assert.Equal("Der rote Kreis ist links vom blauen Herzen.", Rel("de", Q(ShapeKind.Circle, ObjectColor.Red), Relation.LeftOf, Q(ShapeKind.Heart, ObjectColor.Blue)));
        Assert.Equal("Die gelbe Raute ist über dem roten Quadrat.", Rel("de", Q(ShapeKind.Diamond, ObjectColor.Yellow), Relation.Above, Q(ShapeKind.Square, ObjectColor.Red)));
        Assert.Equal("Der Stern ist rechts von der grünen Raute.", Rel("de", new ObjectQuery(Shape: ShapeKind.Star), Relation.RightOf, Q(ShapeKind.Diamond, ObjectColor.Green)));
        Assert.Equal("Gibt es einen grünen Kreis?", Ask("de", QuestionType.Exists, Q(ShapeKind.Circle, ObjectColor.Green)));
        Assert.Equal("Es gibt zwei rote Kreise und einen blauen Stern.",
            LanguageTests.L("de").Caption(new SceneCaption([new(Q(ShapeKind.Circle, ObjectColor.Red), 2), new(Q(ShapeKind.Star, ObjectColor.Blue), 1)], null), 1, new FixedChoices(1)));
    }

    [Fact]
    public void French()
    {
        Assert.Equal("deux cercles rouges", Np("fr", Q(ShapeKind.Circle, ObjectColor.Red), 2));
        Assert.Equal("une étoile verte", Np("fr", Q(ShapeKind.Star, ObjectColor.Green), 1));
        Assert.Equal("trois étoiles vertes", Np("fr", Q(ShapeKind.Star, ObjectColor.Green), 3));
        Assert.Equal("deux cercles orange", Np("fr", Q(ShapeKind.Circle, ObjectColor.Orange), 2));
        Assert.Equal("deux emojis « tête de chien »", Np("fr", Dog, 2));
        Assert.Equal("Il n'y a aucune étoile bleue.", Count("fr", Q(ShapeKind.Star, ObjectColor.Blue), 0));
        Assert.Equal("Le cercle rouge est à gauche de l'étoile bleue.", Rel("fr", Q(ShapeKind.Circle, ObjectColor.Red), Relation.LeftOf, Q(ShapeKind.Star, ObjectColor.Blue)));
        Assert.Equal("Combien d'étoiles jaunes y a-t-il ?", Ask("fr", QuestionType.Count, Q(ShapeKind.Star, ObjectColor.Yellow)));
        Assert.Equal("La croix rouge est-elle à gauche du carré bleu ?",
            Ask("fr", QuestionType.Spatial, Q(ShapeKind.Cross, ObjectColor.Red), Relation.LeftOf, Q(ShapeKind.Square, ObjectColor.Blue)));
    }

    [Fact]
    public void Spanish()
    {
        Assert.Equal("dos círculos rojos", Np("es", Q(ShapeKind.Circle, ObjectColor.Red), 2));
        Assert.Equal("una estrella amarilla", Np("es", Q(ShapeKind.Star, ObjectColor.Yellow), 1));
        Assert.Equal("tres cruces negras", Np("es", Q(ShapeKind.Cross, ObjectColor.Black), 3));
        Assert.Equal("dos corazones azules", Np("es", Q(ShapeKind.Heart, ObjectColor.Blue), 2));
        Assert.Equal("No hay ninguna estrella azul.", Count("es", Q(ShapeKind.Star, ObjectColor.Blue), 0));
        Assert.Equal("El círculo rojo está a la izquierda de la estrella azul.", Rel("es", Q(ShapeKind.Circle, ObjectColor.Red), Relation.LeftOf, Q(ShapeKind.Star, ObjectColor.Blue)));
        Assert.Equal("La estrella azul está debajo del círculo rojo.", Rel("es", Q(ShapeKind.Star, ObjectColor.Blue), Relation.Below, Q(ShapeKind.Circle, ObjectColor.Red)));
        Assert.Equal("¿Cuántas estrellas verdes hay?", Ask("es", QuestionType.Count, Q(ShapeKind.Star, ObjectColor.Green)));
    }

    [Fact]
    public void Russian()
    {
        Assert.Equal("два красных круга", Np("ru", Q(ShapeKind.Circle, ObjectColor.Red), 2));
        Assert.Equal("пять красных кругов", Np("ru", Q(ShapeKind.Circle, ObjectColor.Red), 5));
        Assert.Equal("две синие звезды", Np("ru", Q(ShapeKind.Star, ObjectColor.Blue), 2));
        Assert.Equal("пять синих звёзд", Np("ru", Q(ShapeKind.Star, ObjectColor.Blue), 5));
        Assert.Equal("три синих сердца", Np("ru", Q(ShapeKind.Heart, ObjectColor.Blue), 3));
        Assert.Equal("синее сердце", Np("ru", Q(ShapeKind.Heart, ObjectColor.Blue), 1));
        Assert.Equal("два эмодзи «морда собаки»", Np("ru", Dog, 2));
        Assert.Equal("На картинке одно синее сердце.", Count("ru", Q(ShapeKind.Heart, ObjectColor.Blue), 1));
        Assert.Equal("На картинке одна жёлтая звезда.", Count("ru", Q(ShapeKind.Star, ObjectColor.Yellow), 1));
        Assert.Equal("На картинке нет красных кругов.", Count("ru", Q(ShapeKind.Circle, ObjectColor.Red), 0));
        Assert.Equal("Красный круг находится слева от синей звезды.", Rel("ru", Q(ShapeKind.Circle, ObjectColor.Red), Relation.LeftOf, Q(ShapeKind.Star, ObjectColor.Blue)));
        Assert.Equal("Звезда находится над зелёным квадратом.", Rel("ru", new ObjectQuery(Shape: ShapeKind.Star), Relation.Above, Q(ShapeKind.Square, ObjectColor.Green)));
        Assert.Equal("Сколько красных кругов на картинке?", Ask("ru", QuestionType.Count, Q(ShapeKind.Circle, ObjectColor.Red)));
    }

    [Fact]
    public void Arabic()
    {
        Assert.Equal("دائرتان حمراوان", Np("ar", Q(ShapeKind.Circle, ObjectColor.Red), 2));
        Assert.Equal("مربعان أحمران", Np("ar", Q(ShapeKind.Square, ObjectColor.Red), 2));
        Assert.Equal("ثلاث دوائر حمراء", Np("ar", Q(ShapeKind.Circle, ObjectColor.Red), 3));
        Assert.Equal("ثلاثة مربعات حمراء", Np("ar", Q(ShapeKind.Square, ObjectColor.Red), 3));
        Assert.Equal("ثماني نجمات زرقاء", Np("ar", Q(ShapeKind.Star, ObjectColor.Blue), 8));
        Assert.Equal("في الصورة دائرة حمراء واحدة.", Count("ar", Q(ShapeKind.Circle, ObjectColor.Red), 1));
        Assert.Equal("الدائرة الحمراء على يسار النجمة الزرقاء.", Rel("ar", Q(ShapeKind.Circle, ObjectColor.Red), Relation.LeftOf, Q(ShapeKind.Star, ObjectColor.Blue)));
        Assert.Equal("كم عدد الدوائر الحمراء في الصورة؟", Ask("ar", QuestionType.Count, Q(ShapeKind.Circle, ObjectColor.Red)));
    }

    [Fact]
    public void Hebrew()
    {
        Assert.Equal("שלושה עיגולים אדומים", Np("he", Q(ShapeKind.Circle, ObjectColor.Red), 3));
        Assert.Equal("שני עיגולים אדומים", Np("he", Q(ShapeKind.Circle, ObjectColor.Red), 2));
        Assert.Equal("שתי צורות כחולות", Np("he", new ObjectQuery(Color: ObjectColor.Blue), 2));
        Assert.Equal("שלוש צורות אדומות", Np("he", new ObjectQuery(Color: ObjectColor.Red), 3));
        Assert.Equal("העיגול האדום משמאל לכוכב הכחול.", Rel("he", Q(ShapeKind.Circle, ObjectColor.Red), Relation.LeftOf, Q(ShapeKind.Star, ObjectColor.Blue)));
    }

    [Fact]
    public void Hindi()
    {
        Assert.Equal("दो पीले तारे", Np("hi", Q(ShapeKind.Star, ObjectColor.Yellow), 2));
        Assert.Equal("एक पीला तारा", Np("hi", Q(ShapeKind.Star, ObjectColor.Yellow), 1));
        Assert.Equal("तीन पीली वस्तुएँ", Np("hi", new ObjectQuery(Color: ObjectColor.Yellow), 3));
        Assert.Equal("तस्वीर में एक लाल वृत्त है।", Count("hi", Q(ShapeKind.Circle, ObjectColor.Red), 1));
        Assert.Equal("लाल वृत्त नीले तारे के बाईं ओर है।", Rel("hi", Q(ShapeKind.Circle, ObjectColor.Red), Relation.LeftOf, Q(ShapeKind.Star, ObjectColor.Blue)));
        Assert.Equal("तारा किस रंग का है?", Ask("hi", QuestionType.Color, new ObjectQuery(Shape: ShapeKind.Star)));
        Assert.Equal("तस्वीर में कितनी लाल वस्तुएँ हैं?", Ask("hi", QuestionType.Count, new ObjectQuery(Color: ObjectColor.Red)));
    }

    [Fact]
    public void Thai()
    {
        Assert.Equal("วงกลมสีแดงสามวง", Np("th", Q(ShapeKind.Circle, ObjectColor.Red), 3));
        Assert.Equal("ดาวสีน้ำเงินหนึ่งดวง", Np("th", Q(ShapeKind.Star, ObjectColor.Blue), 1));
        Assert.Equal("ในภาพมีวงกลมสีแดงกี่วง", Ask("th", QuestionType.Count, Q(ShapeKind.Circle, ObjectColor.Red)));
    }

    [Fact]
    public void Chinese()
    {
        Assert.Equal("两个红色圆形", Np("zh", Q(ShapeKind.Circle, ObjectColor.Red), 2));
        Assert.Equal("一个蓝色星形", Np("zh", Q(ShapeKind.Star, ObjectColor.Blue), 1));
        Assert.Equal("图中有几个红色圆形？", Ask("zh", QuestionType.Count, Q(ShapeKind.Circle, ObjectColor.Red)));
        Assert.Equal("红色圆形在蓝色星形的左边。", Rel("zh", Q(ShapeKind.Circle, ObjectColor.Red), Relation.LeftOf, Q(ShapeKind.Star, ObjectColor.Blue)));
    }

    [Fact]
    public void Japanese()
    {
        Assert.Equal("赤い円二つ", Np("ja", Q(ShapeKind.Circle, ObjectColor.Red), 2));
        Assert.Equal("赤い円が二つあります。", Count("ja", Q(ShapeKind.Circle, ObjectColor.Red), 2));
        Assert.Equal("赤い円はいくつありますか？", Ask("ja", QuestionType.Count, Q(ShapeKind.Circle, ObjectColor.Red)));
        Assert.Equal("赤い円は青い星の左にあります。", Rel("ja", Q(ShapeKind.Circle, ObjectColor.Red), Relation.LeftOf, Q(ShapeKind.Star, ObjectColor.Blue)));
    }

    [Fact]
    public void Korean()
    {
        Assert.Equal("빨간 원 세 개", Np("ko", Q(ShapeKind.Circle, ObjectColor.Red), 3));
        Assert.Equal("그림에 빨간 원이 세 개 있습니다.", Count("ko", Q(ShapeKind.Circle, ObjectColor.Red), 3));
        Assert.Equal("빨간 원은 파란 별의 왼쪽에 있습니다.", Rel("ko", Q(ShapeKind.Circle, ObjectColor.Red), Relation.LeftOf, Q(ShapeKind.Star, ObjectColor.Blue)));
        Assert.Equal("그림에 하트가 있습니까?", Ask("ko", QuestionType.Exists, new ObjectQuery(Shape: ShapeKind.Heart)));
        Assert.Equal("빨간 원 두 개와 파란 별 한 개",
            LanguageTests.L("ko").Caption(new SceneCaption([new(Q(ShapeKind.Circle, ObjectColor.Red), 2), new(Q(ShapeKind.Star, ObjectColor.Blue), 1)], null), 0, First));
        Assert.True(VqaApi.Generation.Korean.HasBatchim("원"));
        Assert.False(VqaApi.Generation.Korean.HasBatchim("하트"));
    }
}

/// <summary>A random source that returns a fixed choice (clamped to the range asked for).</summary>
internal sealed class FixedChoices(int choice) : Random
{
    public override int Next(int maxValue) => Math.Min(choice, maxValue - 1);
    public override int Next(int minValue, int maxValue) => Math.Clamp(choice, minValue, maxValue - 1);
    public override int Next() => choice;
}
