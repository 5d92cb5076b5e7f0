namespace VqaApi.Rendering;

/// <summary>
/// Parameters of big_vision's <c>render_unifont</c>; the defaults are the configuration of every released CLIPPO
/// model. <c>monospace</c> and <c>resize_method</c> are not offered: the released models use neither.
/// </summary>
public sealed record UnifontProfile
{
    public int ImageSize { get; init; } = 224;

    /// <summary>Must be 16: Unifont exists only at 16 px, and the official renderer resizes glyphs otherwise.</summary>
    public int FontSize { get; init; } = 16;

    public int MaxChars { get; init; } = 768;
    public byte Background { get; init; } = 127;
    public byte Ink { get; init; } = 0;

    /// <summary>ASCII-only lowercasing (A-Z), as <c>tf.strings.lower</c> without an encoding.</summary>
    public bool Lowercase { get; init; } = true;

    /// <summary>Blank columns kept left of a glyph's ink (and the right bound is last ink column + Spacing).</summary>
    public int Spacing { get; init; } = 1;

    public int MinWidth { get; init; } = 4;

    /// <summary>Throws <see cref="ArgumentException"/> when the profile cannot be rendered.</summary>
    public void Validate()
    {
        if (FontSize != 16)
            throw new ArgumentException($"FontSize must be 16 (only the 16 px Unifont exists), not {FontSize}", nameof(FontSize));
        if (ImageSize < 32 || ImageSize > 4096)
            throw new ArgumentException($"ImageSize must be between 32 and 4096, not {ImageSize}", nameof(ImageSize));
        if (MaxChars < 1)
            throw new ArgumentException($"MaxChars must be at least 1, not {MaxChars}", nameof(MaxChars));
        if (Spacing is < 0 or > 16)
            throw new ArgumentException($"Spacing must be between 0 and 16, not {Spacing}", nameof(Spacing));
        if (MinWidth is < 0 or > 16)
            throw new ArgumentException($"MinWidth must be between 0 and 16, not {MinWidth}", nameof(MinWidth));
    }
}
