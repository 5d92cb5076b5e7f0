using System.Text;
using HarfBuzzSharp;
using System.Globalization;
using Breaks = ICU4N.Text.BreakIterator;
using Buffer = HarfBuzzSharp.Buffer;

namespace VqaApi.Rendering.Shaped;

/// <summary>A glyph placed by HarfBuzz, in em units (size-independent).</summary>
public readonly record struct ShapedGlyph(ushort Id, int Cluster, float Advance, float OffsetX, float OffsetY);

/// <summary>A run of one font, one script and one bidi level, shaped; glyphs are in visual (left-to-right) order.</summary>
public sealed record ShapedRun(int Start, int End, FontFace Font, int Level, ShapedGlyph[] Glyphs)
{
    public bool RightToLeft => (Level & 1) == 1;
}

/// <summary>
/// One paragraph (no line breaks inside), fully shaped: bidi levels (UAX #9, <see cref="BidiLevels"/>), grapheme
/// clusters, font fallback per cluster, runs split by level, script and font, HarfBuzz shaping per run, advances per
/// UTF-16 index and the UAX #14 line-break opportunities (dictionary breaks for Thai, every ideograph in CJK).
/// Nothing here comes from the machine's ICU: grapheme clusters and line breaks come from ICU4N, whose rules and
/// dictionaries ship inside the NuGet package (ICU 60 and 72 disagree on 6% of the generator's sentences, so taking
/// them from the machine would make the same text render differently on two machines), and bidi levels from our
/// own UAX #9 over ICU4N's character data, checked to give the levels ICU 72 gave.
/// </summary>
public sealed class ShapedParagraph
{
    public required string Text { get; init; }
    public required byte ParagraphLevel { get; init; }
    public required byte[] Levels { get; init; }
    public required IReadOnlyList<ShapedRun> Runs { get; init; }
    /// <summary>Advance (em) credited to each UTF-16 index: a cluster's glyphs count at its first index.</summary>
    public required float[] Advances { get; init; }
    /// <summary>Allowed line-break positions, ascending, including 0 and Text.Length.</summary>
    public required int[] BreakOpportunities { get; init; }
    /// <summary>Grapheme cluster boundaries, ascending, including 0 and Text.Length.</summary>
    public required int[] Clusters { get; init; }
    public required HashSet<int> LastResortCodePoints { get; init; }
    public required HashSet<int> MissingCodePoints { get; init; }

    public bool RightToLeft => (ParagraphLevel & 1) == 1;

    [ThreadStatic] private static Breaks? _lineBreaks;
    [ThreadStatic] private static Breaks? _graphemes;

    public static ShapedParagraph Shape(string text, FontCatalog fonts)
    {
        var graphemes = _graphemes ??= Breaks.GetCharacterInstance(CultureInfo.InvariantCulture);
        var lineBreaks = _lineBreaks ??= Breaks.GetLineInstance(CultureInfo.InvariantCulture);

        int[] clusters = Boundaries(graphemes, text);
        int[] breaks = Boundaries(lineBreaks, text);

        // Paragraph level from the first strong character (ICU's UBIDI_DEFAULT_LTR).
        byte[] levels = BidiLevels.Resolve(text, out byte paragraphLevel);

        var lastResort = new HashSet<int>();
        var missing = new HashSet<int>();
        var clusterFonts = new FontFace[Math.Max(0, clusters.Length - 1)];
        var clusterScripts = new Script[clusterFonts.Length];
        FontFace? previous = null;
        Script previousScript = Script.Latin;
        for (int c = 0; c + 1 < clusters.Length; c++)
        {
            var span = text.AsSpan(clusters[c], clusters[c + 1] - clusters[c]);
            var script = ClusterScript(span);
            bool common = script == Script.Common || script == Script.Inherited || script == Script.Unknown;
            clusterScripts[c] = common ? previousScript : script;
            if (!common) previousScript = script;
            var font = ChooseFont(span, fonts, common ? previous : null, lastResort, missing);
            clusterFonts[c] = font;
            previous = font;
        }
        // A common-script cluster at the start takes the script of what follows it.
        for (int c = 0; c < clusterScripts.Length; c++)
        {
            var s = ClusterScript(text.AsSpan(clusters[c], clusters[c + 1] - clusters[c]));
            if (s != Script.Common && s != Script.Inherited && s != Script.Unknown) { for (int k = 0; k < c; k++) clusterScripts[k] = s; break; }
        }

        var runs = new List<ShapedRun>();
        var advances = new float[text.Length];
        int runStartCluster = 0;
        for (int c = 1; c <= clusterFonts.Length; c++)
        {
            bool split = c == clusterFonts.Length
                         || clusterFonts[c] != clusterFonts[runStartCluster]
                         || clusterScripts[c] != clusterScripts[runStartCluster]
                         || levels[clusters[c]] != levels[clusters[runStartCluster]];
            if (!split) continue;
            int start = clusters[runStartCluster], end = clusters[c];
            var run = ShapeRun(text, start, end, clusterFonts[runStartCluster], clusterScripts[runStartCluster], levels[start]);
            foreach (var g in run.Glyphs) advances[g.Cluster] += g.Advance;
            runs.Add(run);
            runStartCluster = c;
        }

        return new ShapedParagraph
        {
            Text = text, ParagraphLevel = paragraphLevel, Levels = levels, Runs = runs, Advances = advances,
            BreakOpportunities = breaks, Clusters = clusters, LastResortCodePoints = lastResort, MissingCodePoints = missing,
        };
    }

    private static int[] Boundaries(Breaks iterator, string text)
    {
        if (text.Length == 0) return [0];
        iterator.SetText(text);
        var list = new List<int>();
        for (int b = iterator.First(); b != Breaks.Done; b = iterator.Next()) list.Add(b);
        if (list.Count == 0 || list[0] != 0) list.Insert(0, 0);
        if (list[^1] != text.Length) list.Add(text.Length);
        return list.ToArray();
    }

    private static Script ClusterScript(ReadOnlySpan<char> cluster)
    {
        foreach (var rune in cluster.EnumerateRunes())
        {
            var s = UnicodeFunctions.Default.GetScript((uint)rune.Value);
            if (s != Script.Common && s != Script.Inherited && s != Script.Unknown) return s;
        }
        return Script.Common;
    }

    /// <summary>Characters every font "has": joiners, variation selectors, marks that only steer shaping.</summary>
    private static bool IsIgnorable(int cp) =>
        cp is 0x200B or 0x200C or 0x200D or 0x200E or 0x200F or 0x061C or 0x00AD or 0x034F or 0x2060 or 0x2061 or 0x2062 or 0x2063 or 0x2064
            or (>= 0xFE00 and <= 0xFE0F) or (>= 0xE0000 and <= 0xE0FFF) or (>= 0x180B and <= 0x180F);

    private static bool LooksLikeEmoji(ReadOnlySpan<char> cluster)
    {
        foreach (var rune in cluster.EnumerateRunes())
        {
            int cp = rune.Value;
            if (cp == 0xFE0F || cp == 0x20E3 || cp is >= 0x1F000 and <= 0x1FAFF) return true;
        }
        return false;
    }

    private static FontFace ChooseFont(ReadOnlySpan<char> cluster, FontCatalog fonts, FontFace? preferred, HashSet<int> lastResort, HashSet<int> missing)
    {
        if (fonts.Emoji is { } emoji && LooksLikeEmoji(cluster) && Covers(emoji, cluster)) return emoji;
        if (preferred is { IsLastResort: false, IsColor: false } && Covers(preferred, cluster)) return preferred;
        foreach (var face in fonts.Faces)
        {
            if (face.IsColor) continue; // only for emoji clusters: its plain digits and '#' are colour keycaps
            if (!Covers(face, cluster)) continue;
            if (face.IsLastResort) foreach (var r in cluster.EnumerateRunes()) if (!IsIgnorable(r.Value)) lastResort.Add(r.Value);
            return face;
        }
        foreach (var r in cluster.EnumerateRunes()) if (!IsIgnorable(r.Value) && !char.IsWhiteSpace((char)Math.Min(r.Value, 0xFFFF))) missing.Add(r.Value);
        return fonts.Faces[0]; // draws the .notdef box: visible, and reported
    }

    private static bool Covers(FontFace face, ReadOnlySpan<char> cluster)
    {
        foreach (var rune in cluster.EnumerateRunes())
            if (!IsIgnorable(rune.Value) && !face.Covers(rune.Value)) return false;
        return true;
    }

    private static ShapedRun ShapeRun(string text, int start, int end, FontFace font, Script script, byte level)
    {
        using var buffer = new Buffer();
        buffer.AddUtf16(text, start, end - start);
        buffer.Direction = (level & 1) == 1 ? Direction.RightToLeft : Direction.LeftToRight;
        buffer.Script = script;
        buffer.ClusterLevel = ClusterLevel.MonotoneCharacters;
        buffer.GuessSegmentProperties();
        font.Font.Shape(buffer);
        var infos = buffer.GlyphInfos;
        var positions = buffer.GlyphPositions;
        float scale = 1f / font.UnitsPerEm;
        var glyphs = new ShapedGlyph[infos.Length];
        for (int i = 0; i < infos.Length; i++)
            glyphs[i] = new ShapedGlyph((ushort)infos[i].Codepoint, (int)infos[i].Cluster,
                positions[i].XAdvance * scale, positions[i].XOffset * scale, positions[i].YOffset * scale);
        return new ShapedRun(start, end, font, level, glyphs);
    }
}
