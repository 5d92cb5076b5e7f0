using SkiaSharp;

namespace VqaApi.Rendering.Shaped;

/// <summary>What a shaped render produced: the layout, and one report per text block.</summary>
public sealed record RenderReport(string Profile, string Layout, int Size, IReadOnlyList<TextBlockReport> Blocks)
{
    public bool Truncated => Blocks.Any(b => b.Truncated);
}

/// <summary>Glyphs of one run on one line, in visual order, with their baseline positions in canvas pixels.</summary>
public sealed record PlacedRun(int Line, ShapedRun Run, IReadOnlyList<ShapedGlyph> Glyphs, SKPoint[] Positions);

/// <summary>An RGB canvas (size x size x 3 bytes, row-major) and its report.</summary>
public sealed class ShapedCanvas(int size, byte[] rgb, RenderReport report)
{
    public int Size { get; } = size;
    public byte[] Rgb { get; } = rgb;
    public RenderReport Report { get; } = report;

    /// <summary>The model input: float32 H x W x 3 in [-1, 1].</summary>
    public void ToCanvas(Span<float> destination) => PixelValues.NormalizeAll(Rgb, destination);

    public byte[] ToPng()
    {
        var hwc = new float[Rgb.Length];
        ToCanvas(hwc);
        return CanvasPng.Encode(hwc, Size, Size);
    }
}

/// <summary>
/// The shaped multilingual renderer and its layouts: text, sentence pair (A, separator, B), and VQA (question
/// band above the image). Deterministic: the same text and profile give the same pixels on any thread.
/// </summary>
public sealed class ShapedRenderer
{
    private readonly FontCatalog _fonts;
    private readonly SKColor _background, _ink, _separator, _band;

    public ShapedRenderer(ShapedProfile profile, FontCatalog? fonts = null)
    {
        profile.Validate();
        Profile = profile;
        _fonts = fonts ?? FontCatalog.Default;
        _background = ShapedProfile.ParseColor(profile.Background, "background");
        _ink = ShapedProfile.ParseColor(profile.Text.Ink, "ink");
        _separator = ShapedProfile.ParseColor(profile.Pair.SeparatorColor, "separator");
        _band = ShapedProfile.ParseColor(profile.Vqa.BandColor, "band");
    }

    public ShapedProfile Profile { get; }
    public int Size => Profile.ImageSize;

    public ShapedCanvas RenderText(string text) => ToRgb(rgba => RenderText(text, rgba));

    /// <summary>Draws straight into the model's float canvas (no per-call large allocation).</summary>
    public RenderReport RenderText(string text, Span<float> destination) => ToFloats(destination, rgba => RenderText(text, rgba));

    public ShapedCanvas RenderPair(string first, string second) => ToRgb(rgba => RenderPair(first, second, rgba));

    public RenderReport RenderPair(string first, string second, Span<float> destination) => ToFloats(destination, rgba => RenderPair(first, second, rgba));

    public ShapedCanvas RenderVqa(string question, DecodedImage image) => ToRgb(rgba => RenderVqa(question, image, rgba));

    public RenderReport RenderVqa(string question, DecodedImage image, Span<float> destination) => ToFloats(destination, rgba => RenderVqa(question, image, rgba));

    /// <summary>Draws into an RGB byte canvas (Size x Size x 3): what the training data generator streams.</summary>
    public RenderReport RenderTextRgb(string text, Span<byte> destination) => ToBytes(destination, rgba => RenderText(text, rgba));

    public RenderReport RenderPairRgb(string first, string second, Span<byte> destination) => ToBytes(destination, rgba => RenderPair(first, second, rgba));

    public RenderReport RenderVqaRgb(string question, DecodedImage image, Span<byte> destination) => ToBytes(destination, rgba => RenderVqa(question, image, rgba));

    private RenderReport RenderText(string text, SKBitmap target)
    {
        var block = TextBlock.Prepare(text, Profile.Text, _fonts);
        int m = Profile.Margin;
        return Draw(target, "text", canvas =>
        {
            var (size, lines, _) = block.Fit(Profile.Text, Size - 2 * m, Size - 2 * m);
            DrawLines(canvas, lines, size, new SKRect(m, m, Size - m, Size - m));
            return [block.Report(size, lines)];
        });
    }

    /// <summary>Sentence A in the top half, a separator line, sentence B in the bottom half, both at one size.</summary>
    private RenderReport RenderPair(string first, string second, SKBitmap target)
    {
        var a = TextBlock.Prepare(first, Profile.Text, _fonts);
        var b = TextBlock.Prepare(second, Profile.Text, _fonts);
        int m = Profile.Margin, t = Profile.Pair.SeparatorThickness, gap = Profile.Pair.Gap;
        float half = (Size - t) / 2f;
        var top = new SKRect(m, m, Size - m, half - gap);
        var bottom = new SKRect(m, half + t + gap, Size - m, Size - m);
        return Draw(target, "pair", canvas =>
        {
            var (sa, _, _) = a.Fit(Profile.Text, top.Width, top.Height);
            var (sb, _, _) = b.Fit(Profile.Text, bottom.Width, bottom.Height);
            var fixedStyle = Profile.Text with { FontSize = Math.Min(sa, sb), SizePolicy = FontSizePolicy.Fixed };
            var (size, la, _) = a.Fit(fixedStyle, top.Width, top.Height);
            var (_, lb, _) = b.Fit(fixedStyle, bottom.Width, bottom.Height);
            DrawLines(canvas, la, size, top);
            using (var paint = new SKPaint { Color = _separator, IsAntialias = false })
                canvas.DrawRect(new SKRect(m, half, Size - m, half + t), paint);
            DrawLines(canvas, lb, size, bottom);
            return [a.Report(size, la), b.Report(size, lb)];
        });
    }

    /// <summary>The question in a band as tall as its lines (at most MaxBandFraction of the canvas), the image below.</summary>
    private RenderReport RenderVqa(string question, DecodedImage image, SKBitmap target)
    {
        var block = TextBlock.Prepare(question, Profile.Text, _fonts);
        int m = Profile.Margin;
        float maxBand = Size * Profile.Vqa.MaxBandFraction;
        int imageTop = Size;
        var report = Draw(target, "vqa", canvas =>
        {
            var (size, lines, _) = block.Fit(Profile.Text, Size - 2 * m, maxBand - 2 * m);
            float band = MathF.Ceiling(Math.Min(maxBand, lines.Count * size * Profile.Text.LineHeight + 2 * m));
            using (var paint = new SKPaint { Color = _band })
                canvas.DrawRect(new SKRect(0, 0, Size, band), paint);
            DrawLines(canvas, lines, size, new SKRect(m, m, Size - m, band - m));
            imageTop = (int)band;
            return [block.Report(size, lines)];
        });
        // The image goes straight into the pixels, below the band the canvas has drawn and flushed.
        DrawImage(target, image, imageTop);
        return report;
    }

    private RenderReport Draw(SKBitmap target, string layout, Func<SKCanvas, TextBlockReport[]> draw)
    {
        using var canvas = new SKCanvas(target);
        canvas.Clear(_background);
        var blocks = draw(canvas);
        canvas.Flush();
        return new RenderReport(Profile.Name, layout, Size, blocks);
    }

    // One RGBA bitmap per thread and size: a fresh 200 KB bitmap per canvas would go to the large object heap
    // and cost a full garbage collection every few hundred renders.
    [ThreadStatic] private static SKBitmap? _scratch;

    private SKBitmap Scratch()
    {
        if (_scratch is { } b && b.Width == Size) return b;
        _scratch?.Dispose();
        return _scratch = new SKBitmap(new SKImageInfo(Size, Size, SKColorType.Bgra8888, SKAlphaType.Premul));
    }

    private RenderReport ToFloats(Span<float> destination, Func<SKBitmap, RenderReport> render)
    {
        if (destination.Length != Size * Size * 3) throw new ArgumentException($"destination must hold {Size}x{Size}x3 floats", nameof(destination));
        var bitmap = Scratch();
        var report = render(bitmap);
        var px = bitmap.GetPixelSpan();
        var table = PixelValues.Lookup;
        for (int i = 0, o = 0; o < destination.Length; i += 4, o += 3)
        {
            destination[o] = table[px[i + 2]]; // BGRA
            destination[o + 1] = table[px[i + 1]];
            destination[o + 2] = table[px[i]];
        }
        return report;
    }

    private RenderReport ToBytes(Span<byte> destination, Func<SKBitmap, RenderReport> render)
    {
        if (destination.Length != Size * Size * 3) throw new ArgumentException($"destination must hold {Size}x{Size}x3 bytes", nameof(destination));
        var bitmap = Scratch();
        var report = render(bitmap);
        PixelValues.BgraToRgb(bitmap.GetPixelSpan(), destination);
        return report;
    }

    private ShapedCanvas ToRgb(Func<SKBitmap, RenderReport> render)
    {
        var bitmap = Scratch();
        var report = render(bitmap);
        var rgb = new byte[Size * Size * 3];
        PixelValues.BgraToRgb(bitmap.GetPixelSpan(), rgb);
        return new ShapedCanvas(Size, rgb, report);
    }

    /// <summary>
    /// The image in the area from row <paramref name="top"/> to the bottom: scaled to fit with its aspect ratio kept
    /// and centred (whole pixels), or stretched over the area, by <see cref="ImageScaler"/>.
    /// </summary>
    private void DrawImage(SKBitmap target, DecodedImage image, int top)
    {
        int areaHeight = Size - top;
        if (areaHeight < 1) return;
        int left = 0, width = Size, height = areaHeight;
        if (Profile.Vqa.KeepAspectRatio)
        {
            double scale = Math.Min((double)Size / image.Width, (double)areaHeight / image.Height);
            width = Math.Clamp((int)Math.Round(image.Width * scale), 1, Size);
            height = Math.Clamp((int)Math.Round(image.Height * scale), 1, areaHeight);
            left = (Size - width) / 2;
            top += (areaHeight - height) / 2;
        }
        ImageScaler.ScaleInto(image.Rgb, image.Width, image.Height, target.GetPixelSpan(), Size, Size, left, top, width, height, PixelOrder.Bgra);
    }

    /// <summary>
    /// Places lines top to bottom; each line's runs in visual order (UAX #9 rule L2), right-aligned in RTL
    /// paragraphs. Positions are canvas pixels at the baseline.
    /// </summary>
    internal List<PlacedRun> Place(List<TextLine> lines, float size, SKRect box)
    {
        float lineHeight = size * Profile.Text.LineHeight;
        var placed = new List<PlacedRun>();
        for (int li = 0; li < lines.Count; li++)
        {
            var line = lines[li];
            float baseline = box.Top + li * lineHeight + (lineHeight - size) / 2 + size * 0.88f;
            float x = line.Paragraph.RightToLeft ? box.Right - line.Width * size : box.Left;
            foreach (var (run, glyphs) in VisualPieces(line))
            {
                var points = new SKPoint[glyphs.Count];
                for (int g = 0; g < glyphs.Count; g++)
                {
                    points[g] = new SKPoint(x + glyphs[g].OffsetX * size, baseline - glyphs[g].OffsetY * size);
                    x += glyphs[g].Advance * size;
                }
                placed.Add(new PlacedRun(li, run, glyphs, points));
            }
        }
        return placed;
    }

    private void DrawLines(SKCanvas canvas, List<TextLine> lines, float size, SKRect box)
    {
        var fonts = new Dictionary<FontFace, SKFont>();
        using var paint = new SKPaint { Color = _ink, IsAntialias = true };
        using var builder = new SKTextBlobBuilder();
        try
        {
            foreach (var piece in Place(lines, size, box))
            {
                if (!fonts.TryGetValue(piece.Run.Font, out var font))
                {
                    font = new SKFont(piece.Run.Font.Typeface, size) { Subpixel = true, Hinting = SKFontHinting.None, Edging = SKFontEdging.Antialias, LinearMetrics = true };
                    fonts[piece.Run.Font] = font;
                }
                var buffer = builder.AllocatePositionedRun(font, piece.Glyphs.Count);
                var ids = buffer.Glyphs;
                for (int g = 0; g < piece.Glyphs.Count; g++) ids[g] = piece.Glyphs[g].Id;
                piece.Positions.CopyTo(buffer.Positions);
            }
            using var blob = builder.Build();
            if (blob is not null) canvas.DrawText(blob, 0, 0, paint);
        }
        finally
        {
            foreach (var f in fonts.Values) f.Dispose();
        }
    }

    /// <summary>Where the glyphs of a text land on a text-layout canvas (for tests and diagnostics).</summary>
    public IReadOnlyList<PlacedRun> LayoutText(string text)
    {
        var block = TextBlock.Prepare(text, Profile.Text, _fonts);
        int m = Profile.Margin;
        var (size, lines, _) = block.Fit(Profile.Text, Size - 2 * m, Size - 2 * m);
        return Place(lines, size, new SKRect(m, m, Size - m, Size - m));
    }

    /// <summary>The glyphs of each run inside the line's visible range, runs reordered by bidi level.</summary>
    private static List<(ShapedRun Run, List<ShapedGlyph> Glyphs)> VisualPieces(TextLine line)
    {
        var pieces = new List<(ShapedRun Run, List<ShapedGlyph> Glyphs)>();
        foreach (var run in line.Paragraph.Runs)
        {
            if (run.End <= line.Start || run.Start >= line.VisibleEnd) continue;
            var glyphs = run.Glyphs.Where(g => g.Cluster >= line.Start && g.Cluster < line.VisibleEnd).ToList();
            if (glyphs.Count > 0) pieces.Add((run, glyphs));
        }
        if (pieces.Count < 2) return pieces;
        // L2: from the highest level down to the lowest odd level, reverse every maximal sequence at or above it.
        int max = pieces.Max(p => p.Run.Level);
        int minOdd = pieces.Where(p => (p.Run.Level & 1) == 1).Select(p => p.Run.Level).DefaultIfEmpty(int.MaxValue).Min();
        for (int level = max; level >= minOdd && level > 0; level--)
        {
            for (int i = 0; i < pieces.Count;)
            {
                if (pieces[i].Run.Level < level) { i++; continue; }
                int j = i;
                while (j < pieces.Count && pieces[j].Run.Level >= level) j++;
                pieces.Reverse(i, j - i);
                i = j;
            }
        }
        return pieces;
    }
}
