using System.Text.Json.Serialization;
using SkiaSharp;

namespace VqaApi.Rendering.Shaped;

[JsonConverter(typeof(JsonStringEnumConverter<FontSizePolicy>))]
public enum FontSizePolicy
{
    /// <summary>Always the profile's font size; what does not fit is cut at a grapheme boundary.</summary>
    Fixed,
    /// <summary>Start at the profile's font size and shrink until the text fits, down to the minimum size, then cut.</summary>
    Shrink,
}

/// <summary>How one block of text is set: sizes, spacing, colours and the size policy.</summary>
public sealed record TextStyle
{
    public float FontSize { get; init; } = 22;
    public float MinFontSize { get; init; } = 10;
    public FontSizePolicy SizePolicy { get; init; } = FontSizePolicy.Shrink;
    /// <summary>Line height as a multiple of the font size.</summary>
    public float LineHeight { get; init; } = 1.4f;
    public string Ink { get; init; } = "#000000";
    /// <summary>Code points kept before shaping (bounded work for hostile input); the rest is reported as not fitted.</summary>
    public int MaxChars { get; init; } = 1000;

    public void Validate(string where)
    {
        if (FontSize is < 4 or > 512 || MinFontSize < 4 || MinFontSize > FontSize)
            throw new ArgumentException($"{where}: font size must be 4..512 and min font size 4..font size");
        if (LineHeight is < 0.8f or > 4f) throw new ArgumentException($"{where}: line height must be 0.8..4");
        if (MaxChars is < 1 or > 100_000) throw new ArgumentException($"{where}: max chars must be 1..100000");
        ShapedProfile.ParseColor(Ink, where + " ink");
    }
}

/// <summary>The pair layout: sentence A, a visible separator, sentence B.</summary>
public sealed record PairLayout
{
    public int SeparatorThickness { get; init; } = 2;
    public string SeparatorColor { get; init; } = "#808080";
    /// <summary>Space between each sentence and the separator.</summary>
    public int Gap { get; init; } = 6;
}

/// <summary>The VQA layout: the question in a band above the image, the image in the rest.</summary>
public sealed record VqaLayout
{
    /// <summary>The band never takes more than this share of the canvas height; the question shrinks or is cut instead.</summary>
    public float MaxBandFraction { get; init; } = 0.4f;
    /// <summary>Keep the image's aspect ratio (letterboxed on the background) or squash it into the space.</summary>
    public bool KeepAspectRatio { get; init; } = true;
    public string BandColor { get; init; } = "#FFFFFF";
}

/// <summary>
/// A named, parameterised way of drawing text (and question + image) for a model: the shaped multilingual
/// renderer with its text, pair and VQA layouts. Serialised into a model's manifest.
/// </summary>
public sealed record ShapedProfile
{
    public string Name { get; init; } = "shaped-224";
    public int ImageSize { get; init; } = 224;
    public int Margin { get; init; } = 8;
    public string Background { get; init; } = "#FFFFFF";
    public TextStyle Text { get; init; } = new();
    public PairLayout Pair { get; init; } = new();
    public VqaLayout Vqa { get; init; } = new();

    /// <summary>
    /// The default profile for a canvas size. From 224 px up it is the profile every model so far was trained with
    /// (margin 8, font 22 shrinking to 10, VQA band at most 40%). Smaller canvases (small models, CPU curricula) scale
    /// margin and font sizes down and give the VQA question half the height, so a short caption or question still fits
    /// at a size that can be read: at 64 px, margin 2, font 11 shrinking to 7.
    /// </summary>
    public static ShapedProfile ForImageSize(int size)
    {
        if (size >= 224) return new ShapedProfile { Name = $"shaped-{size}", ImageSize = size };
        float font = Math.Clamp(MathF.Round(size * 0.17f), 8f, 22f);
        return new ShapedProfile
        {
            Name = $"shaped-{size}",
            ImageSize = size,
            Margin = Math.Max(2, (int)MathF.Round(8f * size / 224f)),
            Text = new TextStyle { FontSize = font, MinFontSize = Math.Min(font, Math.Clamp(MathF.Round(size * 0.11f), 6f, 10f)) },
            Pair = new PairLayout { SeparatorThickness = size < 128 ? 1 : 2, Gap = Math.Max(2, (int)MathF.Round(6f * size / 224f)) },
            Vqa = new VqaLayout { MaxBandFraction = 0.5f },
        };
    }

    public void Validate()
    {
        if (ImageSize is < 32 or > 4096) throw new ArgumentException($"profile '{Name}': image size must be 32..4096");
        if (Margin < 0 || Margin * 2 >= ImageSize / 2) throw new ArgumentException($"profile '{Name}': margin must leave room to draw");
        ParseColor(Background, $"profile '{Name}' background");
        Text.Validate($"profile '{Name}' text");
        ParseColor(Pair.SeparatorColor, $"profile '{Name}' separator");
        ParseColor(Vqa.BandColor, $"profile '{Name}' band");
        if (Pair.SeparatorThickness is < 1 or > 32 || Pair.Gap is < 0 or > 64) throw new ArgumentException($"profile '{Name}': separator thickness 1..32, gap 0..64");
        if (Vqa.MaxBandFraction is < 0.1f or > 0.9f) throw new ArgumentException($"profile '{Name}': VQA band fraction must be 0.1..0.9");
    }

    public static SKColor ParseColor(string value, string what) =>
        SKColor.TryParse(value, out var color) ? color : throw new ArgumentException($"{what}: '{value}' is not a colour like #RRGGBB");
}
