using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;

namespace VqaApi.Rendering;

/// <summary>Where one kept character landed: line (0-based, 16 px each), left x in pixels, trimmed width.</summary>
public readonly record struct GlyphPlacement(int CodePoint, int Line, int X, int Width, bool HasGlyph);

/// <summary>
/// What happened to a text: code points after UTF-8 decoding, how many survived <c>MaxChars</c>, how many of
/// those landed on the visible lines, and how many lines were used.
/// </summary>
public readonly record struct RenderStats(int CodePoints, int Kept, int Drawn, int Lines)
{
    public bool Truncated => Drawn < CodePoints;
}

/// <summary>
/// A re-implementation of big_vision's <c>render_unifont</c> (CLIPPO): text becomes a square canvas of 16 px
/// Unifont glyphs, each trimmed horizontally, wrapped per character. Immutable and thread-safe. The span
/// overloads of Render/RenderGray allocate nothing (MaxChars above 1024 rents from the array pool).
/// </summary>
public sealed class UnifontRenderer
{
    private const int GlyphSize = 16;
    private const int StackLimit = 1024; // MaxChars up to this uses stack buffers

    private readonly UnifontFont _font;
    private readonly GlyphMetrics[] _metrics; // per font slot
    private readonly int _blankWidth;         // for code points the font lacks (drawn blank)
    private readonly int _size, _maxLines;
    private readonly float _inkValue, _backgroundValue;

    public UnifontRenderer(UnifontFont font, UnifontProfile profile)
    {
        ArgumentNullException.ThrowIfNull(font);
        ArgumentNullException.ThrowIfNull(profile);
        profile.Validate();
        _font = font;
        Profile = profile;
        _size = profile.ImageSize;
        _maxLines = _size / GlyphSize;
        _inkValue = PixelValues.Normalize(profile.Ink);
        _backgroundValue = PixelValues.Normalize(profile.Background);

        // Trimming depends only on the glyph and the profile: do it once per glyph, not per character.
        _metrics = new GlyphMetrics[font.GlyphCount];
        for (int slot = 0; slot < font.GlyphCount; slot++)
        {
            var (first, last) = font.InkOf(slot);
            var (start, width) = Bytes(Trim(first, last, profile.Spacing, profile.MinWidth));
            var (top, bottom) = InkedRows(font.RowsOf(slot), start, width);
            _metrics[slot] = new GlyphMetrics(start, width, top, bottom);
        }
        _blankWidth = Trim(-1, -1, profile.Spacing, profile.MinWidth).Width;

        static (byte, byte) Bytes((int Start, int Width) t) => ((byte)t.Start, (byte)t.Width);
    }

    public UnifontProfile Profile { get; }
    public UnifontFont Font => _font;

    /// <summary>Trimmed columns [Start, Start + Width) and inked rows [Top, Bottom] (Top > Bottom: nothing to draw).</summary>
    private readonly record struct GlyphMetrics(byte Start, byte Width, byte Top, byte Bottom);

    /// <summary>First and last row with ink inside the kept columns; (16, 0) when none, so drawing skips the glyph.</summary>
    private static (byte Top, byte Bottom) InkedRows(ReadOnlySpan<ushort> rows, int start, int width)
    {
        int top = GlyphSize, bottom = 0;
        for (int r = 0; r < GlyphSize; r++)
        {
            if (KeptBits(rows[r], start, width) == 0) continue;
            top = Math.Min(top, r);
            bottom = r;
        }
        return ((byte)top, (byte)bottom);
    }

    /// <summary>Row bits of columns [start, start + width), moved so that bit 15 is column start.</summary>
    private static uint KeptBits(ushort row, int start, int width) => ((uint)row << start) & (0xFFFF0000u >> width) & 0xFFFF;

    /// <summary>Floats in one canvas: ImageSize x ImageSize x 3 (rows, columns, RGB; channels last).</summary>
    public int CanvasLength => _size * _size * 3;

    /// <summary>
    /// The official trim of a glyph with ink in columns [first, last] (both -1 when blank, which the official code
    /// treats as 0): a = max(first - spacing, 0), b = max(last + spacing, a + minWidth), keep [a, b) of the 16
    /// columns. b is clipped at 16 the way the original's tensor slice clips.
    /// </summary>
    public static (int Start, int Width) Trim(int first, int last, int spacing, int minWidth)
    {
        if (first < 0) first = last = 0;
        int a = Math.Max(first - spacing, 0);
        int b = Math.Max(last + spacing, a + minWidth);
        return (a, Math.Min(b, GlyphSize) - a);
    }

    /// <summary>
    /// Renders UTF-8 text into <paramref name="destination"/> (length <see cref="CanvasLength"/>); the stats come
    /// from the same pass (what <see cref="Measure(ReadOnlySpan{byte})"/> would say, without laying out twice).
    /// </summary>
    public RenderStats Render(ReadOnlySpan<byte> utf8, Span<float> destination)
    {
        CheckLength(destination.Length, CanvasLength);
        var (kept, drawn, lines) = WithCodePoints(utf8, destination, static (self, cps, dst) => self.DrawFloat(cps, dst));
        return new RenderStats(CountCodePoints(utf8), kept, drawn, lines);
    }

    /// <summary>Renders .NET text; same result as rendering its UTF-8 encoding (a lone surrogate becomes U+FFFD).</summary>
    public RenderStats Render(string text, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(text);
        CheckLength(destination.Length, CanvasLength);
        var (kept, drawn, lines) = WithCodePoints(text.AsSpan(), destination, static (self, cps, dst) => self.DrawFloat(cps, dst));
        int total = 0;
        foreach (var _ in text.AsSpan().EnumerateRunes()) total++;
        return new RenderStats(total, kept, drawn, lines);
    }

    /// <summary>The single-channel uint8 canvas, ImageSize x ImageSize, row-major.</summary>
    public byte[] RenderGray(ReadOnlySpan<byte> utf8)
    {
        var gray = new byte[_size * _size];
        RenderGray(utf8, gray);
        return gray;
    }

    public byte[] RenderGray(string text) => RenderGray(Encoding.UTF8.GetBytes(text));

    public void RenderGray(ReadOnlySpan<byte> utf8, Span<byte> destination)
    {
        CheckLength(destination.Length, _size * _size);
        WithCodePoints(utf8, destination, static (self, cps, dst) => self.DrawGray(cps, dst));
    }

    /// <summary>Where each kept, visible character goes (for diagnostics and tests).</summary>
    public IReadOnlyList<GlyphPlacement> Layout(ReadOnlySpan<byte> utf8)
    {
        var cps = new int[Profile.MaxChars];
        return Place(cps.AsSpan(0, DecodeCodePoints(utf8, Profile.Lowercase, cps)));
    }

    public IReadOnlyList<GlyphPlacement> Layout(string text) => Layout(Encoding.UTF8.GetBytes(text));

    /// <summary>Counts what <see cref="Render(ReadOnlySpan{byte}, Span{float})"/> would keep and draw.</summary>
    public RenderStats Measure(ReadOnlySpan<byte> utf8)
    {
        var placed = Layout(utf8);
        int total = CountCodePoints(utf8);
        return new RenderStats(total, Math.Min(total, Profile.MaxChars), placed.Count, placed.Count == 0 ? 0 : placed[^1].Line + 1);
    }

    public RenderStats Measure(string text) => Measure(Encoding.UTF8.GetBytes(text));

    // ---- decoding -------------------------------------------------------------------------------------------

    /// <summary>
    /// Decodes UTF-8 into at most destination.Length code points, lowercasing A-Z only (tf.strings.lower without
    /// an encoding is ASCII-only). Lowercasing code points after decoding equals lowercasing bytes before it:
    /// bytes 0x41-0x5A are never part of a multi-byte sequence, and an invalid sequence never swallows them.
    /// Invalid input becomes U+FFFD once per "maximal subpart" of an ill-formed sequence (Unicode 3.9 /
    /// W3C practice). That is what <see cref="Rune.DecodeFromUtf8"/> (and .NET's UTF8Encoding) does, and also
    /// what Python's bytes.decode('utf-8', 'replace') and ICU >= 60's converter - used by TF's unicode_decode -
    /// do: e.g. E0 80 AF -> 3 x U+FFFD, ED A0 80 (a surrogate) -> 3, F4 90 80 80 -> 4, C3 at the end -> 1.
    /// </summary>
    public static int DecodeCodePoints(ReadOnlySpan<byte> utf8, bool lowercase, Span<int> destination)
    {
        int n = 0;
        while (!utf8.IsEmpty && n < destination.Length)
        {
            Rune.DecodeFromUtf8(utf8, out var rune, out int consumed); // invalid -> U+FFFD, consumed = subpart
            destination[n++] = Lower(rune.Value, lowercase);
            utf8 = utf8[consumed..];
        }
        return n;
    }

    private static int DecodeCodePoints(ReadOnlySpan<char> text, bool lowercase, Span<int> destination)
    {
        int n = 0;
        while (!text.IsEmpty && n < destination.Length)
        {
            Rune.DecodeFromUtf16(text, out var rune, out int consumed); // lone surrogate -> U+FFFD, like UTF-8 encoding it
            destination[n++] = Lower(rune.Value, lowercase);
            text = text[consumed..];
        }
        return n;
    }

    private static int CountCodePoints(ReadOnlySpan<byte> utf8)
    {
        int n = 0;
        while (!utf8.IsEmpty)
        {
            Rune.DecodeFromUtf8(utf8, out _, out int consumed);
            utf8 = utf8[consumed..];
            n++;
        }
        return n;
    }

    private static int Lower(int cp, bool lowercase) => lowercase && (uint)(cp - 'A') <= 'Z' - 'A' ? cp + 32 : cp;

    // ---- layout ---------------------------------------------------------------------------------------------

    /// <summary>
    /// The official wrap rule, one glyph at a time: with widths w_i, maxw = max(w_i) over all kept characters and
    /// inclusive running sums c_i, glyph i goes on line floor(c_i / (ImageSize - maxw)) at x = the sum of the
    /// widths before it on that line. The original divides in float32; integer division gives the same floor
    /// here because only lines below ImageSize/16 matter, and for quotients that small a float32 quotient of two
    /// integers cannot round up to the next integer.
    /// </summary>
    private struct LineWrapper(int imageSize, int maxWidth, int maxLines)
    {
        private readonly int _div = imageSize - maxWidth;
        private int _sum, _line, _lineOrigin;

        /// <summary>Places the next glyph; false once it falls on a line that is dropped (and so will all later ones).</summary>
        public bool Next(int width, out int line, out int x)
        {
            _sum += width;
            int l = _sum / _div;
            if (l != _line) { _line = l; _lineOrigin = _sum - width; }
            line = _line;
            x = _sum - width - _lineOrigin;
            return line < maxLines;
        }
    }

    private int WidthOf(int slot) => slot >= 0 ? _metrics[slot].Width : _blankWidth;

    /// <summary>Replaces each code point with its font slot (-1 when absent); returns the widest trimmed width.</summary>
    private int ToSlots(Span<int> codePoints)
    {
        int maxWidth = 0;
        for (int i = 0; i < codePoints.Length; i++)
        {
            int slot = _font.SlotOf(codePoints[i]);
            codePoints[i] = slot;
            maxWidth = Math.Max(maxWidth, WidthOf(slot));
        }
        return maxWidth;
    }

    private IReadOnlyList<GlyphPlacement> Place(ReadOnlySpan<int> codePoints)
    {
        var slots = codePoints.ToArray();
        var wrap = new LineWrapper(_size, ToSlots(slots), _maxLines);
        var result = new List<GlyphPlacement>();
        for (int i = 0; i < slots.Length; i++)
        {
            int width = WidthOf(slots[i]);
            if (!wrap.Next(width, out int line, out int x)) break;
            result.Add(new GlyphPlacement(codePoints[i], line, x, width, slots[i] >= 0));
        }
        return result;
    }

    // ---- pixels ---------------------------------------------------------------------------------------------

    private delegate (int Drawn, int Lines) DrawAction<T>(UnifontRenderer self, Span<int> codePoints, Span<T> destination);

    private (int Kept, int Drawn, int Lines) WithCodePoints<T>(ReadOnlySpan<byte> utf8, Span<T> destination, DrawAction<T> draw)
    {
        int max = Profile.MaxChars;
        int[]? rented = max > StackLimit ? ArrayPool<int>.Shared.Rent(max) : null;
        Span<int> cps = rented is null ? stackalloc int[max] : rented.AsSpan(0, max);
        int n = DecodeCodePoints(utf8, Profile.Lowercase, cps);
        var (drawn, lines) = draw(this, cps[..n], destination);
        if (rented is not null) ArrayPool<int>.Shared.Return(rented);
        return (n, drawn, lines);
    }

    private (int Kept, int Drawn, int Lines) WithCodePoints<T>(ReadOnlySpan<char> text, Span<T> destination, DrawAction<T> draw)
    {
        int max = Profile.MaxChars;
        int[]? rented = max > StackLimit ? ArrayPool<int>.Shared.Rent(max) : null;
        Span<int> cps = rented is null ? stackalloc int[max] : rented.AsSpan(0, max);
        int n = DecodeCodePoints(text, Profile.Lowercase, cps);
        var (drawn, lines) = draw(this, cps[..n], destination);
        if (rented is not null) ArrayPool<int>.Shared.Return(rented);
        return (n, drawn, lines);
    }

    private (int, int) DrawGray(Span<int> codePoints, Span<byte> gray)
    {
        gray.Fill(Profile.Background);
        return DrawInk(codePoints, gray, default);
    }

    private (int, int) DrawFloat(Span<int> codePoints, Span<float> canvas)
    {
        // Every pixel is background or ink: fill with the background value (vectorised), then overwrite only ink
        // pixels. Equivalent to rendering uint8 and mapping through the v/255*2-1 table, but touches memory once.
        canvas.Fill(_backgroundValue);
        return DrawInk(codePoints, default, canvas);
    }

    /// <summary>
    /// Lays out and writes the ink pixels into exactly one of the targets (the other is empty); returns how many
    /// characters landed on the visible lines and how many lines they used.
    /// </summary>
    private (int Drawn, int Lines) DrawInk(Span<int> codePoints, Span<byte> gray, Span<float> canvas)
    {
        var wrap = new LineWrapper(_size, ToSlots(codePoints), _maxLines);
        int drawn = 0, lines = 0;
        foreach (int slot in codePoints)
        {
            if (!wrap.Next(WidthOf(slot), out int line, out int x)) break;
            drawn++;
            lines = line + 1;
            if (slot < 0) continue; // absent from the font: blank
            var m = _metrics[slot];
            if (m.Top > m.Bottom) continue; // no ink in the kept columns
            // The wrap rule keeps x + width <= ImageSize and line < ImageSize / 16, so every offset is in range.
            int origin = line * GlyphSize * _size + x;
            var rows = _font.RowsOf(slot);
            if (gray.IsEmpty) InkGlyph(rows, m, ref canvas[origin * 3], _size * 3, 3, _inkValue);
            else InkGlyph(rows, m, ref gray[origin], _size, 1, Profile.Ink);
        }
        return (drawn, lines);
    }

    /// <summary>
    /// Sets the ink pixels of a glyph's kept columns and inked rows (see <see cref="GlyphMetrics"/>).
    /// <paramref name="topLeft"/> is the first value of the glyph's top-left pixel; a pixel is
    /// <paramref name="channels"/> consecutive values (1 or 3).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InkGlyph<T>(ReadOnlySpan<ushort> rows, GlyphMetrics m, ref T topLeft, int rowStride, int channels, T ink)
    {
        uint keep = (0xFFFF0000u >> m.Width) & 0xFFFF;
        for (int r = m.Top; r <= m.Bottom; r++)
        {
            ref T row = ref Unsafe.Add(ref topLeft, r * rowStride);
            for (uint bits = ((uint)rows[r] << m.Start) & keep; bits != 0; bits &= bits - 1) // lowest set bit first
            {
                ref T pixel = ref Unsafe.Add(ref row, (15 - BitOperations.TrailingZeroCount(bits)) * channels);
                pixel = ink;
                if (channels == 3)
                {
                    Unsafe.Add(ref pixel, 1) = ink;
                    Unsafe.Add(ref pixel, 2) = ink;
                }
            }
        }
    }

    private static void CheckLength(int actual, int expected)
    {
        if (actual != expected)
            throw new ArgumentException($"destination must hold exactly {expected} values, not {actual}", "destination");
    }
}
