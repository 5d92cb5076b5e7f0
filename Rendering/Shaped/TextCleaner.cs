using System.Text;

namespace VqaApi.Rendering.Shaped;

/// <summary>
/// Prepares text for shaping: cut to a bounded number of code points first (so hostile input costs bounded
/// work), lone surrogates to U+FFFD, NFC (ICU4N's, the same on every machine and in every globalization mode), CR LF and CR to LF, tab to space, other control characters and the
/// bidi embedding, override and isolate controls removed (bidi is resolved from the characters themselves).
/// </summary>
public static class TextCleaner
{
    public static string Clean(string text, int maxCodePoints, out int codePoints, out int keptCodePoints)
    {
        // Count and cut on the raw text, before any allocation that grows with it.
        codePoints = 0;
        int cut = text.Length;
        for (int i = 0; i < text.Length;)
        {
            if (codePoints == maxCodePoints) { cut = i; }
            codePoints++;
            i += char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]) ? 2 : 1;
        }
        if (codePoints <= maxCodePoints) cut = text.Length;
        keptCodePoints = Math.Min(codePoints, maxCodePoints);

        var sb = new StringBuilder(cut);
        var span = text.AsSpan(0, cut);
        while (!span.IsEmpty)
        {
            Rune.DecodeFromUtf16(span, out var rune, out int consumed); // lone surrogate -> U+FFFD
            span = span[consumed..];
            int cp = rune.Value;
            if (cp == '\r')
            {
                sb.Append('\n');
                if (!span.IsEmpty && span[0] == '\n') span = span[1..];
                continue;
            }
            if (cp == '\n') { sb.Append('\n'); continue; }
            if (cp == '\t') { sb.Append(' '); continue; }
            if (IsRemoved(cp)) continue;
            sb.Append(rune.ToString());
        }
        var cleaned = sb.ToString();
        // NFC from ICU4N's data (Unicode 10, inside the package), not string.Normalize: that goes through the machine's
        // ICU in the API and does nothing for non-ASCII text under the generator's invariant globalization, so the
        // same sentence could be drawn differently in training and in serving, and on two machines.
        var nfc = ICU4N.Text.Normalizer2.NFCInstance;
        return nfc.IsNormalized(cleaned) ? cleaned : nfc.Normalize(cleaned);
    }

    /// <summary>Controls (other than LF, handled above) and the explicit bidi formatting characters.</summary>
    public static bool IsRemoved(int cp) =>
        cp is < 0x20 or (>= 0x7F and <= 0x9F)   // C0 and C1 controls
            or (>= 0x202A and <= 0x202E)         // LRE RLE PDF LRO RLO
            or (>= 0x2066 and <= 0x2069)         // LRI RLI FSI PDI
            or 0x2028 or 0x2029 or 0xFEFF;       // line/paragraph separators (use \n), BOM
}
