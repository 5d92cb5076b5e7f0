using System.Globalization;
using System.Numerics;

namespace VqaApi.Rendering;

/// <summary>
/// A GNU Unifont glyph table read from <c>.hex</c> files: lines <c>CODEPOINT:BITS</c>, 32 hex digits for an
/// 8x16 glyph or 64 for a 16x16 one. Every glyph is held as 16 rows of 16 bits, most significant bit = leftmost
/// pixel; an 8-wide glyph fills the left 8 columns (as the official renderer places it).
/// </summary>
public sealed class UnifontFont
{
    private const int BmpSize = 0x10000;

    // Glyph g occupies _rows[16g .. 16g+16). BMP code points are looked up in a flat table (hot path of the
    // renderer, one lookup per character); the few planes-1+ glyphs in a dictionary.
    private readonly int[] _bmpIndex;
    private readonly Dictionary<int, int> _upperIndex;
    private readonly ushort[] _rows;
    private readonly sbyte[] _firstInk, _lastInk;

    private UnifontFont(int[] bmpIndex, Dictionary<int, int> upperIndex, ushort[] rows, string description)
    {
        _bmpIndex = bmpIndex;
        _upperIndex = upperIndex;
        _rows = rows;
        Description = description;
        GlyphCount = rows.Length / 16;
        _firstInk = new sbyte[GlyphCount];
        _lastInk = new sbyte[GlyphCount];
        for (int g = 0; g < GlyphCount; g++)
            (_firstInk[g], _lastInk[g]) = InkExtent(rows.AsSpan(g * 16, 16));
    }

    /// <summary>The file names the table was read from, e.g. "unifont.hex + unifont_upper.hex".</summary>
    public string Description { get; }

    /// <summary>Number of distinct code points with a glyph.</summary>
    public int GlyphCount { get; }

    private static readonly Lazy<UnifontFont> DefaultFont = new(() => Load(DefaultPath));

    /// <summary>fonts/unifont.hex next to the application (GNU Unifont 15.0.01, BMP only).</summary>
    public static UnifontFont Default => DefaultFont.Value;

    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, "fonts", "unifont.hex");

    /// <summary>
    /// Reads and merges .hex files (e.g. a BMP file and an "upper" planes-1+ file); a later file's glyph replaces
    /// an earlier one's. Blank lines and lines starting with '#' are skipped; any other malformed line throws a
    /// <see cref="FormatException"/> naming the file and line number.
    /// </summary>
    public static UnifontFont Load(params string[] hexPaths)
    {
        ArgumentNullException.ThrowIfNull(hexPaths);
        if (hexPaths.Length == 0) throw new ArgumentException("at least one .hex file is needed", nameof(hexPaths));

        var slotOf = new Dictionary<int, int>();
        var rows = new List<ushort>(60_000 * 16);
        Span<ushort> glyph = stackalloc ushort[16];
        foreach (var path in hexPaths)
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"font file '{path}' does not exist", path);
            int lineNumber = 0;
            foreach (var line in File.ReadLines(path))
            {
                lineNumber++;
                var text = line.AsSpan().Trim();
                if (text.IsEmpty || text[0] == '#') continue;
                int codePoint = ParseLine(text, glyph, path, lineNumber);
                if (!slotOf.TryGetValue(codePoint, out int slot))
                {
                    slot = rows.Count / 16;
                    slotOf.Add(codePoint, slot);
                    rows.AddRange(glyph);
                }
                else
                {
                    for (int r = 0; r < 16; r++) rows[slot * 16 + r] = glyph[r];
                }
            }
        }

        var bmpIndex = new int[BmpSize];
        Array.Fill(bmpIndex, -1);
        var upperIndex = new Dictionary<int, int>();
        foreach (var (codePoint, slot) in slotOf)
        {
            if (codePoint < BmpSize) bmpIndex[codePoint] = slot;
            else upperIndex[codePoint] = slot;
        }
        return new UnifontFont(bmpIndex, upperIndex, rows.ToArray(), string.Join(" + ", hexPaths.Select(Path.GetFileName)));
    }

    /// <summary>Parses one non-blank, non-comment line into 16 rows; returns the code point.</summary>
    private static int ParseLine(ReadOnlySpan<char> line, Span<ushort> rows, string path, int lineNumber)
    {
        FormatException Bad(string why) => new($"{Path.GetFileName(path)} line {lineNumber}: {why}");

        int colon = line.IndexOf(':');
        if (colon is < 1 or > 8) throw Bad("expected CODEPOINT:HEXBITS");
        var cpText = line[..colon];
        if (!int.TryParse(cpText, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int codePoint) || codePoint > 0x10FFFF)
            throw Bad($"'{cpText}' is not a code point");
        var bits = line[(colon + 1)..];
        if (bits.Length != 32 && bits.Length != 64)
            throw Bad($"glyph has {bits.Length} hex digits; expected 32 (8x16) or 64 (16x16)");

        int digitsPerRow = bits.Length / 16;
        for (int r = 0; r < 16; r++)
        {
            if (!ushort.TryParse(bits.Slice(r * digitsPerRow, digitsPerRow), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var row))
                throw Bad("glyph bits are not hexadecimal");
            rows[r] = digitsPerRow == 2 ? (ushort)(row << 8) : row; // 8-wide glyphs sit in the left 8 columns
        }
        return codePoint;
    }

    /// <summary>First and last inked column (0..15) of a 16-row glyph, or (-1, -1) when it is blank.</summary>
    internal static (sbyte First, sbyte Last) InkExtent(ReadOnlySpan<ushort> rows)
    {
        uint columns = 0;
        foreach (var row in rows) columns |= row;
        if (columns == 0) return (-1, -1);
        // Column c is bit (15 - c): the first column is the highest set bit, the last the lowest.
        return ((sbyte)(BitOperations.LeadingZeroCount(columns) - 16), (sbyte)(15 - BitOperations.TrailingZeroCount(columns)));
    }

    /// <summary>Internal glyph slot of a code point, or -1 when the font lacks it.</summary>
    internal int SlotOf(int codePoint)
    {
        if ((uint)codePoint < BmpSize) return _bmpIndex[codePoint];
        return _upperIndex.TryGetValue(codePoint, out int slot) ? slot : -1;
    }

    internal ReadOnlySpan<ushort> RowsOf(int slot) => _rows.AsSpan(slot * 16, 16);

    internal (int First, int Last) InkOf(int slot) => (_firstInk[slot], _lastInk[slot]);

    public bool Contains(int codePoint) => SlotOf(codePoint) >= 0;

    /// <summary>The glyph's 16 rows (bit 15 = leftmost column), or false when the font lacks the code point.</summary>
    public bool TryGetGlyph(int codePoint, out ReadOnlySpan<ushort> rows)
    {
        int slot = SlotOf(codePoint);
        rows = slot >= 0 ? RowsOf(slot) : default;
        return slot >= 0;
    }

    /// <summary>First and last inked columns (0..15), or (-1, -1) for a blank or missing glyph.</summary>
    public (int First, int Last) InkColumns(int codePoint)
    {
        int slot = SlotOf(codePoint);
        return slot >= 0 ? InkOf(slot) : (-1, -1);
    }
}
