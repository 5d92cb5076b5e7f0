using System.Text;
using SkiaSharp;
using VqaApi.Rendering;
using VqaApi.Rendering.Shaped;

namespace VqaApi.Cli;

/// <summary>The canvases shown in the README: one sentence per language, each layout, shaped and official.</summary>
public static class Gallery
{
    public static readonly (string Code, string Language, string Text)[] Sentences =
    [
        ("en", "English", "Three red circles and a blue square."),
        ("de", "German", "Drei rote Kreise und ein blaues Quadrat."),
        ("fr", "French", "Trois cercles rouges et un carré bleu."),
        ("es", "Spanish", "Tres círculos rojos y un cuadrado azul."),
        ("ru", "Russian", "Три красных круга и синий квадрат."),
        ("el", "Greek", "Τρεις κόκκινοι κύκλοι και ένα μπλε τετράγωνο."),
        ("ar", "Arabic", "ثلاث دوائر حمراء ومربع أزرق."),
        ("he", "Hebrew", "שלושה עיגולים אדומים וריבוע כחול."),
        ("hi", "Hindi", "तीन लाल वृत्त और एक नीला वर्ग।"),
        ("bn", "Bengali", "তিনটি লাল বৃত্ত এবং একটি নীল বর্গ।"),
        ("ta", "Tamil", "மூன்று சிவப்பு வட்டங்கள் மற்றும் ஒரு நீல சதுரம்."),
        ("th", "Thai", "วงกลมสีแดงสามวงและสี่เหลี่ยมสีน้ำเงินหนึ่งรูป"),
        ("ka", "Georgian", "სამი წითელი წრე და ერთი ლურჯი კვადრატი."),
        ("hy", "Armenian", "Երեք կարմիր շրջան և մեկ կապույտ քառակուսի։"),
        ("am", "Amharic", "ሦስት ቀይ ክቦች እና አንድ ሰማያዊ ካሬ።"),
        ("zh", "Chinese", "三个红色的圆和一个蓝色的正方形。"),
        ("ja", "Japanese", "赤い円が三つと青い四角が一つ。"),
        ("ko", "Korean", "빨간 원 세 개와 파란 사각형 하나."),
        ("mixed", "Mixed direction", "The word שלום means peace; 123 مرحبا 456"),
        ("emoji", "Emoji", "🔴🔴🔴 + 🟦 = 👍🏽 👨‍👩‍👧"),
    ];

    public static int Write(string directory)
    {
        Directory.CreateDirectory(directory);
        var shaped = new ShapedRenderer(new ShapedProfile());
        var official = new UnifontRenderer(UnifontFont.Default, new UnifontProfile());
        var index = new StringBuilder("# Gallery\n\nWritten by `dotnet run --project Cli -- gallery`. Left: the shaped renderer (profile `shaped-224`); right: the official CLIPPO unifont renderer, which draws one glyph per code point (no joining, no bidi, no conjuncts).\n\n| language | shaped | official unifont |\n|---|---|---|\n");
        int count = 0;
        foreach (var (code, language, text) in Sentences)
        {
            File.WriteAllBytes(Path.Combine(directory, $"text-{code}.png"), shaped.RenderText(text).ToPng());
            File.WriteAllBytes(Path.Combine(directory, $"unifont-{code}.png"), CanvasPng.EncodeGray(official.RenderGray(text), 224));
            index.Append($"| {language} | ![{code}](text-{code}.png) | ![{code} unifont](unifont-{code}.png) |\n");
            count += 2;
        }
        var pairs = new[] { ("pair-en-fr", "A man is playing a guitar.", "Un homme joue de la guitare."), ("pair-ar-en", "رجل يعزف على الغيتار", "A woman is reading a book."), ("pair-zh-hi", "一只猫坐在垫子上。", "बिल्ली चटाई पर बैठी है।") };
        index.Append("\n## Pair layout\n\n");
        foreach (var (name, a, b) in pairs)
        {
            File.WriteAllBytes(Path.Combine(directory, name + ".png"), shaped.RenderPair(a, b).ToPng());
            index.Append($"![{name}]({name}.png) ");
            count++;
        }
        var scene = Scene();
        var questions = new[] { ("vqa-en", "How many red circles are there?"), ("vqa-ar", "كم عدد الدوائر الحمراء؟"), ("vqa-ja", "赤い円はいくつありますか？") };
        index.Append("\n\n## VQA layout (question band above the image, aspect ratio kept)\n\n");
        foreach (var (name, q) in questions)
        {
            File.WriteAllBytes(Path.Combine(directory, name + ".png"), shaped.RenderVqa(q, scene).ToPng());
            index.Append($"![{name}]({name}.png) ");
            count++;
        }
        File.WriteAllText(Path.Combine(directory, "index.md"), index.Append('\n').ToString());
        return count;
    }

    /// <summary>A small scene to ask about: three red circles and a blue square on a light background.</summary>
    private static DecodedImage Scene()
    {
        const int w = 320, h = 200;
        using var bitmap = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bitmap))
        using (var red = new SKPaint { Color = new SKColor(220, 40, 40), IsAntialias = true })
        using (var blue = new SKPaint { Color = new SKColor(40, 80, 220), IsAntialias = true })
        {
            canvas.Clear(new SKColor(235, 235, 225));
            canvas.DrawCircle(60, 60, 30, red);
            canvas.DrawCircle(150, 140, 30, red);
            canvas.DrawCircle(250, 60, 30, red);
            canvas.DrawRect(210, 120, 70, 60, blue);
        }
        var rgb = new byte[w * h * 3];
        PixelValues.RgbaToRgb(bitmap.GetPixelSpan(), rgb);
        return new DecodedImage(w, h, rgb, "png", 1);
    }
}
