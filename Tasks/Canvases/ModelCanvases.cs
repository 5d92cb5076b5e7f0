using VqaApi.Rendering;
using VqaApi.Tasks.Models;

namespace VqaApi.Tasks.Canvases;

/// <summary>
/// Draws text and images exactly as a model expects them, following the render profile in its manifest.
/// Every canvas is float32 [height, width, 3], channels last, values in [-1, 1].
/// </summary>
public sealed class ModelCanvases
{
    private readonly UnifontRenderer _unifont;

    public ModelCanvases(ModelManifest manifest, UnifontFont font)
    {
        var spec = manifest.RenderProfile;
        if (spec.Kind != "unifont" || spec.Unifont is null)
            throw new ModelDirectoryException($"model '{manifest.Id}' asks for render profile '{spec.Kind}', which this build cannot draw");
        if (spec.Unifont.ImageSize != manifest.Input.Height || manifest.Input.Height != manifest.Input.Width)
            throw new ModelDirectoryException($"model '{manifest.Id}': render profile size {spec.Unifont.ImageSize} does not match input {manifest.Input.Height}x{manifest.Input.Width}");
        _unifont = new UnifontRenderer(font, spec.Unifont);
        Size = manifest.Input.Height;
        Profile = spec;
    }

    public int Size { get; }
    public int Length => Size * Size * 3;
    public RenderProfileSpec Profile { get; }

    /// <summary>Draws a text; the stats say how many code points it had and how many landed on the canvas.</summary>
    public RenderStats RenderText(string text, Span<float> destination)
    {
        _unifont.Render(text, destination);
        return _unifont.Measure(text);
    }

    public void RenderImage(DecodedImage image, Span<float> destination) => ImagePreprocessor.ToCanvas(image, Size, destination);
}
