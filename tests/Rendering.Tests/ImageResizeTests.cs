using VqaApi.Rendering;

namespace VqaApi.Rendering.Tests;

/// <summary>
/// Expected values worked out by hand from TF's half-pixel bilinear rule:
/// scale = in/out, x = (o + 0.5) * scale - 0.5, lower = max(floor x, 0), upper = min(ceil x, in - 1),
/// lerp = x - floor x; top = tl + (tr - tl) * xl, bottom = bl + (br - bl) * xl, out = top + (bottom - top) * yl;
/// then clip and truncate to uint8.
/// </summary>
public class ImageResizeTests
{
    /// <summary>A gray image as RGB with G = R and B = 7, so channel mix-ups show.</summary>
    private static byte[] Rgb(int[] gray) => gray.SelectMany(v => new[] { (byte)v, (byte)v, (byte)7 }).ToArray();

    private static int[] Resize(int[] gray, int w, int h, int outW, int outH)
    {
        var dst = new byte[outW * outH * 3];
        ImageResize.BilinearHalfPixel(Rgb(gray), w, h, outW, outH, dst);
        for (int i = 0; i < outW * outH; i++)
        {
            Assert.Equal(dst[i * 3], dst[i * 3 + 1]);
            Assert.Equal(7, dst[i * 3 + 2]);
        }
        return Enumerable.Range(0, outW * outH).Select(i => (int)dst[i * 3]).ToArray();
    }

    [Fact]
    public void Taps_for_2_to_4()
    {
        // scale 0.5: x = 0.5 o - 0.25 -> -0.25, 0.25, 0.75, 1.25
        // o=0: floor -1 -> lower 0, ceil -0 -> upper 0, lerp 0.75; o=3: lower 1, upper min(2, 1) = 1, lerp 0.25
        Assert.Equal(
            [new(0, 0, 0.75f), new(0, 1, 0.25f), new(0, 1, 0.75f), new(1, 1, 0.25f)],
            ImageResize.Taps(2, 4));
    }

    [Fact]
    public void Upscale_2x2_to_4x4()
    {
        // rows: r0 = [0, 100], r1 = [200, 255]; x taps as above (same for y).
        // r0 across: [0, 0 + 100*.25 = 25, 75, 100]; r1 across: [200, 200 + 55*.25 = 213.75, 241.25, 255]
        // y=0 (lower = upper = 0): r0 -> 0 25 75 100
        // y=1 (lerp .25): 0 + 200*.25 = 50; 25 + 188.75*.25 = 72.1875; 75 + 166.25*.25 = 116.5625; 100 + 155*.25 = 138.75
        // y=2 (lerp .75): 150; 25 + 141.5625 = 166.5625; 75 + 124.6875 = 199.6875; 100 + 116.25 = 216.25
        // y=3: r1 -> 200 213.75 241.25 255; everything truncated.
        Assert.Equal(
            [0, 25, 75, 100,
             50, 72, 116, 138,
             150, 166, 199, 216,
             200, 213, 241, 255],
            Resize([0, 100, 200, 255], 2, 2, 4, 4));
    }

    [Fact]
    public void Downscale_4x4_to_2x2_averages_blocks_and_truncates()
    {
        // scale 2: x = 2o + 0.5 -> 0.5 (0,1 lerp .5) and 2.5 (2,3 lerp .5): the mean of each 2x2 block.
        // (0,0): top = 0 + 1*.5 = .5, bottom = 4.5, out = 2.5 -> 2; (1,0): 2.5, 6.5 -> 4.5 -> 4
        // (0,1): 8.5, 12.5 -> 10.5 -> 10; (1,1): 10.5, 14.5 -> 12.5 -> 12
        Assert.Equal([2, 4, 10, 12], Resize(Enumerable.Range(0, 16).ToArray(), 4, 4, 2, 2));
    }

    [Fact]
    public void Width_3_to_2()
    {
        // scale 1.5: x = 1.5 (o + .5) - .5 -> 0.25 (0,1 lerp .25), 1.75 (1,2 lerp .75); height 1 -> 1 is exact.
        // [10, 21, 40]: 10 + 11*.25 = 12.75 -> 12; 21 + 19*.75 = 35.25 -> 35
        Assert.Equal([12, 35], Resize([10, 21, 40], 3, 1, 2, 1));
    }

    [Fact]
    public void Non_square_2x3_to_4x2()
    {
        // x: 2 -> 4 taps as in Taps_for_2_to_4. y: 3 -> 2 (scale 1.5): (0,1 lerp .25), (1,2 lerp .75).
        // rows r0 = [0, 40], r1 = [80, 120], r2 = [160, 255]
        // across: r0 [0, 10, 30, 40]; r1 [80, 90, 110, 120]; r2 [160, 183.75, 231.25, 255]
        // y0 = r0 + (r1 - r0) * .25 = [20, 30, 50, 60]
        // y1 = r1 + (r2 - r1) * .75 = [140, 90 + 70.3125 = 160.3125, 110 + 90.9375 = 200.9375, 120 + 101.25 = 221.25]
        Assert.Equal(
            [20, 30, 50, 60,
             140, 160, 200, 221],
            Resize([0, 40, 80, 120, 160, 255], 2, 3, 4, 2));
    }

    [Fact]
    public void Same_size_returns_the_exact_pixels()
    {
        var rng = new Random(1);
        var rgb = new byte[5 * 3 * 3];
        rng.NextBytes(rgb);
        var bytes = new byte[rgb.Length];
        ImageResize.BilinearHalfPixel(rgb, 5, 3, 5, 3, bytes);
        Assert.Equal(rgb, bytes);

        var floats = new float[rgb.Length];
        ImageResize.BilinearHalfPixel(rgb, 5, 3, 5, 3, floats);
        Assert.Equal(rgb.Select(PixelValues.Normalize), floats);
    }

    [Fact]
    public void Preprocessor_squashes_to_a_normalized_square()
    {
        // 2 wide, 1 high, black | white -> 4 x 4: every row is the 2 -> 4 upscale [0, 63.75, 191.25, 255] -> truncated
        var image = new DecodedImage(2, 1, [0, 0, 0, 255, 255, 255], "png", 1);
        var canvas = new float[4 * 4 * 3];
        ImagePreprocessor.ToCanvas(image, 4, canvas);
        float[] row = [.. new byte[] { 0, 63, 191, 255 }.SelectMany(v => Enumerable.Repeat(PixelValues.Normalize(v), 3))];
        for (int y = 0; y < 4; y++) Assert.Equal(row, canvas[(y * 12)..(y * 12 + 12)]);
    }
}
