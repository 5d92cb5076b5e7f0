using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace VqaApi.Rendering;

/// <summary>The model's input range: a uint8 value v becomes <c>v / 255 * 2 - 1</c> in float32.</summary>
public static class PixelValues
{
    private static readonly float[] Table = BuildTable();

    /// <summary>
    /// Same float32 operations in the same order as big_vision's <c>value_range(-1, 1)</c>
    /// (<c>cast(v, float32) / 255 * 2 + -1</c>), so results are bit-identical: 0 -> -1, 127 -> -0.0039215684.
    /// </summary>
    public static float Normalize(byte v) => Table[v];

    /// <summary>256-entry lookup table of <see cref="Normalize"/>.</summary>
    public static ReadOnlySpan<float> Lookup => Table;

    /// <summary>Inverse used for PNG export: <c>round((v + 1) / 2 * 255)</c>, clamped to 0..255.</summary>
    public static byte Denormalize(float v)
    {
        float x = MathF.Round((v + 1f) / 2f * 255f); // round half to even, like numpy.round
        return x <= 0f || float.IsNaN(x) ? (byte)0 : x >= 255f ? (byte)255 : (byte)x;
    }

    /// <summary>Maps bytes through the table: destination[i] = Normalize(source[i]).</summary>
    public static void NormalizeAll(ReadOnlySpan<byte> source, Span<float> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException("destination is too short", nameof(destination));
        var table = Table;
        for (int i = 0; i < source.Length; i++) destination[i] = table[source[i]];
    }

    private static float[] BuildTable()
    {
        var table = new float[256];
        for (int v = 0; v < 256; v++)
        {
            float f = v;       // explicit float32 steps: no double intermediates
            f /= 255f;
            f *= 2f;
            table[v] = f - 1f;
        }
        return table;
    }

    /// <summary>Drops the alpha byte of opaque RGBA pixels: RGBA (4 bytes a pixel) to RGB (3 bytes a pixel).</summary>
    public static void RgbaToRgb(ReadOnlySpan<byte> rgba, Span<byte> rgb) => FromFourBytes(rgba, rgb, swap: false);

    /// <summary>
    /// Opaque BGRA pixels (Skia's native 32-bit layout on little-endian machines, which its fast blitters draw into)
    /// to RGB.
    /// </summary>
    public static void BgraToRgb(ReadOnlySpan<byte> bgra, Span<byte> rgb) => FromFourBytes(bgra, rgb, swap: true);

    /// <summary>RGB (3 bytes a pixel) to opaque RGBA (4 bytes a pixel, alpha 255).</summary>
    public static void RgbToRgba(ReadOnlySpan<byte> rgb, Span<byte> rgba) => ToFourBytes(rgb, rgba, swap: false);

    /// <summary>RGB to opaque BGRA.</summary>
    public static void RgbToBgra(ReadOnlySpan<byte> rgb, Span<byte> bgra) => ToFourBytes(rgb, bgra, swap: true);

    private static void FromFourBytes(ReadOnlySpan<byte> four, Span<byte> rgb, bool swap)
    {
        if (four.Length / 4 * 3 != rgb.Length) throw new ArgumentException($"{four.Length / 4} four-byte pixels do not fill {rgb.Length} RGB bytes", nameof(rgb));
        int i = 0, o = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            // Four pixels at a time: 16 bytes in, 12 out (the 16-byte store's last 4 are overwritten by the next one).
            var pack = swap
                ? Vector128.Create((byte)2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, 0, 0, 0, 0)
                : Vector128.Create((byte)0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, 0, 0, 0, 0);
            ref byte source = ref MemoryMarshal.GetReference(four);
            ref byte target = ref MemoryMarshal.GetReference(rgb);
            for (; o + 16 <= rgb.Length; i += 16, o += 12)
                Vector128.Shuffle(Vector128.LoadUnsafe(ref source, (nuint)i), pack).StoreUnsafe(ref target, (nuint)o);
        }
        int r = swap ? 2 : 0, b = swap ? 0 : 2;
        for (; o < rgb.Length; i += 4, o += 3)
        {
            rgb[o] = four[i + r];
            rgb[o + 1] = four[i + 1];
            rgb[o + 2] = four[i + b];
        }
    }

    private static void ToFourBytes(ReadOnlySpan<byte> rgb, Span<byte> four, bool swap)
    {
        if (four.Length / 4 * 3 != rgb.Length) throw new ArgumentException($"{rgb.Length / 3} RGB pixels do not fill {four.Length} four-byte pixels", nameof(four));
        int i = 0, o = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            // Four pixels at a time: a 16-byte load of which 12 bytes are used, so the last pixels go the scalar way.
            var spread = swap
                ? Vector128.Create((byte)2, 1, 0, 0x80, 5, 4, 3, 0x80, 8, 7, 6, 0x80, 11, 10, 9, 0x80)
                : Vector128.Create((byte)0, 1, 2, 0x80, 3, 4, 5, 0x80, 6, 7, 8, 0x80, 9, 10, 11, 0x80);
            var alpha = Vector128.Create(0xFF000000u).AsByte();
            ref byte source = ref MemoryMarshal.GetReference(rgb);
            ref byte target = ref MemoryMarshal.GetReference(four);
            for (; i + 16 <= rgb.Length; i += 12, o += 16)
                (Vector128.Shuffle(Vector128.LoadUnsafe(ref source, (nuint)i), spread) | alpha).StoreUnsafe(ref target, (nuint)o);
        }
        int r = swap ? 2 : 0, b = swap ? 0 : 2;
        for (; i < rgb.Length; i += 3, o += 4)
        {
            four[o + r] = rgb[i];
            four[o + 1] = rgb[i + 1];
            four[o + b] = rgb[i + 2];
            four[o + 3] = 255;
        }
    }
}
