using VqaApi.Rendering.Shaped;
using VqaApi.Rendering;

namespace VqaApi.Rendering.Profiles;

/// <summary>How text is drawn for this model: the manifest names it so the API never guesses.</summary>
public sealed record RenderProfileSpec
{
    public const string UnifontKind = "unifont";
    public const string ShapedKind = "shaped";

    /// <summary>"unifont": big_vision's render_unifont, as every released CLIPPO model was trained with;
    /// "shaped": the multilingual shaped renderer with its text, pair and VQA layouts.</summary>
    public string Kind { get; init; } = UnifontKind;
    public UnifontProfile? Unifont { get; init; }
    public ShapedProfile? Shaped { get; init; }
    /// <summary>Font files the profile was used with (informative; the service draws with its own fonts/).</summary>
    public string? Font { get; init; }

    public int ImageSize => Kind == ShapedKind ? Shaped?.ImageSize ?? 0 : Unifont?.ImageSize ?? 0;

    public static RenderProfileSpec ShapedDefault(int imageSize) => new()
    {
        Kind = ShapedKind,
        Shaped = ShapedProfile.ForImageSize(imageSize),
    };

    /// <summary>A profile by name, at a model's input size: "unifont" (official) or "shaped".</summary>
    public static RenderProfileSpec? Named(string name, int imageSize) => name switch
    {
        UnifontKind => OfficialUnifont(imageSize),
        ShapedKind => ShapedDefault(imageSize),
        _ => null,
    };

    public static RenderProfileSpec OfficialUnifont(int imageSize) => new()
    {
        Kind = "unifont",
        Unifont = new UnifontProfile { ImageSize = imageSize },
        Font = "GNU Unifont .hex (official models used 9.0.06; fonts/unifont.hex is 15.0.01)",
    };
}
