using VqaApi.Rendering;
using static VqaApi.Rendering.Tests.Fixtures;

namespace VqaApi.Rendering.Tests;

public class UnifontFontTests
{
    [Fact]
    public void Default_font_is_the_vendored_unifont_15_bmp_file()
    {
        Assert.True(File.Exists(UnifontFont.DefaultPath));
        Assert.Equal("unifont.hex", Font.Description);
        Assert.Equal(57086, Font.GlyphCount); // `grep -c . fonts/unifont.hex`
        Assert.True(Font.Contains('a'));
        Assert.False(Font.Contains(0xE000));  // private use: not in the file
        Assert.False(Font.Contains(0x1F600)); // BMP-only file
    }

    [Fact]
    public void Eight_wide_glyph_sits_in_the_left_eight_columns()
    {
        // 0061:0000000000003C42023E4242463A0000 -> row 6 = 0x3C -> 0x3C00
        Assert.True(Font.TryGetGlyph('a', out var rows));
        Assert.Equal(RowsFromHex("0000000000003C42023E4242463A0000"), rows.ToArray());
        Assert.Equal((ushort)0x3C00, rows[6]);
        Assert.Equal((1, 6), Font.InkColumns('a')); // OR of rows = 0x7E = 0111_1110 -> columns 1..6
    }

    [Fact]
    public void Sixteen_wide_glyph_keeps_all_sixteen_columns()
    {
        // 4E2D (中): OR of rows = 0x0100 | 0x3FF8 | 0x2108 = 0x3FF8 = 0011_1111_1111_1000 -> columns 2..12
        Assert.True(Font.TryGetGlyph(0x4E2D, out var rows));
        Assert.Equal(RowsFromHex("01000100010001003FF8210821082108210821083FF821080100010001000100"), rows.ToArray());
        Assert.Equal((2, 12), Font.InkColumns(0x4E2D));
    }

    [Fact]
    public void Blank_and_missing_glyphs_have_no_ink()
    {
        Assert.Equal((-1, -1), Font.InkColumns(' '));
        Assert.Equal((-1, -1), Font.InkColumns(0xE000));
        Assert.False(Font.TryGetGlyph(0xE000, out _));
    }

    [Fact]
    public void Later_file_adds_plane_one_glyphs_and_overrides_earlier_ones()
    {
        var upper = TempFile(
            "# a user-supplied \"upper\" file\n" +
            "\n" +
            "1F600:" + string.Concat(Enumerable.Repeat("FFFF", 16)) + "\n" +  // a full black 16x16 square
            "0061:FF00FF00FF00FF00FF00FF00FF00FF00\n");                     // 'a' replaced by stripes
        try
        {
            var merged = UnifontFont.Load(UnifontFont.DefaultPath, upper);
            Assert.Equal(Font.GlyphCount + 1, merged.GlyphCount);
            Assert.Equal($"unifont.hex + {Path.GetFileName(upper)}", merged.Description);
            Assert.True(merged.TryGetGlyph(0x1F600, out var smile));
            Assert.All(smile.ToArray(), r => Assert.Equal(0xFFFF, r));
            Assert.True(merged.TryGetGlyph('a', out var a));
            Assert.Equal((ushort)0xFF00, a[0]);
            Assert.Equal((ushort)0x0000, a[1]);
            Assert.True(merged.TryGetGlyph('b', out _)); // untouched glyphs remain
        }
        finally { File.Delete(upper); }
    }

    [Theory]
    [InlineData("0041:0000000018242442427E42424242\n", 1)]                 // 28 digits
    [InlineData("0041:0000000018242442427E424242420000\n0042 nothing\n", 2)] // no colon
    [InlineData("\n# comment\nZZ41:0000000018242442427E424242420000\n", 3)] // bad code point
    [InlineData("0041:00000000182424G2427E424242420000\n", 1)]             // not hex
    [InlineData("110000:0000000018242442427E424242420000\n", 1)]           // beyond U+10FFFF
    public void Malformed_line_names_file_and_line(string contents, int badLine)
    {
        var path = TempFile(contents);
        try
        {
            var e = Assert.Throws<FormatException>(() => UnifontFont.Load(path));
            Assert.Contains($"{Path.GetFileName(path)} line {badLine}:", e.Message);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void Missing_file_is_reported()
    {
        Assert.Throws<FileNotFoundException>(() => UnifontFont.Load("/nonexistent/unifont.hex"));
        Assert.Throws<ArgumentException>(() => UnifontFont.Load());
    }

    [Fact]
    public void Fonts_folder_is_copied_next_to_the_assembly()
    {
        var fonts = Path.Combine(AppContext.BaseDirectory, "fonts");
        Assert.True(File.Exists(Path.Combine(fonts, "unifont.hex")));
        Assert.True(File.Exists(Path.Combine(fonts, "LICENSE-unifont.txt")));
    }
}
