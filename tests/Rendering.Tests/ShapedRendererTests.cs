using System.Security.Cryptography;
using VqaApi.Rendering.Shaped;

namespace VqaApi.Rendering.Tests;

/// <summary>Shaping, bidi, fallback and line breaking proved by properties of the result, per script.</summary>
public class ShapedRendererTests
{
    private static readonly FontCatalog Fonts = FontCatalog.Default;
    private static readonly ShapedRenderer Renderer = new(new ShapedProfile());

    private static ShapedRun SingleRun(string text)
    {
        var p = ShapedParagraph.Shape(text, Fonts);
        Assert.Single(p.Runs);
        return p.Runs[0];
    }

    [Fact]
    public void Arabic_letters_join()
    {
        const string word = "بيت"; // beh, yeh, teh: initial, medial, final forms when joined
        var joined = SingleRun(word);
        Assert.Equal("Noto Sans Arabic", joined.Font.Name);
        var isolated = word.Select(c => SingleRun(c.ToString())).ToList();
        var joinedIds = joined.Glyphs.Select(g => g.Id).OrderBy(i => i).ToArray();
        var isolatedIds = isolated.Select(r => r.Glyphs.Single().Id).OrderBy(i => i).ToArray();
        Assert.Equal(3, joinedIds.Length);
        Assert.NotEqual(isolatedIds, joinedIds);
        Assert.All(joinedIds, id => Assert.DoesNotContain(id, isolatedIds)); // every letter took a contextual form
        float joinedAdvance = joined.Glyphs.Sum(g => g.Advance), isolatedAdvance = isolated.Sum(r => r.Glyphs.Sum(g => g.Advance));
        Assert.NotEqual(isolatedAdvance, joinedAdvance, 3);
        Assert.True(joined.RightToLeft);
    }

    [Fact]
    public void Devanagari_conjunct_is_one_glyph()
    {
        var run = SingleRun("क्ष"); // KA + VIRAMA + SSA -> the KSSA conjunct
        Assert.Equal("Noto Sans Devanagari", run.Font.Name);
        Assert.Single(run.Glyphs);
        Assert.NotEqual(0, run.Glyphs[0].Id);
    }

    [Fact]
    public void Latin_ffi_ligature()
    {
        var run = SingleRun("ffi");
        Assert.Equal("Noto Sans", run.Font.Name);
        Assert.Single(run.Glyphs);
    }

    [Theory]
    [InlineData("שלום עולם")]
    [InlineData("مرحبا بالعالم")]
    public void Hebrew_and_Arabic_lines_are_aligned_right(string text)
    {
        var placed = Renderer.LayoutText(text);
        float left = placed.Min(p => p.Positions.Min(pt => pt.X));
        float right = placed.Max(p => p.Positions.Zip(p.Glyphs, (pt, g) => pt.X + g.Advance * 22).Max());
        Assert.True(right > 224 - 8 - 1.5, $"line ends at {right}, not at the right margin");
        Assert.True(left > 40, $"line starts at {left}: left-aligned?");
        var canvas = Renderer.RenderText(text);
        Assert.True(canvas.Report.Blocks[0].RightToLeft);
    }

    [Fact]
    public void Mixed_direction_text_is_in_visual_order()
    {
        const string text = "abc 123 שלום";
        var placed = Renderer.LayoutText(text);
        // x of the glyph whose cluster starts at a logical index.
        float X(int index) => placed.SelectMany(p => p.Glyphs.Zip(p.Positions)).First(t => t.First.Cluster == index).Second.X;
        Assert.True(X(0) < X(4), "abc before 123");
        Assert.True(X(4) < X(5) && X(5) < X(6), "digits left to right");
        int shin = text.IndexOf('ש'), mem = text.IndexOf('ם');
        Assert.True(X(6) < X(mem), "hebrew after the digits");
        Assert.True(X(mem) < X(shin), "hebrew right to left: the first letter is rightmost");
        Assert.False(Renderer.RenderText(text).Report.Blocks[0].RightToLeft); // the first strong character is Latin
    }

    [Fact]
    public void Thai_wraps_between_words_without_spaces()
    {
        const string text = "สวัสดีครับวันนี้อากาศดีมากเราไปเที่ยวทะเลกันเถอะ"; // no spaces at all
        var p = ShapedParagraph.Shape(text, Fonts);
        // ICU's dictionary finds word boundaries inside the unspaced run...
        Assert.Contains(text.IndexOf("ครับ"), p.BreakOpportunities);
        Assert.Contains(text.IndexOf("ทะเล"), p.BreakOpportunities);
        // ...and none inside a word.
        int inside = text.IndexOf("สวัสดี") + 3;
        Assert.DoesNotContain(inside, p.BreakOpportunities);
        var lines = Renderer.LayoutText(text).Select(r => r.Line).Distinct().Count();
        Assert.True(lines >= 2, "the sentence needs more than one line at 22 px");
        Assert.All(LineStarts(text), start => Assert.Contains(start, p.BreakOpportunities));
    }

    [Fact]
    public void Break_rules_ship_with_the_application_not_the_machine()
    {
        // ICU releases disagree here: ICU 60's rules (ICU4N, pinned in the package) allow a break after a hyphen
        // that opens a word, the ICU 72 of Debian 12 does not. Taking rules from the machine's ICU would make the
        // same text wrap differently on two machines; this fails if they ever come from there again.
        const string text = "JPEG 2000 -kuvamuoto";
        var p = ShapedParagraph.Shape(text, Fonts);
        Assert.Equal([0, 5, 10, 11, 20], p.BreakOpportunities);
    }

    [Fact]
    public void Chinese_wraps_per_character()
    {
        const string text = "你好世界这是一个很长的中文句子用来测试按字符换行的效果";
        var p = ShapedParagraph.Shape(text, Fonts);
        for (int i = 1; i < text.Length; i++) Assert.Contains(i, p.BreakOpportunities);
        var starts = LineStarts(text);
        Assert.True(starts.Count >= 3);
        // Lines are full: each line but the last holds the same number of ideographs (all have one advance).
        var lengths = starts.Zip(starts.Skip(1), (a, b) => b - a).ToList();
        Assert.All(lengths, l => Assert.Equal(lengths[0], l));
    }

    private static List<int> LineStarts(string text)
    {
        var placed = Renderer.LayoutText(text);
        return placed.GroupBy(r => r.Line).Select(g => g.SelectMany(r => r.Glyphs).Min(gl => gl.Cluster)).OrderBy(i => i).ToList();
    }

    [Fact]
    public void Emoji_are_drawn_in_colour()
    {
        var canvas = Renderer.RenderText("🍕");
        Assert.Contains("Noto Color Emoji", canvas.Report.Blocks[0].FontsUsed);
        int coloured = 0;
        for (int i = 0; i < canvas.Rgb.Length; i += 3)
        {
            int r = canvas.Rgb[i], g = canvas.Rgb[i + 1], b = canvas.Rgb[i + 2];
            if (Math.Max(r, Math.Max(g, b)) - Math.Min(r, Math.Min(g, b)) > 60) coloured++;
        }
        Assert.True(coloured > 50, $"{coloured} saturated pixels");
        // Text is black on white: no colour at all.
        var plain = Renderer.RenderText("pizza");
        for (int i = 0; i < plain.Rgb.Length; i += 3) Assert.True(plain.Rgb[i] == plain.Rgb[i + 1] && plain.Rgb[i + 1] == plain.Rgb[i + 2]);
    }

    public static TheoryData<string, string> Scripts => new()
    {
        { "en", "The quick brown fox jumps over the lazy dog" },
        { "de", "Größere Äpfel schmecken süß" },
        { "el", "Γειά σου κόσμε" },
        { "ru", "Съешь же ещё этих мягких французских булок" },
        { "ar", "مرحبا بالعالم" },
        { "he", "שלום עולם" },
        { "hi", "नमस्ते दुनिया" },
        { "bn", "আমার সোনার বাংলা" },
        { "ta", "வணக்கம் உலகம்" },
        { "th", "สวัสดีชาวโลก" },
        { "ka", "გამარჯობა მსოფლიო" },
        { "hy", "Բարեւ աշխարհ" },
        { "am", "ሰላም ልዑል" },
        { "zh", "你好，世界" },
        { "ja", "こんにちは世界、カタカナ" },
        { "ko", "안녕하세요 세계" },
        { "emoji", "👍🏽 👨‍👩‍👧 🇫🇷 1️⃣" },
    };

    [Theory]
    [MemberData(nameof(Scripts))]
    public void No_notdef_glyph_for_any_supported_script(string language, string text)
    {
        var p = ShapedParagraph.Shape(text, Fonts);
        Assert.All(p.Runs.SelectMany(r => r.Glyphs), g => Assert.True(g.Id != 0, $"{language}: .notdef drawn"));
        Assert.Empty(p.MissingCodePoints);
        Assert.Empty(p.LastResortCodePoints);
    }

    [Fact]
    public void Code_points_no_font_covers_are_reported_not_dropped()
    {
        var canvas = Renderer.RenderText("a\U000E0100b \uE000 \U00016A40"); // private use, Mro (not in any Noto font here)
        var block = canvas.Report.Blocks[0];
        Assert.Contains(0xE000, block.MissingCodePoints.Concat(block.LastResortCodePoints));
        Assert.Contains(0x16A40, block.MissingCodePoints.Concat(block.LastResortCodePoints));
        Assert.Equal(block.CodePoints - 0, block.CodePointsDrawn); // nothing silently dropped
    }

    [Fact]
    public void Newline_breaks_tab_is_space_controls_are_removed()
    {
        Assert.Equal("a b\nc", TextCleaner.Clean("a\tb\r\nc\u0007\u202E", 100, out _, out _));
        Assert.Equal("\u00E9", TextCleaner.Clean("e\u0301", 100, out _, out _)); // NFC: e + combining acute -> é
        // NFC beyond Latin, from ICU4N's data: Hangul jamo compose to a syllable; Devanagari QA (a composition
        // exclusion) decomposes to KA + NUKTA and stays so.
        Assert.Equal("\uAC00", TextCleaner.Clean("\u1100\u1161", 100, out _, out _));
        Assert.Equal("\u0915\u093C", TextCleaner.Clean("\u0958", 100, out _, out _));
        var canvas = Renderer.RenderText("first\nsecond");
        Assert.Equal(2, canvas.Report.Blocks[0].Lines);
    }

    [Fact]
    public void Shrink_policy_fits_long_text_and_fixed_policy_cuts_it()
    {
        var text = string.Join(' ', Enumerable.Repeat("multilingual pixels", 20));
        var shrink = Renderer.RenderText(text).Report.Blocks[0];
        Assert.True(shrink.FontSize < 22 && shrink.FontSize >= 10);
        Assert.False(shrink.Truncated);
        var fixedRenderer = new ShapedRenderer(new ShapedProfile { Text = new TextStyle { SizePolicy = FontSizePolicy.Fixed } });
        var cut = fixedRenderer.RenderText(text).Report.Blocks[0];
        Assert.Equal(22, cut.FontSize);
        Assert.True(cut.Truncated);
        Assert.Equal(cut.CodePoints - cut.CodePointsDrawn, cut.CodePointsNotFitted);
    }

    [Fact]
    public void Pair_and_vqa_layouts_draw_both_parts()
    {
        var pair = Renderer.RenderPair("A man plays a guitar.", "رجل يعزف على الغيتار");
        Assert.Equal(2, pair.Report.Blocks.Count);
        Assert.Equal(pair.Report.Blocks[0].FontSize, pair.Report.Blocks[1].FontSize);
        Assert.True(pair.Report.Blocks[1].RightToLeft);
        // The separator: a grey row across the middle.
        int mid = 111 * 224 * 3 + 112 * 3;
        Assert.Equal(0x80, pair.Rgb[mid]);

        var image = new DecodedImage(10, 10, Enumerable.Repeat((byte)200, 300).ToArray(), "png", 1);
        var vqa = Renderer.RenderVqa("What colour is the square?", image);
        Assert.Single(vqa.Report.Blocks);
        // The bottom of the canvas is the (grey 200) image, the top the white band with the question.
        Assert.Equal(200, vqa.Rgb[(220 * 224 + 112) * 3]);
        Assert.Equal(255, vqa.Rgb[(2 * 224 + 2) * 3]);
    }

    public static readonly string[] Corpus =
        Scripts.Select(row => (string)row[1]).Concat(["abc 123 שלום", "क्षत्रिय संस्कृत", "office ffi", "🍕 pizza"]).ToArray();

    [Fact]
    public void Rendering_is_deterministic_across_threads()
    {
        string Hash(ShapedCanvas c) => Convert.ToHexString(SHA256.HashData(c.Rgb));
        var sequential = Corpus.Select(t => Hash(Renderer.RenderText(t))).ToArray();
        var parallel = new string[Corpus.Length * 8];
        Parallel.For(0, parallel.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            i => parallel[i] = Hash(new ShapedRenderer(new ShapedProfile()).RenderText(Corpus[i % Corpus.Length])));
        for (int i = 0; i < parallel.Length; i++) Assert.Equal(sequential[i % Corpus.Length], parallel[i]);
        Assert.Equal(Corpus.Length, sequential.Distinct().Count());
    }

    [Fact]
    public void Hostile_text_returns_promptly_with_a_report()
    {
        var megabyte = new string('x', 1_000_000);
        var report = Renderer.RenderText(megabyte).Report.Blocks[0];
        Assert.Equal(1_000_000, report.CodePoints);
        Assert.True(report.Truncated);

        Assert.Equal(0, Renderer.RenderText("\u200B\u200C\u200D\u2060").Report.Blocks[0].Lines - 1); // one empty-looking line
        Assert.True(Renderer.RenderText("a" + new string('\u0301', 10_000)).Report.Blocks[0].CodePoints == 10_001);
        var nested = string.Concat(Enumerable.Repeat("\u202B\u202D\u2067", 300)) + "abc" + string.Concat(Enumerable.Repeat("\u202C\u2069", 300));
        Assert.Equal(3, Renderer.RenderText(nested).Report.Blocks[0].CodePointsDrawn);
        var surrogates = Renderer.RenderText("a\uD800b\uDC00c").Report.Blocks[0];
        Assert.Equal(5, surrogates.CodePointsDrawn); // lone surrogates become U+FFFD, drawn
    }
}
