using VqaApi.Rendering;
using VqaApi.Rendering.Shaped;

namespace VqaApi.Rendering.Tests;

/// <summary>
/// The VQA layout's image scaler against a plain double-precision tent filter written here from its definition
/// (support max(1, in/out) source pixels each side of the output pixel's centre, weights renormalised where the
/// window is cut by the image's edge, round to nearest), plus the properties a scaler must have.
/// </summary>
public class ImageScalerTests
{
    private static byte[] Reference(byte[] rgb, int w, int h, int outW, int outH)
    {
        double[] Weights(int inSize, int outSize, int o, out int first)
        {
            double scale = (double)outSize / inSize, support = Math.Max(1, 1 / scale), centre = (o + 0.5) / scale;
            var ws = new double[inSize];
            double total = 0;
            for (int x = 0; x < inSize; x++) total += ws[x] = Math.Max(0, 1 - Math.Abs(x + 0.5 - centre) / support);
            first = 0;
            return ws.Select(v => v / total).ToArray();
        }
        // Horizontal then vertical would give the same doubles; vertical first mirrors the code under test.
        var result = new byte[outW * outH * 3];
        for (int oy = 0; oy < outH; oy++)
        {
            var wy = Weights(h, outH, oy, out _);
            for (int ox = 0; ox < outW; ox++)
            {
                var wx = Weights(w, outW, ox, out _);
                for (int c = 0; c < 3; c++)
                {
                    double v = 0;
                    for (int y = 0; y < h; y++)
                    {
                        if (wy[y] == 0) continue;
                        for (int x = 0; x < w; x++) v += wy[y] * wx[x] * rgb[(y * w + x) * 3 + c];
                    }
                    result[(oy * outW + ox) * 3 + c] = (byte)Math.Clamp(Math.Round(v), 0, 255);
                }
            }
        }
        return result;
    }

    private static byte[] RandomRgb(int w, int h, int seed)
    {
        var rgb = new byte[w * h * 3];
        new Random(seed).NextBytes(rgb);
        return rgb;
    }

    [Theory]
    [InlineData(224, 224, 180, 180)] // the generator's case: a scene under a question band
    [InlineData(224, 224, 100, 100)]
    [InlineData(37, 23, 11, 7)]      // odd sizes, reduced by about 3 (wide windows)
    [InlineData(5, 4, 17, 13)]       // enlarged
    [InlineData(1, 1, 9, 3)]
    [InlineData(40, 9, 40, 30)]      // one axis unchanged, the other enlarged
    [InlineData(101, 67, 64, 64)]    // aspect ratio not kept
    public void Matches_a_double_precision_tent_filter_within_one_level(int w, int h, int outW, int outH)
    {
        var rgb = RandomRgb(w, h, w * 1000 + outW);
        var got = ImageScaler.Scale(rgb, w, h, outW, outH);
        var want = Reference(rgb, w, h, outW, outH);
        int worst = got.Zip(want, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(worst <= 1, $"largest difference {worst}");
        // Not merely close by luck: most values are exact.
        Assert.True(got.Zip(want).Count(p => p.First == p.Second) > 0.9 * got.Length);
    }

    [Fact]
    public void Same_size_is_a_copy_and_flat_colours_stay_exact_at_any_scale()
    {
        var rgb = RandomRgb(31, 17, 3);
        Assert.Equal(rgb, ImageScaler.Scale(rgb, 31, 17, 31, 17));
        var flat = Enumerable.Range(0, 50 * 40).SelectMany(_ => new byte[] { 255, 1, 137 }).ToArray();
        foreach (var (ow, oh) in new[] { (7, 5), (49, 39), (50, 41), (180, 3), (1, 1) })
        {
            var scaled = ImageScaler.Scale(flat, 50, 40, ow, oh);
            for (int i = 0; i < scaled.Length; i += 3) Assert.Equal(new byte[] { 255, 1, 137 }, scaled[i..(i + 3)]);
        }
    }

    [Fact]
    public void Reducing_averages_instead_of_aliasing()
    {
        // One-pixel black and white stripes reduced 4 times: a tent filter gives mid grey everywhere (point or
        // plain bilinear sampling would give stripes or a flat black or white).
        const int w = 200, h = 8;
        var stripes = new byte[w * h * 3];
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) if (x % 2 == 0) stripes.AsSpan((y * w + x) * 3, 3).Fill(255);
        var scaled = ImageScaler.Scale(stripes, w, h, 50, 2);
        // Away from the edges, where the window is whole (at an edge it is cut and renormalised: 118 or 137).
        for (int y = 0; y < 2; y++)
            for (int x = 1; x < 49; x++)
                Assert.InRange(scaled[(y * 50 + x) * 3], 126, 129);
    }

    [Fact]
    public void Taps_are_non_negative_and_sum_to_one()
    {
        foreach (var (i, o) in new[] { (224, 180), (3000, 224), (7, 300), (1, 5), (5, 1), (224, 223) })
            foreach (var t in ImageScaler.TapsFor(i, o))
            {
                Assert.Equal(1 << ImageScaler.WeightBits, t.Weights.Sum());
                Assert.All(t.Weights, w => Assert.True(w >= 0));
                Assert.InRange(t.First, 0, i - t.Weights.Length);
            }
    }

    [Fact]
    public void Writes_only_inside_its_rectangle()
    {
        var canvas = Enumerable.Repeat((byte)9, 30 * 20 * 4).ToArray();
        ImageScaler.ScaleInto(RandomRgb(13, 11, 5), 13, 11, canvas, 30, 20, 4, 3, 21, 15);
        for (int y = 0; y < 20; y++)
            for (int x = 0; x < 30; x++)
            {
                bool inside = x >= 4 && x < 25 && y >= 3 && y < 18;
                var pixel = canvas.AsSpan((y * 30 + x) * 4, 4);
                if (inside) Assert.Equal(255, pixel[3]);
                else Assert.True(pixel.SequenceEqual(new byte[] { 9, 9, 9, 9 }), $"({x}, {y}) was written");
            }
    }

    [Fact]
    public void Refuses_rectangles_outside_the_canvas_and_wrong_buffer_sizes()
    {
        var rgb = RandomRgb(4, 4, 1);
        var canvas = new byte[10 * 10 * 4];
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageScaler.ScaleInto(rgb, 4, 4, canvas, 10, 10, 5, 0, 6, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageScaler.ScaleInto(rgb, 4, 4, canvas, 10, 10, 0, -1, 5, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => ImageScaler.ScaleInto(rgb, 4, 4, canvas, 10, 10, 0, 0, 0, 5));
        Assert.Throws<ArgumentException>(() => ImageScaler.ScaleInto(rgb.AsSpan(1), 4, 4, canvas, 10, 10, 0, 0, 5, 5));
        Assert.Throws<ArgumentException>(() => ImageScaler.ScaleInto(rgb, 4, 4, canvas.AsSpan(4), 10, 10, 0, 0, 5, 5));
    }

    [Fact]
    public void The_vqa_layout_places_the_image_centred_on_whole_pixels_below_the_band()
    {
        var renderer = new ShapedRenderer(new ShapedProfile());
        // A 100 x 50 image, red on the left half, blue on the right: kept at 2:1 and centred in the area.
        var rgb = new byte[100 * 50 * 3];
        for (int y = 0; y < 50; y++) for (int x = 0; x < 100; x++)
        {
            var p = rgb.AsSpan((y * 100 + x) * 3, 3);
            if (x < 50) { p[0] = 255; } else { p[2] = 255; }
        }
        var canvas = renderer.RenderVqa("Which side is red?", new DecodedImage(100, 50, rgb, "png", 1));
        byte[] Pixel(int x, int y) => canvas.Rgb[((y * 224 + x) * 3)..((y * 224 + x) * 3 + 3)];
        // The image is as wide as the canvas (224 x 112), so it sits in the middle of the area below the band.
        int firstRed = Enumerable.Range(0, 224).First(y => Pixel(0, y).SequenceEqual(new byte[] { 255, 0, 0 }));
        int lastRed = Enumerable.Range(0, 224).Last(y => Pixel(0, y).SequenceEqual(new byte[] { 255, 0, 0 }));
        Assert.Equal(112, lastRed - firstRed + 1);
        Assert.Equal(new byte[] { 0, 0, 255 }, Pixel(223, firstRed));
        // Centred: background from the image to the bottom, and as much (or one row less) between band and image.
        var background = Pixel(0, 223);
        int below = 223 - lastRed;
        Assert.True(below >= 1);
        for (int y = lastRed + 1; y < 224; y++) Assert.Equal(background, Pixel(5, y));
        for (int y = firstRed - below + 1; y < firstRed; y++) Assert.Equal(background, Pixel(5, y));
        // The colour edge in the middle, blended symmetrically over the two middle columns.
        Assert.InRange(Pixel(111, firstRed)[0] + Pixel(112, firstRed)[0], 254, 256);
    }
}
