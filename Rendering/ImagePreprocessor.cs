namespace VqaApi.Rendering;

/// <summary>The official CLIPPO image preprocessing for zero-shot use and retrieval.</summary>
public static class ImagePreprocessor
{
    /// <summary>
    /// Squash-resizes to size x size (bilinear, half-pixel centres, no antialiasing, aspect ratio ignored, no crop),
    /// truncates to uint8 and writes H x W x 3 floats in [-1, 1] (channels last).
    /// </summary>
    public static void ToCanvas(DecodedImage image, int size, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        ImageResize.BilinearHalfPixel(image.Rgb, image.Width, image.Height, size, size, destination);
    }
}
