namespace VqaApi.Generation;

/// <summary>One emoji object: its text (one grapheme cluster) and its CLDR short name per language code.</summary>
public sealed record EmojiEntry(string Text, IReadOnlyDictionary<string, string> Names);

/// <summary>The emoji a scene can hold, with their CLDR names (lexicon/emoji.json).</summary>
public sealed partial class EmojiCatalog
{
    public EmojiCatalog(IReadOnlyList<EmojiEntry> items) => Items = items;

    public IReadOnlyList<EmojiEntry> Items { get; }
}
