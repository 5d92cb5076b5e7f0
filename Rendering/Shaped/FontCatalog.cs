using HarfBuzzSharp;
using SkiaSharp;

namespace VqaApi.Rendering.Shaped;

/// <summary>One font file (or one face of a collection), ready for HarfBuzz shaping and Skia drawing.</summary>
public sealed class FontFace
{
    internal FontFace(string name, string path, int index, bool isColor, bool isLastResort)
    {
        Name = name;
        Path = path;
        IsColor = isColor;
        IsLastResort = isLastResort;
        Typeface = SKTypeface.FromFile(path, index) ?? throw new FileNotFoundException($"font '{path}' (face {index}) cannot be loaded", path);
        using var blob = Blob.FromFile(path);
        Face = new Face(blob, index);
        UnitsPerEm = Face.UnitsPerEm;
        Font = new HarfBuzzSharp.Font(Face);
        Font.SetScale(UnitsPerEm, UnitsPerEm); // shape in font units: results are size-independent
    }

    public string Name { get; }
    public string Path { get; }
    public bool IsColor { get; }
    /// <summary>Unifont: drawn only when no other font has the character.</summary>
    public bool IsLastResort { get; }
    public SKTypeface Typeface { get; }
    internal Face Face { get; }
    internal HarfBuzzSharp.Font Font { get; }
    public int UnitsPerEm { get; }

    public bool Covers(int codePoint) => Font.TryGetNominalGlyph((uint)codePoint, out _);
}

/// <summary>
/// The vendored fonts in fallback order. Fallback is decided per grapheme cluster: the first font that has a
/// glyph for every visible code point of the cluster draws it; Unifont comes last, and a cluster no font covers
/// is drawn with the first font's .notdef box (and reported), never dropped.
/// </summary>
public sealed class FontCatalog
{
    private static readonly (string Name, string File, int Index, bool Color)[] DefaultChain =
    [
        ("Noto Sans", "NotoSans-Regular.ttf", 0, false),
        ("Noto Sans Arabic", "NotoSansArabic-Regular.ttf", 0, false),
        ("Noto Sans Hebrew", "NotoSansHebrew-Regular.ttf", 0, false),
        ("Noto Sans Devanagari", "NotoSansDevanagari-Regular.ttf", 0, false),
        ("Noto Sans Bengali", "NotoSansBengali-Regular.ttf", 0, false),
        ("Noto Sans Tamil", "NotoSansTamil-Regular.ttf", 0, false),
        ("Noto Sans Thai", "NotoSansThai-Regular.ttf", 0, false),
        ("Noto Sans Georgian", "NotoSansGeorgian-Regular.ttf", 0, false),
        ("Noto Sans Armenian", "NotoSansArmenian-Regular.ttf", 0, false),
        ("Noto Sans Ethiopic", "NotoSansEthiopic-Regular.ttf", 0, false),
        ("Noto Sans CJK SC", "NotoSansCJK-Regular.ttc", 2, false),
        ("Noto Color Emoji", "NotoColorEmoji.ttf", 0, true),
        ("Unifont", "unifont.otf", 0, false),
        ("Unifont Upper", "unifont_upper.otf", 0, false),
    ];

    private FontCatalog(IReadOnlyList<FontFace> faces)
    {
        Faces = faces;
        Emoji = faces.FirstOrDefault(f => f.IsColor);
    }

    public IReadOnlyList<FontFace> Faces { get; }
    public FontFace? Emoji { get; }

    private static readonly Lazy<FontCatalog> DefaultCatalog = new(() => Load(System.IO.Path.Combine(AppContext.BaseDirectory, "fonts")));

    /// <summary>The vendored fonts next to the application (fonts/), loaded once.</summary>
    public static FontCatalog Default => DefaultCatalog.Value;

    public static FontCatalog Load(string directory) =>
        new(DefaultChain.Select(f => new FontFace(f.Name, System.IO.Path.Combine(directory, f.File), f.Index, f.Color, f.File.StartsWith("unifont"))).ToList());
}
