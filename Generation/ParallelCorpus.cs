using System.Collections.Concurrent;
using System.Diagnostics;
using System.IO.Hashing;
using System.Text;
using System.Text.RegularExpressions;

namespace VqaApi.Generation;

/// <summary>One side of a parallel sentence: the text of message <see cref="Key"/> (its English msgid, cleaned) in
/// <see cref="Language"/> ("en" for the English text itself).</summary>
public sealed record ParallelSentence(string Key, string Language, string Text);

/// <summary>All the texts of one message: English first, then the translations sorted by language.</summary>
public sealed record ParallelGroup(string Key, bool HeldOut, IReadOnlyList<ParallelSentence> Sentences)
{
    /// <summary>The text in <paramref name="language"/>, or null when the message has none in it.</summary>
    public ParallelSentence? In(string language)
    {
        foreach (var s in Sentences) if (s.Language == language) return s;
        return null;
    }
}

/// <summary>What loading read and kept.</summary>
public sealed record ParallelCorpusStats(
    int CataloguesRead,
    int CataloguesSkipped,
    IReadOnlyList<string> Skipped,
    int EntriesRead,
    int InvalidEntries,
    int Keys,
    int HeldOutKeys,
    int Translations,
    IReadOnlyDictionary<string, int> TranslationsPerLanguage,
    TimeSpan LoadTime);

/// <summary>Parallel sentences from the gettext catalogues a Debian system installs (/usr/share/locale/LANG/LC_MESSAGES/DOMAIN.mo):
/// every kept message is keyed by its English msgid and has texts in English and in the languages that translate it, so a
/// caller can pair English with a language or two languages with each other. The texts carry their packages' licences:
/// read them at data-generation time, never commit them.
/// Deterministic: the same catalogues give the same corpus in the same order, whatever the directory enumeration order.
/// A message is held out when XxHash64 of its key is 0 mod 10 (<see cref="IsHeldOut"/>), and is then never in training.</summary>
public sealed partial class ParallelCorpus
{
    public const string DefaultRoot = "/usr/share/locale";
    public const int MaxChars = 120;

    /// <summary>Domains whose messages are mostly short, sentence-like UI texts or names.</summary>
    public static IReadOnlyList<string> DefaultDomains { get; } =
    [
        "gtk30", "gtk30-properties", "gtk20", "glib20", "gdk-pixbuf", "at-spi2-core", "gsettings-desktop-schemas",
        "shared-mime-info", "libsecret", "Linux-PAM", "xdg-user-dirs", "notification-daemon", "system-config-printer",
        "software-properties", "PackageKit", "iso_3166", "iso_639", "iso_4217", "iso_15924",
    ];

    private readonly IReadOnlyList<ParallelGroup> _training;
    private readonly IReadOnlyList<ParallelGroup> _heldOut;

    private ParallelCorpus(IReadOnlyList<string> languages, IReadOnlyList<ParallelGroup> training, IReadOnlyList<ParallelGroup> heldOut, ParallelCorpusStats stats)
    {
        Languages = languages;
        _training = training;
        _heldOut = heldOut;
        Stats = stats;
    }

    /// <summary>The languages with at least one text, "en" included, sorted ordinally.</summary>
    public IReadOnlyList<string> Languages { get; }

    public ParallelCorpusStats Stats { get; }

    /// <summary>The messages of one split (each with its English text and at least one translation), in a stable
    /// pseudo-random order (by the hash of the key).</summary>
    public IReadOnlyList<ParallelGroup> Pairs(bool heldOut) => heldOut ? _heldOut : _training;

    /// <summary>The (A, B) texts of the messages of one split that both languages have ("en" for English).</summary>
    public IEnumerable<(ParallelSentence A, ParallelSentence B)> Pairs(string languageA, string languageB, bool heldOut)
    {
        foreach (var g in Pairs(heldOut))
            if (g.In(languageA) is { } a && g.In(languageB) is { } b) yield return (a, b);
    }

    /// <summary>True when the message with this key belongs to the held-out split.</summary>
    public static bool IsHeldOut(string key) => Hash(key) % 10 == 0;

    private static ulong Hash(string key) => XxHash64.HashToUInt64(Encoding.UTF8.GetBytes(key));

    /// <summary>Loads the corpus from a locale root (LANG/LC_MESSAGES/DOMAIN.mo). Catalogues that cannot be read are
    /// skipped and listed in <see cref="ParallelCorpusStats.Skipped"/>; this never throws for bad catalogues.</summary>
    /// <param name="root">the locale directory; a missing one gives an empty corpus.</param>
    /// <param name="domains">the catalogue names without ".mo"; null for <see cref="DefaultDomains"/>.</param>
    /// <param name="maxPerLanguage">at most this many messages per language (the same keys across languages where
    /// possible: keys are taken in the order of their hash).</param>
    public static ParallelCorpus Load(string root = DefaultRoot, IEnumerable<string>? domains = null, int maxPerLanguage = int.MaxValue)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPerLanguage);
        var clock = Stopwatch.StartNew();
        var domainList = (domains ?? DefaultDomains).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();

        // (language, directory, domain, path), sorted so that merging is independent of enumeration order.
        var files = new List<(string Language, string Dir, int Domain, string Path)>();
        if (Directory.Exists(root))
        {
            foreach (var dir in Directory.EnumerateDirectories(root))
            {
                var name = Path.GetFileName(dir);
                var language = LanguageOf(name);
                if (language is null) continue;
                for (var d = 0; d < domainList.Length; d++)
                {
                    var path = Path.Combine(dir, "LC_MESSAGES", domainList[d] + ".mo");
                    if (File.Exists(path)) files.Add((language, name, d, path));
                }
            }
        }
        files.Sort((a, b) =>
        {
            var c = string.CompareOrdinal(a.Language, b.Language);
            if (c == 0) c = a.Domain.CompareTo(b.Domain);
            if (c == 0) c = string.CompareOrdinal(a.Dir, b.Dir);
            return c;
        });

        var englishCache = new ConcurrentDictionary<ulong, (byte[] Raw, string? Clean)>();
        var results = new (List<(string Key, string Text)>? Kept, string? Skip, int Read, int Invalid)[files.Count];
        Parallel.For(0, files.Count, i =>
        {
            var f = files[i];
            try
            {
                results[i] = ReadCatalogue(File.ReadAllBytes(f.Path), englishCache);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                results[i] = (null, $"{f.Dir}/{domainList[f.Domain]}.mo: {ex.Message}", 0, 0);
            }
        });

        // Merge in the sorted file order: the first text of a (language, key) wins.
        var perLanguage = new SortedDictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        var skipped = new List<string>();
        int read = 0, entries = 0, invalid = 0;
        for (var i = 0; i < files.Count; i++)
        {
            var r = results[i];
            if (r.Kept is null) { skipped.Add(r.Skip!); continue; }
            read++;
            entries += r.Read;
            invalid += r.Invalid;
            if (!perLanguage.TryGetValue(files[i].Language, out var map)) perLanguage[files[i].Language] = map = new(StringComparer.Ordinal);
            foreach (var (key, text) in r.Kept) map.TryAdd(key, text);
        }

        // Keys in a stable pseudo-random order; each language keeps its first maxPerLanguage keys in that order.
        var allKeys = perLanguage.Values.SelectMany(m => m.Keys).Distinct(StringComparer.Ordinal)
            .Select(k => (Key: k, Hash: Hash(k)))
            .OrderBy(k => k.Hash).ThenBy(k => k.Key, StringComparer.Ordinal)
            .ToArray();
        var perKey = new Dictionary<string, List<ParallelSentence>>(StringComparer.Ordinal);
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var (language, map) in perLanguage)
        {
            var n = 0;
            foreach (var (key, _) in allKeys)
            {
                if (n >= maxPerLanguage) break;
                if (!map.TryGetValue(key, out var text)) continue;
                if (!perKey.TryGetValue(key, out var list)) perKey[key] = list = [new ParallelSentence(key, "en", key)];
                list.Add(new ParallelSentence(key, language, text));
                n++;
            }
            if (n > 0) counts[language] = n;
        }

        var training = new List<ParallelGroup>();
        var heldOut = new List<ParallelGroup>();
        var translations = 0;
        foreach (var (key, hash) in allKeys)
        {
            if (!perKey.TryGetValue(key, out var list)) continue;
            translations += list.Count - 1;
            var held = hash % 10 == 0;
            (held ? heldOut : training).Add(new ParallelGroup(key, held, list)); // languages were added in sorted order, after "en"
        }
        var languages = counts.Keys.Append("en").Order(StringComparer.Ordinal).ToArray();
        if (counts.Count == 0) languages = [];
        var stats = new ParallelCorpusStats(read, skipped.Count, skipped, entries, invalid, training.Count + heldOut.Count, heldOut.Count,
            translations, counts, clock.Elapsed);
        return new ParallelCorpus(languages, training, heldOut, stats);
    }

    /// <summary>The kept (key, translation) pairs of one catalogue. Only the messages whose English passes
    /// <see cref="CleanEnglish"/> have their translation decoded; the English verdicts are cached by msgid bytes.</summary>
    /// <exception cref="InvalidDataException">not a usable catalogue.</exception>
    private static (List<(string Key, string Text)>? Kept, string? Skip, int Read, int Invalid) ReadCatalogue(
        byte[] data, ConcurrentDictionary<ulong, (byte[] Raw, string? Clean)> englishCache)
    {
        var index = MoCatalog.Index(data);
        var kept = new List<(string, string)>();
        int read = 0, invalid = 0;
        foreach (var (idRange, strRange) in index.Messages)
        {
            var id = data.AsSpan(idRange);
            var eot = id.IndexOf((byte)4);
            if (eot >= 0) id = id[(eot + 1)..]; // msgctxt
            var nul = id.IndexOf((byte)0);
            if (nul >= 0) id = id[..nul]; // plural msgid
            if (id.IsEmpty) continue;
            read++;

            string? key;
            var hash = XxHash3.HashToUInt64(id);
            if (englishCache.TryGetValue(hash, out var cached) && id.SequenceEqual(cached.Raw)) key = cached.Clean;
            else
            {
                var english = MoCatalog.Decode(id);
                if (english is null) { invalid++; continue; }
                key = CleanEnglish(english);
                englishCache.TryAdd(hash, (id.ToArray(), key));
            }
            if (key is null) continue;

            var str = data.AsSpan(strRange);
            nul = str.IndexOf((byte)0);
            if (nul >= 0) str = str[..nul]; // first plural form
            var translation = MoCatalog.Decode(str);
            if (translation is null) { invalid++; continue; }
            var text = CleanTranslation(translation);
            if (text is null || string.Equals(text, key, StringComparison.OrdinalIgnoreCase)) continue;
            kept.Add((key, text));
        }
        return (kept, null, read, invalid);
    }

    /// <summary>The language code of a locale directory name ("pt_BR" → "pt-BR", "sr@latin" → "sr-Latn",
    /// "zh_CN" → "zh", "zh_TW" → "zh-Hant"), or null for English and for variants that are not a language of their own.</summary>
    public static string? LanguageOf(string directoryName)
    {
        var name = directoryName;
        string? script = null;
        var at = name.IndexOf('@');
        if (at >= 0)
        {
            script = name[(at + 1)..].ToLowerInvariant() switch
            {
                "latin" or "latn" => "Latn",
                "cyrillic" => "Cyrl",
                _ => null,
            };
            if (script is null) return null; // @quot, @boldquot, @shaw, @ije, @valencia, ...
            name = name[..at];
        }
        if (name.Length < 2 || !name.All(c => char.IsAsciiLetter(c) || c == '_')) return null;
        var parts = name.Split('_');
        var lang = parts[0].ToLowerInvariant();
        if (lang == "en") return null;
        if (lang == "zh")
        {
            var region = parts.Length > 1 ? parts[1] : "";
            return region is "TW" or "HK" or "MO" or "Hant" ? "zh-Hant" : "zh";
        }
        var code = parts.Length > 1 ? $"{lang}-{parts[1]}" : lang;
        return script is null ? code : $"{code}-{script}";
    }

    [GeneratedRegex(@"\s*\(_[\p{L}\p{N}]\)|\s*\(&[\p{L}\p{N}]\)")]
    private static partial Regex ParenthesizedMnemonic();

    [GeneratedRegex(@"%|\{[^}]*\}|\$\{|[<>]|&[A-Za-z#0-9]+;|@[A-Za-z_]+@|\\|[\p{Cc}]")]
    private static partial Regex Unwanted();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    /// <summary>The sentence-like form of an English msgid, or null when it is not one: mnemonics stripped, no
    /// placeholders or markup, at least 2 words, at most <see cref="MaxChars"/> characters.</summary>
    public static string? CleanEnglish(string msgid)
    {
        var s = Clean(msgid);
        if (s is null || s.Length > MaxChars) return null;
        if (s.Split(' ').Length < 2) return null;
        if (!s.Any(char.IsAsciiLetter)) return null;
        return s;
    }

    /// <summary>The cleaned form of a translation, or null when it is not usable (same rules as English, but no word
    /// count, since many scripts do not separate words, and up to 1.5 × <see cref="MaxChars"/>).</summary>
    public static string? CleanTranslation(string msgstr)
    {
        var s = Clean(msgstr);
        return s is null || s.Length > MaxChars * 3 / 2 ? null : s;
    }

    private static string? Clean(string text)
    {
        if (text.Length == 0 || text.Length > 4 * MaxChars || text.Contains('\n') || text.Contains('\t')) return null;
        var s = ParenthesizedMnemonic().Replace(text, "");
        if (Unwanted().IsMatch(s)) return null;
        s = StripUnderscores(s);
        s = Spaces().Replace(s, " ").Trim();
        return s.Length == 0 ? null : s;
    }

    /// <summary>Removes GTK mnemonic markers: "_" is dropped, "__" stands for a literal "_".</summary>
    private static string StripUnderscores(string s)
    {
        if (!s.Contains('_')) return s;
        var b = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] != '_') { b.Append(s[i]); continue; }
            if (i + 1 < s.Length && s[i + 1] == '_') { b.Append('_'); i++; }
        }
        return b.ToString();
    }
}
