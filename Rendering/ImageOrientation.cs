using SkiaSharp;

namespace VqaApi.Rendering;

/// <summary>Turns a stored RGB image upright according to its EXIF orientation (the camera's rotation tag).</summary>
public static class ImageOrientation
{
    /// <summary>
    /// Returns the upright image. For origins LeftTop..LeftBottom (EXIF 5-8) width and height swap.
    /// TopLeft returns the input array itself.
    /// </summary>
    public static (byte[] Rgb, int Width, int Height) ToUpright(byte[] rgb, int width, int height, SKEncodedOrigin origin)
    {
        ArgumentNullException.ThrowIfNull(rgb);
        if (rgb.Length != (long)width * height * 3) throw new ArgumentException("rgb length is not width x height x 3", nameof(rgb));
        if (origin == SKEncodedOrigin.TopLeft || (int)origin is < 1 or > 8) return (rgb, width, height);

        bool swaps = (int)origin >= 5;
        int outWidth = swaps ? height : width, outHeight = swaps ? width : height;
        var result = GC.AllocateUninitializedArray<byte>(rgb.Length);
        for (int y = 0; y < outHeight; y++)
        {
            for (int x = 0; x < outWidth; x++)
            {
                var (sx, sy) = SourceOf(x, y, width, height, origin);
                int s = (sy * width + sx) * 3, d = (y * outWidth + x) * 3;
                result[d] = rgb[s];
                result[d + 1] = rgb[s + 1];
                result[d + 2] = rgb[s + 2];
            }
        }
        return (result, outWidth, outHeight);
    }

    /// <summary>
    /// The stored pixel shown at upright position (x, y). EXIF names where the stored image's first row and
    /// first column end up: e.g. RightTop (6) = first row on the right, first column at the top, i.e. the
    /// stored image must turn 90 degrees clockwise.
    /// </summary>
    public static (int X, int Y) SourceOf(int x, int y, int width, int height, SKEncodedOrigin origin) => origin switch
    {
        SKEncodedOrigin.TopRight => (width - 1 - x, y),                 // 2: mirrored left-right
        SKEncodedOrigin.BottomRight => (width - 1 - x, height - 1 - y), // 3: rotated 180
        SKEncodedOrigin.BottomLeft => (x, height - 1 - y),              // 4: mirrored top-bottom
        SKEncodedOrigin.LeftTop => (y, x),                              // 5: transposed
        SKEncodedOrigin.RightTop => (y, height - 1 - x),                // 6: needs 90 clockwise
        SKEncodedOrigin.RightBottom => (width - 1 - y, height - 1 - x), // 7: transverse
        SKEncodedOrigin.LeftBottom => (width - 1 - y, x),               // 8: needs 90 counter-clockwise
        _ => (x, y),                                                    // 1: as stored
    };
}
