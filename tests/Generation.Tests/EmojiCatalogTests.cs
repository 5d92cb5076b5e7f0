using System.Text;
using SkiaSharp;

namespace VqaApi.Generation.Tests;

public class EmojiCatalogTests
{
    [Fact]
    public void DefaultCatalogueLoadsWithAtLeast120Emoji()
    {
        var c = EmojiCatalog.Default;
        Assert.True(c.Items.Count >= 120, $"only {c.Items.Count} emoji");
        Assert.Same(c, EmojiCatalog.Default);
        Assert.Equal(c.Items.Count, c.Items.Select(i => i.Text).Distinct().Count());
    }

    [Fact]
    public void EveryEmojiHasAllCoreNames()
    {
        var c = EmojiCatalog.Default;
        foreach (var e in c.Items)
            foreach (var l in EmojiCatalog.CoreLanguages)
                Assert.False(string.IsNullOrWhiteSpace(e.NameIn(l)), $"{e.Text} has no {l} name");
        foreach (var l in EmojiCatalog.CoreLanguages) Assert.Contains(l, c.Languages);
        Assert.True(c.Languages.Count >= 50, $"only {c.Languages.Count} complete languages");
        Assert.Equal("dog", c.Items.Single(i => i.Text == "🐕").Names["en"]);
        Assert.Equal("Hund", c.Items.Single(i => i.Text == "🐕").Names["de"]);
    }

    [Fact]
    public void NoFlagsSkinTonesOrZwjSequences()
    {
        foreach (var e in EmojiCatalog.Default.Items)
        {
            var runes = e.Text.EnumerateRunes().ToArray();
            Assert.InRange(runes.Length, 1, 2);
            if (runes.Length == 2) Assert.Equal(0xFE0F, runes[1].Value);
            Assert.DoesNotContain(runes, r => r.Value == 0x200D || r.Value is >= 0x1F1E6 and <= 0x1F1FF || r.Value is >= 0x1F3FB and <= 0x1F3FF);
        }
    }

    [Fact]
    public void EveryEmojiRendersInNotoColorEmoji()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "fonts", "NotoColorEmoji.ttf");
        using var face = SKTypeface.FromFile(path);
        Assert.NotNull(face);
        using var font = new SKFont(face, 48);
        using var bitmap = new SKBitmap(new SKImageInfo(64, 64, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(bitmap);
        using var paint = new SKPaint();
        var missing = new List<string>();
        foreach (var e in EmojiCatalog.Default.Items)
        {
            var baseText = e.Text.Replace("\uFE0F", "", StringComparison.Ordinal);
            var glyphs = font.GetGlyphs(baseText);
            if (glyphs.Length != 1 || glyphs[0] == 0) { missing.Add($"{e.Text} (no glyph)"); continue; }
            canvas.Clear(SKColors.Transparent);
            canvas.DrawText(baseText, 4, 52, font, paint);
            canvas.Flush();
            var painted = 0;
            var px = bitmap.GetPixelSpan();
            for (var i = 3; i < px.Length; i += 4) if (px[i] != 0) painted++;
            if (painted < 50) missing.Add($"{e.Text} (blank: {painted} px)");
        }
        Assert.True(missing.Count == 0, "not rendered: " + string.Join(", ", missing));
    }

    [Fact]
    public void LoadReportsClearErrors()
    {
        var dir = Directory.CreateTempSubdirectory("emoji-test");
        try
        {
            var missing = Path.Combine(dir.FullName, "nope.json");
            var ex1 = Assert.Throws<FileNotFoundException>(() => EmojiCatalog.Load(missing));
            Assert.Contains("nope.json", ex1.Message);

            var bad = Path.Combine(dir.FullName, "bad.json");
            File.WriteAllText(bad, "{ \"items\": [ {\"text\": \"🐕\"} ] }", Encoding.UTF8);
            var ex2 = Assert.Throws<InvalidDataException>(() => EmojiCatalog.Load(bad));
            Assert.Contains("item 0", ex2.Message);
            Assert.Contains("names", ex2.Message);

            File.WriteAllText(bad, "{ not json", Encoding.UTF8);
            Assert.Throws<InvalidDataException>(() => EmojiCatalog.Load(bad));

            var ok = Path.Combine(dir.FullName, "ok.json");
            File.WriteAllText(ok, "{ \"items\": [ {\"text\": \"🐕\", \"names\": {\"en\": \"dog\", \"de\": \"Hund\"}}, {\"text\": \"🐈\", \"names\": {\"en\": \"cat\"}} ] }", Encoding.UTF8);
            var c = EmojiCatalog.Load(ok);
            Assert.Equal(2, c.Items.Count);
            Assert.Equal(["en"], c.Languages);
            Assert.Equal([0], c.IndexesNamedIn("de"));
        }
        finally { dir.Delete(true); }
    }
}
