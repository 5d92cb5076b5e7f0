using System.Buffers;
using System.Text;

namespace VqaApi.Rendering;

/// <summary>
/// big_vision's <c>render_unifont</c>, reproduced exactly: ASCII-only lowercasing, UTF-8 decoding with
/// U+FFFD for invalid bytes, the first MaxChars code points, one 16x16 bitmap glyph per code point (no
/// shaping, no bidi; control characters drawn as glyphs), each glyph trimmed to its ink, glyphs wrapped per
/// character by <c>line = floor(cumsum(widths) / (size - max width))</c>, lines 16 px tall and left
/// aligned, ink 0 on background 127, grey copied to R, G and B, then mapped to [-1, 1] as v / 255 * 2 - 1.
/// </summary>
public sealed class UnifontRenderer
{
    private readonly UnifontFont _font;
    private readonly float[] _toFloat = new float[256];

    public UnifontRenderer(UnifontFont font, UnifontProfile profile)
    {
        profile.Validate();
        _font = font;
        Profile = profile;
        for (int v = 0; v < 256; v++) _toFloat[v] = v / 255f * 2f - 1f; // float32 arithmetic, as numpy/TF do
    }

    public UnifontProfile Profile { get; }
    public int CanvasLength => Profile.ImageSize * Profile.ImageSize * 3;

    public void Render(string text, Span<float> destination)
    {
        // Lone surrogates become U+FFFD on encoding, as they would in any UTF-8 pipeline.
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        byte[]? rented = max > 1024 ? ArrayPool<byte>.Shared.Rent(max) : null;
        Span<byte> utf8 = rented ?? stackalloc byte[max];
        try
        {
            int n = Encoding.UTF8.GetBytes(text, utf8);
            Render(utf8[..n], destination);
        }
        finally { if (rented is not null) ArrayPool<byte>.Shared.Return(rented); }
    }

    /// <summary>Draws into an H x W x 3 float canvas (channels last).</summary>
    public void Render(ReadOnlySpan<byte> utf8, Span<float> destination)
    {
        int size = Profile.ImageSize;
        if (destination.Length != size * size * 3)
            throw new ArgumentException($"destination must hold {size}x{size}x3 floats", nameof(destination));
        var gray = ArrayPool<byte>.Shared.Rent(size * size);
        try
        {
            RenderGray(utf8, gray.AsSpan(0, size * size));
            int o = 0;
            for (int i = 0; i < size * size; i++, o += 3)
            {
                float v = _toFloat[gray[i]];
                destination[o] = v;
                destination[o + 1] = v;
                destination[o + 2] = v;
            }
        }
        finally { ArrayPool<byte>.Shared.Return(gray); }
    }

    public byte[] RenderGray(ReadOnlySpan<byte> utf8)
    {
        var gray = new byte[Profile.ImageSize * Profile.ImageSize];
        RenderGray(utf8, gray);
        return gray;
    }

    /// <summary>The single-channel uint8 canvas (ink 0, background 127 by default).</summary>
    public void RenderGray(ReadOnlySpan<byte> utf8, Span<byte> gray)
    {
        var p = Profile;
        int size = p.ImageSize;
        gray[..(size * size)].Fill(p.Background);
        var codePoints = ArrayPool<int>.Shared.Rent(Math.Min(utf8.Length, p.MaxChars));
        var starts = ArrayPool<int>.Shared.Rent(Math.Min(utf8.Length, p.MaxChars));
        var widths = ArrayPool<int>.Shared.Rent(Math.Min(utf8.Length, p.MaxChars));
        try
        {
            int count = Decode(utf8, p.Lowercase, codePoints.AsSpan(0, Math.Min(utf8.Length, p.MaxChars)));
            if (count == 0) return; // the original fails on empty text; an empty canvas is the sensible answer

            int maxWidth = 0;
            for (int i = 0; i < count; i++)
            {
                var (first, last) = _font.InkColumns(codePoints[i]);
                if (first < 0) first = last = 0; // blank or missing glyph: both 0, as in the original
                int a = Math.Max(first - p.Spacing, 0);
                int b = Math.Max(last + p.Spacing, a + p.MinWidth);
                starts[i] = a;
                widths[i] = b - a;
                maxWidth = Math.Max(maxWidth, b - a);
            }

            int div = size - maxWidth, lines = size / 16;
            int cumulative = 0, line = -1, x = 0;
            for (int i = 0; i < count; i++)
            {
                cumulative += widths[i];
                int glyphLine = div > 0 ? cumulative / div : int.MaxValue;
                if (glyphLine != line) { line = glyphLine; x = 0; }
                if (line >= lines) break;
                DrawGlyph(codePoints[i], starts[i], widths[i], x, line * 16, gray, size, p.Ink);
                x += widths[i];
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(codePoints);
            ArrayPool<int>.Shared.Return(starts);
            ArrayPool<int>.Shared.Return(widths);
        }
    }

    private void DrawGlyph(int codePoint, int firstColumn, int width, int x0, int y0, Span<byte> gray, int size, byte ink)
    {
        if (!_font.TryGetGlyph(codePoint, out var rows)) return;
        int visible = Math.Min(width, size - x0); // only a degenerate profile lets a line overflow
        for (int r = 0; r < 16; r++)
        {
            ushort row = rows[r];
            if (row == 0) continue;
            var dst = gray.Slice((y0 + r) * size + x0, visible);
            for (int c = 0; c < visible; c++)
            {
                int column = firstColumn + c;
                if (column < 16 && (row & (0x8000 >> column)) != 0) dst[c] = ink;
            }
        }
    }

    /// <summary>
    /// Lowercases A-Z on the bytes (ASCII only: multi-byte UTF-8 sequences never contain those bytes), then
    /// decodes UTF-8 with U+FFFD for each maximal invalid subsequence (the Unicode-recommended practice that
    /// .NET, Python and ICU follow), keeping at most <paramref name="destination"/>.Length code points.
    /// </summary>
    private static int Decode(ReadOnlySpan<byte> utf8, bool lowercase, Span<int> destination)
    {
        int count = 0;
        while (!utf8.IsEmpty && count < destination.Length)
        {
            Rune.DecodeFromUtf8(utf8, out var rune, out int consumed); // invalid -> ReplacementChar, maximal subpart
            int value = rune.Value;
            if (lowercase && value is >= 'A' and <= 'Z') value += 32;
            destination[count++] = value;
            utf8 = utf8[consumed..];
        }
        return count;
    }
}
