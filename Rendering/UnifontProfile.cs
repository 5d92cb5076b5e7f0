namespace VqaApi.Rendering;

/// <summary>
/// Parameters of big_vision's <c>render_unifont</c>; the defaults are the configuration every released
/// CLIPPO model was trained with.
/// </summary>
public sealed record UnifontProfile
{
    public int ImageSize { get; init; } = 224;
    /// <summary>Only 16 is supported: Unifont glyphs are 16 px tall, and the released models used 16.</summary>
    public int FontSize { get; init; } = 16;
    /// <summary>Code points drawn; the rest of a text is cut.</summary>
    public int MaxChars { get; init; } = 768;
    public byte Background { get; init; } = 127;
    public byte Ink { get; init; }
    /// <summary>Lowercase A-Z before drawing (ASCII only, as TF's <c>strings.lower</c> does by default).</summary>
    public bool Lowercase { get; init; } = true;
    /// <summary>Blank columns kept left of each glyph's ink (and the exclusive end right after it).</summary>
    public int Spacing { get; init; } = 1;
    /// <summary>Narrowest trimmed glyph: spaces and unknown characters become this wide.</summary>
    public int MinWidth { get; init; } = 4;

    public void Validate()
    {
        if (FontSize != 16) throw new ArgumentException($"unifont profile font size {FontSize} is not supported; Unifont glyphs are 16 px");
        if (ImageSize < 16 || ImageSize > 4096) throw new ArgumentException($"unifont profile image size {ImageSize} must be 16..4096");
        if (MaxChars < 1) throw new ArgumentException("unifont profile max chars must be positive");
        if (Spacing < 0 || MinWidth < 1 || MinWidth > 16) throw new ArgumentException("unifont profile spacing must be >= 0 and min width 1..16");
    }
}
