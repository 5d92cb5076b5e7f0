namespace VqaApi.Rendering;

/// <summary>An upright 8-bit RGB image: <see cref="Rgb"/> holds Height rows of Width pixels, 3 bytes each.</summary>
public sealed class DecodedImage
{
    public DecodedImage(int width, int height, byte[] rgb, string format, int frameCount)
    {
        ArgumentNullException.ThrowIfNull(rgb);
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), "width and height must be positive");
        if (rgb.Length != (long)width * height * 3)
            throw new ArgumentException($"expected {width} x {height} x 3 bytes, got {rgb.Length}", nameof(rgb));
        Width = width;
        Height = height;
        Rgb = rgb;
        Format = format;
        FrameCount = frameCount;
    }

    public int Width { get; }
    public int Height { get; }
    public byte[] Rgb { get; }

    /// <summary>"jpeg", "png", "webp", "gif" or "bmp".</summary>
    public string Format { get; }

    /// <summary>Frames in the file (1 for still images); only the first is decoded.</summary>
    public int FrameCount { get; }
}
