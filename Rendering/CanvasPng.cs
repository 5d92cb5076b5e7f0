using SkiaSharp;

namespace VqaApi.Rendering;

/// <summary>Canvases back to PNG, to look at exactly what the encoder sees.</summary>
public static class CanvasPng
{
    /// <summary>An H x W x 3 canvas in [-1, 1] as an RGB PNG (v = round((x + 1) / 2 * 255)).</summary>
    public static byte[] Encode(ReadOnlySpan<float> hwc, int height, int width)
    {
        if (hwc.Length != height * width * 3) throw new ArgumentException("canvas must be height x width x 3 floats");
        using var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var pixels = bitmap.GetPixelSpan();
        for (int i = 0, o = 0; i < hwc.Length; i += 3, o += 4)
        {
            pixels[o] = ToByte(hwc[i]);
            pixels[o + 1] = ToByte(hwc[i + 1]);
            pixels[o + 2] = ToByte(hwc[i + 2]);
            pixels[o + 3] = 255;
        }
        using var data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    public static byte[] EncodeGray(ReadOnlySpan<byte> gray, int size)
    {
        var hwc = new float[size * size * 3];
        for (int i = 0; i < size * size; i++) hwc[3 * i] = hwc[3 * i + 1] = hwc[3 * i + 2] = gray[i] / 255f * 2f - 1f;
        return Encode(hwc, size, size);
    }

    private static byte ToByte(float v) => (byte)Math.Clamp(MathF.Round((v + 1f) / 2f * 255f), 0f, 255f);
}
