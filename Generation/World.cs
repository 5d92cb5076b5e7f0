namespace VqaApi.Generation;

/// <summary>The eight geometric shapes a scene can hold.</summary>
public enum ShapeKind { Circle, Square, Triangle, Star, Heart, Diamond, Hexagon, Cross }

/// <summary>The eight colours a shape can have (emoji keep their own colours).</summary>
public enum ObjectColor { Red, Orange, Yellow, Green, Blue, Purple, Pink, Black }

public enum ObjectSize { Small, Large }

public enum BackgroundKind { Flat, Gradient, Noise }

/// <summary>Where one object stands relative to another (image coordinates: y grows downwards).</summary>
public enum Relation { LeftOf, RightOf, Above, Below }

/// <summary>
/// One object in a scene: a coloured geometric shape, or an emoji (<see cref="Emoji"/> indexes
/// <see cref="EmojiCatalog"/>; <see cref="Shape"/> and <see cref="Color"/> are then null). Centre and extent are in
/// canvas pixels.
/// </summary>
public sealed record SceneObject(ShapeKind? Shape, ObjectColor? Color, int? Emoji, ObjectSize Size, float X, float Y, float Radius)
{
    public bool IsEmoji => Emoji is not null;
}

/// <summary>
/// A scene and its ground truth: what the generator drew, as data. Background colours are ARGB; the noise seed and
/// amplitude apply to <see cref="BackgroundKind.Noise"/>; <see cref="Blur"/> is a Gaussian sigma in pixels (0: none).
/// </summary>
public sealed record Scene(int Size, BackgroundKind Background, uint[] BackgroundColors, int NoiseSeed, int NoiseAmplitude, float Blur, IReadOnlyList<SceneObject> Objects)
{
    /// <summary>
    /// a's relation to b, when it is unambiguous: the centres differ by more than the larger radius on that axis
    /// (so "left of" is never said of objects that mostly overlap horizontally).
    /// </summary>
    public static IEnumerable<Relation> Relations(SceneObject a, SceneObject b)
    {
        float margin = Math.Max(a.Radius, b.Radius);
        if (b.X - a.X > margin) yield return Relation.LeftOf;
        if (a.X - b.X > margin) yield return Relation.RightOf;
        if (b.Y - a.Y > margin) yield return Relation.Above;
        if (a.Y - b.Y > margin) yield return Relation.Below;
    }
}
