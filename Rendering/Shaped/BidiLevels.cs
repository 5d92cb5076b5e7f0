using System.Buffers;
using ICU4N;
using ICU4N.Globalization;

namespace VqaApi.Rendering.Shaped;

/// <summary>How the paragraph level is chosen: fixed, or from the first strong character (P2-P3, default LTR).</summary>
public enum BidiDirection : byte { LeftToRight = 0, RightToLeft = 1, Auto = 2 }

/// <summary>
/// Embedding levels by the Unicode Bidirectional Algorithm (UAX #9: P1-P3, X1-X10, W1-W7, N0-N2, I1-I2, L1), reported
/// the way ICU 72's <c>ubidi_setPara</c> + <c>ubidi_getLevels</c> report them, so that the levels are byte for byte
/// what the shaped renderer got from the machine's ICU before. Character data (Bidi_Class, Bidi_Paired_Bracket,
/// Bidi_Paired_Bracket_Type) comes from ICU4N, pinned by its package (Unicode 10), never from the machine.
/// <para>Where UAX #9 leaves the choice open, ICU's choices are taken:</para>
/// <list type="bullet">
/// <item>Characters removed by X9 (embedding and override controls, BN, and the lead surrogate of every pair, which
/// ICU classes as BN) take the level of the character after them, or the paragraph level where L1 resets.</item>
/// <item>L1 resets whitespace, isolate controls and removed characters before each segment or paragraph separator
/// and at the end of the text, and the separators themselves, to their paragraph's level.</item>
/// <item>Text that ICU finds unidirectional gets the paragraph level everywhere, where UAX #9 could raise numbers
/// or embeddings (the visual order is the same): left-to-right with no R, AL, RLE, RLO, RLI (an FSI counts as the
/// LRI or RLI it resolves to) nor AN together with a possible neutral, right-to-left with no L, EN, AN, LRE, LRO,
/// LRI; each paragraph's parity counts, and text with controls is looked at again once explicit levels are known.</item>
/// <item>Several paragraphs (B; CR LF is one separator) each get their own level; the first one's is returned.</item>
/// </list>
/// <para>With <c>matchIcu</c> (the default) ICU 72's departures from UAX #9 are reproduced too; without it the
/// levels are plain UAX #9, and all 91,699 lines of the Unicode 10 BidiCharacterTest.txt pass
/// (tests/Rendering.Tests/BidiLevelsTests.cs):</para>
/// <list type="bullet">
/// <item>N0: the bracket stack has no 63-entry limit; nonspacing marks after a resolved bracket are left to N1-N2;
/// an opening U+2329 or U+3008 whose first pair had no strong type inside can pair again with the other canonical
/// form of its closing bracket (ICU keeps an entry per form).</item>
/// <item>Isolate initiators and PDIs are never overridden by LRO/RLO: they stay neutral.</item>
/// <item>In a paragraph after the first, W2, W7 and N0 start from the previous paragraph's direction when the text
/// has no explicit or isolate controls, and the first sos comes from the previous paragraph's level too when the
/// paragraph starts with removed characters.</item>
/// <item>Not reproduced: ICU pairs a bracket under an override with one outside it (UAX #9 since 8.0 does not);
/// only text with LRO/RLO controls can meet it, and the renderer's <see cref="TextCleaner"/> removes those.</item>
/// </list>
/// <para>Hostile input is fine: time is linear in the length (megabyte strings, 10,000 nested controls), nothing
/// recurses, and the directional status stack is the fixed 127 entries of X1 (depth 125).</para>
/// </summary>
public static class BidiLevels
{
    /// <summary>The deepest explicit embedding level (X1).</summary>
    public const int MaxDepth = 125;
    private const int BracketStackSize = 63;

    // Bidi_Class values, numbered as ICU's UCharacterDirection.
    private const byte L = 0, R = 1, EN = 2, ES = 3, ET = 4, AN = 5, CS = 6, B = 7, S = 8, WS = 9, ON = 10,
        LRE = 11, LRO = 12, AL = 13, RLE = 14, RLO = 15, PDF = 16, NSM = 17, BN = 18, FSI = 19, LRI = 20, RLI = 21, PDI = 22;
    private const byte NoOverride = 0xFF;

    private static uint Bit(byte c) => 1u << c;
    private const uint MaskLtr = 1u << L | 1u << EN | 1u << AN | 1u << LRE | 1u << LRO | 1u << LRI;
    private const uint MaskRtl = 1u << R | 1u << AL | 1u << RLE | 1u << RLO | 1u << RLI;
    private const uint MaskRemoved = 1u << LRE | 1u << RLE | 1u << LRO | 1u << RLO | 1u << PDF | 1u << BN;
    private const uint MaskInitiator = 1u << LRI | 1u << RLI | 1u << FSI;
    private const uint MaskIsolate = MaskInitiator | 1u << PDI;
    private const uint MaskSeparator = 1u << B | 1u << S;
    /// <summary>What L1 resets before a separator and at the end of the text (with ICU: removed characters too).</summary>
    private const uint MaskTrailing = MaskSeparator | 1u << WS | MaskRemoved | MaskIsolate;
    private const uint MaskPossibleNeutral = 1u << ON | 1u << CS | 1u << ES | 1u << ET | MaskTrailing;
    /// <summary>Neutral and isolate formatting types (NI) as N1-N2 see them.</summary>
    private const uint MaskNeutral = MaskSeparator | 1u << WS | 1u << ON | MaskIsolate;

    /// <summary>
    /// Resolves the embedding level of every UTF-16 unit of <paramref name="text"/> into <paramref name="levels"/>
    /// (both units of a surrogate pair get the same level) and returns the level of the first paragraph.
    /// <paramref name="matchIcu"/> false gives plain UAX #9 levels, as the Unicode conformance file expects them,
    /// where ICU differs (see the summary); the renderer keeps ICU's.
    /// </summary>
    public static byte Resolve(ReadOnlySpan<char> text, Span<byte> levels, BidiDirection direction = BidiDirection.Auto, bool matchIcu = true)
    {
        int n = text.Length;
        if (levels.Length < n) throw new ArgumentException("levels must be at least as long as the text", nameof(levels));
        byte given = direction == BidiDirection.RightToLeft ? (byte)1 : (byte)0;
        if (n == 0) return given;

        byte[] rented = ArrayPool<byte>.Shared.Rent(n);
        try
        {
            var classes = rented.AsSpan(0, n);
            uint flags = Classify(text, classes);
            // Nothing right-to-left: every paragraph is at level 0, and ICU reports 0 everywhere (see the summary).
            if (matchIcu && direction != BidiDirection.RightToLeft && (flags & MaskRtl) == 0
                && ((flags & Bit(AN)) == 0 || (flags & MaskPossibleNeutral) == 0))
            {
                levels[..n].Clear();
                return 0;
            }
            var resolver = new Resolver(text, classes, levels[..n], matchIcu);
            return resolver.Run(direction, flags);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Levels of <paramref name="text"/> as ICU gives them for UBIDI_DEFAULT_LTR, and the first paragraph's level.</summary>
    public static byte[] Resolve(string text, out byte paragraphLevel)
    {
        var levels = new byte[text.Length];
        paragraphLevel = Resolve(text.AsSpan(), levels);
        return levels;
    }

    // ---- character data (ICU4N), cached per code point for the first two planes ----

    private const int CachedCodePoints = 0x20000;
    private const byte NotLookedUp = 0xFF;
    private static readonly byte[] s_classes = NewCache(CachedCodePoints);
    private static readonly byte[] s_bracketTypes = NewCache(0x10000); // every paired bracket is in the BMP

    private static byte[] NewCache(int size)
    {
        var cache = new byte[size];
        Array.Fill(cache, NotLookedUp);
        return cache;
    }

    /// <summary>Bidi_Class of a code point (lone surrogates have their own class, L, as in ICU).</summary>
    private static byte ClassOf(int cp)
    {
        if ((uint)cp >= CachedCodePoints) return (byte)UChar.GetIntPropertyValue(cp, UProperty.Bidi_Class);
        byte c = s_classes[cp];
        if (c == NotLookedUp) s_classes[cp] = c = (byte)UChar.GetIntPropertyValue(cp, UProperty.Bidi_Class);
        return c;
    }

    /// <summary>Bidi_Paired_Bracket_Type: 0 none, 1 open, 2 close.</summary>
    private static byte BracketType(char cp)
    {
        byte t = s_bracketTypes[cp];
        if (t == NotLookedUp) s_bracketTypes[cp] = t = (byte)UChar.GetIntPropertyValue(cp, UProperty.Bidi_Paired_Bracket_Type);
        return t;
    }

    /// <summary>BD16 compares brackets up to canonical equivalence: U+2329/U+232A decompose to U+3008/U+3009.</summary>
    private static int CanonicalBracket(int cp) => cp switch { 0x2329 => 0x3008, 0x232A => 0x3009, _ => cp };

    /// <summary>Classes per UTF-16 unit, the lead surrogate of a pair as BN (as ICU does); returns the set of classes seen.</summary>
    private static uint Classify(ReadOnlySpan<char> text, Span<byte> classes)
    {
        uint flags = 0;
        var cache = s_classes;
        for (int i = 0; i < text.Length; i++)
        {
            int c = text[i];
            byte k;
            if (char.IsHighSurrogate((char)c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                classes[i] = BN;
                flags |= Bit(BN);
                k = ClassOf(char.ConvertToUtf32((char)c, text[i + 1]));
                i++;
            }
            else
            {
                k = cache[c];
                if (k == NotLookedUp) k = ClassOf(c);
            }
            classes[i] = k;
            flags |= Bit(k);
        }
        return flags;
    }

    private readonly record struct Paragraph(int Start, int End, byte Level);

    private ref struct Resolver
    {
        private readonly ReadOnlySpan<char> _text;
        private readonly ReadOnlySpan<byte> _classes;
        private readonly Span<byte> _levels;
        private readonly byte[] _types;      // current bidi types (FSI resolved to LRI/RLI before X1)
        private readonly byte[] _embedding;  // explicit embedding levels (X1-X8)
        private int[]? _match;               // BD9: initiator -> matching PDI and PDI -> initiator, -1 when none
        private int[]? _waitingRun;          // X10: PDI -> 1 + the level run that ends with its initiator
        private int[]? _nonRemoved, _runStarts, _runNext, _sequence;
        private Dictionary<int, byte>? _resolvedClosings; // for ICU's second look: closing bracket -> its direction

        private readonly bool _matchIcu;

        public Resolver(ReadOnlySpan<char> text, ReadOnlySpan<byte> classes, Span<byte> levels, bool matchIcu)
        {
            _matchIcu = matchIcu;
            _text = text;
            _classes = classes;
            _levels = levels;
            _types = classes.ToArray();
            _embedding = new byte[text.Length];
        }

        public byte Run(BidiDirection direction, uint flags)
        {
            int n = _text.Length;
            if ((flags & MaskIsolate) != 0) { _match = new int[n]; _waitingRun = new int[n]; }

            // P1: paragraphs end after a B (CR LF counts as one separator).
            var paragraphs = new List<Paragraph>();
            for (int start = 0, i = 0; i < n; i++)
            {
                if (_classes[i] != B) { if (i == n - 1) paragraphs.Add(FirstPass(start, n, direction, ref flags)); continue; }
                if (_text[i] == '\r' && i + 1 < n && _text[i + 1] == '\n') continue;
                paragraphs.Add(FirstPass(start, i + 1, direction, ref flags));
                start = i + 1;
            }
            foreach (var p in paragraphs) flags |= Bit((p.Level & 1) == 0 ? L : R);

            byte first = paragraphs[0].Level;
            if (_matchIcu)
            {
                bool ltr = (flags & MaskRtl) == 0 && ((flags & Bit(AN)) == 0 || (flags & MaskPossibleNeutral) == 0);
                if (ltr || (flags & MaskLtr) == 0)
                {
                    _levels.Fill(first);
                    return first;
                }
            }

            bool controls = (flags & (MaskRemoved | MaskIsolate) & ~Bit(BN)) != 0;
            byte[]? implicitTypes = _matchIcu && controls ? (byte[])_types.Clone() : null;
            foreach (var p in paragraphs) Explicit(p);
            byte[]? explicitTypes = implicitTypes is null ? null : (byte[])_types.Clone();
            if (explicitTypes is not null) _resolvedClosings = [];
            for (int k = 0; k < paragraphs.Count; k++)
                Implicit(paragraphs[k], k == 0 ? null : paragraphs[k - 1].Level, controls);
            if (explicitTypes is not null && IsUnidirectionalAfterExplicit(paragraphs, implicitTypes!, explicitTypes))
            {
                _levels.Fill(first);
                return first;
            }
            ResetTrailing(paragraphs);
            return first;
        }

        /// <summary>
        /// ICU looks again once explicit levels are known (in text with explicit or isolate controls), with other
        /// flags: removed characters count as BN, isolate controls as ON and their level's direction (initiators
        /// as themselves too), a separator as B, any other character as its class after overrides (a closing
        /// bracket as its resolved direction) and, where its level differs from the character before, as an
        /// embedding or override of that level's direction; with a neutral anywhere, the first paragraph's
        /// direction too.
        /// </summary>
        private readonly bool IsUnidirectionalAfterExplicit(List<Paragraph> paragraphs, byte[] implicitTypes, byte[] explicitTypes)
        {
            uint flags = 0;
            int p = 0;
            byte previous = paragraphs[0].Level;
            for (int i = 0; i < _text.Length; i++)
            {
                if (i == paragraphs[p].End) previous = paragraphs[++p].Level;
                byte c = _classes[i], level = _embedding[i];
                bool odd = (level & 1) == 1;
                if ((Bit(c) & MaskRemoved) != 0) flags |= Bit(BN);
                else if ((Bit(c) & MaskIsolate) != 0)
                {
                    flags |= Bit(ON) | Bit(odd ? R : L);
                    if (c != PDI) flags |= Bit(implicitTypes[i]);
                    previous = level;
                }
                else if (c == B) flags |= Bit(B);
                else
                {
                    byte t = explicitTypes[i];
                    bool overridden = t != implicitTypes[i];
                    if (level != previous) flags |= Bit(overridden ? (odd ? RLO : LRO) : (odd ? RLE : LRE));
                    previous = level;
                    flags |= Bit(_resolvedClosings!.TryGetValue(i, out byte resolved) ? resolved : t);
                }
            }
            if ((flags & (Bit(NSM) | MaskPossibleNeutral)) != 0) flags |= Bit((paragraphs[0].Level & 1) == 0 ? L : R);
            bool ltr = (flags & MaskRtl) == 0 && ((flags & Bit(AN)) == 0 || (flags & MaskPossibleNeutral) == 0);
            return ltr || (flags & MaskLtr) == 0;
        }

        /// <summary>
        /// P2-P3 (the first strong character outside isolates), the direction of each FSI (X5c, its first strong
        /// character before its matching PDI), BD9 isolate matching, and the LRI/RLI flags ICU derives from FSIs
        /// (ICU tracks FSIs up to 126 nested isolates and looks at open ones only at the end of the text).
        /// </summary>
        private Paragraph FirstPass(int start, int end, BidiDirection direction, ref uint flags)
        {
            const byte seekParagraph = 0, seekFsi = 1, lookForPdi = 2, notSeeking = 3;
            const int tracked = MaxDepth + 1;
            byte level = direction == BidiDirection.RightToLeft ? (byte)1 : (byte)0;
            byte state = direction == BidiDirection.Auto ? seekParagraph : notSeeking;
            int depth = 0;
            Span<byte> savedStates = stackalloc byte[tracked];
            Span<int> initiators = stackalloc int[tracked];
            int[]? match = _match;
            int open = 0; // BD9: initiators still open, on an unbounded stack
            int[]? bd9 = match is null ? null : ArrayPool<int>.Shared.Rent(end - start);
            try
            {
                for (int i = start; i < end; i++)
                {
                    byte c = _classes[i];
                    switch (c)
                    {
                        case L:
                        case R:
                        case AL:
                            if (state == seekParagraph)
                            {
                                level = c == L ? (byte)0 : (byte)1;
                                state = notSeeking;
                            }
                            else if (state == seekFsi)
                            {
                                if (depth <= tracked)
                                {
                                    byte resolved = c == L ? LRI : RLI;
                                    _types[initiators[depth - 1]] = resolved;
                                    flags |= Bit(resolved);
                                }
                                state = lookForPdi;
                            }
                            break;
                        case LRI:
                        case RLI:
                        case FSI:
                            match![i] = -1;
                            bd9![open++] = i;
                            depth++;
                            if (depth <= tracked)
                            {
                                initiators[depth - 1] = i;
                                savedStates[depth - 1] = state;
                            }
                            if (c == FSI) { _types[i] = LRI; state = seekFsi; }
                            else state = lookForPdi;
                            break;
                        case PDI:
                            if (open > 0)
                            {
                                int initiator = bd9![--open];
                                match![initiator] = i;
                                match[i] = initiator;
                            }
                            else match![i] = -1;
                            if (state == seekFsi && depth <= tracked) flags |= Bit(LRI);
                            if (depth > 0)
                            {
                                if (depth <= tracked) state = savedStates[depth - 1];
                                depth--;
                            }
                            break;
                    }
                }
            }
            finally
            {
                if (bd9 is not null) ArrayPool<int>.Shared.Return(bd9);
            }

            if (end == _text.Length)
            {
                // FSIs still open at the end of the text (not at a paragraph separator) count as LRI in ICU.
                if (depth > tracked) { depth = tracked; state = seekFsi; }
                for (; depth > 0; depth--)
                {
                    if (state == seekFsi) { flags |= Bit(LRI); break; }
                    state = savedStates[depth - 1];
                }
            }
            return new Paragraph(start, end, level);
        }

        /// <summary>X1-X8: explicit embedding levels and overrides with the directional status stack.</summary>
        private void Explicit(Paragraph p)
        {
            Span<byte> stackLevel = stackalloc byte[MaxDepth + 2];
            Span<byte> stackOverride = stackalloc byte[MaxDepth + 2];
            Span<bool> stackIsolate = stackalloc bool[MaxDepth + 2];
            int count = 1;
            stackLevel[0] = p.Level;
            stackOverride[0] = NoOverride;
            stackIsolate[0] = false;
            int overflowIsolates = 0, overflowEmbeddings = 0, validIsolates = 0;

            for (int i = p.Start; i < p.End; i++)
            {
                byte t = _types[i];
                int top = count - 1;
                byte current = stackLevel[top];
                switch (t)
                {
                    case RLE:
                    case LRE:
                    case RLO:
                    case LRO:
                    {
                        _embedding[i] = current;
                        int next = t is RLE or RLO ? (current + 1) | 1 : (current + 2) & ~1;
                        if (next <= MaxDepth && overflowIsolates == 0 && overflowEmbeddings == 0)
                        {
                            stackLevel[count] = (byte)next;
                            stackOverride[count] = t == RLO ? R : t == LRO ? L : NoOverride;
                            stackIsolate[count] = false;
                            count++;
                        }
                        else if (overflowIsolates == 0) overflowEmbeddings++;
                        break;
                    }
                    case RLI:
                    case LRI:
                    {
                        _embedding[i] = current;
                        if (stackOverride[top] != NoOverride && !_matchIcu) _types[i] = stackOverride[top]; // ICU: never
                        int next = t == RLI ? (current + 1) | 1 : (current + 2) & ~1;
                        if (next <= MaxDepth && overflowIsolates == 0 && overflowEmbeddings == 0)
                        {
                            validIsolates++;
                            stackLevel[count] = (byte)next;
                            stackOverride[count] = NoOverride;
                            stackIsolate[count] = true;
                            count++;
                        }
                        else overflowIsolates++;
                        break;
                    }
                    case PDI:
                        if (overflowIsolates > 0) overflowIsolates--;
                        else if (validIsolates > 0)
                        {
                            overflowEmbeddings = 0;
                            while (!stackIsolate[count - 1]) count--;
                            count--;
                            validIsolates--;
                        }
                        top = count - 1;
                        _embedding[i] = stackLevel[top];
                        if (stackOverride[top] != NoOverride && !_matchIcu) _types[i] = stackOverride[top];
                        break;
                    case PDF:
                        _embedding[i] = current;
                        if (overflowIsolates > 0) { }
                        else if (overflowEmbeddings > 0) overflowEmbeddings--;
                        else if (!stackIsolate[top] && count >= 2) count--;
                        break;
                    case B:
                        _embedding[i] = p.Level;
                        break;
                    case BN:
                        _embedding[i] = current;
                        break;
                    default:
                        _embedding[i] = current;
                        if (stackOverride[top] != NoOverride) _types[i] = stackOverride[top];
                        break;
                }
            }
        }

        /// <summary>
        /// X9-X10 (level runs, isolating run sequences, sos/eos), then W1-W7, N0-N2 and I1-I2 per sequence. With ICU's
        /// rules, a paragraph after the first that starts with removed characters takes its first sos from the
        /// previous paragraph's level too (ICU's level runs carry on over them), and in text without explicit or
        /// isolate controls N0 sees the previous paragraph's direction as the embedding direction.
        /// </summary>
        private void Implicit(Paragraph p, byte? previousParagraph, bool controls)
        {
            var nonRemoved = _nonRemoved ??= new int[_text.Length];
            int m = 0;
            for (int i = p.Start; i < p.End; i++)
                if ((Bit(_classes[i]) & MaskRemoved) == 0) nonRemoved[m++] = i;
            if (m == 0) return;

            var runStarts = _runStarts ??= new int[_text.Length + 1];
            int runs = 0;
            for (int k = 0; k < m; k++)
                if (k == 0 || _embedding[nonRemoved[k]] != _embedding[nonRemoved[k - 1]]) runStarts[runs++] = k;
            runStarts[runs] = m;

            // BD13: a level run ending with an isolate initiator continues with the run starting with its matching PDI.
            var runNext = _runNext ??= new int[_text.Length];
            Span<bool> heads = runs <= 1024 ? stackalloc bool[runs] : new bool[runs];
            for (int r = 0; r < runs; r++)
            {
                runNext[r] = -1;
                heads[r] = true;
                if (_match is null) continue;
                int first = nonRemoved[runStarts[r]], last = nonRemoved[runStarts[r + 1] - 1];
                if (_classes[first] == PDI && _match[first] >= 0 && _waitingRun![first] > 0)
                {
                    runNext[_waitingRun[first] - 1] = r;
                    heads[r] = false;
                }
                if ((Bit(_classes[last]) & MaskInitiator) != 0 && _match[last] >= 0) _waitingRun![_match[last]] = r + 1;
            }

            var sequence = _sequence ??= new int[_text.Length];
            for (int r = 0; r < runs; r++)
            {
                if (!heads[r]) continue;
                int len = 0, tail = r;
                for (int x = r; x >= 0; x = runNext[x])
                {
                    for (int k = runStarts[x]; k < runStarts[x + 1]; k++) sequence[len++] = nonRemoved[k];
                    tail = x;
                }
                byte level = _embedding[sequence[0]];
                int before = runStarts[r] > 0 ? _embedding[nonRemoved[runStarts[r] - 1]] : p.Level;
                if (_matchIcu && runStarts[r] == 0 && previousParagraph is byte previousLevel
                    && (Bit(_classes[p.Start]) & MaskRemoved) != 0 && level != previousLevel)
                    before = Math.Max(before, previousLevel);
                int lastIndex = sequence[len - 1];
                int after = (Bit(_classes[lastIndex]) & MaskInitiator) != 0 || runStarts[tail + 1] >= m
                    ? p.Level
                    : _embedding[nonRemoved[runStarts[tail + 1]]];
                byte sos = (Math.Max(level, before) & 1) == 0 ? L : R;
                byte eos = (Math.Max(level, after) & 1) == 0 ? L : R;
                // What W2, W7 and N0 start from: sos, but in ICU the previous paragraph's direction in text without
                // controls (and never the sos taken over removed characters above).
                byte strongStart = (Math.Max(level, runStarts[r] > 0 ? before : p.Level) & 1) == 0 ? L : R;
                byte bracketDirection = (level & 1) == 0 ? L : R;
                if (_matchIcu && !controls && previousParagraph is byte previous)
                    strongStart = bracketDirection = (previous & 1) == 0 ? L : R;
                ResolveSequence(sequence.AsSpan(0, len), level, sos, eos, strongStart, bracketDirection);
            }
        }

        private void ResolveSequence(ReadOnlySpan<int> seq, byte level, byte sos, byte eos, byte strongStart, byte bracketDirection)
        {
            var types = _types;
            int len = seq.Length;

            // W1: NSM takes the type of the character before it (ON after an isolate initiator or PDI), sos at the start.
            byte previous = sos;
            for (int k = 0; k < len; k++)
            {
                byte t = types[seq[k]];
                if (t == NSM) types[seq[k]] = t = (Bit(previous) & MaskIsolate) != 0 ? ON : previous;
                previous = t;
            }
            // W2: EN after AL (as the last strong type) becomes AN. W3: AL becomes R.
            // (A mark that W1 made strong repeats the type before it, so W2 and W7 can skip it: the same unless ICU's
            // strongStart differs from sos.)
            byte strong = strongStart;
            for (int k = 0; k < len; k++)
            {
                byte t = types[seq[k]];
                if (t is L or R or AL) { if (_classes[seq[k]] != NSM) strong = t; }
                else if (t == EN && strong == AL) types[seq[k]] = AN;
            }
            for (int k = 0; k < len; k++)
                if (types[seq[k]] == AL) types[seq[k]] = R;
            // W4: a single ES between two ENs becomes EN; a single CS between two numbers of one type becomes that type.
            for (int k = 1; k + 1 < len; k++)
            {
                byte t = types[seq[k]];
                if (t != ES && t != CS) continue;
                byte a = types[seq[k - 1]], b = types[seq[k + 1]];
                if (a != b) continue;
                if (a == EN || (a == AN && t == CS)) types[seq[k]] = a;
            }
            // W5: a sequence of ETs next to an EN becomes EN.
            for (int k = 0; k < len;)
            {
                if (types[seq[k]] != ET) { k++; continue; }
                int end = k;
                while (end < len && types[seq[end]] == ET) end++;
                if ((k > 0 && types[seq[k - 1]] == EN) || (end < len && types[seq[end]] == EN))
                    for (int j = k; j < end; j++) types[seq[j]] = EN;
                k = end;
            }
            // W6: remaining separators and terminators become ON. W7: EN after L (as the last strong type) becomes L.
            strong = strongStart;
            for (int k = 0; k < len; k++)
            {
                byte t = types[seq[k]];
                if (t is ES or ET or CS) types[seq[k]] = ON;
                else if (t is L or R) { if (_classes[seq[k]] != NSM) strong = t; }
                else if (t == EN && strong == L) types[seq[k]] = L;
            }

            byte embedding = (level & 1) == 0 ? L : R;
            PairedBrackets(seq, bracketDirection, strongStart);

            // N1-N2: a run of neutrals takes the direction around it when both sides agree (EN and AN count as R),
            // the embedding direction otherwise.
            for (int k = 0; k < len;)
            {
                if ((Bit(types[seq[k]]) & MaskNeutral) == 0) { k++; continue; }
                int end = k;
                while (end < len && (Bit(types[seq[end]]) & MaskNeutral) != 0) end++;
                byte lead = k == 0 ? sos : types[seq[k - 1]] == L ? L : R;
                byte trail = end == len ? eos : types[seq[end]] == L ? L : R;
                byte resolved = lead == trail ? lead : embedding;
                for (int j = k; j < end; j++) types[seq[j]] = resolved;
                k = end;
            }

            // I1-I2.
            for (int k = 0; k < len; k++)
            {
                byte t = types[seq[k]];
                int result = level;
                if ((level & 1) == 0) { if (t == R) result++; else if (t is AN or EN) result += 2; }
                else if (t is L or EN or AN) result++;
                _levels[seq[k]] = (byte)result;
            }
        }

        /// <summary>
        /// N0: bracket pairs (BD16) take the embedding direction, or the opposite one where the context says so.
        /// With ICU's rules: no limit on the bracket stack, and an opening U+2329 or U+3008 that closed a pair with
        /// no strong type inside can still close another with the other canonical form of its closing bracket (ICU
        /// keeps one stack entry per form).
        /// </summary>
        private void PairedBrackets(ReadOnlySpan<int> seq, byte embedding, byte sos)
        {
            var types = _types;
            int len = seq.Length;
            int[]? strongL = null, strongR = null, stack = null;
            List<(int Open, int Close)>? pairs = null;
            try
            {
                int depth = 0; // stack holds (position in seq, expected closing bracket) pairs
                for (int k = 0; k < len; k++)
                {
                    int pos = seq[k];
                    if (types[pos] != ON) continue;
                    char c = _text[pos];
                    if (char.IsSurrogate(c)) continue;
                    byte kind = BracketType(c);
                    if (kind == 0) continue;
                    if (strongL is null)
                    {
                        // Strong types (EN and AN as R) before each position, as W7 left them: no pair can hold a
                        // bracket that an earlier pair changed, since pairs nest and are resolved in opening order.
                        strongL = ArrayPool<int>.Shared.Rent(len + 1);
                        strongR = ArrayPool<int>.Shared.Rent(len + 1);
                        strongL[0] = strongR![0] = 0;
                        for (int j = 0; j < len; j++)
                        {
                            byte t = types[seq[j]];
                            strongL[j + 1] = strongL[j] + (t == L ? 1 : 0);
                            strongR[j + 1] = strongR[j] + (t is R or EN or AN ? 1 : 0);
                        }
                        stack = ArrayPool<int>.Shared.Rent(_matchIcu ? 4 * len : 2 * BracketStackSize);
                    }
                    if (kind == 1)
                    {
                        if (_matchIcu)
                        {
                            if (c is '\u2329' or '\u3008') { stack![depth++] = k; stack[depth++] = c == '\u2329' ? 0x3009 : 0x232A; }
                            stack![depth++] = k;
                            stack[depth++] = UChar.GetBidiPairedBracket(c);
                        }
                        else
                        {
                            if (depth == 2 * BracketStackSize) break; // BD16: stack full, stop looking in this sequence
                            stack![depth++] = k;
                            stack[depth++] = CanonicalBracket(UChar.GetBidiPairedBracket(c));
                        }
                        continue;
                    }
                    int expected = _matchIcu ? c : CanonicalBracket(c);
                    for (int d = depth - 2; d >= 0; d -= 2)
                    {
                        if (stack![d + 1] != expected) continue;
                        int open = stack[d];
                        depth = d;
                        bool strongInside = strongL![k] - strongL[open + 1] + strongR![k] - strongR[open + 1] > 0;
                        if (strongInside)
                        {
                            (pairs ??= []).Add((open, k));
                            while (depth > 0 && stack[depth - 2] == open) depth -= 2;
                        }
                        break;
                    }
                }
                if (pairs is null) return;
                pairs.Sort((a, b) => a.Open.CompareTo(b.Open));

                byte opposite = embedding == L ? R : L;
                int swept = 0;
                byte context = sos;
                foreach (var (open, close) in pairs)
                {
                    // The strong type before the opening bracket, brackets resolved before this pair included.
                    for (; swept < open; swept++)
                    {
                        if (_classes[seq[swept]] == NSM) continue; // as in W2 and W7
                        byte t = types[seq[swept]];
                        if (t == L) context = L;
                        else if (t is R or EN or AN) context = R;
                    }
                    bool hasEmbedding = embedding == L ? strongL![close] - strongL[open + 1] > 0 : strongR![close] - strongR[open + 1] > 0;
                    byte resolved = hasEmbedding || context != opposite ? embedding : opposite;
                    // ICU leaves the marks after a bracket neutral (N1-N2 resolve them).
                    SetBracket(seq, open, resolved, marks: !_matchIcu);
                    SetBracket(seq, close, resolved, marks: !_matchIcu);
                    _resolvedClosings?.TryAdd(seq[close], resolved);
                }
            }
            finally
            {
                if (strongL is not null) ArrayPool<int>.Shared.Return(strongL);
                if (strongR is not null) ArrayPool<int>.Shared.Return(strongR);
                if (stack is not null) ArrayPool<int>.Shared.Return(stack);
            }
        }

        /// <summary>A resolved bracket, and the nonspacing marks right after it (originally NSM), take its direction.</summary>
        private void SetBracket(ReadOnlySpan<int> seq, int k, byte direction, bool marks)
        {
            _types[seq[k]] = direction;
            if (!marks) return;
            for (int j = k + 1; j < seq.Length && _classes[seq[j]] == NSM; j++) _types[seq[j]] = direction;
        }

        /// <summary>
        /// L1 as ICU applies it: whitespace, isolate controls and removed characters at the end of the text and before
        /// each separator, and the separators, go to the paragraph level; other removed characters take the level of
        /// the character after them.
        /// </summary>
        private void ResetTrailing(List<Paragraph> paragraphs)
        {
            int p = paragraphs.Count - 1;
            int i = _text.Length;
            while (i > 0)
            {
                while (i > 0 && (Bit(_classes[i - 1]) & MaskTrailing) != 0)
                {
                    i--;
                    while (paragraphs[p].Start > i) p--;
                    _levels[i] = paragraphs[p].Level;
                }
                while (i > 0)
                {
                    i--;
                    uint bit = Bit(_classes[i]);
                    if ((bit & MaskRemoved) != 0) _levels[i] = _levels[i + 1];
                    else if ((bit & MaskSeparator) != 0)
                    {
                        while (paragraphs[p].Start > i) p--;
                        _levels[i] = paragraphs[p].Level;
                        break;
                    }
                }
            }
        }
    }
}
