using System.Text;
using VqaApi.Rendering;
using static VqaApi.Rendering.Tests.Fixtures;

namespace VqaApi.Rendering.Tests;

public class UnifontRendererTests
{
    // ---- trimming: a = max(first - 1, 0), b = max(last + 1, a + 4), width = b - a ----------------------------

    [Theory]
    [InlineData('!', 4)]      // 0021 rows 0x08 only -> ink column 4 only: a = 3, b = max(5, 3 + 4) = 7 -> 4
    [InlineData('a', 7)]      // 0061 OR of rows 0x7E -> columns 1..6: a = 0, b = max(7, 4) = 7 -> 7
    [InlineData('i', 6)]      // 0069 OR of rows 0x3E -> columns 2..6: a = 1, b = 7 -> 6
    [InlineData('m', 8)]      // 006D OR of rows 0x7F -> columns 1..7: a = 0, b = 8 -> 8
    [InlineData(' ', 4)]      // blank: first = last = 0: a = 0, b = max(1, 0 + 4) = 4 -> 4
    [InlineData(0xE000, 4)]   // absent from the font: blank glyph -> 4
    [InlineData(0x4E2D, 12)]  // 中, 16 wide: columns 2..12: a = 1, b = 13 -> 12
    [InlineData(0xFFFD, 7)]   // FFFD OR of rows 0x7E -> columns 1..6 -> 7
    [InlineData('\n', 16)]    // 000A is a dashed box: row 0 = AAAA (col 0), row 15 = 5555 (col 15) -> a = 0, b = 16
    public void Trimmed_width_of_single_glyphs(int codePoint, int width)
    {
        var layout = Renderer.Layout(new Rune(codePoint).ToString());
        var p = Assert.Single(layout);
        Assert.Equal(width, p.Width);
        Assert.Equal((0, 0), (p.Line, p.X));
    }

    [Fact]
    public void Trim_formula_edge_cases()
    {
        Assert.Equal((3, 4), UnifontRenderer.Trim(4, 4, 1, 4));
        Assert.Equal((0, 4), UnifontRenderer.Trim(-1, -1, 1, 4));
        // ink only in column 15: a = 14, b = max(16, 18) = 18, but a 16-column glyph slices to [14, 16) -> 2
        Assert.Equal((14, 2), UnifontRenderer.Trim(15, 15, 1, 4));
    }

    [Fact]
    public void Ink_lands_one_column_right_of_the_glyph_origin()
    {
        // '!' has ink in column 4, rows 4..10 and 12..13; trimmed start a = 3 -> canvas x = 1.
        var gray = Gray("!");
        for (int y = 0; y < 16; y++)
        {
            bool inked = y is >= 4 and <= 10 or 12 or 13;
            Assert.Equal(inked ? Ink : Bg, At(gray, 1, y));
            Assert.Equal(Bg, At(gray, 0, y));
            Assert.Equal(Bg, At(gray, 2, y));
        }
        Assert.Equal(7 + 2, gray.Count(v => v == Ink)); // rows 4..10 and 12..13, nothing else
    }

    // ---- wrapping ---------------------------------------------------------------------------------------------

    [Fact]
    public void Forty_ms_wrap_after_26()
    {
        // w = 8 for every 'm'; maxw = 8; div = 224 - 8 = 216; c_i = 8 (i + 1).
        // line = floor(8 (i + 1) / 216): i = 25 -> 208/216 -> 0; i = 26 -> 216/216 -> 1 (a 27th 'm' would have fit
        // in 224 px, but the official rule wraps at div, not at the canvas width).
        var layout = Renderer.Layout(new string('m', 40));
        Assert.Equal(40, layout.Count);
        for (int i = 0; i < 40; i++)
        {
            var expected = i < 26 ? (0, 8 * i) : (1, 8 * (i - 26));
            Assert.Equal(expected, (layout[i].Line, layout[i].X));
        }

        var gray = Gray(new string('m', 40));
        // 'm' rows 7..13 = 0x49 = 0100_1001 -> column 1 inked; a = 0, so glyph k's column 1 is at x = 8k + 1.
        Assert.Equal(Ink, At(gray, 8 * 25 + 1, 10));  // 26th 'm' on line 0
        for (int x = 208; x < 224; x++)
            for (int y = 0; y < 16; y++) Assert.Equal(Bg, At(gray, x, y)); // nothing after it on line 0
        Assert.Equal(Ink, At(gray, 1, 16 + 10));       // 27th 'm' starts line 1 at x = 0
        Assert.Equal(Ink, At(gray, 8 * 13 + 1, 16 + 10)); // 40th = 14th on line 1
        for (int x = 8 * 14; x < 224; x++)
            for (int y = 16; y < 32; y++) Assert.Equal(Bg, At(gray, x, y));
        for (int i = 32 * 224; i < gray.Length; i++) Assert.Equal(Bg, gray[i]);
    }

    [Fact]
    public void Mixed_widths_wrap_by_running_sum_over_224_minus_widest()
    {
        // "中" (w 12) then 40 'i' (w 6): maxw = 12, div = 212; c_0 = 12, c_i = 12 + 6i.
        // line 1 starts at the first i with 12 + 6i >= 212 -> i >= 33.3 -> i = 34 (c = 216).
        // i = 33: c = 210 -> line 0 at x = c - w = 204.
        var text = "中" + new string('i', 40);
        var layout = Renderer.Layout(text);
        Assert.Equal((0, 0, 12), (layout[0].Line, layout[0].X, layout[0].Width));
        Assert.Equal((0, 12), (layout[1].Line, layout[1].X));
        Assert.Equal((0, 204), (layout[33].Line, layout[33].X));
        Assert.Equal((1, 0), (layout[34].Line, layout[34].X));
        Assert.Equal((1, 36), (layout[40].Line, layout[40].X));

        var gray = Gray(text);
        // 中 row 4 = 0x3FF8 -> columns 2..12; a = 1 -> canvas x 1..11.
        Assert.Equal(Bg, At(gray, 0, 4));
        for (int x = 1; x <= 11; x++) Assert.Equal(Ink, At(gray, x, 4));
        Assert.Equal(Bg, At(gray, 12, 4));
        // 'i' row 13 = 0x3E -> columns 2..6; a = 1 -> x + 1 .. x + 5. Index 34 at line 1, x = 0: canvas 1..5, y 29.
        Assert.Equal(Bg, At(gray, 0, 29));
        for (int x = 1; x <= 5; x++) Assert.Equal(Ink, At(gray, x, 29));
        Assert.Equal(Bg, At(gray, 6, 29));
        // index 33 at x = 204: ink 205..209 on y = 13; 210..223 background.
        for (int x = 205; x <= 209; x++) Assert.Equal(Ink, At(gray, x, 13));
        for (int x = 210; x < 224; x++) Assert.Equal(Bg, At(gray, x, 13));
    }

    [Fact]
    public void Characters_past_the_768th_are_dropped()
    {
        // '!' w = 4, maxw = 4, div = 220, c_i = 4 (i + 1). Line 13 holds 2860 <= c < 3080 -> i = 714..768.
        // i = 767 sits at x = 4 (767 - 714) = 212, ink at x 213, rows 4..10 -> y = 13*16 + 4 = 212.
        // i = 768 (the 769th) would sit at x = 216, ink at x = 217: visible if it were kept.
        var gray800 = Gray(new string('!', 800));
        Assert.Equal(Gray(new string('!', 768)), gray800);
        Assert.Equal(Ink, At(gray800, 213, 212));
        Assert.Equal(Bg, At(gray800, 217, 212));

        var stats = Renderer.Measure(new string('!', 800));
        Assert.Equal(new RenderStats(800, 768, 768, 14), stats);
        Assert.True(stats.Truncated);

        // Control: with MaxChars 2000 the 769th '!' appears; i = 769 has c = 3080 -> line 14 -> dropped, so
        // everything from the 770th on is invisible.
        var longer = new UnifontRenderer(Font, new UnifontProfile { MaxChars = 2000 });
        var gray1000 = Gray(longer, new string('!', 1000));
        Assert.Equal(Ink, At(gray1000, 217, 212));
        Assert.Equal(Gray(longer, new string('!', 769)), gray1000);
        Assert.NotEqual(Gray(longer, new string('!', 768)), gray1000);
        Assert.Equal(new RenderStats(1000, 1000, 769, 14), longer.Measure(new string('!', 1000)));
    }

    // ---- text semantics ---------------------------------------------------------------------------------------

    [Fact]
    public void Only_ascii_letters_are_lowercased()
    {
        Assert.Equal(Gray("aÉЖ"), Gray("AÉЖ"));
        Assert.NotEqual(Gray("aéж"), Gray("AÉЖ")); // É (00C9) and Ж (0416) keep their capital glyphs
        var noLower = new UnifontRenderer(Font, new UnifontProfile { Lowercase = false });
        Assert.Equal(Gray(noLower, "aÉЖ"), Gray("AÉЖ"));
        Assert.NotEqual(Gray(noLower, "AÉЖ"), Gray("AÉЖ"));
    }

    [Fact]
    public void Invalid_utf8_renders_as_replacement_glyphs()
    {
        byte[] bad = [(byte)'a', 0xFF, (byte)'b'];
        Assert.Equal(Gray("a\uFFFDb"), Renderer.RenderGray(bad));
    }

    [Fact]
    public void Replacement_count_follows_maximal_subparts_like_python_and_icu()
    {
        // Python: b'\xe0\x80\xaf\xed\xa0\x80\xf4\x90\x80\x80\xc3'.decode('utf-8', 'replace') -> 11 x U+FFFD:
        // E0 80 AF (overlong) 3, ED A0 80 (surrogate) 3, F4 90 80 80 (> U+10FFFF) 4, lone C3 at the end 1.
        byte[] bytes = [0xE0, 0x80, 0xAF, 0xED, 0xA0, 0x80, 0xF4, 0x90, 0x80, 0x80, 0xC3];
        var cps = new int[32];
        int n = UnifontRenderer.DecodeCodePoints(bytes, true, cps);
        Assert.Equal(11, n);
        Assert.All(cps[..n], cp => Assert.Equal(0xFFFD, cp));
        // A truncated but otherwise valid prefix is one subpart: E2 82 (of E2 82 AC '€') then 'A' -> FFFD, 'a'.
        n = UnifontRenderer.DecodeCodePoints([0xE2, 0x82, 0x41], true, cps);
        Assert.Equal([0xFFFD, 'a'], cps[..n]);
    }

    [Fact]
    public void Empty_text_is_all_background()
    {
        var canvas = new float[Renderer.CanvasLength];
        canvas.AsSpan().Fill(float.NaN);
        Renderer.Render(ReadOnlySpan<byte>.Empty, canvas);
        Assert.All(canvas, v => Assert.Equal(-0.0039215684f, v));
        Assert.All(Renderer.RenderGray(""u8), v => Assert.Equal(Bg, v));
        Assert.Equal(new RenderStats(0, 0, 0, 0), Renderer.Measure(""));
    }

    [Fact]
    public void Control_characters_are_drawn_not_obeyed()
    {
        // 000A in Unifont 15.0.01 is a dashed box with "LF" inside, 16 wide (see the width test). So "a\nb" is one
        // line: 'a' at x 0 (w 7), LF at x 7 (w 16), 'b' at x 23.
        var layout = Renderer.Layout("a\nb\t");
        Assert.Equal([(0, 0), (0, 7), (0, 23), (0, 23 + layout[2].Width)], layout.Select(p => (p.Line, p.X)));
        var gray = Gray("a\nb");
        // LF row 0 = AAAA: columns 0, 2, 4, ... inked; trimmed start 0 -> x = 7, 9, 11, ...
        Assert.Equal(Ink, At(gray, 7, 0));
        Assert.Equal(Bg, At(gray, 8, 0));
        Assert.Equal(Ink, At(gray, 9, 0));
        for (int i = 16 * 224; i < gray.Length; i++) Assert.Equal(Bg, gray[i]); // nothing on line 1
    }

    [Fact]
    public void Code_points_missing_from_the_font_are_blank_and_four_wide()
    {
        // 'a' w 7 at x 0; U+E000 (missing) w 4 at x 7; 'b' at x 11. Plane 1 (😀) is absent from the BMP file too.
        foreach (var missing in new[] { "\uE000", "😀" })
        {
            var layout = Renderer.Layout($"a{missing}b");
            Assert.Equal([0, 7, 11], layout.Select(p => p.X));
            Assert.False(layout[1].HasGlyph);
            Assert.Equal(4, layout[1].Width);
            var gray = Gray($"a{missing}b");
            for (int y = 0; y < 16; y++)
                for (int x = 7; x < 12; x++) Assert.Equal(Bg, At(gray, x, y)); // 7..10 missing glyph, 11 = b's blank column 0
        }
    }

    [Fact]
    public void Plane_one_glyph_from_an_upper_file_is_drawn()
    {
        var upper = TempFile("1F600:" + string.Concat(Enumerable.Repeat("7FFE", 16)) + "\n"); // columns 1..14
        try
        {
            var renderer = new UnifontRenderer(UnifontFont.Load(UnifontFont.DefaultPath, upper), new UnifontProfile());
            var layout = renderer.Layout("😀");
            Assert.True(layout[0].HasGlyph);
            Assert.Equal(15, layout[0].Width); // a = 0, b = 15
            var gray = Gray(renderer, "😀");
            Assert.Equal(Bg, At(gray, 0, 0));
            Assert.Equal(Ink, At(gray, 1, 0));
            Assert.Equal(Ink, At(gray, 14, 15));
            Assert.Equal(Bg, At(gray, 15, 15));
        }
        finally { File.Delete(upper); }
    }

    // ---- values and API ---------------------------------------------------------------------------------------

    [Fact]
    public void Ink_and_background_values_are_exact_float32()
    {
        // numpy: np.float32(127) / 255 * 2 - 1 == -0.003921568393707275 (printed -0.0039215684)
        Assert.Equal(BitConverter.SingleToInt32Bits(-0.003921568393707275f), BitConverter.SingleToInt32Bits(PixelValues.Normalize(127)));
        Assert.Equal(-1.0f, PixelValues.Normalize(0));
        Assert.Equal(1.0f, PixelValues.Normalize(255));

        var canvas = new float[Renderer.CanvasLength];
        Renderer.Render("!", canvas);
        int ink = (4 * 224 + 1) * 3;   // '!' ink at (x 1, y 4)
        int bg = (4 * 224 + 0) * 3;
        Assert.Equal([-1f, -1f, -1f], canvas[ink..(ink + 3)]);
        Assert.Equal([-0.0039215684f, -0.0039215684f, -0.0039215684f], canvas[bg..(bg + 3)]);
    }

    [Fact]
    public void Float_canvas_is_the_gray_canvas_through_the_lookup_table()
    {
        var text = "The quick brown fox — Быстрая лиса 中文 😀 " + new string('x', 600);
        var gray = Gray(text);
        var canvas = new float[Renderer.CanvasLength];
        Renderer.Render(Encoding.UTF8.GetBytes(text), canvas);
        for (int i = 0; i < gray.Length; i++)
            for (int c = 0; c < 3; c++) Assert.Equal(PixelValues.Normalize(gray[i]), canvas[i * 3 + c]);
    }

    [Fact]
    public void String_overload_equals_utf8_overload_and_replaces_lone_surrogates()
    {
        var a = new float[Renderer.CanvasLength];
        var b = new float[Renderer.CanvasLength];
        Renderer.Render("Hello, 世界 😀", a);
        Renderer.Render(Encoding.UTF8.GetBytes("Hello, 世界 😀"), b);
        Assert.Equal(a, b);
        Renderer.Render("a\uD800b", a);
        Renderer.Render("a\uFFFDb"u8, b);
        Assert.Equal(a, b);
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new UnifontRenderer(Font, new UnifontProfile { FontSize = 24 }));
        Assert.Throws<ArgumentException>(() => Renderer.Render("x", new float[10]));
        Assert.Throws<ArgumentException>(() => Renderer.RenderGray("x"u8, new byte[10]));
    }

    [Fact]
    public void Profile_defaults_are_the_official_configuration()
    {
        var p = new UnifontProfile();
        Assert.Equal((224, 16, 768, (byte)127, (byte)0, true, 1, 4),
            (p.ImageSize, p.FontSize, p.MaxChars, p.Background, p.Ink, p.Lowercase, p.Spacing, p.MinWidth));
    }

    [Theory]
    [InlineData("")]
    [InlineData("short text")]
    [InlineData("a text long enough to wrap onto a second line of the canvas, and then some more words")]
    public void Render_reports_the_same_stats_as_Measure(string text)
    {
        var renderer = new UnifontRenderer(Font, new UnifontProfile { ImageSize = 64, MaxChars = 40 });
        var stats = renderer.Render(text, new float[renderer.CanvasLength]);
        Assert.Equal(renderer.Measure(text), stats);
        Assert.Equal(renderer.Measure(Encoding.UTF8.GetBytes(text)), renderer.Render(Encoding.UTF8.GetBytes(text), new float[renderer.CanvasLength]));
    }
}
