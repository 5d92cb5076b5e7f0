namespace VqaApi.Rendering.Tests;

public class PixelValuesTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(224 * 224)]
    [InlineData(1001)]
    public void Rgba_and_rgb_conversions_keep_every_channel(int pixels)
    {
        var rgba = new byte[pixels * 4];
        new Random(pixels).NextBytes(rgba);
        var rgb = new byte[pixels * 3];
        PixelValues.RgbaToRgb(rgba, rgb);
        for (int p = 0; p < pixels; p++)
            for (int c = 0; c < 3; c++) Assert.Equal(rgba[p * 4 + c], rgb[p * 3 + c]);

        var back = new byte[pixels * 4];
        PixelValues.RgbToRgba(rgb, back);
        for (int p = 0; p < pixels; p++)
        {
            for (int c = 0; c < 3; c++) Assert.Equal(rgb[p * 3 + c], back[p * 4 + c]);
            Assert.Equal(255, back[p * 4 + 3]);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(224 * 224)]
    [InlineData(1001)]
    public void Bgra_and_rgb_conversions_swap_red_and_blue(int pixels)
    {
        var bgra = new byte[pixels * 4];
        new Random(pixels + 7).NextBytes(bgra);
        var rgb = new byte[pixels * 3];
        PixelValues.BgraToRgb(bgra, rgb);
        for (int p = 0; p < pixels; p++)
        {
            Assert.Equal(bgra[p * 4 + 2], rgb[p * 3]);
            Assert.Equal(bgra[p * 4 + 1], rgb[p * 3 + 1]);
            Assert.Equal(bgra[p * 4], rgb[p * 3 + 2]);
        }
        var back = new byte[pixels * 4];
        PixelValues.RgbToBgra(rgb, back);
        for (int p = 0; p < pixels; p++)
        {
            for (int c = 0; c < 3; c++) Assert.Equal(bgra[p * 4 + c], back[p * 4 + c]);
            Assert.Equal(255, back[p * 4 + 3]);
        }
    }

    [Fact]
    public void Conversions_refuse_mismatched_lengths()
    {
        Assert.Throws<ArgumentException>(() => PixelValues.RgbaToRgb(new byte[16], new byte[11]));
        Assert.Throws<ArgumentException>(() => PixelValues.RgbToRgba(new byte[12], new byte[15]));
        Assert.Throws<ArgumentException>(() => PixelValues.BgraToRgb(new byte[16], new byte[11]));
        Assert.Throws<ArgumentException>(() => PixelValues.RgbToBgra(new byte[12], new byte[15]));
    }
}
