using System.Buffers;

namespace VqaApi.Rendering;

/// <summary>
/// TF2 <c>tf.image.resize(method="bilinear", antialias=False)</c> (ResizeBilinear, half_pixel_centers=True),
/// followed by big_vision's clip to [0, 255] and cast to uint8 (truncation). Squash: aspect ratio is ignored.
/// </summary>
public static class ImageResize
{
    /// <summary>One output coordinate's source rows/columns and blend weight, as TF's compute_interpolation_weights.</summary>
    public readonly record struct Tap(int Lower, int Upper, float Lerp);

    /// <summary>
    /// Half-pixel sampling in float32: scale = in/out, x = (o + 0.5) * scale - 0.5, lower = max(floor(x), 0),
    /// upper = min(ceil(x), in - 1), lerp = x - floor(x). Near the edges x &lt; 0 gives lower = upper = 0, so the
    /// weight no longer matters.
    /// </summary>
    public static Tap[] Taps(int inSize, int outSize)
    {
        float scale = (float)inSize / outSize;
        var taps = new Tap[outSize];
        for (int o = 0; o < outSize; o++)
        {
            float x = ((float)o + 0.5f) * scale - 0.5f;
            float floor = MathF.Floor(x);
            taps[o] = new Tap(Math.Max((int)floor, 0), Math.Min((int)MathF.Ceiling(x), inSize - 1), x - floor);
        }
        return taps;
    }

    /// <summary>Resizes an RGB image (rows of width x 3 bytes) to outWidth x outHeight uint8 RGB.</summary>
    public static void BilinearHalfPixel(ReadOnlySpan<byte> rgb, int width, int height, int outWidth, int outHeight, Span<byte> destination)
    {
        Check(rgb.Length, width, height, outWidth, outHeight, destination.Length);
        var xs = Taps(width, outWidth);
        var ys = Taps(height, outHeight);
        int inStride = width * 3;
        for (int oy = 0; oy < outHeight; oy++)
        {
            var (top, bottom, yLerp) = ys[oy];
            var topRow = rgb.Slice(top * inStride, inStride);
            var bottomRow = rgb.Slice(bottom * inStride, inStride);
            var outRow = destination.Slice(oy * outWidth * 3, outWidth * 3);
            for (int ox = 0; ox < outWidth; ox++)
            {
                var (left, right, xLerp) = xs[ox];
                int l = left * 3, r = right * 3, o = ox * 3;
                for (int c = 0; c < 3; c++)
                    outRow[o + c] = ClipCast(Lerp2(topRow[l + c], topRow[r + c], bottomRow[l + c], bottomRow[r + c], xLerp, yLerp));
            }
        }
    }

    /// <summary>Same, then to the model's [-1, 1] range (v / 255 * 2 - 1), H x W x 3 floats.</summary>
    public static void BilinearHalfPixel(ReadOnlySpan<byte> rgb, int width, int height, int outWidth, int outHeight, Span<float> destinationNormalized)
    {
        int n = outWidth * outHeight * 3;
        if (destinationNormalized.Length != n)
            throw new ArgumentException($"destination must hold {outHeight} x {outWidth} x 3 = {n} floats, not {destinationNormalized.Length}", nameof(destinationNormalized));
        var bytes = ArrayPool<byte>.Shared.Rent(n);
        try
        {
            BilinearHalfPixel(rgb, width, height, outWidth, outHeight, bytes.AsSpan(0, n));
            PixelValues.NormalizeAll(bytes.AsSpan(0, n), destinationNormalized);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>Square output: outSize x outSize.</summary>
    public static void BilinearHalfPixel(ReadOnlySpan<byte> rgb, int width, int height, int outSize, Span<float> destinationNormalized) =>
        BilinearHalfPixel(rgb, width, height, outSize, outSize, destinationNormalized);

    /// <summary>TF's compute_lerp, same float32 operations in the same order.</summary>
    private static float Lerp2(float topLeft, float topRight, float bottomLeft, float bottomRight, float xLerp, float yLerp)
    {
        float top = topLeft + (topRight - topLeft) * xLerp;
        float bottom = bottomLeft + (bottomRight - bottomLeft) * xLerp;
        return top + (bottom - top) * yLerp;
    }

    /// <summary>tf.clip_by_value(x, 0, 255) then tf.cast(uint8): truncation toward zero.</summary>
    private static byte ClipCast(float v) => v <= 0f ? (byte)0 : v >= 255f ? (byte)255 : (byte)v;

    private static void Check(int rgbLength, int width, int height, int outWidth, int outHeight, int destinationLength)
    {
        if (width <= 0 || height <= 0 || outWidth <= 0 || outHeight <= 0)
            throw new ArgumentOutOfRangeException(nameof(width), "sizes must be positive");
        if (rgbLength != (long)width * height * 3)
            throw new ArgumentException($"rgb must hold {height} x {width} x 3 bytes, not {rgbLength}", "rgb");
        if (destinationLength != (long)outWidth * outHeight * 3)
            throw new ArgumentException($"destination must hold {outHeight} x {outWidth} x 3 values, not {destinationLength}", "destination");
    }
}
