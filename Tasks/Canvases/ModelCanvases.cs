using VqaApi.Rendering;
using VqaApi.Rendering.Shaped;
using VqaApi.Tasks.Models;
using VqaApi.Rendering.Profiles;

namespace VqaApi.Tasks.Canvases;

/// <summary>A layout this render profile cannot draw (the official unifont renderer draws single texts only).</summary>
public sealed class LayoutNotSupportedException(string message) : Exception(message);

/// <summary>
/// Draws text, sentence pairs, questions with images, and images exactly as a model expects them, following a
/// render profile (the one in its manifest, or another for viewing). Every canvas is float32 [size, size, 3],
/// channels last, values in [-1, 1].
/// </summary>
public sealed class ModelCanvases
{
    private readonly UnifontRenderer? _unifont;
    private readonly ShapedRenderer? _shaped;

    public ModelCanvases(ModelManifest manifest, UnifontFont font) : this(manifest.RenderProfile, manifest.Input.Height, font)
    {
        if (manifest.Input.Height != manifest.Input.Width)
            throw new ModelDirectoryException($"model '{manifest.Id}': input {manifest.Input.Height}x{manifest.Input.Width} is not square");
    }

    public ModelCanvases(RenderProfileSpec spec, int size, UnifontFont font, FontCatalog? fonts = null)
    {
        if (spec.ImageSize != size)
            throw new ModelDirectoryException($"render profile '{spec.Kind}' draws {spec.ImageSize} px canvases, but the model takes {size} px");
        Profile = spec;
        Size = size;
        switch (spec.Kind)
        {
            case RenderProfileSpec.UnifontKind when spec.Unifont is not null:
                _unifont = new UnifontRenderer(font, spec.Unifont);
                break;
            case RenderProfileSpec.ShapedKind when spec.Shaped is not null:
                _shaped = new ShapedRenderer(spec.Shaped, fonts);
                break;
            default:
                throw new ModelDirectoryException($"render profile '{spec.Kind}' is unknown or incomplete; this build draws 'unifont' and 'shaped'");
        }
    }

    public int Size { get; }
    public int Length => Size * Size * 3;
    public RenderProfileSpec Profile { get; }
    public string ProfileName => _shaped?.Profile.Name ?? RenderProfileSpec.UnifontKind;

    /// <summary>Draws a text; the report says what was drawn and what did not fit.</summary>
    public RenderReport RenderText(string text, Span<float> destination)
    {
        if (_shaped is not null) return _shaped.RenderText(text, destination);
        var stats = _unifont!.Render(text, destination);
        return new RenderReport(ProfileName, "text", Size,
            [new TextBlockReport(16, stats.Lines, stats.CodePoints, stats.Drawn, stats.CodePoints - stats.Drawn, ["GNU Unifont"], [], [], false)]);
    }

    public RenderReport RenderPair(string first, string second, Span<float> destination) =>
        Shaped("pair").RenderPair(first, second, destination);

    public RenderReport RenderVqa(string question, DecodedImage image, Span<float> destination) =>
        Shaped("vqa").RenderVqa(question, image, destination);

    public void RenderImage(DecodedImage image, Span<float> destination) => ImagePreprocessor.ToCanvas(image, Size, destination);

    /// <summary>Throws <see cref="LayoutNotSupportedException"/> unless this profile draws the layout ("text", "pair" or "vqa"):
    /// checked before the inputs of a request are fetched or decoded.</summary>
    public void RequireLayout(string layout)
    {
        if (layout != "text") Shaped(layout);
    }

    private ShapedRenderer Shaped(string layout) => _shaped ?? throw new LayoutNotSupportedException(
        $"the official unifont profile draws single texts only; the '{layout}' layout needs a shaped profile (profile: \"shaped\")");
}
