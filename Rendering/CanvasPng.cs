using SkiaSharp;

namespace VqaApi.Rendering;

/// <summary>PNG export of model canvases, for debugging and for showing users what the model saw.</summary>
public static class CanvasPng
{
    /// <summary>
    /// Encodes an H x W x 3 canvas in [-1, 1] (channels last) as an RGB PNG, mapping each value back to
    /// <c>round((v + 1) / 2 * 255)</c> clamped to 0..255.
    /// </summary>
    public static byte[] Encode(ReadOnlySpan<float> hwc, int height, int width)
    {
        if (height <= 0 || width <= 0) throw new ArgumentOutOfRangeException(nameof(height), "height and width must be positive");
        if (hwc.Length != (long)height * width * 3)
            throw new ArgumentException($"expected {height} x {width} x 3 = {(long)height * width * 3} values, got {hwc.Length}", nameof(hwc));

        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var pixels = bitmap.GetPixelSpan();
        for (int i = 0, o = 0; i < hwc.Length; i += 3, o += 4)
        {
            pixels[o] = PixelValues.Denormalize(hwc[i]);
            pixels[o + 1] = PixelValues.Denormalize(hwc[i + 1]);
            pixels[o + 2] = PixelValues.Denormalize(hwc[i + 2]);
            pixels[o + 3] = 255;
        }
        return EncodePng(bitmap);
    }

    /// <summary>Encodes a size x size x 3 uint8 RGB canvas (e.g. a generated scene) as an RGB PNG.</summary>
    public static byte[] EncodeRgb(ReadOnlySpan<byte> rgb, int size)
    {
        if (size <= 0 || rgb.Length != (long)size * size * 3)
            throw new ArgumentException($"expected {size} x {size} x 3 bytes, got {rgb.Length}", nameof(rgb));

        using var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var pixels = bitmap.GetPixelSpan();
        for (int i = 0, o = 0; i < rgb.Length; i += 3, o += 4)
        {
            pixels[o] = rgb[i];
            pixels[o + 1] = rgb[i + 1];
            pixels[o + 2] = rgb[i + 2];
            pixels[o + 3] = 255;
        }
        return EncodePng(bitmap);
    }

    /// <summary>Encodes a size x size single-channel uint8 image (e.g. <see cref="UnifontRenderer.RenderGray(ReadOnlySpan{byte})"/>).</summary>
    public static byte[] EncodeGray(ReadOnlySpan<byte> gray, int size)
    {
        if (size <= 0 || gray.Length != (long)size * size)
            throw new ArgumentException($"expected {size} x {size} bytes, got {gray.Length}", nameof(gray));

        using var bitmap = new SKBitmap(new SKImageInfo(size, size, SKColorType.Gray8, SKAlphaType.Opaque));
        gray.CopyTo(bitmap.GetPixelSpan());
        return EncodePng(bitmap);
    }

    private static byte[] EncodePng(SKBitmap bitmap)
    {
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new InvalidOperationException("SkiaSharp could not encode the PNG");
        return data.ToArray();
    }
}
