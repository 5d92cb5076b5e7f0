using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace VqaApi.Generation;

/// <summary>
/// The scene effects after drawing: Gaussian blur and grain, on RGB bytes, in integer arithmetic only. Every
/// operation is exact, so the bytes do not depend on the CPU's vector width (the SIMD and scalar paths agree,
/// which a test checks) nor on a native library's rounding; both run in a fraction of what Skia's blur filter took.
/// </summary>
public static class PixelEffects
{
    /// <summary>The blur's kernel: odd length, symmetric, weights summing to 256 (fixed point, 8 fractional bits).</summary>
    public static ushort[] GaussianKernel(float sigma)
    {
        // Wider kernels would lose too much to 8-bit weights; scenes use 0.3 to 0.8.
        if (!(sigma > 0) || sigma > 2) throw new ArgumentOutOfRangeException(nameof(sigma), sigma, "sigma must be in (0, 2]");
        int radius = Math.Max(1, (int)MathF.Ceiling(3 * sigma));
        var g = new double[2 * radius + 1];
        double sum = 0;
        for (int k = -radius; k <= radius; k++) sum += g[k + radius] = ExpNegative(k * (double)k / (2.0 * sigma * sigma));
        var weights = new ushort[g.Length];
        int total = 0;
        for (int k = 0; k < g.Length; k++)
        {
            if (k == radius) continue;
            weights[k] = (ushort)Math.Round(256 * g[k] / sum, MidpointRounding.ToEven);
            total += weights[k];
        }
        weights[radius] = (ushort)(256 - total);
        return weights;
    }

    /// <summary>
    /// exp(-x) for x >= 0 from + - * / alone (a series on x / 1024, then squared ten times): the system's libm
    /// may round differently from one machine to the next, and the kernel must not.
    /// </summary>
    public static double ExpNegative(double x)
    {
        double r = -x / 1024, term = 1, result = 1;
        for (int n = 1; n <= 12; n++) { term = term * r / n; result += term; }
        for (int i = 0; i < 10; i++) result *= result;
        return result;
    }

    /// <summary>Separable Gaussian blur of a square RGB canvas in place, edges clamped; each pass rounds to 8 bits.</summary>
    public static void Blur(Span<byte> rgb, int size, float sigma)
    {
        if (rgb.Length != size * size * 3) throw new ArgumentException($"expected {size}x{size}x3 bytes", nameof(rgb));
        var w = GaussianKernel(sigma);
        int radius = w.Length / 2, row = size * 3;
        var padded = Scratch(ref _padded, row + 2 * radius * 3);
        var horizontal = Scratch(ref _horizontal, rgb.Length);
        for (int y = 0; y < size; y++)
        {
            var source = rgb.Slice(y * row, row);
            // The row with `radius` copies of its first and last pixels on either side.
            for (int p = 0; p < radius; p++)
                for (int c = 0; c < 3; c++)
                {
                    padded[p * 3 + c] = source[c];
                    padded[(radius + size + p) * 3 + c] = source[row - 3 + c];
                }
            for (int i = 0; i < row; i++) padded[radius * 3 + i] = source[i];
            Convolve(padded, 3, w, horizontal.Slice(y * row, row));
        }
        var column = Scratch(ref _column, (size + 2 * radius) * row);
        for (int y = -radius; y < size + radius; y++)
            horizontal.Slice(Math.Clamp(y, 0, size - 1) * row, row).CopyTo(column.Slice((y + radius) * row));
        var result = Scratch(ref _result, rgb.Length);
        Convolve(column, row, w, result);
        for (int i = 0; i < rgb.Length; i++) rgb[i] = (byte)result[i];
    }

    // Per-thread buffers: a 224 px canvas needs four of about 300 kB, which would otherwise land on the large object heap.
    [ThreadStatic] private static ushort[]? _padded, _horizontal, _column, _result;

    private static Span<ushort> Scratch(ref ushort[]? buffer, int length)
    {
        if (buffer is null || buffer.Length < length) buffer = new ushort[length];
        return buffer.AsSpan(0, length);
    }

    /// <summary>output[i] = (sum_k w[k] * input[i + k * step] + 128) >> 8; no overflow: 255 * 256 fits a ushort.</summary>
    private static void Convolve(ReadOnlySpan<ushort> input, int step, ReadOnlySpan<ushort> w, Span<ushort> output)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var half = Vector256.Create((ushort)128);
            ref ushort source = ref MemoryMarshal.GetReference(input);
            for (; i + Vector256<ushort>.Count <= output.Length; i += Vector256<ushort>.Count)
            {
                var acc = half;
                for (int k = 0; k < w.Length; k++)
                    acc += Vector256.LoadUnsafe(ref source, (nuint)(i + k * step)) * w[k];
                Vector256.ShiftRightLogical(acc, 8).StoreUnsafe(ref MemoryMarshal.GetReference(output), (nuint)i);
            }
        }
        for (; i < output.Length; i++)
        {
            int acc = 128;
            for (int k = 0; k < w.Length; k++) acc += input[i + k * step] * w[k];
            output[i] = (ushort)(acc >> 8);
        }
    }

    // Grain comes from one fixed table of uniform values in [-64, 64], read from a per-scene offset: drawing a random
    // number per byte cost more than painting the whole scene. The table is followed by its own start, so a canvas
    // read from any offset is contiguous.
    private const int NoiseTableBits = 18;
    private const int MaxNoiseCanvas = 1024 * 1024 * 3;
    private static readonly short[] NoiseTable = MakeNoiseTable();

    private static short[] MakeNoiseTable()
    {
        var random = new Random(20261126);
        var table = new short[(1 << NoiseTableBits) + MaxNoiseCanvas];
        for (int i = 0; i < 1 << NoiseTableBits; i++) table[i] = (short)random.Next(-64, 65);
        for (int i = 1 << NoiseTableBits; i < table.Length; i++) table[i] = table[i & ((1 << NoiseTableBits) - 1)];
        return table;
    }

    /// <summary>Grain over the whole canvas of at most +-amplitude (0..64): v + floor(t * amplitude / 64), clamped.</summary>
    public static void AddNoise(Span<byte> rgb, int seed, int amplitude)
    {
        if (rgb.Length > MaxNoiseCanvas) throw new ArgumentException($"canvases over {MaxNoiseCanvas} bytes are not supported", nameof(rgb));
        if (amplitude is < 0 or > 64) throw new ArgumentOutOfRangeException(nameof(amplitude), amplitude, "amplitude must be in 0..64");
        var table = NoiseTable.AsSpan(seed & ((1 << NoiseTableBits) - 1), rgb.Length);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var amp = Vector256.Create((short)amplitude);
            var max = Vector256.Create((short)255);
            ref short t = ref MemoryMarshal.GetReference(table);
            ref byte b = ref MemoryMarshal.GetReference(rgb);
            for (; i + Vector256<byte>.Count <= rgb.Length; i += Vector256<byte>.Count)
            {
                var (lo, hi) = Vector256.Widen(Vector256.LoadUnsafe(ref b, (nuint)i));
                var nlo = Vector256.ShiftRightArithmetic(Vector256.LoadUnsafe(ref t, (nuint)i) * amp, 6);
                var nhi = Vector256.ShiftRightArithmetic(Vector256.LoadUnsafe(ref t, (nuint)(i + 16)) * amp, 6);
                var vlo = Vector256.Min(Vector256.Max(lo.AsInt16() + nlo, Vector256<short>.Zero), max).AsUInt16();
                var vhi = Vector256.Min(Vector256.Max(hi.AsInt16() + nhi, Vector256<short>.Zero), max).AsUInt16();
                Vector256.Narrow(vlo, vhi).StoreUnsafe(ref b, (nuint)i);
            }
        }
        for (; i < rgb.Length; i++)
        {
            int v = rgb[i] + ((table[i] * amplitude) >> 6);
            rgb[i] = (byte)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
}
