namespace VqaApi.Rendering;

/// <summary>
/// TF2 <c>tf.image.resize(method="bilinear", antialias=False)</c> (the ResizeBilinear kernel with half-pixel
/// centres), in the kernel's own float32 arithmetic, followed by big_vision's clip and cast back to uint8
/// (truncation). Written here because no image library reproduces TF's exact weights.
/// </summary>
public static class ImageResize
{
    /// <summary>Resizes 8-bit RGB to <paramref name="outHeight"/> x <paramref name="outWidth"/> 8-bit RGB.</summary>
    public static void BilinearHalfPixel(ReadOnlySpan<byte> rgb, int width, int height, Span<byte> destination, int outHeight, int outWidth)
    {
        if (rgb.Length != width * height * 3) throw new ArgumentException("source must be width x height x 3 bytes");
        if (destination.Length != outWidth * outHeight * 3) throw new ArgumentException("destination must be outWidth x outHeight x 3 bytes");
        var xs = Weights(width, outWidth);
        var ys = Weights(height, outHeight);
        for (int y = 0; y < outHeight; y++)
        {
            var (top, bottom, yLerp) = ys[y];
            for (int x = 0; x < outWidth; x++)
            {
                var (left, right, xLerp) = xs[x];
                for (int c = 0; c < 3; c++)
                {
                    float tl = rgb[(top * width + left) * 3 + c], tr = rgb[(top * width + right) * 3 + c];
                    float bl = rgb[(bottom * width + left) * 3 + c], br = rgb[(bottom * width + right) * 3 + c];
                    float t = tl + (tr - tl) * xLerp;
                    float b = bl + (br - bl) * xLerp;
                    float v = t + (b - t) * yLerp;
                    destination[(y * outWidth + x) * 3 + c] = (byte)Math.Clamp(v, 0f, 255f); // truncation, as tf.cast
                }
            }
        }
    }

    /// <summary>TF's compute_interpolation_weights with the half-pixel scaler.</summary>
    public static (int Lower, int Upper, float Lerp)[] Weights(int inSize, int outSize)
    {
        float scale = (float)inSize / outSize;
        var weights = new (int, int, float)[outSize];
        for (int i = 0; i < outSize; i++)
        {
            float input = (i + 0.5f) * scale - 0.5f;
            float floor = MathF.Floor(input);
            weights[i] = (Math.Max((int)floor, 0), Math.Min((int)MathF.Ceiling(input), inSize - 1), input - floor);
        }
        return weights;
    }
}

/// <summary>The official image preprocessing: squash-resize to the model size, then v / 255 * 2 - 1.</summary>
public static class ImagePreprocessor
{
    public static void ToCanvas(DecodedImage image, int size, Span<float> destination)
    {
        if (destination.Length != size * size * 3) throw new ArgumentException($"destination must hold {size}x{size}x3 floats");
        var resized = new byte[size * size * 3];
        ImageResize.BilinearHalfPixel(image.Rgb, image.Width, image.Height, resized, size, size);
        for (int i = 0; i < resized.Length; i++) destination[i] = resized[i] / 255f * 2f - 1f;
    }
}
