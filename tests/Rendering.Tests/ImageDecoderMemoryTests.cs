using System.Runtime.InteropServices;
using SkiaSharp;

namespace VqaApi.Rendering.Tests;

/// <summary>
/// Decoding memory: JPEG decodes row by row (the same pixels as a whole-image decode, 3 bytes a pixel plus a strip); other
/// formats decode a whole RGBA copy into native memory freed at once, so the managed heap holds only the 3-byte-a-pixel
/// result (a small PNG of 6,000 x 6,000 pixels used to leave 252 MB to the garbage collector). The probe's peak covers both.
/// Managed memory is counted as bytes allocated by the decoding thread, which does not depend on timing or the machine.
/// </summary>
public sealed class ImageDecoderMemoryTests
{
    private static readonly ImageLimits Limits = new() { MaxEncodedBytes = 50_000_000, MaxPixels = 50_000_000, MaxSide = 20_000 };

    /// <summary>The reference: Skia's whole-image decode to unpremultiplied RGBA, alpha dropped.</summary>
    private static unsafe byte[] WholeImage(byte[] encoded)
    {
        using var codec = SKCodec.Create(new SKMemoryStream(encoded));
        var info = new SKImageInfo(codec.Info.Width, codec.Info.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[info.BytesSize];
        fixed (byte* p = rgba) Assert.Equal(SKCodecResult.Success, codec.GetPixels(info, (IntPtr)p, info.RowBytes, new SKCodecOptions(0)));
        return Enumerable.Range(0, rgba.Length / 4).SelectMany(i => new[] { rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2] }).ToArray();
    }

    private static (byte, byte, byte) Pattern(int x, int y) => ((byte)(x * 7 + y), (byte)(x ^ y), (byte)(y * 3 - x));

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(8)]
    public void A_grayscale_png_decodes_to_the_values_an_rgba_decode_gives(byte bits)
    {
        int width = 97, height = 41, perRow = (width * bits + 7) / 8;
        var rows = Enumerable.Range(0, height).Select(y => Enumerable.Range(0, perRow).Select(x => (byte)(x * 37 + y * 11)).ToArray()).ToArray();
        var png = TestImages.Png(width, height, bits, 0, TestImages.Scanlines(rows));
        var decoded = ImageDecoder.Decode(png, Limits);
        Assert.True(WholeImage(png).AsSpan().SequenceEqual(decoded.Rgb));
        Assert.Contains(decoded.Rgb, b => b != 0 && b != 255 || bits == 1);
    }

    [Theory]
    [InlineData(SKEncodedImageFormat.Png, 701, 903)]
    [InlineData(SKEncodedImageFormat.Jpeg, 1203, 777)]  // several strips, a last strip shorter than the others
    [InlineData(SKEncodedImageFormat.Jpeg, 5000, 60)]   // one strip
    [InlineData(SKEncodedImageFormat.Webp, 333, 222)]  // no row-by-row decoding: the whole-image path
    public void Row_by_row_gives_the_same_pixels_as_a_whole_image_decode(SKEncodedImageFormat format, int width, int height)
    {
        var encoded = TestImages.Encode(width, height, Pattern, format, 90);
        var decoded = ImageDecoder.Decode(encoded, Limits);
        Assert.Equal((width, height), (decoded.Width, decoded.Height));
        Assert.True(WholeImage(encoded).AsSpan().SequenceEqual(decoded.Rgb), $"{format} pixels differ");
    }

    [Fact]
    public void A_small_file_of_many_pixels_leaves_three_bytes_a_pixel_on_the_managed_heap()
    {
        // A 1-bit grayscale PNG, 6,000 x 6,000, all zero rows: a few kilobytes that decode to 36 M pixels.
        const int side = 6000;
        var row = new byte[side / 8];
        var png = TestImages.Png(side, side, 1, 0, TestImages.Scanlines(Enumerable.Repeat(row, side).ToArray()));
        Assert.True(png.Length < 100_000, $"{png.Length} bytes");

        var header = ImageDecoder.Probe(png, Limits);
        Assert.Equal((side, side, "png"), (header.Width, header.Height, header.Format));
        GC.Collect();
        long before = GC.GetAllocatedBytesForCurrentThread();
        var decoded = ImageDecoder.Decode(png, Limits);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long pixels = (long)side * side;
        Assert.Equal(pixels * 3, decoded.Rgb.LongLength);
        Assert.True(allocated < pixels * 3 + 4_000_000, $"decoding allocated {allocated:N0} bytes for {pixels:N0} pixels (3 a pixel is {pixels * 3:N0})");
        Assert.Equal(pixels * 4, header.PeakBytes); // a grayscale PNG: the RGB result and a native copy of one byte a pixel
        Assert.All(new[] { 0, 1, decoded.Rgb.Length / 2, decoded.Rgb.Length - 1 }, i => Assert.Equal(0, decoded.Rgb[i]));

        var jpeg = TestImages.Encode(3000, 2000, Pattern, SKEncodedImageFormat.Jpeg, 80);
        var jpegHeader = ImageDecoder.Probe(jpeg, Limits);
        Assert.True(jpegHeader.PeakBytes < 3000L * 2000 * 3 + 2_000_000, $"JPEG decodes row by row: peak {jpegHeader.PeakBytes:N0}");
    }
}
