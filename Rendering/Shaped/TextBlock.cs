namespace VqaApi.Rendering.Shaped;

/// <summary>What happened to one block of text: the size it was set at, its lines, and what did not make it.</summary>
public sealed record TextBlockReport(
    float FontSize,
    int Lines,
    int CodePoints,
    int CodePointsDrawn,
    int CodePointsNotFitted,
    IReadOnlyList<string> FontsUsed,
    IReadOnlyList<int> LastResortCodePoints,
    IReadOnlyList<int> MissingCodePoints,
    bool RightToLeft)
{
    public bool Truncated => CodePointsNotFitted > 0;
}

/// <summary>One line: a range of one paragraph, with its width (em) without trailing white space.</summary>
internal readonly record struct TextLine(ShapedParagraph Paragraph, int Start, int End, int VisibleEnd, float Width);

/// <summary>A text shaped once (size-independent), then broken into lines and fitted at any size.</summary>
internal sealed class TextBlock
{
    private TextBlock(IReadOnlyList<ShapedParagraph> paragraphs, int codePoints, int keptCodePoints)
    {
        Paragraphs = paragraphs;
        CodePoints = codePoints;
        KeptCodePoints = keptCodePoints;
    }

    public IReadOnlyList<ShapedParagraph> Paragraphs { get; }
    public int CodePoints { get; }
    public int KeptCodePoints { get; }

    public static TextBlock Prepare(string text, TextStyle style, FontCatalog fonts)
    {
        var cleaned = TextCleaner.Clean(text, style.MaxChars, out int codePoints, out int kept);
        var paragraphs = cleaned.Split('\n').Select(p => ShapedParagraph.Shape(p, fonts)).ToList();
        return new TextBlock(paragraphs, codePoints, kept);
    }

    /// <summary>
    /// The size the policy gives for a box of width x height px, and the lines that fit there. With Shrink the
    /// size falls in 8% steps until every line fits or the minimum is reached; what still does not fit is cut
    /// after the last whole line (lines end at break opportunities or grapheme boundaries).
    /// </summary>
    public (float Size, List<TextLine> Lines, int LinesDropped) Fit(TextStyle style, float width, float height)
    {
        float size = style.FontSize;
        while (true)
        {
            var lines = BreakLines(width / size);
            int room = Math.Max(1, (int)Math.Floor(height / (size * style.LineHeight) + 1e-4));
            if (lines.Count <= room || style.SizePolicy == FontSizePolicy.Fixed || size <= style.MinFontSize)
            {
                int dropped = Math.Max(0, lines.Count - room);
                if (dropped > 0) lines.RemoveRange(room, dropped);
                return (size, lines, dropped);
            }
            size = Math.Max(style.MinFontSize, size * 0.92f);
        }
    }

    public List<TextLine> BreakLines(float width)
    {
        var lines = new List<TextLine>();
        foreach (var p in Paragraphs) BreakParagraph(p, width, lines);
        return lines;
    }

    /// <summary>Greedy UAX #14 breaking: a segment that alone is wider than the line is split at grapheme boundaries.</summary>
    private static void BreakParagraph(ShapedParagraph p, float width, List<TextLine> lines)
    {
        var text = p.Text;
        if (text.Length == 0) { lines.Add(new TextLine(p, 0, 0, 0, 0)); return; }
        int lineStart = 0;
        float lineWidth = 0;
        var breaks = p.BreakOpportunities;
        for (int k = 0; k + 1 < breaks.Length; k++)
        {
            int s = breaks[k], e = breaks[k + 1];
            float seg = Sum(p.Advances, s, e);
            int visibleEnd = TrimEnd(text, s, e);
            float visible = Sum(p.Advances, s, visibleEnd);
            if (lineWidth > 0 && lineWidth + visible > width)
            {
                lines.Add(Line(p, lineStart, s));
                lineStart = s;
                lineWidth = 0;
            }
            if (visible > width)
            {
                // Emergency: break inside the segment, between grapheme clusters.
                foreach (var (cs, ce) in ClustersIn(p, s, e))
                {
                    float w = Sum(p.Advances, cs, ce);
                    if (lineWidth > 0 && lineWidth + w > width && !char.IsWhiteSpace(text[cs]))
                    {
                        lines.Add(Line(p, lineStart, cs));
                        lineStart = cs;
                        lineWidth = 0;
                    }
                    lineWidth += w;
                }
                continue;
            }
            lineWidth += seg;
        }
        lines.Add(Line(p, lineStart, text.Length));
    }

    private static IEnumerable<(int, int)> ClustersIn(ShapedParagraph p, int start, int end)
    {
        var c = p.Clusters;
        for (int i = 0; i + 1 < c.Length; i++)
            if (c[i] >= start && c[i + 1] <= end) yield return (c[i], c[i + 1]);
    }

    private static TextLine Line(ShapedParagraph p, int start, int end)
    {
        int visibleEnd = TrimEnd(p.Text, start, end);
        return new TextLine(p, start, end, visibleEnd, Sum(p.Advances, start, visibleEnd));
    }

    private static int TrimEnd(string text, int start, int end)
    {
        while (end > start && char.IsWhiteSpace(text[end - 1])) end--;
        return end;
    }

    private static float Sum(float[] values, int start, int end)
    {
        float sum = 0;
        for (int i = start; i < end; i++) sum += values[i];
        return sum;
    }

    public TextBlockReport Report(float size, List<TextLine> lines)
    {
        int drawn = 0;
        var fonts = new SortedSet<string>(StringComparer.Ordinal);
        var lastResort = new SortedSet<int>();
        var missing = new SortedSet<int>();
        foreach (var line in lines)
        {
            foreach (var rune in line.Paragraph.Text.AsSpan(line.Start, line.End - line.Start).EnumerateRunes())
            {
                drawn++;
                if (line.Paragraph.LastResortCodePoints.Contains(rune.Value)) lastResort.Add(rune.Value);
                if (line.Paragraph.MissingCodePoints.Contains(rune.Value)) missing.Add(rune.Value);
            }
            foreach (var run in line.Paragraph.Runs)
                if (run.Start < line.VisibleEnd && run.End > line.Start) fonts.Add(run.Font.Name);
        }
        int cleanedCodePoints = Paragraphs.Sum(p => p.Text.EnumerateRunes().Count());
        int notFitted = CodePoints - KeptCodePoints + Math.Max(0, cleanedCodePoints - drawn);
        bool rtl = Paragraphs.Count > 0 && Paragraphs[0].RightToLeft;
        return new TextBlockReport(size, lines.Count, CodePoints, drawn, notFitted, fonts.ToList(), lastResort.ToList(), missing.ToList(), rtl);
    }
}
