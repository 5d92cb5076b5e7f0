using System.Buffers.Binary;

namespace VqaApi.Generation;

/// <summary>
/// What a record's canvases show or name, as a few bits a trainer can learn from directly: the colours and shapes
/// present in the scene (or named by the text), whether an emoji is, and how many objects a whole-scene caption
/// covers, and where a whole scene is shown or described, how many objects of each colour and shape it has
/// (<see cref="PairCounts"/>: what binds a colour to its shape). Both canvases of an image-caption record and of a
/// generated text pair share them; the VQA canvas carries its scene's; real parallel sentences and sentence-pair
/// records carry none. Stored in record header bytes 24..27 and 32..63 (docs/generator-format.md).
/// </summary>
public readonly record struct ContentAttributes(byte Flags, byte Colors, byte Shapes, byte Objects)
{
    public const byte OnA = 1, OnB = 2, Emoji = 4, CountKnown = 8, PairsKnown = 16;

    /// <summary>The number of objects of each colour and shape (set with <see cref="PairsKnown"/>).</summary>
    public PairCounts Pairs { get; init; }

    public static ContentAttributes None => default;

    /// <summary>A scene and a caption of it: everything in the scene, its object count and colour-shape pairs included.</summary>
    public static ContentAttributes OfScene(Scene scene) =>
        From(scene.Objects.Select(ObjectQuery.Of), scene.Objects.Count, OnA | OnB | CountKnown | PairsKnown) with { Pairs = PairCounts.Of(scene.Objects) };

    /// <summary>A scene drawn inside canvas A only (the VQA layout): what the image part shows.</summary>
    public static ContentAttributes OfImage(Scene scene) =>
        From(scene.Objects.Select(ObjectQuery.Of), scene.Objects.Count, OnA | CountKnown | PairsKnown) with { Pairs = PairCounts.Of(scene.Objects) };

    /// <summary>What a stated fact names: the objects of its queries (a whole-scene caption also fixes the count).</summary>
    public static ContentAttributes OfFact(Fact fact) => fact switch
    {
        CountFact c => From([c.What], 0, OnA | OnB),
        RelationFact r => From([r.A, r.B], 0, OnA | OnB),
        SceneCaption s => From(s.Groups.Where(g => g.Count > 0).Select(g => g.What), s.Groups.Sum(g => g.Count), OnA | OnB | CountKnown | PairsKnown)
            with { Pairs = PairCounts.Of(s.Groups.Select(g => (g.What, g.Count))) },
        _ => None,
    };

    /// <summary>What a question names: its subject (and the other object of a position question).</summary>
    public static ContentAttributes OfQuestion(Question question) =>
        From(question.Other is { } other ? [question.Subject, other] : [question.Subject], 0, OnA | OnB);

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
/// How many objects of each colour and shape a scene has (emoji are not counted): 64 counts, one per colour k and
/// shape j at index 8k + j, 4 bits each (at most 15), packed two per byte, low nibble first, into 32 bytes.
/// </summary>
public readonly record struct PairCounts(ulong P0, ulong P1, ulong P2, ulong P3)
{
    public const int Bytes = 32, Max = 15;

    public static PairCounts Of(IEnumerable<SceneObject> objects) =>
        Of(objects.Where(o => !o.IsEmoji).Select(o => (new ObjectQuery(o.Shape, o.Color), 1)));

    /// <summary>From groups of objects (a plain shape's query with its count; emoji and partial queries are skipped).</summary>
    public static PairCounts Of(IEnumerable<(ObjectQuery What, int Count)> groups)
    {
        Span<ulong> p = stackalloc ulong[4];
        foreach (var (what, count) in groups)
        {
            if (what is not { Emoji: null, Color: { } c, Shape: { } s } || count <= 0) continue;
            int i = 8 * (int)c + (int)s, word = i / 16, shift = 4 * (i % 16);
            ulong now = (p[word] >> shift) & 0xF;
            p[word] = p[word] & ~(0xFUL << shift) | Math.Min((ulong)Max, now + (ulong)count) << shift;
        }
        return new PairCounts(p[0], p[1], p[2], p[3]);
    }

    public int this[ObjectColor color, ShapeKind shape]
    {
        get
        {
            int i = 8 * (int)color + (int)shape;
            ulong w = (i / 16) switch { 0 => P0, 1 => P1, 2 => P2, _ => P3 };
            return (int)((w >> 4 * (i % 16)) & 0xF);
        }
    }

    /// <summary>Record header bytes 32..63 (four little-endian words: byte b holds counts 2b and 2b + 1).</summary>
    public void WriteTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, P0);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], P1);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[16..], P2);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], P3);
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
    public const byte Known = 1, Emoji = 2, RelationShift = 2, RelationMask = 0x1C;

    /// <summary>Flags: bit 0 known, bit 1 the subject names an emoji, bits 2-4 the relation of a spatial question + 1
    /// (order of <see cref="Relation"/>; 0 none). A spatial answer is the relation word crossed with where the two objects
    /// lie, and neither alone says anything about it, so a trainer must be able to ask for the word on its own.</summary>
    public static QuestionSubject Of(Question? question) => question?.Subject is not { } s
        ? default
        : new QuestionSubject((byte)(Known | (s.Emoji is null ? 0 : Emoji) | (question.Relation is { } r ? ((int)r + 1) << RelationShift : 0)),
            (byte)(s.Color is { } c ? (int)c + 1 : 0), (byte)(s.Shape is { } sh ? (int)sh + 1 : 0));
}

/// <summary>
/// Where one object of a drawn scene lies, as one byte a trainer can learn from (record byte 31, docs/generator-format.md):
/// the first plain object in drawing order whose colour no other object in the scene has, its colour, and whether its
/// centre is in the left half and in the upper half of the scene. Presence and counts (<see cref="ContentAttributes"/>) say
/// nothing about places; spatial questions need a colour bound to a place.
/// </summary>
public static class ScenePosition
{
    public const byte Known = 0x80, LeftHalf = 0x08, UpperHalf = 0x10, ColorMask = 0x07;

    /// <summary>Bit 7 known, bits 0-2 the colour (order of <see cref="ObjectColor"/>), bit 3 left half, bit 4 upper half;
    /// 0 when no plain object's colour is unique in the scene.</summary>
    public static byte Of(Scene scene)
    {
        foreach (var o in scene.Objects)
        {
            if (o.IsEmoji || o.Color is not { } color) continue;
            int same = 0;
            foreach (var p in scene.Objects) if (p.Color == color) same++;
            if (same != 1) continue;
            float half = scene.Size / 2f;
            return (byte)(Known | (int)color | (o.X < half ? LeftHalf : 0) | (o.Y < half ? UpperHalf : 0));
        }
        return 0;
    }
}
