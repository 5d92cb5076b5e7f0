using System.Globalization;

namespace VqaApi.Rendering;

/// <summary>
/// A GNU Unifont glyph table read from <c>.hex</c> files: lines <c>CODEPOINT:BITS</c>, 32 hex digits for an
/// 8x16 glyph or 64 for a 16x16 one. Every glyph is held as 16 rows of 16 bits, most significant bit = leftmost
/// pixel; an 8-wide glyph fills the left 8 columns.
/// </summary>
public sealed class UnifontFont
{
    private readonly Dictionary<int, int> _index;
    private readonly ushort[] _rows;
    private readonly sbyte[] _firstInk, _lastInk;

    private UnifontFont(Dictionary<int, int> index, ushort[] rows, string description)
    {
        _index = index;
        _rows = rows;
        Description = description;
        int count = rows.Length / 16;
        _firstInk = new sbyte[count];
        _lastInk = new sbyte[count];
        for (int g = 0; g < count; g++)
        {
            ushort columns = 0;
            for (int r = 0; r < 16; r++) columns |= rows[g * 16 + r];
            _firstInk[g] = (sbyte)(columns == 0 ? -1 : 15 - (31 - System.Numerics.BitOperations.LeadingZeroCount((uint)columns)));
            _lastInk[g] = (sbyte)(columns == 0 ? -1 : 15 - System.Numerics.BitOperations.TrailingZeroCount(columns));
        }
    }

    public string Description { get; }
    public int GlyphCount => _index.Count;

    private static readonly Lazy<UnifontFont> DefaultFont = new(() => Load(DefaultPath));

    /// <summary>fonts/unifont.hex next to the application (GNU Unifont 15.0.01).</summary>
    public static UnifontFont Default => DefaultFont.Value;
    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, "fonts", "unifont.hex");

    /// <summary>Reads and merges .hex files (e.g. a BMP file and an "upper" planes file); later files win.</summary>
    public static UnifontFont Load(params string[] hexPaths)
    {
        if (hexPaths.Length == 0) throw new ArgumentException("at least one .hex file is needed", nameof(hexPaths));
        var glyphs = new Dictionary<int, ushort[]>();
        foreach (var path in hexPaths)
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"font file '{path}' does not exist", path);
            int lineNumber = 0;
            foreach (var line in File.ReadLines(path))
            {
                lineNumber++;
                var text = line.Trim();
                if (text.Length == 0 || text[0] == '#') continue;
                glyphs[ParseLine(text, out var rows, path, lineNumber)] = rows;
            }
        }
        var index = new Dictionary<int, int>(glyphs.Count);
        var all = new ushort[glyphs.Count * 16];
        int g = 0;
        foreach (var (codePoint, rows) in glyphs)
        {
            index[codePoint] = g;
            rows.CopyTo(all, g * 16);
            g++;
        }
        return new UnifontFont(index, all, string.Join(" + ", hexPaths.Select(Path.GetFileName)));
    }

    private static int ParseLine(string line, out ushort[] rows, string path, int lineNumber)
    {
        int colon = line.IndexOf(':');
        FormatException Bad(string why) => new($"{Path.GetFileName(path)} line {lineNumber}: {why}");
        if (colon is < 1 or > 6) throw Bad("expected CODEPOINT:HEXBITS");
        if (!int.TryParse(line.AsSpan(0, colon), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int codePoint) || codePoint > 0x10FFFF)
            throw Bad($"'{line[..colon]}' is not a code point");
        var bits = line.AsSpan(colon + 1);
        if (bits.Length != 32 && bits.Length != 64) throw Bad($"glyph has {bits.Length} hex digits; expected 32 (8x16) or 64 (16x16)");
        rows = new ushort[16];
        int digitsPerRow = bits.Length / 16;
        for (int r = 0; r < 16; r++)
        {
            if (!ushort.TryParse(bits.Slice(r * digitsPerRow, digitsPerRow), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var row))
                throw Bad("glyph bits are not hexadecimal");
            rows[r] = digitsPerRow == 2 ? (ushort)(row << 8) : row;
        }
        return codePoint;
    }

    /// <summary>The glyph's 16 rows, or false when the font lacks the code point.</summary>
    public bool TryGetGlyph(int codePoint, out ReadOnlySpan<ushort> rows)
    {
        if (_index.TryGetValue(codePoint, out int g))
        {
            rows = _rows.AsSpan(g * 16, 16);
            return true;
        }
        rows = default;
        return false;
    }

    /// <summary>First and last inked columns (0..15), or (-1, -1) for a blank or missing glyph.</summary>
    public (int First, int Last) InkColumns(int codePoint) =>
        _index.TryGetValue(codePoint, out int g) ? (_firstInk[g], _lastInk[g]) : (-1, -1);
}
