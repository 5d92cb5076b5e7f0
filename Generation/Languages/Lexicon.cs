using System.Text.Json;

namespace VqaApi.Generation;

/// <summary>
/// The hand-written lexicon file (lexicon/lexicon.json next to the assembly): per language its answer labels and a
/// record of how its templates were checked. The grammar (inflection tables and templates) is in the language classes.
/// </summary>
public sealed class Lexicon
{
    public const string DefaultRelativePath = "lexicon/lexicon.json";

    private static readonly Lazy<Lexicon> s_default = new(
        () => Load(Path.Combine(AppContext.BaseDirectory, DefaultRelativePath)), LazyThreadSafetyMode.ExecutionAndPublication);

    private readonly Dictionary<string, IReadOnlyDictionary<string, string>> _labels;
    private readonly Dictionary<string, string> _checked;

    private Lexicon(Dictionary<string, IReadOnlyDictionary<string, string>> labels, Dictionary<string, string> checkedNotes)
    {
        _labels = labels;
        _checked = checkedNotes;
    }

    public static Lexicon Default => s_default.Value;

    public IEnumerable<string> LanguageCodes => _labels.Keys;

    /// <summary>The answer labels of a language (answer id → label).</summary>
    public IReadOnlyDictionary<string, string> Labels(string code) =>
        _labels.TryGetValue(code, out var l) ? l : throw new KeyNotFoundException($"lexicon has no language '{code}'");

    /// <summary>The "checked" note of a language (how its grammar was verified), or null.</summary>
    public string? CheckedNote(string code) => _checked.TryGetValue(code, out var c) ? c : null;

    public static Lexicon Load(string path)
    {
        if (!File.Exists(path))
            throw new FileNotFoundException($"lexicon not found: {path} (it ships as {DefaultRelativePath} next to the assembly)", path);
        using var stream = File.OpenRead(path);
        return Parse(stream, path);
    }

    public static Lexicon Parse(Stream stream, string source = "<stream>")
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(stream); }
        catch (JsonException ex) { throw new InvalidDataException($"lexicon {source} is not valid JSON: {ex.Message}", ex); }
        using (doc)
        {
            if (!doc.RootElement.TryGetProperty("languages", out var langs) || langs.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"lexicon {source}: expected a \"languages\" object");
            var labels = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
            var notes = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var lang in langs.EnumerateObject())
            {
                if (!lang.Value.TryGetProperty("answers", out var answers) || answers.ValueKind != JsonValueKind.Object)
                    throw new InvalidDataException($"lexicon {source}, {lang.Name}: missing \"answers\"");
                var map = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var a in answers.EnumerateObject())
                    map[a.Name] = a.Value.GetString() is { Length: > 0 } s ? s : throw new InvalidDataException($"lexicon {source}, {lang.Name}: empty label {a.Name}");
                foreach (var id in Answers.All)
                    if (!map.ContainsKey(id)) throw new InvalidDataException($"lexicon {source}, {lang.Name}: no label for {id}");
                labels[lang.Name] = map;
                if (lang.Value.TryGetProperty("checked", out var c))
                    notes[lang.Name] = c.ValueKind == JsonValueKind.String ? c.GetString()! : c.GetRawText();
            }
            return new Lexicon(labels, notes);
        }
    }
}
