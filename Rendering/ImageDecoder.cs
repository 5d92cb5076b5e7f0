using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
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
        CheckEncoded(encoded, limits);
        try
        {
            using var image = OpenedImage.Open(encoded, limits);
            byte[] rgb = image.DecodeRgb();
            int width = image.Width, height = image.Height;
            if (applyExifOrientation && image.Codec.EncodedOrigin != SKEncodedOrigin.TopLeft)
                (rgb, width, height) = ImageOrientation.ToUpright(rgb, width, height, image.Codec.EncodedOrigin);
            return new DecodedImage(width, height, rgb, image.Format, Math.Max(1, image.Codec.FrameCount));
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

    private static void CheckEncoded(ReadOnlySpan<byte> encoded, ImageLimits limits)
    {
        if (encoded.IsEmpty)
            throw new ImageDecodeException(ImageDecodeErrors.Empty, "The image is empty (0 bytes). Upload a JPEG, PNG, WebP, GIF or BMP file.");
        if (encoded.Length > limits.MaxEncodedBytes)
            throw new ImageDecodeException(ImageDecodeErrors.TooLarge,
                $"The image file is {encoded.Length:N0} bytes; the limit is {limits.MaxEncodedBytes:N0}. Upload a smaller or more compressed file.");
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
    private static bool LooksLikeImage(ReadOnlySpan<byte> b) => FormatBySignature(b) is not null;

    /// <summary>The supported format whose signature the bytes start with ("jpeg", "png", "gif", "bmp", "webp"), or null;
    /// nothing is decoded.</summary>
    public static string? FormatBySignature(ReadOnlySpan<byte> b) =>
        b.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8]) ? "jpeg"
        : b.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G']) ? "png"
        : b.StartsWith("GIF8"u8) ? "gif"
        : b.StartsWith("BM"u8) ? "bmp"
        : b.Length >= 12 && b.StartsWith("RIFF"u8) && b[8..12].SequenceEqual("WEBP"u8) ? "webp"
        : null;

    /// <summary>Bytes of rows converted at a time when a format decodes row by row (Skia does for JPEG; its PNG, WebP and GIF
    /// decoders do not): the decode holds the image's 3 bytes a pixel plus this. Other formats hold one whole decoded copy
    /// (4 bytes a pixel, 8 for 16-bit PNG, 1 for grayscale) in native memory, freed as soon as it is converted.</summary>
    private const int StripBytes = 1 << 20;

    /// <summary>
    /// The size, format and orientation of an encoded image from its header alone (nothing is decoded), and the peak bytes
    /// its decode will hold (for admission by bytes); errors as <see cref="Decode"/> reports them.
    /// </summary>
    public static ImageHeader Probe(ReadOnlySpan<byte> encoded, ImageLimits limits)
    {
        CheckEncoded(encoded, limits);
        try
        {
            using var image = OpenedImage.Open(encoded, limits);
            return new ImageHeader(image.Width, image.Height, image.Format, image.PeakBytes);
        }
        catch (ImageDecodeException) { throw; }
        catch (Exception e)
        {
            throw new ImageDecodeException(ImageDecodeErrors.Corrupt, $"The image could not be read ({e.GetType().Name}). Upload an undamaged file.", e);
        }
    }

    private delegate void RowConverter<T>(ReadOnlySpan<T> pixels, Span<byte> rgb) where T : unmanaged;

    /// <summary>
    /// 8-bit RGBA to RGB (alpha dropped) for <c>rgb.Length / 3</c> pixels: four pixels per 128-bit shuffle where the CPU
    /// has one (the per-byte loop it replaces took 3% of the service's CPU on VQA requests with a 224 px PNG), the rest
    /// one by one.
    /// </summary>
    public static void RgbaToRgb(ReadOnlySpan<byte> rgba, Span<byte> rgb)
    {
        int pixels = rgb.Length / 3;
        if (rgb.Length % 3 != 0 || rgba.Length < pixels * 4)
            throw new ArgumentException($"{rgba.Length} RGBA bytes cannot fill {rgb.Length} RGB bytes", nameof(rgba));
        int i = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            // Bytes 0-11 of the result are the 4 pixels' RGB; 12-15 are zero and are overwritten by the next step, so a step
            // runs only while its 16-byte store stays inside rgb.
            var pick = Vector128.Create((byte)0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 0xFF, 0xFF, 0xFF, 0xFF);
            ref byte source = ref MemoryMarshal.GetReference(rgba);
            ref byte target = ref MemoryMarshal.GetReference(rgb);
            for (; i + 4 <= pixels && (long)i * 3 + 16 <= rgb.Length; i += 4)
                Vector128.Shuffle(Vector128.LoadUnsafe(ref source, (nuint)i * 4), pick).StoreUnsafe(ref target, (nuint)i * 3);
        }
        for (; i < pixels; i++)
            (rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]) = (rgba[i * 4], rgba[i * 4 + 1], rgba[i * 4 + 2]);
    }

    /// <summary>
    /// An encoded image opened by Skia, its format and size checked, and the plan for decoding it to 8-bit RGB: the colour
    /// type Skia decodes into (RGBA, 16-bit RGBA for 16-bit PNG, one byte for grayscale), and whether it decodes row by row.
    /// Probe and Decode share it, so the peak bytes admitted are the bytes the decode holds.
    /// </summary>
    private sealed class OpenedImage : IDisposable
    {
        private readonly SKData _data;
        private readonly SKMemoryStream _stream;
        private readonly SKImageInfo _info;
        private readonly int _bytesPerPixel;
        private readonly bool _rowByRow;

        private OpenedImage(SKData data, SKMemoryStream stream, SKCodec codec, string format)
        {
            (_data, _stream, Codec, Format) = (data, stream, codec, format);
            (Width, Height) = (codec.Info.Width, codec.Info.Height);
            var colorType = codec.Info.ColorType switch
            {
                // 16-bit PNG keeps the high byte of each sample (libpng's strip_16); grayscale spreads to R = G = B.
                SKColorType.Rgba16161616 or SKColorType.RgbaF16 when codec.EncodedFormat == SKEncodedImageFormat.Png => SKColorType.Rgba16161616,
                SKColorType.Gray8 => SKColorType.Gray8,
                _ => SKColorType.Rgba8888,
            };
            _info = new SKImageInfo(Width, Height, colorType, colorType == SKColorType.Gray8 ? SKAlphaType.Opaque : SKAlphaType.Unpremul);
            _bytesPerPixel = _info.BytesPerPixel;
            _rowByRow = codec.ScanlineOrder == SKCodecScanlineOrder.TopDown && codec.StartScanlineDecode(_info, new SKCodecOptions(0)) == SKCodecResult.Success;
        }

        public SKCodec Codec { get; }
        public string Format { get; }
        public int Width { get; }
        public int Height { get; }

        /// <summary>The RGB result, a strip or a whole decoded copy, and a second RGB copy when it is turned upright.</summary>
        public long PeakBytes => (long)Width * Height * 3 * (Codec.EncodedOrigin != SKEncodedOrigin.TopLeft ? 2 : 1)
                                 + (_rowByRow ? Math.Max(StripBytes, (long)Width * _bytesPerPixel) : (long)Width * Height * _bytesPerPixel);

        public static OpenedImage Open(ReadOnlySpan<byte> encoded, ImageLimits limits)
        {
            var data = SKData.CreateCopy(encoded);
            var stream = new SKMemoryStream(data);
            var codec = SKCodec.Create(stream, out var createResult);
            try
            {
                if (codec is null)
                    throw createResult is SKCodecResult.IncompleteInput or SKCodecResult.ErrorInInput or SKCodecResult.InvalidInput && LooksLikeImage(encoded)
                        ? new ImageDecodeException(ImageDecodeErrors.Corrupt, "The image header is damaged or cut short. Upload the complete, undamaged file.")
                        : new ImageDecodeException(ImageDecodeErrors.UnsupportedFormat, "This is not an image in a supported format. Upload a JPEG, PNG, WebP, GIF or BMP file.");
                string format = FormatName(codec.EncodedFormat)
                    ?? throw new ImageDecodeException(ImageDecodeErrors.UnsupportedFormat,
                        $"{codec.EncodedFormat} images are not supported. Convert it to JPEG, PNG, WebP, GIF or BMP.");
                // Decompression-bomb guard: the header's size, before a single pixel is allocated.
                CheckDimensions(codec.Info.Width, codec.Info.Height, limits);
                return new OpenedImage(data, stream, codec, format);
            }
            catch
            {
                codec?.Dispose();
                stream.Dispose();
                data.Dispose();
                throw;
            }
        }

        public byte[] DecodeRgb() => _info.ColorType switch
        {
            SKColorType.Rgba16161616 => Decode<ushort>(4, static (rgba, rgb) =>
            {
                for (int s = 0, d = 0; d < rgb.Length; s += 4, d += 3)
                    (rgb[d], rgb[d + 1], rgb[d + 2]) = ((byte)(rgba[s] >> 8), (byte)(rgba[s + 1] >> 8), (byte)(rgba[s + 2] >> 8));
            }),
            SKColorType.Gray8 => Decode<byte>(1, static (gray, rgb) =>
            {
                for (int s = 0, d = 0; d < rgb.Length; s++, d += 3) rgb[d] = rgb[d + 1] = rgb[d + 2] = gray[s];
            }),
            _ => Decode<byte>(4, static (rgba, rgb) => RgbaToRgb(rgba, rgb)), // alpha is dropped, as TF does
        };

        /// <summary>Decodes into <typeparamref name="T"/> samples (<paramref name="channels"/> a pixel) and converts to RGB: row by
        /// row through a small strip where the codec can, else as one native copy freed at once.</summary>
        private unsafe byte[] Decode<T>(int channels, RowConverter<T> convert) where T : unmanaged
        {
            var rgb = GC.AllocateUninitializedArray<byte>(checked(Width * Height * 3));
            int rowSamples = Width * channels, rowBytes = rowSamples * sizeof(T);
            if (_rowByRow)
            {
                int rows = (int)Math.Clamp(StripBytes / (long)rowBytes, 1, Height);
                // Pooled: a fresh strip (up to StripBytes, the whole of a small image) per decode went to the large object
                // heap and, under load, cost the service page faults and background collections.
                var strip = System.Buffers.ArrayPool<T>.Shared.Rent(rows * rowSamples);
                try
                {
                    fixed (T* p = strip)
                    {
                        for (int y = 0; y < Height; y += rows)
                        {
                            int n = Math.Min(rows, Height - y);
                            if (Codec.GetScanlines((IntPtr)p, n, rowBytes) != n)
                                throw new ImageDecodeException(ImageDecodeErrors.Corrupt, "The image file is cut short or damaged. Upload the complete, undamaged file.");
                            convert(strip.AsSpan(0, n * rowSamples), rgb.AsSpan(y * Width * 3, n * Width * 3));
                        }
                    }
                }
                finally { System.Buffers.ArrayPool<T>.Shared.Return(strip); }
                return rgb;
            }
            T* whole = (T*)NativeMemory.Alloc((nuint)((long)Height * rowBytes));
            try
            {
                var samples = new Span<T>(whole, checked(Height * rowSamples));
                DecodeInto(Codec, _info, MemoryMarshal.AsBytes(samples));
                convert(samples, rgb);
            }
            finally { NativeMemory.Free(whole); }
            return rgb;
        }

        public void Dispose()
        {
            Codec.Dispose();
            _stream.Dispose();
            _data.Dispose();
        }
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
