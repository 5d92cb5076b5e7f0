using System.Text.Json;

namespace VqaApi.Retrieval;

/// <summary>What a collection was created for: the model and render profile its embeddings come from.</summary>
/// <param name="Owner">The client (API key id) that created it, for quotas; null for collections made before owners were recorded or by the CLI.</param>
public sealed record CollectionInfo(string Name, string Model, string Profile, int Dimensions, DateTimeOffset CreatedAt, string? Owner = null);

/// <summary>An item as stored: its id, content reference and metadata. Its embedding lives only in the collection's exact
/// index (one copy in memory): read it with <see cref="Collection.GetVector"/>.</summary>
public sealed record CollectionItem(string Id, long Key, string? Text, string? ImageSha256, JsonElement Metadata, long Sequence);

/// <summary>An item to add, already embedded.</summary>
public sealed record NewItem(string Id, string? Text, byte[]? Image, JsonElement? Metadata, float[] Vector);

/// <param name="Count">Items in the collection once the write is stored.</param>
public sealed record UpsertResult(int Added, int Replaced, long Sequence, int Count);

/// <summary>An item with everything stored for it: its embedding and, when it was added as an image, the image's bytes
/// (for re-embedding and for copying a collection to another backend).</summary>
public sealed record StoredItem(CollectionItem Item, float[] Vector, byte[]? Image);

public sealed record SearchHit(CollectionItem Item, float Score);
