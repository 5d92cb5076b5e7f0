using SkiaSharp;

namespace VqaApi.Rendering;

/// <summary>Limits checked before and while decoding an image.</summary>
public sealed record ImageLimits
{
    public long MaxEncodedBytes { get; init; } = 20_000_000;
    /// <summary>Width x height, checked from the header before any pixel is decoded (decompression bombs).</summary>
    public long MaxPixels { get; init; } = 50_000_000;
    public int MaxSide { get; init; } = 20_000;
}

/// <summary>An image that cannot be used; <see cref="Code"/> is a short machine-readable reason.</summary>
public sealed class ImageDecodeException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>Decoded pixels, upright (EXIF orientation applied), 8-bit RGB, row-major.</summary>
public sealed record DecodedImage(int Width, int Height, byte[] Rgb, string Format, int FrameCount);

/// <summary>Decodes JPEG, PNG, WebP, GIF (first frame) and BMP with SkiaSharp.</summary>
public static class ImageDecoder
{
    private static readonly SKEncodedImageFormat[] Supported =
        [SKEncodedImageFormat.Jpeg, SKEncodedImageFormat.Png, SKEncodedImageFormat.Webp, SKEncodedImageFormat.Gif, SKEncodedImageFormat.Bmp];

    public static DecodedImage Decode(ReadOnlySpan<byte> encoded, ImageLimits limits)
    {
        if (encoded.IsEmpty) throw new ImageDecodeException("empty", "the image is empty (0 bytes)");
        if (encoded.Length > limits.MaxEncodedBytes)
            throw new ImageDecodeException("too_large", $"the image is {encoded.Length:N0} bytes; the limit is {limits.MaxEncodedBytes:N0}");

        using var data = SKData.CreateCopy(encoded);
        using var stream = new SKMemoryStream(data);
        using var codec = SKCodec.Create(stream, out var createResult);
        if (codec is null)
            throw createResult == SKCodecResult.IncompleteInput
                ? new ImageDecodeException("corrupt", "the image is truncated: its header is incomplete")
                : new ImageDecodeException("unsupported_format", "the bytes are not an image in a supported format (JPEG, PNG, WebP, GIF or BMP)");
        if (!Supported.Contains(codec.EncodedFormat))
            throw new ImageDecodeException("unsupported_format", $"{codec.EncodedFormat} images are not supported; send JPEG, PNG, WebP, GIF or BMP");

        int width = codec.Info.Width, height = codec.Info.Height;
        if (width <= 0 || height <= 0) throw new ImageDecodeException("corrupt", "the image header gives no size");
        if (width > limits.MaxSide || height > limits.MaxSide || (long)width * height > limits.MaxPixels)
            throw new ImageDecodeException("too_many_pixels",
                $"the image is {width}x{height} = {(long)width * height:N0} pixels; the limit is {limits.MaxPixels:N0} pixels and {limits.MaxSide} per side (refused before decoding)");

        // No colour space on the target: pixels are decoded as stored, without ICC conversion (as TF decodes).
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[info.BytesSize];
        SKCodecResult result;
        unsafe
        {
            fixed (byte* pixels = rgba)
                result = codec.GetPixels(info, (IntPtr)pixels, new SKCodecOptions(0));
        }
        if (result == SKCodecResult.IncompleteInput)
            throw new ImageDecodeException("corrupt", "the image is truncated: its pixel data ends early");
        if (result != SKCodecResult.Success)
            throw new ImageDecodeException("corrupt", $"the image could not be decoded ({result})");

        var (rgb, w, h) = Upright(rgba, width, height, codec.EncodedOrigin);
        return new DecodedImage(w, h, rgb, codec.EncodedFormat.ToString().ToLowerInvariant(), Math.Max(1, codec.FrameCount));
    }

    /// <summary>Drops alpha (as TF's decode with channels=3 does) and applies the EXIF orientation.</summary>
    public static (byte[] Rgb, int Width, int Height) Upright(byte[] rgba, int width, int height, SKEncodedOrigin origin)
    {
        bool swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        int outW = swap ? height : width, outH = swap ? width : height;
        var rgb = new byte[outW * outH * 3];
        for (int y = 0; y < outH; y++)
        for (int x = 0; x < outW; x++)
        {
            var (sx, sy) = origin switch
            {
                SKEncodedOrigin.TopRight => (width - 1 - x, y),
                SKEncodedOrigin.BottomRight => (width - 1 - x, height - 1 - y),
                SKEncodedOrigin.BottomLeft => (x, height - 1 - y),
                SKEncodedOrigin.LeftTop => (y, x),
                SKEncodedOrigin.RightTop => (y, height - 1 - x),
                SKEncodedOrigin.RightBottom => (width - 1 - y, height - 1 - x),
                SKEncodedOrigin.LeftBottom => (width - 1 - y, x),
                _ => (x, y),
            };
            int s = (sy * width + sx) * 4, d = (y * outW + x) * 3;
            rgb[d] = rgba[s];
            rgb[d + 1] = rgba[s + 1];
            rgb[d + 2] = rgba[s + 2];
        }
        return (rgb, outW, outH);
    }
}
