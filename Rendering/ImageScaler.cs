using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace VqaApi.Rendering;

/// <summary>Byte order of a four-byte pixel.</summary>
public enum PixelOrder { Rgba, Bgra }

/// <summary>
/// Scales an RGB image into a rectangle of an RGBA canvas with a separable triangle (tent) filter whose support widens
/// with the reduction (1 source pixel when enlarging, 1 / scale when reducing), so enlarging is bilinear with
/// half-pixel centres and reducing averages every source pixel instead of aliasing. Weights are 14-bit integers that
/// sum exactly to 1, and all arithmetic on pixels is integer, so the bytes are the same on every CPU whichever vector
/// width runs them. The VQA layout draws its image with it, in the API and in the training data generator alike.
/// </summary>
/// <remarks>
/// Our own code rather than Skia's image drawing: Skia's scaled draw cost more than the rest of a VQA canvas (the generator
/// benchmark prints both side by side; figures in docs/generator.md), and its float pipeline is free to differ between CPUs.
/// </remarks>
public static class ImageScaler
{
    /// <summary>Fixed-point bits of a filter weight: weights of one output pixel sum to exactly 1 &lt;&lt; WeightBits.</summary>
    public const int WeightBits = 14;

    // The vertical pass keeps 8 fractional bits less than it computes (byte * weight >> 8 <= 255 << 6), so the
    // horizontal pass's sums (<= (255 << 6) << 14) stay inside an int.
    private const int VerticalShift = 8, HorizontalShift = 2 * WeightBits - VerticalShift;

    /// <summary>The source pixels one output pixel reads (from <see cref="First"/> on) and their weights.</summary>
    public readonly record struct Taps(int First, int[] Weights);

    /// <summary>Filter taps of every output coordinate for scaling <paramref name="inSize"/> pixels to <paramref name="outSize"/>.</summary>
    public static Taps[] TapsFor(int inSize, int outSize)
    {
        if (inSize <= 0 || outSize <= 0) throw new ArgumentOutOfRangeException(nameof(inSize), "sizes must be positive");
        double scale = (double)outSize / inSize;
        double support = scale >= 1 ? 1 : 1 / scale; // in source pixels, each side of the centre
        var taps = new Taps[outSize];
        var raw = new List<double>();
        for (int o = 0; o < outSize; o++)
        {
            double centre = (o + 0.5) / scale; // source coordinate of the output pixel's centre
            int first = Math.Max(0, (int)Math.Floor(centre - support));
            int last = Math.Min(inSize - 1, (int)Math.Ceiling(centre + support));
            raw.Clear();
            double total = 0;
            for (int x = first; x <= last; x++)
            {
                double w = Math.Max(0, 1 - Math.Abs(x + 0.5 - centre) / support);
                raw.Add(w);
                total += w;
            }
            // Drop zero weights at either end, then quantise; the rounding remainder goes to the largest weight.
            int lo = 0, hi = raw.Count - 1;
            while (lo < hi && raw[lo] == 0) lo++;
            while (hi > lo && raw[hi] == 0) hi--;
            var weights = new int[hi - lo + 1];
            int sum = 0, largest = 0;
            for (int k = 0; k < weights.Length; k++)
            {
                weights[k] = (int)Math.Round(raw[lo + k] / total * (1 << WeightBits));
                sum += weights[k];
                if (weights[k] > weights[largest]) largest = k;
            }
            weights[largest] += (1 << WeightBits) - sum;
            taps[o] = new Taps(first + lo, weights);
        }
        return taps;
    }

    /// <summary>
    /// Scales <paramref name="rgb"/> (width x height x 3 bytes) to outWidth x outHeight and writes it, opaque, into
    /// the canvas <paramref name="rgba"/> (canvasWidth x canvasHeight x 4 bytes, RGBA or BGRA as
    /// <paramref name="order"/> says) with its top-left corner at (left, top). The rectangle must lie inside the canvas.
    /// </summary>
    public static void ScaleInto(ReadOnlySpan<byte> rgb, int width, int height, Span<byte> rgba, int canvasWidth, int canvasHeight,
        int left, int top, int outWidth, int outHeight, PixelOrder order = PixelOrder.Rgba)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), "the image must have pixels");
        if (rgb.Length != (long)width * height * 3) throw new ArgumentException($"rgb must hold {height} x {width} x 3 bytes, not {rgb.Length}", nameof(rgb));
        if (rgba.Length != (long)canvasWidth * canvasHeight * 4) throw new ArgumentException($"rgba must hold {canvasHeight} x {canvasWidth} x 4 bytes, not {rgba.Length}", nameof(rgba));
        if (outWidth <= 0 || outHeight <= 0 || left < 0 || top < 0 || left + outWidth > canvasWidth || top + outHeight > canvasHeight)
            throw new ArgumentOutOfRangeException(nameof(outWidth), $"the rectangle ({left}, {top}) {outWidth} x {outHeight} is not inside the {canvasWidth} x {canvasHeight} canvas");

        int rowLength = width * 3;
        if (width == outWidth && height == outHeight)
        {
            for (int y = 0; y < height; y++)
            {
                var from = rgb.Slice(y * rowLength, rowLength);
                var to = rgba.Slice(((top + y) * canvasWidth + left) * 4, outWidth * 4);
                if (order == PixelOrder.Bgra) PixelValues.RgbToBgra(from, to); else PixelValues.RgbToRgba(from, to);
            }
            return;
        }
        var (rows, _) = Cached(height, outHeight);
        var (_, flat) = Cached(width, outWidth);
        // One vertically filtered source row at a time (plus one int of padding: the horizontal pass reads 4 ints a pixel).
        var line = ArrayPool<int>.Shared.Rent(rowLength + 1);
        try
        {
            line[rowLength] = 0;
            for (int oy = 0; oy < outHeight; oy++)
            {
                Vertical(rgb, rowLength, rows[oy], line);
                Horizontal(line, flat, rgba.Slice(((top + oy) * canvasWidth + left) * 4, outWidth * 4), order == PixelOrder.Bgra);
            }
        }
        finally { ArrayPool<int>.Shared.Return(line); }
    }

    // Taps per (source size, output size): the generator asks for the same few pairs millions of times. Bounded: the
    // API's images come in any size.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(int, int), (Taps[], Flat)> TapCache = new();
    private const int TapCacheEntries = 512;

    private static (Taps[] Taps, Flat Flat) Cached(int inSize, int outSize)
    {
        if (TapCache.TryGetValue((inSize, outSize), out var hit)) return hit;
        var taps = TapsFor(inSize, outSize);
        var entry = (taps, Flatten(taps, inSize));
        if (TapCache.Count >= TapCacheEntries) TapCache.Clear();
        TapCache[(inSize, outSize)] = entry;
        return entry;
    }

    /// <summary>Scales an RGB image to outWidth x outHeight RGB (the whole output is the image).</summary>
    public static byte[] Scale(ReadOnlySpan<byte> rgb, int width, int height, int outWidth, int outHeight)
    {
        var rgba = new byte[outWidth * outHeight * 4];
        ScaleInto(rgb, width, height, rgba, outWidth, outHeight, 0, 0, outWidth, outHeight);
        var result = new byte[outWidth * outHeight * 3];
        PixelValues.RgbaToRgb(rgba, result);
        return result;
    }

    /// <summary>line[i] = (sum over the taps' rows of row[i] * weight) >> VerticalShift, rounded.</summary>
    private static void Vertical(ReadOnlySpan<byte> rgb, int rowLength, Taps taps, int[] line)
    {
        ref byte source = ref MemoryMarshal.GetReference(rgb);
        ref int target = ref MemoryMarshal.GetArrayDataReference(line);
        var weights = taps.Weights;
        const int round = 1 << (VerticalShift - 1);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 32 <= rowLength; i += 32)
            {
                Vector256<int> a0 = Vector256.Create(round), a1 = a0, a2 = a0, a3 = a0;
                for (int k = 0; k < weights.Length; k++)
                {
                    var bytes = Vector256.LoadUnsafe(ref source, (nuint)((taps.First + k) * rowLength + i));
                    var (lo, hi) = Vector256.Widen(bytes);
                    var (p0, p1) = Vector256.Widen(lo);
                    var (p2, p3) = Vector256.Widen(hi);
                    var w = Vector256.Create(weights[k]);
                    a0 += p0.AsInt32() * w;
                    a1 += p1.AsInt32() * w;
                    a2 += p2.AsInt32() * w;
                    a3 += p3.AsInt32() * w;
                }
                Vector256.ShiftRightArithmetic(a0, VerticalShift).StoreUnsafe(ref target, (nuint)i);
                Vector256.ShiftRightArithmetic(a1, VerticalShift).StoreUnsafe(ref target, (nuint)(i + 8));
                Vector256.ShiftRightArithmetic(a2, VerticalShift).StoreUnsafe(ref target, (nuint)(i + 16));
                Vector256.ShiftRightArithmetic(a3, VerticalShift).StoreUnsafe(ref target, (nuint)(i + 24));
            }
        }
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i + 16 <= rowLength; i += 16)
            {
                Vector128<int> a0 = Vector128.Create(round), a1 = a0, a2 = a0, a3 = a0;
                for (int k = 0; k < weights.Length; k++)
                {
                    var bytes = Vector128.LoadUnsafe(ref source, (nuint)((taps.First + k) * rowLength + i));
                    var (lo, hi) = Vector128.Widen(bytes);
                    var (p0, p1) = Vector128.Widen(lo);
                    var (p2, p3) = Vector128.Widen(hi);
                    var w = Vector128.Create(weights[k]);
                    a0 += p0.AsInt32() * w;
                    a1 += p1.AsInt32() * w;
                    a2 += p2.AsInt32() * w;
                    a3 += p3.AsInt32() * w;
                }
                Vector128.ShiftRightArithmetic(a0, VerticalShift).StoreUnsafe(ref target, (nuint)i);
                Vector128.ShiftRightArithmetic(a1, VerticalShift).StoreUnsafe(ref target, (nuint)(i + 4));
                Vector128.ShiftRightArithmetic(a2, VerticalShift).StoreUnsafe(ref target, (nuint)(i + 8));
                Vector128.ShiftRightArithmetic(a3, VerticalShift).StoreUnsafe(ref target, (nuint)(i + 12));
            }
        }
        for (; i < rowLength; i++)
        {
            int acc = round;
            for (int k = 0; k < weights.Length; k++) acc += Unsafe.Add(ref source, (taps.First + k) * rowLength + i) * weights[k];
            Unsafe.Add(ref target, i) = acc >> VerticalShift;
        }
    }

    /// <summary>Each output pixel from its taps' columns of the filtered row, written as opaque RGBA.</summary>
    private static void Horizontal(int[] line, Flat columns, Span<byte> rgba, bool bgra)
    {
        ref int source = ref MemoryMarshal.GetArrayDataReference(line);
        ref int first = ref MemoryMarshal.GetArrayDataReference(columns.First);
        ref int weight = ref MemoryMarshal.GetArrayDataReference(columns.Weights);
        ref uint target = ref Unsafe.As<byte, uint>(ref MemoryMarshal.GetReference(rgba));
        int n = columns.Count, outputs = columns.First.Length;
        const int round = 1 << (HorizontalShift - 1);
        if (Vector128.IsHardwareAccelerated)
        {
            uint alpha = BitConverter.IsLittleEndian ? 0xFF000000u : 0xFFu;
            var order = bgra ? Vector128.Create((byte)2, 1, 0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) : Vector128.Create((byte)0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            for (int ox = 0; ox < outputs; ox++)
            {
                // R, G, B and the next pixel's R (ignored) in one vector; the padded taps have weight 0.
                ref int from = ref Unsafe.Add(ref source, Unsafe.Add(ref first, ox) * 3);
                ref int w = ref Unsafe.Add(ref weight, ox * n);
                var acc = Vector128.Create(round) + Vector128.LoadUnsafe(ref from) * Vector128.Create(w);
                switch (n) // unrolled for the usual counts: 2 when enlarging, 3 or 4 when reducing by up to half
                {
                    case 1: break;
                    case 2:
                        acc += Vector128.LoadUnsafe(ref from, 3) * Vector128.Create(Unsafe.Add(ref w, 1));
                        break;
                    case 3:
                        acc += Vector128.LoadUnsafe(ref from, 3) * Vector128.Create(Unsafe.Add(ref w, 1));
                        acc += Vector128.LoadUnsafe(ref from, 6) * Vector128.Create(Unsafe.Add(ref w, 2));
                        break;
                    case 4:
                        acc += Vector128.LoadUnsafe(ref from, 3) * Vector128.Create(Unsafe.Add(ref w, 1));
                        acc += Vector128.LoadUnsafe(ref from, 6) * Vector128.Create(Unsafe.Add(ref w, 2));
                        acc += Vector128.LoadUnsafe(ref from, 9) * Vector128.Create(Unsafe.Add(ref w, 3));
                        break;
                    default:
                        for (int k = 1; k < n; k++)
                            acc += Vector128.LoadUnsafe(ref from, (nuint)(k * 3)) * Vector128.Create(Unsafe.Add(ref w, k));
                        break;
                }
                var values = Vector128.ShiftRightArithmetic(acc, HorizontalShift); // 0..255 each
                var halves = Vector128.Narrow(values, values).AsUInt16();
                var bytes = Vector128.Shuffle(Vector128.Narrow(halves, halves), order).AsUInt32();
                Unsafe.Add(ref target, ox) = bytes.ToScalar() | alpha;
            }
            return;
        }
        ref byte pixels = ref MemoryMarshal.GetReference(rgba);
        int red = bgra ? 2 : 0, blue = bgra ? 0 : 2;
        for (int ox = 0; ox < outputs; ox++)
        {
            int r = round, g = round, b = round;
            int x0 = Unsafe.Add(ref first, ox) * 3;
            for (int k = 0; k < n; k++)
            {
                int x = x0 + k * 3, w = Unsafe.Add(ref weight, ox * n + k);
                r += Unsafe.Add(ref source, x) * w;
                g += Unsafe.Add(ref source, x + 1) * w;
                b += Unsafe.Add(ref source, x + 2) * w;
            }
            ref byte pixel = ref Unsafe.Add(ref pixels, ox * 4);
            Unsafe.Add(ref pixel, red) = (byte)(r >> HorizontalShift);
            Unsafe.Add(ref pixel, 1) = (byte)(g >> HorizontalShift);
            Unsafe.Add(ref pixel, blue) = (byte)(b >> HorizontalShift);
            Unsafe.Add(ref pixel, 3) = 255;
        }
    }

    /// <summary>Taps with the same count for every output (zero weights at the end), in flat arrays.</summary>
    private sealed record Flat(int[] First, int[] Weights, int Count);

    private static Flat Flatten(Taps[] taps, int inSize)
    {
        int n = taps.Max(t => t.Weights.Length);
        var first = new int[taps.Length];
        var weights = new int[taps.Length * n];
        for (int o = 0; o < taps.Length; o++)
        {
            // Shifted left where the padding would run past the last source pixel, with zero weights in front.
            int start = Math.Min(taps[o].First, inSize - n);
            int shift = taps[o].First - start;
            first[o] = start;
            taps[o].Weights.CopyTo(weights, o * n + shift);
        }
        return new Flat(first, weights, n);
    }
}
