using SkiaSharp;
using VqaApi.Rendering;
using static VqaApi.Rendering.Tests.TestImages;

namespace VqaApi.Rendering.Tests;

public class ImageDecoderTests
{
    private static readonly ImageLimits Limits = new();

    [Fact]
    public void Rgba_to_rgb_keeps_every_colour_byte_and_drops_alpha_at_every_length()
    {
        var random = new Random(7);
        foreach (int pixels in Enumerable.Range(0, 41).Append(1000).Append(50_177))
        {
            var rgba = new byte[pixels * 4 + 5]; // longer than needed: only rgb's pixels are read
            random.NextBytes(rgba);
            var rgb = new byte[pixels * 3 + 3];
            var expected = rgb.ToArray();
            for (int i = 0; i < pixels; i++)
                (expected[i * 3], expected[i * 3 + 1], expected[i * 3 + 2]) = (rgba[i * 4], rgba[i * 4 + 1], rgba[i * 4 + 2]);
            Array.Fill(rgb, (byte)0xAB, pixels * 3, 3); // bytes past the span stay untouched
            Array.Fill(expected, (byte)0xAB, pixels * 3, 3);
            ImageDecoder.RgbaToRgb(rgba, rgb.AsSpan(0, pixels * 3));
            Assert.Equal(expected, rgb);
        }
        Assert.Throws<ArgumentException>(() => ImageDecoder.RgbaToRgb(new byte[7], new byte[6]));
    }

    private static (byte R, byte G, byte B) Pixel(DecodedImage image, int x, int y)
    {
        int o = (y * image.Width + x) * 3;
        return (image.Rgb[o], image.Rgb[o + 1], image.Rgb[o + 2]);
    }

    private static void Near((byte R, byte G, byte B) expected, (byte R, byte G, byte B) actual, int tolerance)
    {
        Assert.InRange(actual.R, expected.R - tolerance, expected.R + tolerance);
        Assert.InRange(actual.G, expected.G - tolerance, expected.G + tolerance);
        Assert.InRange(actual.B, expected.B - tolerance, expected.B + tolerance);
    }

    private static string FailureCode(byte[] bytes, ImageLimits? limits = null) =>
        Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(bytes, limits ?? Limits)).Code;

    private static (byte, byte, byte) Distinct(int x, int y) => ((byte)(x * 40 + 10), (byte)(y * 90 + 20), (byte)(x * y + 7));

    [Fact]
    public void Png_round_trips_exactly()
    {
        var image = ImageDecoder.Decode(Encode(3, 2, Distinct, SKEncodedImageFormat.Png), Limits);
        Assert.Equal((3, 2, "png", 1), (image.Width, image.Height, image.Format, image.FrameCount));
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 3; x++) Assert.Equal(Distinct(x, y), Pixel(image, x, y));
    }

    [Fact]
    public void Alpha_is_dropped_not_composited()
    {
        // RGBA (10,20,30, alpha 0) and (200,100,50, alpha 128): TF's decode_image(channels=3) strips alpha and
        // keeps the stored colour, so do we (compositing over white or black would change them).
        var png = Png(2, 1, 8, 6, Scanlines([10, 20, 30, 0, 200, 100, 50, 128]));
        var image = ImageDecoder.Decode(png, Limits);
        Assert.Equal((10, 20, 30), Pixel(image, 0, 0));
        Assert.Equal((200, 100, 50), Pixel(image, 1, 0));
    }

    [Fact]
    public void Sixteen_bit_png_keeps_the_high_byte_like_libpng_strip_16()
    {
        // pixel 0 = (0x1234, 0x8080, 0xFFFF), pixel 1 = (0x0000, 0x00FF, 0xFF00), big-endian samples.
        // High bytes: (0x12, 0x80, 0xFF), (0x00, 0x00, 0xFF). Rounding v * 255 / 65535 instead would give
        // 0x00FF -> 1 and 0xFF00 -> 254, so this tells the two apart.
        var png = Png(2, 1, 16, 2, Scanlines([0x12, 0x34, 0x80, 0x80, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0x00]));
        var image = ImageDecoder.Decode(png, Limits);
        Assert.Equal((0x12, 0x80, 0xFF), Pixel(image, 0, 0));
        Assert.Equal((0x00, 0x00, 0xFF), Pixel(image, 1, 0));
    }

    [Fact]
    public void Jpeg_decodes_close_to_the_source()
    {
        var image = ImageDecoder.Decode(Encode(16, 16, (_, _) => (200, 100, 50), SKEncodedImageFormat.Jpeg), Limits);
        Assert.Equal((16, 16, "jpeg"), (image.Width, image.Height, image.Format));
        Near((200, 100, 50), Pixel(image, 8, 8), 3);
    }

    [Fact]
    public void Cmyk_jpeg_becomes_rgb()
    {
        var image = ImageDecoder.Decode(CmykRedJpeg, Limits);
        Assert.Equal((8, 8, "jpeg"), (image.Width, image.Height, image.Format));
        Near((255, 0, 0), Pixel(image, 4, 4), 3);
    }

    [Fact]
    public void Lossless_webp_round_trips_exactly()
    {
        var image = ImageDecoder.Decode(LosslessWebp(3, 2, Distinct), Limits);
        Assert.Equal((3, 2, "webp"), (image.Width, image.Height, image.Format));
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 3; x++) Assert.Equal(Distinct(x, y), Pixel(image, x, y));
    }

    [Fact]
    public void Animated_gif_gives_its_first_frame()
    {
        var image = ImageDecoder.Decode(TwoFrameGif(), Limits);
        Assert.Equal((2, 2, "gif", 2), (image.Width, image.Height, image.Format, image.FrameCount));
        for (int y = 0; y < 2; y++)
            for (int x = 0; x < 2; x++) Assert.Equal((255, 0, 0), Pixel(image, x, y)); // red, not frame 2's blue
    }

    [Fact]
    public void Bmp_24_bit_bottom_up()
    {
        var image = ImageDecoder.Decode(Bmp2x2(), Limits);
        Assert.Equal((2, 2, "bmp"), (image.Width, image.Height, image.Format));
        Assert.Equal((255, 0, 0), Pixel(image, 0, 0));
        Assert.Equal((0, 255, 0), Pixel(image, 1, 0));
        Assert.Equal((0, 0, 255), Pixel(image, 0, 1));
        Assert.Equal((255, 255, 255), Pixel(image, 1, 1));
    }

    [Fact]
    public void Exif_orientation_6_turns_the_photo_upright()
    {
        // Stored 32 x 16: left half red, right half blue. Orientation 6 = turn 90 degrees clockwise to view, so the
        // upright picture is 16 x 32 with the stored left half on top: red above, blue below.
        var stored = Encode(32, 16, (x, _) => x < 16 ? ((byte)255, (byte)0, (byte)0) : ((byte)0, (byte)0, (byte)255), SKEncodedImageFormat.Jpeg);
        var jpeg = WithExifOrientation(stored, 6);

        var upright = ImageDecoder.Decode(jpeg, Limits);
        Assert.Equal((16, 32), (upright.Width, upright.Height));
        Near((255, 0, 0), Pixel(upright, 8, 4), 8);
        Near((0, 0, 255), Pixel(upright, 8, 28), 8);

        var raw = ImageDecoder.Decode(jpeg, Limits, applyExifOrientation: false);
        Assert.Equal((32, 16), (raw.Width, raw.Height));
        Near((255, 0, 0), Pixel(raw, 4, 8), 8);
    }

    [Theory]
    // Stored 3 x 2:  A B C / D E F  (A = 1 ... F = 6); expected upright rows written out by hand.
    [InlineData(SKEncodedOrigin.TopLeft, 3, "ABC DEF")]
    [InlineData(SKEncodedOrigin.TopRight, 3, "CBA FED")]     // mirror left-right
    [InlineData(SKEncodedOrigin.BottomRight, 3, "FED CBA")]  // rotate 180
    [InlineData(SKEncodedOrigin.BottomLeft, 3, "DEF ABC")]   // mirror top-bottom
    [InlineData(SKEncodedOrigin.LeftTop, 2, "AD BE CF")]     // transpose
    [InlineData(SKEncodedOrigin.RightTop, 2, "DA EB FC")]    // rotate 90 clockwise: left column, bottom up, becomes the top row
    [InlineData(SKEncodedOrigin.RightBottom, 2, "FC EB DA")] // transverse
    [InlineData(SKEncodedOrigin.LeftBottom, 2, "CF BE AD")]  // rotate 90 counter-clockwise: right column becomes the top row
    public void Orientation_transform_for_each_exif_origin(SKEncodedOrigin origin, int uprightWidth, string rows)
    {
        byte[] rgb = "ABCDEF".SelectMany(c => new[] { (byte)c, (byte)c, (byte)c }).ToArray();
        var (result, w, h) = ImageOrientation.ToUpright(rgb, 3, 2, origin);
        Assert.Equal(uprightWidth, w);
        Assert.Equal(6 / uprightWidth, h);
        var text = string.Join(' ', Enumerable.Range(0, h).Select(y =>
            new string(Enumerable.Range(0, w).Select(x => (char)result[(y * w + x) * 3]).ToArray())));
        Assert.Equal(rows, text);
    }

    [Fact]
    public void Truncated_files_are_refused_as_corrupt()
    {
        var rng = new Random(7);
        (byte, byte, byte) Noise(int x, int y) => ((byte)rng.Next(256), (byte)rng.Next(256), (byte)rng.Next(256));
        var png = Encode(64, 64, Noise, SKEncodedImageFormat.Png);
        var jpeg = Encode(64, 64, Noise, SKEncodedImageFormat.Jpeg, 90);
        Assert.Equal(ImageDecodeErrors.Corrupt, FailureCode(png[..(png.Length / 2)]));
        Assert.Equal(ImageDecodeErrors.Corrupt, FailureCode(jpeg[..(jpeg.Length / 2)]));
        Assert.Equal(ImageDecodeErrors.Corrupt, FailureCode(png[..20])); // signature + part of IHDR
    }

    [Fact]
    public void Empty_garbage_and_oversized_input()
    {
        Assert.Equal(ImageDecodeErrors.Empty, FailureCode([]));

        var garbage = new byte[1000];
        new Random(3).NextBytes(garbage);
        garbage[0] = (byte)'x';
        Assert.Equal(ImageDecodeErrors.UnsupportedFormat, FailureCode(garbage));
        Assert.Equal(ImageDecodeErrors.UnsupportedFormat, FailureCode("%PDF-1.7 not an image"u8.ToArray()));

        var png = Encode(8, 8, Distinct, SKEncodedImageFormat.Png);
        Assert.Equal(ImageDecodeErrors.TooLarge, FailureCode(png, new ImageLimits { MaxEncodedBytes = png.Length - 1 }));
        Assert.Equal(ImageDecodeErrors.TooManyPixels, FailureCode(png, new ImageLimits { MaxPixels = 63 }));
        Assert.Equal(ImageDecodeErrors.TooManyPixels, FailureCode(png, new ImageLimits { MaxSide = 7 }));
    }

    [Fact]
    public void Decompression_bomb_header_is_refused_before_decoding()
    {
        // IHDR claims 100000 x 100000 = 10^10 pixels (30 GB of RGB); the file is ~60 bytes.
        var bomb = PngHeaderOnly(100_000, 100_000);
        Assert.True(bomb.Length < 100);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode(bomb, Limits));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(ImageDecodeErrors.TooManyPixels, e.Code);
        Assert.Contains("100000 x 100000", e.Message);
        Assert.True(allocated < 1_000_000, $"allocated {allocated} bytes");

        Assert.Equal(ImageDecodeErrors.TooManyPixels, FailureCode(PngHeaderOnly(30_000, 10))); // side > 20000
    }

    [Fact]
    public void Crc32_matches_the_standard_check_value()
    {
        Assert.Equal(0xCBF43926u, Crc32("123456789"u8)); // the CRC-32/ISO-HDLC check value
    }

    [Fact]
    public void Messages_tell_the_user_what_to_do()
    {
        var e = Assert.Throws<ImageDecodeException>(() => ImageDecoder.Decode("hello"u8, Limits));
        Assert.Contains("JPEG, PNG, WebP, GIF or BMP", e.Message);
    }
}
