using VqaApi.Rendering;
using static VqaApi.Rendering.Tests.Fixtures;

namespace VqaApi.Rendering.Tests;

public class CanvasPngTests
{
    /// <summary>Where the rendered samples go, for a person to look at: bin/.../rendered/*.png.</summary>
    private static readonly string OutDir = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "rendered")).FullName;

    [Theory]
    [InlineData("hello", "Hello World! This is CLIPPO: ONE tower, pixels only. The quick brown fox jumps over the lazy dog 0123456789.")]
    [InlineData("mixed", "AÉЖ ÉCOLE Жук 中文字 😀 tab\there newline\nhere and a very long wordwithoutanyspacesthatwrapsanywhereitlikes.")]
    [InlineData("wrap", "mmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmmm")]
    public void Float_canvas_exports_to_a_png_that_decodes_back_to_the_gray_canvas(string name, string text)
    {
        var canvas = new float[Renderer.CanvasLength];
        Renderer.Render(text, canvas);
        var png = CanvasPng.Encode(canvas, Size, Size);
        File.WriteAllBytes(Path.Combine(OutDir, $"{name}.png"), png);

        var decoded = ImageDecoder.Decode(png, new ImageLimits());
        var gray = Gray(text);
        Assert.Equal((Size, Size), (decoded.Width, decoded.Height));
        for (int i = 0; i < gray.Length; i++)
        {
            Assert.Equal(gray[i], decoded.Rgb[i * 3]);
            Assert.Equal(gray[i], decoded.Rgb[i * 3 + 2]);
        }
    }

    [Fact]
    public void Gray_export_round_trips()
    {
        var gray = Gray("gray png");
        var png = CanvasPng.EncodeGray(gray, Size);
        File.WriteAllBytes(Path.Combine(OutDir, "gray.png"), png);
        var decoded = ImageDecoder.Decode(png, new ImageLimits());
        Assert.Equal(gray, Enumerable.Range(0, gray.Length).Select(i => decoded.Rgb[i * 3]));
    }

    [Fact]
    public void Denormalize_inverts_normalize_and_clamps()
    {
        for (int v = 0; v < 256; v++) Assert.Equal(v, PixelValues.Denormalize(PixelValues.Normalize((byte)v)));
        Assert.Equal(0, PixelValues.Denormalize(-3f));
        Assert.Equal(255, PixelValues.Denormalize(7f));
        Assert.Equal(0, PixelValues.Denormalize(float.NaN));
        Assert.Throws<ArgumentException>(() => CanvasPng.Encode(new float[5], 2, 2));
    }
}
