using System.Numerics;
using System.Runtime.InteropServices;

namespace VqaApi.Tasks.Heads;

/// <summary>
/// A linear head (hidden = 0: logits = x W2 + b2) or a one-hidden-layer ReLU MLP (logits = relu(x W1 + b1) W2 + b2),
/// with row-major [in, out] weights. The arrays are copied on construction and must not be modified through the
/// properties; prediction is thread-safe.
/// </summary>
public sealed class HeadWeights
{
    public HeadWeights(int inputDim, int hidden, int classes, float[] w1, float[] b1, float[] w2, float[] b2)
    {
        ArgumentNullException.ThrowIfNull(w1);
        ArgumentNullException.ThrowIfNull(b1);
        ArgumentNullException.ThrowIfNull(w2);
        ArgumentNullException.ThrowIfNull(b2);
        if (inputDim < 1) throw new ArgumentOutOfRangeException(nameof(inputDim), inputDim, "a head's input dimension must be at least 1");
        if (hidden < 0) throw new ArgumentOutOfRangeException(nameof(hidden), hidden, "hidden width must be 0 (linear head) or positive");
        if (classes < 2) throw new ArgumentOutOfRangeException(nameof(classes), classes, "a head needs at least 2 classes");
        int mid = hidden > 0 ? hidden : inputDim;
        CheckShape(w1, (long)inputDim * hidden, nameof(w1), hidden > 0 ? $"inputDim x hidden = {inputDim} x {hidden}" : "empty for a linear head");
        CheckShape(b1, hidden, nameof(b1), $"hidden = {hidden}");
        CheckShape(w2, (long)mid * classes, nameof(w2), $"{(hidden > 0 ? "hidden" : "inputDim")} x classes = {mid} x {classes}");
        CheckShape(b2, classes, nameof(b2), $"classes = {classes}");
        (InputDim, Hidden, Classes) = (inputDim, hidden, classes);
        (W1, B1, W2, B2) = ((float[])w1.Clone(), (float[])b1.Clone(), (float[])w2.Clone(), (float[])b2.Clone());
    }

    private static void CheckShape(float[] values, long expected, string name, string shape)
    {
        if (values.Length != expected)
            throw new ArgumentException($"{name} has {values.Length} values; expected {expected} ({shape})", name);
        int bad = Array.FindIndex(values, v => !float.IsFinite(v));
        if (bad >= 0) throw new ArgumentException($"{name}[{bad}] is {values[bad]}; head weights must be finite", name);
    }

    public int InputDim { get; }
    public int Hidden { get; }
    public int Classes { get; }
    /// <summary>Row-major [InputDim, Hidden]; empty for a linear head.</summary>
    public float[] W1 { get; }
    /// <summary>[Hidden]; empty for a linear head.</summary>
    public float[] B1 { get; }
    /// <summary>Row-major [Hidden, Classes], or [InputDim, Classes] for a linear head.</summary>
    public float[] W2 { get; }
    /// <summary>[Classes].</summary>
    public float[] B2 { get; }

    public float[] Logits(ReadOnlySpan<float> x)
    {
        if (x.Length != InputDim)
            throw new ArgumentException($"the input has dimension {x.Length}, but this head takes {InputDim}-dimensional inputs", nameof(x));
        ReadOnlySpan<float> a = x;
        if (Hidden > 0)
        {
            var h = new float[Hidden];
            Affine(x, W1, B1, h);
            for (int j = 0; j < h.Length; j++) if (!(h[j] > 0)) h[j] = 0;
            a = h;
        }
        var logits = new float[Classes];
        Affine(a, W2, B2, logits);
        return logits;
    }

    /// <summary>Softmax of <see cref="Logits"/>.</summary>
    public float[] Probabilities(ReadOnlySpan<float> x) => HeadFitter.Softmax(Logits(x));

    /// <summary>The most probable class (the first one on a tie): the argmax of <see cref="Probabilities"/>.</summary>
    public int Predict(ReadOnlySpan<float> x)
    {
        var p = Probabilities(x);
        int best = 0;
        for (int c = 1; c < p.Length; c++) if (p[c] > p[best]) best = c;
        return best;
    }

    /// <summary>y = b + x W for row-major W [x.Length, y.Length].</summary>
    private static void Affine(ReadOnlySpan<float> x, float[] w, float[] b, Span<float> y)
    {
        b.CopyTo(y);
        int outs = y.Length;
        for (int i = 0; i < x.Length; i++)
        {
            float xi = x[i];
            if (xi == 0) continue;
            Axpy(xi, w.AsSpan(i * outs, outs), y);
        }
    }

    /// <summary>y += a x.</summary>
    internal static void Axpy(float a, ReadOnlySpan<float> x, Span<float> y)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated && y.Length >= Vector<float>.Count)
        {
            var xv = MemoryMarshal.Cast<float, Vector<float>>(x[..y.Length]);
            var yv = MemoryMarshal.Cast<float, Vector<float>>(y);
            var av = new Vector<float>(a);
            for (int k = 0; k < yv.Length; k++) yv[k] += av * xv[k];
            i = yv.Length * Vector<float>.Count;
        }
        for (; i < y.Length; i++) y[i] += a * x[i];
    }
}
