namespace VqaApi.Generation;

/// <summary>
/// The hand-written languages, in the order of the stream format's language table (0 en … 11 ko).
/// <see cref="All"/> and <see cref="Get"/> use <see cref="EmojiCatalog.Default"/> and <see cref="Lexicon.Default"/>;
/// <see cref="Create"/> builds a set for another catalogue.
/// </summary>
public static class Languages
{
    /// <summary>Language codes; the index is the language index of the binary format.</summary>
    public static IReadOnlyList<string> Codes { get; } = ["en", "de", "fr", "es", "ru", "ar", "he", "hi", "th", "zh", "ja", "ko"];

    private static readonly Lazy<IReadOnlyList<ILanguage>> s_default = new(
        () => Create(EmojiCatalog.Default), LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>All languages, with the shipped emoji catalogue, in <see cref="Codes"/> order (loaded on first use).</summary>
    public static IReadOnlyList<ILanguage> All => s_default.Value;

    /// <summary>The language with this code, from <see cref="All"/>.</summary>
    public static ILanguage Get(string code) => Get(All, code);

    /// <summary>The language index of a code (its position in <see cref="Codes"/>), or -1.</summary>
    public static int IndexOf(string code)
    {
        for (int i = 0; i < Codes.Count; i++) if (Codes[i] == code) return i;
        return -1;
    }

    /// <summary>The language with this code from a list made by <see cref="Create"/>.</summary>
    public static ILanguage Get(IReadOnlyList<ILanguage> languages, string code)
    {
        foreach (var l in languages) if (l.Code == code) return l;
        throw new KeyNotFoundException($"no language '{code}' (have {string.Join(", ", Codes)})");
    }

    /// <summary>All languages for an emoji catalogue, in <see cref="Codes"/> order.</summary>
    public static IReadOnlyList<ILanguage> Create(EmojiCatalog catalog, Lexicon? lexicon = null)
    {
        var lex = lexicon ?? Lexicon.Default;
        return
        [
            new English(catalog, lex), new German(catalog, lex), new French(catalog, lex), new Spanish(catalog, lex),
            new Russian(catalog, lex), new Arabic(catalog, lex), new Hebrew(catalog, lex), new Hindi(catalog, lex),
            new Thai(catalog, lex), new Chinese(catalog, lex), new Japanese(catalog, lex), new Korean(catalog, lex),
        ];
    }
}
