namespace VqaApi.Generation.Tests;

/// <summary>The integer blur and grain against straightforward scalar references written here.</summary>
public class PixelEffectsTests
{
    private static byte[] RandomCanvas(int size, int seed)
    {
        var rgb = new byte[size * size * 3];
        new Random(seed).NextBytes(rgb);
        return rgb;
    }

    /// <summary>Two 1-D passes, edges clamped, each rounded to 8 bits: index arithmetic only, no vectors.</summary>
    private static byte[] ReferenceBlur(byte[] rgb, int size, ushort[] w)
    {
        int r = w.Length / 2;
        var h = new int[rgb.Length];
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
                for (int c = 0; c < 3; c++)
                {
                    int acc = 128;
                    for (int k = -r; k <= r; k++) acc += w[k + r] * rgb[(y * size + Math.Clamp(x + k, 0, size - 1)) * 3 + c];
                    h[(y * size + x) * 3 + c] = acc >> 8;
                }
        var v = new byte[rgb.Length];
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
                for (int c = 0; c < 3; c++)
                {
                    int acc = 128;
                    for (int k = -r; k <= r; k++) acc += w[k + r] * h[(Math.Clamp(y + k, 0, size - 1) * size + x) * 3 + c];
                    v[(y * size + x) * 3 + c] = (byte)(acc >> 8);
                }
        return v;
    }

    [Theory]
    [InlineData(224, 0.3f)]
    [InlineData(224, 0.8f)]
    [InlineData(37, 2f)]     // a size that is not a multiple of the vector width, and the widest kernel
    [InlineData(5, 1f)]      // narrower than one vector: the scalar tail alone
    public void Blur_matches_the_scalar_reference(int size, float sigma)
    {
        var rgb = RandomCanvas(size, size);
        var expected = ReferenceBlur(rgb, size, PixelEffects.GaussianKernel(sigma));
        PixelEffects.Blur(rgb, size, sigma);
        Assert.Equal(expected, rgb);
    }

    [Theory]
    [InlineData(0.3f)]
    [InlineData(0.55f)]
    [InlineData(0.8f)]
    [InlineData(2f)]
    public void Kernel_is_symmetric_sums_to_256_and_follows_the_gaussian(float sigma)
    {
        var w = PixelEffects.GaussianKernel(sigma);
        int r = w.Length / 2;
        Assert.Equal(256, w.Sum(x => x));
        for (int k = 0; k < r; k++) Assert.Equal(w[k], w[^(k + 1)]);
        double norm = Enumerable.Range(-r, 2 * r + 1).Sum(k => Math.Exp(-k * k / (2.0 * sigma * sigma)));
        for (int k = -r; k <= r; k++) Assert.InRange(w[k + r], 256 * Math.Exp(-k * k / (2.0 * sigma * sigma)) / norm - 1.5, 256 * Math.Exp(-k * k / (2.0 * sigma * sigma)) / norm + 1.5);
    }

    [Fact]
    public void The_series_exponential_agrees_with_the_library_one()
    {
        for (double x = 0; x <= 60; x += 0.37) Assert.Equal(Math.Exp(-x), PixelEffects.ExpNegative(x), Math.Exp(-x) * 1e-12);
    }

    [Fact]
    public void Blur_leaves_a_flat_canvas_unchanged_and_softens_an_edge()
    {
        var flat = Enumerable.Repeat((byte)173, 64 * 64 * 3).ToArray();
        PixelEffects.Blur(flat, 64, 0.8f);
        Assert.All(flat, v => Assert.Equal(173, v));

        var edge = new byte[64 * 64 * 3];
        for (int y = 0; y < 64; y++) for (int x = 32; x < 64; x++) for (int c = 0; c < 3; c++) edge[(y * 64 + x) * 3 + c] = 255;
        PixelEffects.Blur(edge, 64, 0.8f);
        int left = edge[(10 * 64 + 31) * 3], right = edge[(10 * 64 + 32) * 3];
        Assert.InRange(left, 1, 127);
        Assert.InRange(right, 128, 254);
        Assert.Equal(0, edge[(10 * 64 + 20) * 3]);
        Assert.Equal(255, edge[(10 * 64 + 50) * 3]);
    }

    [Theory]
    [InlineData(0, 6)]
    [InlineData(123457, 15)]
    [InlineData(int.MaxValue, 64)]
    public void Grain_matches_the_scalar_formula_and_stays_within_its_amplitude(int seed, int amplitude)
    {
        var rgb = RandomCanvas(224, seed & 0xFFFF);
        var before = (byte[])rgb.Clone();
        PixelEffects.AddNoise(rgb, seed, amplitude);
        // The same table, read back through a zero canvas shifted to mid-grey, gives each byte's offset.
        var probe = Enumerable.Repeat((byte)128, rgb.Length).ToArray();
        PixelEffects.AddNoise(probe, seed, amplitude);
        int changed = 0;
        for (int i = 0; i < rgb.Length; i++)
        {
            int offset = probe[i] - 128;
            Assert.InRange(offset, -amplitude, amplitude);
            Assert.Equal((byte)Math.Clamp(before[i] + offset, 0, 255), rgb[i]);
            if (offset != 0) changed++;
        }
        Assert.True(changed > rgb.Length / 2, $"only {changed} bytes got grain");
    }

    [Fact]
    public void Grain_differs_between_seeds()
    {
        var a = Enumerable.Repeat((byte)128, 3000).ToArray();
        var b = (byte[])a.Clone();
        PixelEffects.AddNoise(a, 1, 30);
        PixelEffects.AddNoise(b, 2, 30);
        Assert.NotEqual(a, b);
    }

    [Theory]
    [InlineData(-90, 3)]
    [InlineData(-90, 10)]
    [InlineData(0, 6)]
    public void Polygon_vertex_constants_are_the_unit_vectors_they_stand_for(int startDegrees, int points)
    {
        var table = points switch { 3 => ScenePainter.TriangleVertices, 10 => ScenePainter.StarVertices, _ => ScenePainter.HexagonVertices };
        Assert.Equal(points, table.Length);
        for (int i = 0; i < points; i++)
        {
            double angle = (startDegrees + 360.0 * i / points) * Math.PI / 180;
            Assert.Equal(Math.Cos(angle), table[i].Cos, 1e-7);
            Assert.Equal(Math.Sin(angle), table[i].Sin, 1e-7);
        }
    }
}
