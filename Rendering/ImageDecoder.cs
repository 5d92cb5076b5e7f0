using System.Runtime.InteropServices;
using SkiaSharp;

namespace VqaApi.Rendering;

/// <summary>What an image's header says, and the peak bytes decoding it will hold.</summary>
public sealed record ImageHeader(int Width, int Height, string Format, long PeakBytes);

/// <summary>
/// Decodes uploaded images (JPEG, PNG, WebP, GIF, BMP) to upright 8-bit RGB with SkiaSharp, refusing oversized
/// input before decoding. Every failure is an <see cref="ImageDecodeException"/>.
/// </summary>
/// <remarks>
/// Matches TF's <c>decode_image(channels=3)</c> (how big_vision read training images) where it matters:
/// alpha is dropped, not composited (libpng's strip_alpha; Skia decodes unpremultiplied so colour values are as
/// stored), 16-bit PNG keeps the high byte of each sample (libpng's strip_16), no colour management (TF applies
/// no ICC profile), only the first frame of an animation. One deliberate difference: the EXIF orientation is
/// applied (TF ignores it), because users expect the photo they see on their screen.
/// </remarks>
public static class ImageDecoder
{
    public static DecodedImage Decode(ReadOnlySpan<byte> encoded, ImageLimits limits, bool applyExifOrientation = true)
    {
        ArgumentNullException.ThrowIfNull(limits);
        if (encoded.IsEmpty)
            throw new ImageDecodeException(ImageDecodeErrors.Empty, "The image is empty (0 bytes). Upload a JPEG, PNG, WebP, GIF or BMP file.");
        if (encoded.Length > limits.MaxEncodedBytes)
            throw new ImageDecodeException(ImageDecodeErrors.TooLarge,
                $"The image file is {encoded.Length:N0} bytes; the limit is {limits.MaxEncodedBytes:N0}. Upload a smaller or more compressed file.");
        try
        {
            return DecodeChecked(encoded, limits, applyExifOrientation);
        }
        catch (ImageDecodeException)
        {
            throw;
        }
        catch (Exception e) // Skia or allocation failures must not surface as anything else
        {
            throw new ImageDecodeException(ImageDecodeErrors.Corrupt, $"The image could not be decoded ({e.GetType().Name}). Upload an undamaged file.", e);
        }
    }

    private static DecodedImage DecodeChecked(ReadOnlySpan<byte> encoded, ImageLimits limits, bool applyExifOrientation)
    {
        using var data = SKData.CreateCopy(encoded);
        using var stream = new SKMemoryStream(data);
        using var codec = SKCodec.Create(stream, out var createResult);
        if (codec is null)
        {
            throw createResult is SKCodecResult.IncompleteInput or SKCodecResult.ErrorInInput or SKCodecResult.InvalidInput && LooksLikeImage(encoded)
                ? new ImageDecodeException(ImageDecodeErrors.Corrupt, "The image header is damaged or cut short. Upload the complete, undamaged file.")
                : new ImageDecodeException(ImageDecodeErrors.UnsupportedFormat, "This is not an image in a supported format. Upload a JPEG, PNG, WebP, GIF or BMP file.");
        }

        string format = FormatName(codec.EncodedFormat)
            ?? throw new ImageDecodeException(ImageDecodeErrors.UnsupportedFormat,
                $"{codec.EncodedFormat} images are not supported. Convert it to JPEG, PNG, WebP, GIF or BMP.");

        // Decompression-bomb guard: the header's size, before a single pixel is allocated.
        int width = codec.Info.Width, height = codec.Info.Height;
        CheckDimensions(width, height, limits);

        byte[] rgb = IsSixteenBit(codec) ? DecodeSixteenBit(codec, width, height) : DecodeEightBit(codec, width, height);
        int frames = Math.Max(1, codec.FrameCount);

        if (applyExifOrientation && codec.EncodedOrigin != SKEncodedOrigin.TopLeft)
            (rgb, width, height) = ImageOrientation.ToUpright(rgb, width, height, codec.EncodedOrigin);
        return new DecodedImage(width, height, rgb, format, frames);
    }

    private static void CheckDimensions(int width, int height, ImageLimits limits)
    {
        if (width <= 0 || height <= 0)
            throw new ImageDecodeException(ImageDecodeErrors.Corrupt, $"The image claims a size of {width} x {height} pixels. Upload an undamaged file.");
        if (width > limits.MaxSide || height > limits.MaxSide)
            throw new ImageDecodeException(ImageDecodeErrors.TooManyPixels,
                $"The image is {width} x {height} pixels; no side may exceed {limits.MaxSide:N0}. Scale it down and upload again.");
        long pixels = (long)width * height;
        if (pixels > limits.MaxPixels || pixels * 8 > Array.MaxLength)
            throw new ImageDecodeException(ImageDecodeErrors.TooManyPixels,
                $"The image is {width} x {height} = {pixels:N0} pixels; the limit is {limits.MaxPixels:N0}. Scale it down and upload again.");
    }

    private static string? FormatName(SKEncodedImageFormat format) => format switch
    {
        SKEncodedImageFormat.Jpeg => "jpeg",
        SKEncodedImageFormat.Png => "png",
        SKEncodedImageFormat.Webp => "webp",
        SKEncodedImageFormat.Gif => "gif",
        SKEncodedImageFormat.Bmp => "bmp",
        _ => null, // ICO, WBMP, HEIF, AVIF, DNG, ...: not formats big_vision trained on; refuse plainly
    };

    /// <summary>Signature of a supported format: a failed header then means damage, not a foreign file type.</summary>
    private static bool LooksLikeImage(ReadOnlySpan<byte> b) =>
        b.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8]) ||
        b.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G']) ||
        b.StartsWith("GIF8"u8) || b.StartsWith("BM"u8) ||
        (b.Length >= 12 && b.StartsWith("RIFF"u8) && b[8..12].SequenceEqual("WEBP"u8));

    private static bool IsSixteenBit(SKCodec codec) =>
        codec.EncodedFormat == SKEncodedImageFormat.Png &&
        codec.Info.ColorType is SKColorType.Rgba16161616 or SKColorType.RgbaF16;

    /// <summary>Bytes of RGBA rows converted at a time when a format decodes row by row (JPEG): the decode holds the image's
    /// 3 bytes a pixel plus this. Other formats hold a whole RGBA copy (4 more bytes a pixel) in native memory, freed as soon
    /// as it is converted.</summary>
    private const int StripBytes = 1 << 20;

    /// <summary>The bytes a decode of this size holds at its peak (the RGB result, a strip or a whole RGBA copy, and a second
    /// RGB copy when it is turned upright), for admission by bytes before decoding.</summary>
    public static long PeakBytes(int width, int height, bool rowByRow, bool rotated, bool sixteenBit = false) =>
        (long)width * height * 3 * (rotated ? 2 : 1) + (rowByRow ? Math.Max(StripBytes, width * 8L) : (long)width * height * (sixteenBit ? 8 : 4));

    /// <summary>
    /// The size, format and orientation of an encoded image from its header alone (nothing is decoded), and the peak bytes
    /// its decode will hold; errors as <see cref="Decode"/> reports them.
    /// </summary>
    public static ImageHeader Probe(ReadOnlySpan<byte> encoded, ImageLimits limits)
    {
        if (encoded.IsEmpty)
            throw new ImageDecodeException(ImageDecodeErrors.Empty, "The image is empty (0 bytes). Upload a JPEG, PNG, WebP, GIF or BMP file.");
        if (encoded.Length > limits.MaxEncodedBytes)
            throw new ImageDecodeException(ImageDecodeErrors.TooLarge,
                $"The image file is {encoded.Length:N0} bytes; the limit is {limits.MaxEncodedBytes:N0}. Upload a smaller or more compressed file.");
        try
        {
            using var data = SKData.CreateCopy(encoded);
            using var stream = new SKMemoryStream(data);
            using var codec = SKCodec.Create(stream, out var createResult);
            if (codec is null)
                throw createResult is SKCodecResult.IncompleteInput or SKCodecResult.ErrorInInput or SKCodecResult.InvalidInput && LooksLikeImage(encoded)
                    ? new ImageDecodeException(ImageDecodeErrors.Corrupt, "The image header is damaged or cut short. Upload the complete, undamaged file.")
                    : new ImageDecodeException(ImageDecodeErrors.UnsupportedFormat, "This is not an image in a supported format. Upload a JPEG, PNG, WebP, GIF or BMP file.");
            string format = FormatName(codec.EncodedFormat)
                ?? throw new ImageDecodeException(ImageDecodeErrors.UnsupportedFormat, $"{codec.EncodedFormat} images are not supported. Convert it to JPEG, PNG, WebP, GIF or BMP.");
            int width = codec.Info.Width, height = codec.Info.Height;
            CheckDimensions(width, height, limits);
            bool rowByRow = RowByRow(codec, width, height);
            bool rotated = codec.EncodedOrigin != SKEncodedOrigin.TopLeft;
            long peak = codec.Info.ColorType == SKColorType.Gray8 && !rowByRow
                ? (long)width * height * (3 * (rotated ? 2 : 1) + 1)
                : PeakBytes(width, height, rowByRow, rotated, IsSixteenBit(codec));
            return new ImageHeader(width, height, format, peak);
        }
        catch (ImageDecodeException) { throw; }
        catch (Exception e)
        {
            throw new ImageDecodeException(ImageDecodeErrors.Corrupt, $"The image could not be read ({e.GetType().Name}). Upload an undamaged file.", e);
        }
    }

    /// <summary>Whether this codec decodes top-down row by row (Skia does for JPEG; its PNG, WebP and GIF decoders do not).</summary>
    private static bool RowByRow(SKCodec codec, int width, int height) =>
        codec.ScanlineOrder == SKCodecScanlineOrder.TopDown &&
        codec.StartScanlineDecode(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul), new SKCodecOptions(0)) == SKCodecResult.Success;

    private static unsafe byte[] DecodeEightBit(SKCodec codec, int width, int height)
    {
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgb = GC.AllocateUninitializedArray<byte>(checked(width * height * 3));
        if (RowByRow(codec, width, height))
        {
            // Row by row through a small RGBA strip: the same decoder and values as a whole-image decode, without the RGBA copy.
            int rows = (int)Math.Clamp(StripBytes / (width * 4L), 1, height);
            var strip = GC.AllocateUninitializedArray<byte>(rows * width * 4);
            fixed (byte* p = strip)
            {
                for (int y = 0; y < height; y += rows)
                {
                    int n = Math.Min(rows, height - y);
                    if (codec.GetScanlines((IntPtr)p, n, width * 4) != n)
                        throw new ImageDecodeException(ImageDecodeErrors.Corrupt, "The image file is cut short or damaged. Upload the complete, undamaged file.");
                    RgbaToRgb(strip.AsSpan(0, n * width * 4), rgb.AsSpan(y * width * 3, n * width * 3));
                }
            }
            return rgb;
        }
        if (codec.Info.ColorType == SKColorType.Gray8)
        {
            // Grayscale (1 to 8 bits): decoded as one byte a pixel and spread to R = G = B, the values an RGBA decode gives.
            long grayBytes = (long)width * height;
            byte* gray = (byte*)NativeMemory.Alloc((nuint)grayBytes);
            try
            {
                var span = new Span<byte>(gray, checked((int)grayBytes));
                DecodeInto(codec, new SKImageInfo(width, height, SKColorType.Gray8, SKAlphaType.Opaque), span);
                for (int i = 0, d = 0; i < span.Length; i++, d += 3) rgb[d] = rgb[d + 1] = rgb[d + 2] = span[i];
            }
            finally { NativeMemory.Free(gray); }
            return rgb;
        }
        // The whole RGBA picture, in native memory freed as soon as it is converted (not left to the garbage collector).
        long bytes = (long)width * height * 4;
        byte* whole = (byte*)NativeMemory.Alloc((nuint)bytes);
        try
        {
            var span = new Span<byte>(whole, checked((int)bytes));
            DecodeInto(codec, info, span);
            RgbaToRgb(span, rgb);
        }
        finally { NativeMemory.Free(whole); }
        return rgb;
    }

    /// <summary>Drops alpha, as TF does.</summary>
    private static void RgbaToRgb(ReadOnlySpan<byte> rgba, Span<byte> rgb)
    {
        for (int s = 0, d = 0; d < rgb.Length; s += 4, d += 3)
        {
            rgb[d] = rgba[s];
            rgb[d + 1] = rgba[s + 1];
            rgb[d + 2] = rgba[s + 2];
        }
    }

    private static unsafe byte[] DecodeSixteenBit(SKCodec codec, int width, int height)
    {
        var info = new SKImageInfo(width, height, SKColorType.Rgba16161616, SKAlphaType.Unpremul);
        var rgb = GC.AllocateUninitializedArray<byte>(checked(width * height * 3));
        static void Convert(ReadOnlySpan<ushort> rgba, Span<byte> rgb)
        {
            for (int s = 0, d = 0; d < rgb.Length; s += 4, d += 3)
            {
                rgb[d] = (byte)(rgba[s] >> 8);
                rgb[d + 1] = (byte)(rgba[s + 1] >> 8);
                rgb[d + 2] = (byte)(rgba[s + 2] >> 8);
            }
        }
        if (codec.ScanlineOrder == SKCodecScanlineOrder.TopDown && codec.StartScanlineDecode(info, new SKCodecOptions(0)) == SKCodecResult.Success)
        {
            int rows = (int)Math.Clamp(StripBytes / (width * 8L), 1, height);
            var strip = GC.AllocateUninitializedArray<ushort>(rows * width * 4);
            fixed (ushort* p = strip)
            {
                for (int y = 0; y < height; y += rows)
                {
                    int n = Math.Min(rows, height - y);
                    if (codec.GetScanlines((IntPtr)p, n, width * 8) != n)
                        throw new ImageDecodeException(ImageDecodeErrors.Corrupt, "The image file is cut short or damaged. Upload the complete, undamaged file.");
                    Convert(strip.AsSpan(0, n * width * 4), rgb.AsSpan(y * width * 3, n * width * 3));
                }
            }
            return rgb;
        }
        long bytes = (long)width * height * 8;
        ushort* whole = (ushort*)NativeMemory.Alloc((nuint)bytes);
        try
        {
            var span = new Span<ushort>(whole, checked(width * height * 4));
            DecodeInto(codec, info, MemoryMarshal.AsBytes(span));
            Convert(span, rgb);
        }
        finally { NativeMemory.Free(whole); }
        return rgb;
    }

    private static unsafe void DecodeInto(SKCodec codec, SKImageInfo info, Span<byte> pixels)
    {
        SKCodecResult result;
        fixed (byte* p = pixels)
        {
            // Colour space left null: no colour management, values as stored. Default options = frame 0.
            result = codec.GetPixels(info, (IntPtr)p, info.RowBytes, new SKCodecOptions(0));
        }
        switch (result)
        {
            case SKCodecResult.Success:
                return;
            case SKCodecResult.IncompleteInput:
                // Skia would return the partial picture with the rest blank; a model fed half an image gives a
                // confident wrong answer, so refuse instead.
                throw new ImageDecodeException(ImageDecodeErrors.Corrupt, "The image file is cut short (truncated). Upload the complete file.");
            case SKCodecResult.ErrorInInput:
            case SKCodecResult.InvalidInput:
                throw new ImageDecodeException(ImageDecodeErrors.Corrupt, "The image data is damaged. Upload an undamaged file.");
            default:
                throw new ImageDecodeException(ImageDecodeErrors.Corrupt, $"The image could not be decoded ({result}). Re-save it as PNG or JPEG and upload again.");
        }
    }
}
