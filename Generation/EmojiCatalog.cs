using System.Text.Json;

namespace VqaApi.Generation;

/// <summary>One emoji object: its text (one grapheme cluster) and its CLDR short name per language code.</summary>
public sealed record EmojiEntry(string Text, IReadOnlyDictionary<string, string> Names)
{
    /// <summary>The group it was chosen from (animal, plant, fruit, food, vehicle, object); null when the file has none.</summary>
    public string? Category { get; init; }

    /// <summary>The CLDR short name in <paramref name="language"/>, or null when CLDR has none.</summary>
    public string? NameIn(string language) => Names.TryGetValue(language, out var n) ? n : null;
}

/// <summary>The emoji a scene can hold, with their CLDR names (lexicon/emoji.json).</summary>
public sealed partial class EmojiCatalog
{
    /// <summary>The languages every emoji of the vendored file has a name in (the file is built to guarantee it).</summary>
    public static IReadOnlyList<string> CoreLanguages { get; } = ["en", "de", "fr", "es", "ru", "ar", "he", "hi", "th", "zh", "ja", "ko"];

    /// <summary>The relative path of the vendored file, next to the assembly.</summary>
    public const string DefaultRelativePath = "lexicon/emoji.json";

    private static readonly Lazy<EmojiCatalog> s_default = new(
        () => Load(Path.Combine(AppContext.BaseDirectory, DefaultRelativePath)), LazyThreadSafetyMode.ExecutionAndPublication);

    private IReadOnlyList<string>? _languages;

    public EmojiCatalog(IReadOnlyList<EmojiEntry> items) => Items = items;

    public IReadOnlyList<EmojiEntry> Items { get; }

    /// <summary>The catalogue shipped in lexicon/emoji.json next to the assembly (loaded once, on first use).</summary>
    public static EmojiCatalog Default => s_default.Value;

    /// <summary>The language codes (CLDR base locales) that have a name for every item, sorted ordinally.
    /// Other languages may name some items: see <see cref="EmojiEntry.Names"/>.</summary>
    public IReadOnlyList<string> Languages => _languages ??= ComputeLanguages(Items);

    /// <summary>The items that have a name in <paramref name="language"/> (indexes into <see cref="Items"/>).</summary>
    public IReadOnlyList<int> IndexesNamedIn(string language)
    {
        var r = new List<int>();
        for (var i = 0; i < Items.Count; i++)
            if (Items[i].Names.ContainsKey(language)) r.Add(i);
        return r;
    }

    private static string[] ComputeLanguages(IReadOnlyList<EmojiEntry> items)
    {
        if (items.Count == 0) return [];
        IEnumerable<string> common = items[0].Names.Keys;
        foreach (var e in items.Skip(1)) common = common.Where(e.Names.ContainsKey).ToArray();
        return common.Order(StringComparer.Ordinal).ToArray();
    }

    /// <summary>Loads a catalogue file (format of lexicon/emoji.json: an object with "items", each item with
    /// "text", "names" (language → name) and optionally "category").</summary>
    /// <exception cref="FileNotFoundException">the file does not exist.</exception>
    /// <exception cref="InvalidDataException">the file is not a valid catalogue; the message says where.</exception>
    public static EmojiCatalog Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException($"emoji catalogue not found: {path} (it ships as {DefaultRelativePath} next to the assembly)", path);
        using var stream = File.OpenRead(path);
        try
        {
            return Parse(stream, path);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"emoji catalogue {path} is not valid JSON: {ex.Message}", ex);
        }
    }

    /// <summary>Parses a catalogue from a stream; <paramref name="source"/> names it in error messages.</summary>
    public static EmojiCatalog Parse(Stream stream, string source = "<stream>")
    {
        using var doc = JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = false });
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("items", out var itemsEl) || itemsEl.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException($"emoji catalogue {source}: expected an object with an \"items\" array");
        var items = new List<EmojiEntry>(itemsEl.GetArrayLength());
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var el in itemsEl.EnumerateArray())
        {
            var where = $"emoji catalogue {source}, item {index}";
            if (el.ValueKind != JsonValueKind.Object) throw new InvalidDataException($"{where}: expected an object");
            if (!el.TryGetProperty("text", out var textEl) || textEl.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(textEl.GetString()))
                throw new InvalidDataException($"{where}: missing or empty \"text\"");
            var text = textEl.GetString()!;
            if (!seen.Add(text)) throw new InvalidDataException($"{where}: duplicate emoji {text}");
            if (!el.TryGetProperty("names", out var namesEl) || namesEl.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{where} ({text}): missing \"names\" object");
            var names = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in namesEl.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(p.Value.GetString()))
                    throw new InvalidDataException($"{where} ({text}): name for \"{p.Name}\" is not a non-empty string");
                names[p.Name] = p.Value.GetString()!;
            }
            if (names.Count == 0) throw new InvalidDataException($"{where} ({text}): no names");
            string? category = el.TryGetProperty("category", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
            items.Add(new EmojiEntry(text, names) { Category = category });
            index++;
        }
        if (items.Count == 0) throw new InvalidDataException($"emoji catalogue {source}: no items");
        return new EmojiCatalog(items);
    }
}
