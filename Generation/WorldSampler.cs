namespace VqaApi.Generation;

/// <summary>A VQA item: a scene, a question about it, and the answer's class index in <see cref="Answers.All"/>.</summary>
public sealed record VqaItem(Scene Scene, Question Question, int AnswerClass);

/// <summary>A sentence-pair item: a premise (a whole-scene caption), a hypothesis, and its class.</summary>
public sealed record PairItem(Scene Scene, SceneCaption Premise, Fact Hypothesis, PairLabel Label);

/// <summary>
/// The language-independent half of the generator: scenes, their captions as facts, balanced VQA questions and
/// entailment pairs. Everything is drawn from the <see cref="Random"/> it is given, so one seed fixes one item.
/// </summary>
public sealed class WorldSampler
{
    /// <summary>
    /// Attribute-object pairs held out of training entirely: one per colour, each with a different shape. The
    /// novel-combinations split draws every scene with at least one of them.
    /// </summary>
    public static readonly IReadOnlySet<ObjectKind> NovelCombinations = new HashSet<ObjectKind>
    {
        ObjectKind.Of(ShapeKind.Star, ObjectColor.Red), ObjectKind.Of(ShapeKind.Heart, ObjectColor.Orange),
        ObjectKind.Of(ShapeKind.Cross, ObjectColor.Yellow), ObjectKind.Of(ShapeKind.Circle, ObjectColor.Green),
        ObjectKind.Of(ShapeKind.Triangle, ObjectColor.Blue), ObjectKind.Of(ShapeKind.Square, ObjectColor.Purple),
        ObjectKind.Of(ShapeKind.Hexagon, ObjectColor.Pink), ObjectKind.Of(ShapeKind.Diamond, ObjectColor.Black),
    };

    private readonly SceneSampler _scenes, _novel;
    private readonly Dictionary<string, int> _answerIndex;

    public WorldSampler(int size, int emojiCount, WorldOptions? options = null)
    {
        Options = (options ?? WorldOptions.Full).Validated();
        _scenes = new SceneSampler(size, emojiCount, NovelCombinations, Options);
        _novel = new SceneSampler(size, emojiCount, new HashSet<ObjectKind>(), Options);
        _answerIndex = Answers.All.Select((a, i) => (a, i)).ToDictionary(p => p.a, p => p.i);
        Size = size;
        EmojiCount = emojiCount;
    }

    public int Size { get; }
    public int EmojiCount { get; }
    /// <summary>The part of the world this sampler draws from (the whole world by default).</summary>
    public WorldOptions Options { get; }

    /// <summary>
    /// How many extra objects to draw beside <paramref name="required"/> ones so that the scene holds between
    /// <paramref name="atLeast"/> and the world's maximum: <c>lo + random.Next(hi - lo + 1)</c>, which for the full
    /// world is the draw the generator always made.
    /// </summary>
    private int Extras(Random random, int required, int atLeast)
    {
        int lo = Math.Max(0, atLeast - required), hi = Math.Max(lo, Options.MaxObjects - required);
        return lo + random.Next(hi - lo + 1);
    }

    public int AnswerClass(string answerId) => _answerIndex[answerId];

    /// <summary>A scene of 1 to 8 random objects (the world's range); in the novel split, at least one is a held-out combination.</summary>
    public Scene RandomScene(Random random, bool novel = false)
    {
        int n = Options.MinObjects + random.Next(Options.MaxObjects - Options.MinObjects + 1);
        if (!novel) return _scenes.Build(random, [], n);
        var held = NovelCombinations.ElementAt(random.Next(NovelCombinations.Count));
        return _novel.Build(random, [held], n - 1);
    }

    /// <summary>
    /// Every object, grouped by kind with its count, groups ordered left to right by their leftmost member;
    /// optionally one unambiguous relation between two objects that are each unique in the scene.
    /// </summary>
    public static SceneCaption CaptionOf(Scene scene, Random random, bool withRelation)
    {
        var groups = scene.Objects.GroupBy(SceneSampler.ObjectKindOf)
            .OrderBy(g => g.Min(o => o.X))
            .Select(g => new CountFact(new ObjectQuery(g.Key.Shape, g.Key.Color, g.Key.Emoji), g.Count()))
            .ToList();
        return new SceneCaption(groups, withRelation ? RandomRelation(scene, random) : null);
    }

    /// <summary>A true relation between two objects that are each the only one of their kind, or null if none exists.</summary>
    public static RelationFact? RandomRelation(Scene scene, Random random)
    {
        var unique = scene.Objects.Where(o => scene.Objects.Count(p => SceneSampler.ObjectKindOf(p) == SceneSampler.ObjectKindOf(o)) == 1).ToList();
        var candidates = new List<RelationFact>();
        foreach (var a in unique)
            foreach (var b in unique)
                if (!ReferenceEquals(a, b))
                    foreach (var r in Scene.Relations(a, b)) candidates.Add(new RelationFact(ObjectQuery.Of(a), r, ObjectQuery.Of(b)));
        return candidates.Count == 0 ? null : candidates[random.Next(candidates.Count)];
    }

    /// <summary>A single true statement about the scene: a count (sometimes by colour or shape alone, sometimes zero) or a relation.</summary>
    public Fact RandomFact(Scene scene, Random random)
    {
        if (random.NextDouble() < 0.3 && RandomRelation(scene, random) is { } relation) return relation;
        var q = RandomQuery(scene, random);
        return new CountFact(q, scene.Objects.Count(q.Matches));
    }

    private ObjectQuery RandomQuery(Scene scene, Random random)
    {
        double u = random.NextDouble();
        if (u < 0.1) return new ObjectQuery(); // all objects
        var kind = u < 0.75 && scene.Objects.Count > 0
            ? SceneSampler.ObjectKindOf(scene.Objects[random.Next(scene.Objects.Count)])
            : _scenes.RandomKind(random);
        if (kind.Emoji is not null) return new ObjectQuery(Emoji: kind.Emoji);
        return random.Next(4) switch
        {
            0 => new ObjectQuery(Shape: kind.Shape),
            1 => new ObjectQuery(Color: kind.Color),
            _ => new ObjectQuery(kind.Shape, kind.Color),
        };
    }

    /// <summary>The item's question in <paramref name="language"/>: in its templates, or, for the world's
    /// <see cref="WorldOptions.OtherWordingsShare"/> of questions, in other words (or, for the
    /// <see cref="WorldOptions.ColourPredicateShare"/> of those naming a colour, with the colour as the predicate, or for the
    /// <see cref="WorldOptions.RareWordsShare"/>, in less common words); then, for the
    /// <see cref="WorldOptions.FillerWordsShare"/> and <see cref="WorldOptions.ScrambledWordsShare"/> of them, with filler
    /// words and in scrambled order (no random draw for a share that is 0, so streams without an option are as they were).
    /// For the <see cref="WorldOptions.ColourWordShare"/> of count, shape and existence questions naming a colour, the
    /// language says that colour with its word for colour throughout.</summary>
    public string Ask(ILanguage language, VqaItem item, Random random)
    {
        // The "shape" noun may name every object only where the scene holds no emoji.
        bool onlyShapes = item.Scene.Objects.All(o => !o.IsEmoji);
        // The subject's colour said with the word for colour (no draw when the share is 0, or where no colour is named).
        var s = item.Question.Subject;
        if (Options.ColourWordShare > 0 && s.Color is not null && s.Emoji is null
            && item.Question.Type is QuestionType.Count or QuestionType.Shape or QuestionType.Exists
            && random.NextDouble() < Options.ColourWordShare)
            language = language.WithColourWord(random);
        // A colour said as a predicate where the question names one (no draw when the share is 0); else as before.
        string? worded = Options.ColourPredicateShare > 0 && random.NextDouble() < Options.ColourPredicateShare
            ? language.AskWithColourPredicate(item.Question, onlyShapes, random)
            : null;
        // Less common words for what it asks (no draw when the share is 0, or when the colour was said as a predicate).
        worded ??= Options.RareWordsShare > 0 && random.NextDouble() < Options.RareWordsShare
            ? language.AskInRareWords(item.Question, onlyShapes, random)
            : null;
        var asked = worded ?? (Options.OtherWordingsShare > 0 && random.NextDouble() < Options.OtherWordingsShare
            ? language.AskInOtherWords(item.Question, onlyShapes, random)
            : language.Ask(item.Question, random));
        // Words that change nothing, then any scrambling (no draw when the share is 0, so streams without it are as they were).
        if (Options.FillerWordsShare > 0 && random.NextDouble() < Options.FillerWordsShare) asked = language.WithFillers(asked, random);
        // Scrambled after it is worded (no draw when the share is 0); a position question's order is its meaning.
        return Options.ScrambledWordsShare > 0 && item.Question.Type != QuestionType.Spatial && random.NextDouble() < Options.ScrambledWordsShare
            ? ScrambleWords(asked, random)
            : asked;
    }

    /// <summary>The words of <paramref name="text"/> (split at spaces) in a random order other than their own, where it has
    /// at least two; a question mark or full stop that ends it stays at the end ("What colour is the cross?" can become
    /// "the cross colour What is?").</summary>
    public static string ScrambleWords(string text, Random random)
    {
        var end = text.Length > 0 && text[^1] is '?' or '？' or '.' or '。' or '؟' or '।' ? text[^1].ToString() : "";
        var words = text[..^end.Length].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (words.Length < 2 || words.Distinct(StringComparer.Ordinal).Count() < 2) return text;
        var order = (string[])words.Clone();
        do random.Shuffle(order); while (order.SequenceEqual(words, StringComparer.Ordinal));
        return string.Join(' ', order) + end;
    }

    /// <summary>The question in <paramref name="language"/>, in its templates or (half the time) in other words: one side
    /// of a <see cref="WorldOptions.QuestionPairsShare"/> text pair.</summary>
    public static string AskEitherWay(ILanguage language, VqaItem item, Random random) =>
        random.Next(2) == 0 ? language.Ask(item.Question, random) : InOtherWords(language, item, random);

    /// <summary>The "shape" noun may name every object only where the scene holds no emoji.</summary>
    private static string InOtherWords(ILanguage language, VqaItem item, Random random) =>
        language.AskInOtherWords(item.Question, item.Scene.Objects.All(o => !o.IsEmoji), random);

    /// <summary>
    /// A VQA item with a balanced answer: the question type is uniform, then the answer is drawn uniformly among
    /// that type's answers, and the scene is built to make it true (so no answer prior wins).
    /// </summary>
    public VqaItem RandomVqa(Random random)
    {
        var type = Options.Questions[random.Next(Options.Questions.Count)];
        Scene scene;
        Question question;
        switch (type)
        {
            case QuestionType.Count when Options.CountAllShare > 0 && random.NextDouble() < Options.CountAllShare:
            {
                // Every object counts: the answer is drawn over the world's range, and every object drawn is required.
                int n = Options.MinObjects + random.Next(Options.MaxObjects - Options.MinObjects + 1);
                var all = new ObjectQuery();
                var required = Enumerable.Range(0, n).Select(_ => _scenes.RandomKind(random)).ToList();
                scene = BuildExact(random, required, 0, _ => false, all, n);
                question = new Question(QuestionType.Count, all, Answers.Count(n));
                break;
            }
            case QuestionType.Count:
            {
                int n = random.Next(Options.MaxObjects + 1);
                var target = _scenes.RandomShape(random);
                var subject = random.Next(Options.CountBySingleAttribute ? 2 : 3) switch
                {
                    0 => new ObjectQuery(Shape: target.Shape),
                    1 => new ObjectQuery(Color: target.Color),
                    _ => new ObjectQuery(target.Shape, target.Color),
                };
                // n objects matching the subject (of varied kinds when the subject is one attribute), the rest not matching.
                var required = Enumerable.Range(0, n).Select(_ => _scenes.RandomShape(random, k => k.Matches(subject))).ToList();
                // A shape that does not match is always placed (no draw when the share is 0), so that counting every object
                // is not the answer; without it, it is whenever no extra is drawn.
                if (Options.CountDistractorShare > 0 && n < Options.MaxObjects && random.NextDouble() < Options.CountDistractorShare)
                    required.Add(_scenes.RandomShape(random, k => !k.Matches(subject)));
                // A count of 0 still shows something (at least one other object); otherwise the scene stays in the world's range.
                int others = Extras(random, required.Count, n == 0 ? Math.Max(1, Options.MinObjects) : Options.MinObjects);
                scene = BuildExact(random, required, others, k => !k.Matches(subject), subject, n);
                question = new Question(type, subject, Answers.Count(n));
                break;
            }
            case QuestionType.Color:
            {
                var color = Options.Colors[random.Next(Options.Colors.Count)];
                var target = _scenes.RandomShape(random, k => k.Color == color);
                var subject = new ObjectQuery(Shape: target.Shape);
                scene = _scenes.Build(random, [target], Extras(random, 1, Options.MinObjects), k => k.Shape != target.Shape);
                question = new Question(type, subject, Answers.Color(color));
                break;
            }
            case QuestionType.Shape:
            {
                var shape = Options.Shapes[random.Next(Options.Shapes.Count)];
                var target = _scenes.RandomShape(random, k => k.Shape == shape);
                var subject = new ObjectQuery(Color: target.Color);
                scene = _scenes.Build(random, [target], Extras(random, 1, Options.MinObjects), k => k.Color != target.Color);
                question = new Question(type, subject, Answers.Shape(shape));
                break;
            }
            case QuestionType.Exists:
            {
                bool yes = random.Next(2) == 0;
                var target = _scenes.RandomKind(random);
                bool one = target.Emoji is null && Options.SingleAttributeExistsShare > 0 && random.NextDouble() < Options.SingleAttributeExistsShare;
                var subject = !one ? new ObjectQuery(target.Shape, target.Color, target.Emoji)
                    : random.Next(2) == 0 ? new ObjectQuery(Shape: target.Shape) : new ObjectQuery(Color: target.Color);
                // Nothing else in the scene answers the question; near misses (the same shape or the same colour, not what
                // is asked) make "no" answers need what the question names.
                Func<ObjectKind, bool> other = one ? k => !k.Matches(subject) : k => k != target;
                var required = new List<ObjectKind>();
                if (yes) required.Add(target);
                if (target.Emoji is null && random.Next(2) == 0 && required.Count < Options.MaxObjects)
                    required.Add(_scenes.RandomShape(random, k => other(k) && (k.Shape == target.Shape || k.Color == target.Color)));
                // "No" scenes may be empty in the full world (as always); a curriculum's minimum applies above one object.
                scene = _scenes.Build(random, required, Extras(random, required.Count, Options.MinObjects > 1 ? Options.MinObjects : 0), other);
                question = new Question(type, subject, yes ? Answers.Yes : Answers.No);
                break;
            }
            default:
            {
                bool yes = random.Next(2) == 0;
                for (int attempt = 0; ; attempt++)
                {
                    scene = _scenes.Build(random, [], Extras(random, 0, Math.Max(2, Options.MinObjects)));
                    if (RandomRelation(scene, random) is not { } fact) continue;
                    // "No" asks the opposite of a relation that holds, so it is clearly false (not merely within the margin).
                    var relation = yes ? fact.Relation : Opposite(fact.Relation);
                    question = new Question(type, fact.A, yes ? Answers.Yes : Answers.No, relation, fact.B);
                    break;
                }
                break;
            }
        }
        return new VqaItem(scene, question, AnswerClass(question.AnswerId));
    }

    /// <summary>Builds until exactly <paramref name="n"/> objects match (an extra that finds no room is dropped, never a required one).</summary>
    private Scene BuildExact(Random random, List<ObjectKind> required, int others, Func<ObjectKind, bool> allowed, ObjectQuery subject, int n)
    {
        var scene = _scenes.Build(random, required, others, allowed);
        if (scene.Objects.Count(subject.Matches) != n) throw new InvalidOperationException("count question scene does not hold its answer");
        return scene;
    }

    /// <summary>
    /// An entailment pair. The premise is a whole-scene caption, a closed description of what is there, so counts
    /// follow from it: a true count is entailed, a false one contradicted. Positions do not follow from a caption
    /// without a relation, so a relation hypothesis is neutral unless the caption states that relation (or its converse).
    /// </summary>
    public PairItem RandomPair(Random random)
    {
        var label = (PairLabel)random.Next(3);
        for (int attempt = 0; ; attempt++)
        {
            var scene = RandomScene(random);
            if (label == PairLabel.Neutral)
            {
                if (RandomRelation(scene, random) is not { } r) continue;
                return new PairItem(scene, CaptionOf(scene, random, withRelation: false), r with { Relation = random.Next(2) == 0 ? r.Relation : Opposite(r.Relation) }, label);
            }
            bool viaRelation = random.Next(3) == 0;
            if (viaRelation)
            {
                var caption = CaptionOf(scene, random, withRelation: true);
                if (caption.Relation is not { } stated) continue;
                bool converse = random.Next(2) == 0;
                var h = converse ? new RelationFact(stated.B, Opposite(stated.Relation), stated.A) : stated;
                if (label == PairLabel.Contradiction) h = h with { Relation = Opposite(h.Relation) };
                return new PairItem(scene, caption, h, label);
            }
            var premise = CaptionOf(scene, random, withRelation: random.Next(3) == 0);
            var q = RandomQuery(scene, random);
            int count = scene.Objects.Count(q.Matches);
            if (label == PairLabel.Entailment) return new PairItem(scene, premise, new CountFact(q, count), label);
            int wrong = Math.Min(Answers.MaxCount, count == 0 ? 1 + random.Next(3) : random.Next(2) == 0 ? 0 : count + (random.Next(2) == 0 && count > 1 ? -1 : 1));
            if (wrong == count) continue;
            return new PairItem(scene, premise, new CountFact(q, wrong), label);
        }
    }

    public static Relation Opposite(Relation r) => r switch
    {
        Relation.LeftOf => Relation.RightOf,
        Relation.RightOf => Relation.LeftOf,
        Relation.Above => Relation.Below,
        _ => Relation.Above,
    };
}
