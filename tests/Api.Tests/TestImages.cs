using SkiaSharp;
using Images = VqaApi.Rendering.Tests.TestImages;

namespace VqaApi.Api.Tests;

/// <summary>The API tests' images, made with the Rendering tests' builders (linked into this project).</summary>
public static class TestImages
{
    private static (byte, byte, byte) Gradient(int x, int y, int width, int height) =>
        ((byte)(x * 255 / Math.Max(1, width - 1)), (byte)(y * 255 / Math.Max(1, height - 1)), 90);

    public static byte[] Encode(int width, int height, SKEncodedImageFormat format) =>
        Images.Encode(width, height, (x, y) => Gradient(x, y, width, height), format, 95);

    public static byte[] Png(int width = 40, int height = 30) => Encode(width, height, SKEncodedImageFormat.Png);

    public static byte[] AnimatedGif() => Images.TwoFrameGif();

    public static byte[] PngHeaderOnly(int width, int height) => Images.PngHeaderOnly(width, height);

    /// <summary>2x2 RGB PNG, 16 bits per channel.</summary>
    public static byte[] Png16Bit() => Images.Png(2, 2, 16, 2, Images.Scanlines(
        [0xFF, 0xFF, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0],
        [0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]));
}
