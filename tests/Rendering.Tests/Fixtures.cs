using System.Text;
using VqaApi.Rendering;

namespace VqaApi.Rendering.Tests;

/// <summary>Shared font/renderer (loading the 3.7 MB hex file once) and small helpers.</summary>
internal static class Fixtures
{
    public static readonly UnifontFont Font = UnifontFont.Default;
    public static readonly UnifontRenderer Renderer = new(Font, new UnifontProfile());

    public const int Size = 224;
    public const byte Bg = 127;
    public const byte Ink = 0;

    public static byte[] Gray(string text) => Renderer.RenderGray(Encoding.UTF8.GetBytes(text));

    public static byte[] Gray(UnifontRenderer renderer, string text) => renderer.RenderGray(Encoding.UTF8.GetBytes(text));

    public static byte At(byte[] gray, int x, int y) => gray[y * Size + x];

    /// <summary>The glyph's 16 row bit patterns straight from a hex string (independent of the library's parser).</summary>
    public static ushort[] RowsFromHex(string hex)
    {
        int digits = hex.Length / 16;
        var rows = new ushort[16];
        for (int r = 0; r < 16; r++)
        {
            int v = Convert.ToInt32(hex.Substring(r * digits, digits), 16);
            rows[r] = (ushort)(digits == 2 ? v << 8 : v);
        }
        return rows;
    }

    public static string TempFile(string contents)
    {
        var path = Path.Combine(Path.GetTempPath(), $"rendering-tests-{Guid.NewGuid():N}.hex");
        File.WriteAllText(path, contents);
        return path;
    }
}
