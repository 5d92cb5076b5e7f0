namespace VqaApi.Generation;

/// <summary>A concrete object kind: a coloured shape, or an emoji.</summary>
public readonly record struct ObjectKind(ShapeKind? Shape, ObjectColor? Color, int? Emoji)
{
    public static ObjectKind Of(ShapeKind s, ObjectColor c) => new(s, c, null);
    public static ObjectKind OfEmoji(int e) => new(null, null, e);
    public bool Matches(ObjectQuery q) => q.Matches(new SceneObject(Shape, Color, Emoji, ObjectSize.Small, 0, 0, 1));
}

/// <summary>
/// Places objects on a canvas: random sizes, positions that keep overlaps legible (centres at least
/// <see cref="WorldOptions.Separation"/> (0.8) of the summed radii apart), random background, noise and blur. Attribute-object combinations in
/// <see cref="Forbidden"/> are never drawn (the held-out "novel combinations").
/// </summary>
public sealed class SceneSampler(int size, int emojiCount, IReadOnlySet<ObjectKind> forbidden, WorldOptions? world = null)
{
    public const int MaxObjects = 8;
    public int Size { get; } = size;
    public int EmojiCount { get; } = emojiCount;
    public IReadOnlySet<ObjectKind> Forbidden { get; } = forbidden;
    public WorldOptions World { get; } = world ?? WorldOptions.Full;

    /// <summary>A random object kind: an emoji with the world's emoji share (30% by default), a shape otherwise (never a forbidden kind).</summary>
    public ObjectKind RandomKind(Random random, Func<ObjectKind, bool>? allowed = null) =>
        Draw(random, allowed, r => EmojiCount > 0 && r.NextDouble() < World.EmojiShare ? ObjectKind.OfEmoji(r.Next(EmojiCount)) : RandomShapeKind(r));

    /// <summary>A shape kind (never an emoji) that satisfies the constraint.</summary>
    public ObjectKind RandomShape(Random random, Func<ObjectKind, bool>? allowed = null) => Draw(random, allowed, RandomShapeKind);

    // Shape first, then colour: the same draws as before the world options, over the world's subsets.
    private ObjectKind RandomShapeKind(Random r) => ObjectKind.Of(World.Shapes[r.Next(World.Shapes.Count)], World.Colors[r.Next(World.Colors.Count)]);

    /// <summary>Draws candidates until one is allowed and not forbidden.</summary>
    private ObjectKind Draw(Random random, Func<ObjectKind, bool>? allowed, Func<Random, ObjectKind> candidate)
    {
        for (int attempt = 0; attempt <= 10_000; attempt++)
        {
            var k = candidate(random);
            if (!Forbidden.Contains(k) && (allowed is null || allowed(k))) return k;
        }
        throw new InvalidOperationException("no object kind satisfies the constraints");
    }

    /// <summary>
    /// A scene holding every <paramref name="required"/> object plus up to <paramref name="extra"/> others drawn
    /// from <paramref name="extraAllowed"/>. Required objects are always placed; an extra that finds no room is left out.
    /// </summary>
    public Scene Build(Random random, IReadOnlyList<ObjectKind> required, int extra, Func<ObjectKind, bool>? extraAllowed = null)
    {
        if (required.Count > MaxObjects) throw new ArgumentException($"at most {MaxObjects} objects fit a scene", nameof(required));
        extra = Math.Min(extra, MaxObjects - required.Count);
        var kinds = required.Select(k => (Kind: k, Required: true)).ToList();
        for (int i = 0; i < extra; i++) kinds.Add((RandomKind(random, extraAllowed), false));
        // Shuffle so required objects are not always drawn first (underneath).
        for (int i = kinds.Count - 1; i > 0; i--) { int j = random.Next(i + 1); (kinds[i], kinds[j]) = (kinds[j], kinds[i]); }

        for (int attempt = 0; ; attempt++)
        {
            float shrink = attempt < 20 ? 1f : 0.75f;
            var placed = new List<SceneObject>();
            bool ok = true;
            foreach (var (k, isRequired) in kinds)
            {
                var size = random.NextDouble() < 0.5 ? ObjectSize.Small : ObjectSize.Large;
                float r = Size * (size == ObjectSize.Small ? 0.06f : 0.10f) * (0.92f + 0.16f * (float)random.NextDouble()) * shrink * World.ObjectScale;
                if (k.Emoji is not null) r *= 1.1f;
                SceneObject? o = null;
                for (int tries = 0; tries < 60 && o is null; tries++)
                {
                    float margin = r + 2;
                    float x = margin + (float)random.NextDouble() * (Size - 2 * margin);
                    float y = margin + (float)random.NextDouble() * (Size - 2 * margin);
                    if (placed.All(p => Dist(p.X, p.Y, x, y) >= World.Separation * (p.Radius + r))) o = new SceneObject(k.Shape, k.Color, k.Emoji, size, x, y, r);
                }
                if (o is not null) placed.Add(o);
                else if (isRequired) { ok = false; break; }
            }
            if (!ok && attempt < 40) continue;
            if (!ok) throw new InvalidOperationException("required objects do not fit the canvas");
            var scene = new Scene(Size, (BackgroundKind)random.Next(3), BackgroundColors(random), random.Next(), 6 + random.Next(10),
                random.NextDouble() < 0.3 ? 0.3f + 0.5f * (float)random.NextDouble() : 0f, placed);
            // Plain scenes make the same draws and then drop the texture, so the objects stay where they would be.
            return World.PlainScenes ? scene with { Background = BackgroundKind.Flat, NoiseAmplitude = 0, Blur = 0f } : scene;
        }
    }

    public static ObjectKind ObjectKindOf(SceneObject o) => new(o.Shape, o.Color, o.Emoji);

    private static float Dist(float x1, float y1, float x2, float y2) => MathF.Sqrt((x1 - x2) * (x1 - x2) + (y1 - y2) * (y1 - y2));

    /// <summary>Two light, low-saturation colours (ARGB), so every palette colour stands out against them.</summary>
    private static uint[] BackgroundColors(Random random)
    {
        uint Light()
        {
            int baseLevel = 205 + random.Next(40);
            uint c(int jitter) => (uint)Math.Clamp(baseLevel + jitter, 0, 255);
            return 0xFF000000u | c(random.Next(-12, 13)) << 16 | c(random.Next(-12, 13)) << 8 | c(random.Next(-12, 13));
        }
        return [Light(), Light()];
    }
}
