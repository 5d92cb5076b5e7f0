namespace VqaApi.Generation;

/// <summary>
/// What a record's canvases show or name, as a few bits a trainer can learn from directly: the colours and shapes
/// present in the scene (or named by the text), whether an emoji is, and how many objects a whole-scene caption
/// covers. Both canvases of an image-caption record and of a generated text pair share them; real parallel
/// sentences, VQA and sentence-pair records carry none. Stored in record header bytes 24..27
/// (docs/generator-format.md).
/// </summary>
public readonly record struct ContentAttributes(byte Flags, byte Colors, byte Shapes, byte Objects)
{
    public const byte OnA = 1, OnB = 2, Emoji = 4, CountKnown = 8;

    public static ContentAttributes None => default;

    /// <summary>A scene and a caption of it: everything in the scene, its object count included.</summary>
    public static ContentAttributes OfScene(Scene scene) => From(scene.Objects.Select(ObjectQuery.Of), scene.Objects.Count, OnA | OnB | CountKnown);

    /// <summary>A scene drawn inside canvas A only (the VQA layout): what the image part shows.</summary>
    public static ContentAttributes OfImage(Scene scene) => From(scene.Objects.Select(ObjectQuery.Of), scene.Objects.Count, OnA | CountKnown);

    /// <summary>What a stated fact names: the objects of its queries (a whole-scene caption also fixes the count).</summary>
    public static ContentAttributes OfFact(Fact fact) => fact switch
    {
        CountFact c => From([c.What], 0, OnA | OnB),
        RelationFact r => From([r.A, r.B], 0, OnA | OnB),
        SceneCaption s => From(s.Groups.Where(g => g.Count > 0).Select(g => g.What), s.Groups.Sum(g => g.Count), OnA | OnB | CountKnown),
        _ => None,
    };

    private static ContentAttributes From(IEnumerable<ObjectQuery> queries, int objects, int flags)
    {
        int colors = 0, shapes = 0;
        foreach (var q in queries)
        {
            if (q.Emoji is not null) flags |= Emoji;
            if (q.Color is { } c) colors |= 1 << (int)c;
            if (q.Shape is { } s) shapes |= 1 << (int)s;
        }
        return new ContentAttributes((byte)flags, (byte)colors, (byte)shapes, (byte)Math.Min(objects, 255));
    }
}

/// <summary>
/// What a VQA question asks about, for a trainer to learn from the question band directly: the subject's colour and
/// shape (each its index + 1, 0 when the question leaves it open: "how many circles", "what colour is the star") and
/// whether it names an emoji. Stored in record header bytes 28..30 of VQA records (docs/generator-format.md); the
/// question type is byte 3.
/// </summary>
public readonly record struct QuestionSubject(byte Flags, byte Color, byte Shape)
{
    public const byte Known = 1, Emoji = 2;

    public static QuestionSubject Of(Question? question) => question?.Subject is not { } s
        ? default
        : new QuestionSubject((byte)(Known | (s.Emoji is null ? 0 : Emoji)),
            (byte)(s.Color is { } c ? (int)c + 1 : 0), (byte)(s.Shape is { } sh ? (int)sh + 1 : 0));
}
