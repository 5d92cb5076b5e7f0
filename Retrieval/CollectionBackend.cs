using System.Text.Json;

namespace VqaApi.Retrieval;

/// <summary>Where collections live (Collections:Backend): on this machine's disk, or in PostgreSQL with pgvector, shared by
/// several API replicas.</summary>
public enum CollectionBackend { Embedded, Postgres }

/// <summary>
/// The collections of one backend. The HTTP API and the CLI use only this and <see cref="IVectorCollection"/>, so they behave
/// the same on every backend. Every method may throw <see cref="CollectionException"/>; <see cref="CollectionErrorKind.Unavailable"/>
/// means the storage cannot be reached now and nothing was changed.
/// </summary>
public interface ICollectionStore : IDisposable
{
    CollectionBackend Backend { get; }
    CollectionOptions Options { get; }

    /// <summary>Opens or connects to the storage and checks it (the embedded store opens every collection; the PostgreSQL store
    /// checks the server, the pgvector extension and applies its migrations). Start-up calls it once, before serving.</summary>
    Task StartAsync(CancellationToken ct = default);

    /// <summary>Whether the storage answers now (readiness), with what is wrong when it does not.</summary>
    Task<string?> ProblemAsync(CancellationToken ct = default);

    Task<IReadOnlyList<IVectorCollection>> ListAsync(CancellationToken ct = default);
    Task<IVectorCollection> GetAsync(string name, CancellationToken ct = default);

    /// <summary>Creates the collection, or returns it when it exists for the same model and profile (PUT is idempotent).</summary>
    /// <param name="beforeCreate">runs before a new collection is made, in the store's critical section (a quota check).</param>
    /// <param name="readsModel">which existing collections' models count as this model (default: the same id only), e.g. the
    /// float model of an int8 one.</param>
    Task<(IVectorCollection Collection, bool Created)> CreateAsync(CollectionInfo info, Func<Task>? beforeCreate = null, Func<string, bool>? readsModel = null,
        CancellationToken ct = default);

    Task DeleteAsync(string name, CancellationToken ct = default);

    /// <summary>A new, empty collection that is not listed nor served until <see cref="ReplaceAsync"/> puts it in the place of
    /// the collection of its name (re-embedding builds one while the old one goes on serving).</summary>
    Task<IVectorCollection> CreateStagedAsync(CollectionInfo info, CancellationToken ct = default);

    /// <summary>Puts a staged collection in the place of the collection of its name, in one step; the old one is removed.</summary>
    Task ReplaceAsync(IVectorCollection staged, CancellationToken ct = default);
}

/// <summary>One collection of items with embeddings, content and metadata, searched by cosine similarity.</summary>
public interface IVectorCollection
{
    CollectionInfo Info { get; }

    /// <summary>Items in the collection (for a shared database: as of when this handle was read).</summary>
    int Count { get; }

    /// <summary>The checks of one item that need no embedding (id length, metadata an object within its size limit): callers run
    /// them before they embed anything, and writes run them again. Throws <see cref="CollectionException"/>.</summary>
    void CheckItem(string id, JsonElement? metadata) => ItemRules.Check(id, metadata, Options);

    CollectionOptions Options { get; }

    /// <summary>Adds items (replacing existing ids only when <paramref name="upsert"/>); durable when it returns. A refused or
    /// failed write leaves nothing stored.</summary>
    Task<UpsertResult> UpsertAsync(IReadOnlyList<NewItem> items, bool upsert, CancellationToken ct = default);

    /// <summary>Deletes an item; false when there is none of that id.</summary>
    Task<bool> DeleteAsync(string id, CancellationToken ct = default);

    Task<CollectionItem?> GetAsync(string id, CancellationToken ct = default);

    /// <summary>An item and a copy of its stored embedding (float16-rounded where vectors are stored as float16).</summary>
    Task<(CollectionItem Item, float[] Vector)?> GetWithVectorAsync(string id, CancellationToken ct = default);

    /// <summary>Which of <paramref name="ids"/> are stored.</summary>
    Task<IReadOnlySet<string>> ExistingAsync(IReadOnlyCollection<string> ids, CancellationToken ct = default);

    /// <summary>Items in id order (ordinal), after <paramref name="after"/> (exclusive).</summary>
    Task<IReadOnlyList<CollectionItem>> ListAsync(int limit, string? after, CancellationToken ct = default);

    /// <summary>Every item with its embedding and image, in the order they were written (re-embedding, copying).</summary>
    IAsyncEnumerable<StoredItem> ReadAllAsync(CancellationToken ct = default);

    /// <summary>The stored bytes of an item's image (by its SHA-256), or null.</summary>
    Task<byte[]?> ReadImageAsync(string sha256, CancellationToken ct = default);

    /// <summary>The <paramref name="k"/> items most similar to <paramref name="query"/> (a unit vector) that pass the filter and
    /// score at least <paramref name="minScore"/>, best first.</summary>
    Task<IReadOnlyList<SearchHit>> SearchAsync(float[] query, int k, float minScore, MetadataFilter? filter, CancellationToken ct = default);
}

/// <summary>The rules every backend applies to items, queries and creates.</summary>
public static class ItemRules
{
    public static void Check(string id, JsonElement? metadata, CollectionOptions options)
    {
        if (string.IsNullOrEmpty(id) || id.Length > options.MaxIdLength)
            throw new CollectionException(CollectionErrorKind.Invalid, $"item ids must have 1 to {options.MaxIdLength} characters");
        if (metadata is { } m && m.ValueKind is not (JsonValueKind.Object or JsonValueKind.Undefined or JsonValueKind.Null))
            throw new CollectionException(CollectionErrorKind.Invalid, $"item '{id}': metadata must be a JSON object");
        if (metadata is { ValueKind: JsonValueKind.Object } o && System.Text.Encoding.UTF8.GetByteCount(o.GetRawText()) > options.MaxMetadataBytes)
            throw new CollectionException(CollectionErrorKind.Invalid, $"item '{id}': metadata is larger than {options.MaxMetadataBytes} bytes (Collections:MaxMetadataBytes)");
    }

    /// <summary>A write's items: each checked, each embedding of the collection's dimensions, no id twice.</summary>
    public static void CheckBatch(IReadOnlyList<NewItem> items, CollectionInfo info, CollectionOptions options)
    {
        foreach (var item in items)
        {
            if (item.Vector.Length != info.Dimensions)
                throw new CollectionException(CollectionErrorKind.Invalid, $"item '{item.Id}' has a {item.Vector.Length}-dimensional embedding; collection '{info.Name}' holds {info.Dimensions}");
            Check(item.Id, item.Metadata, options);
        }
        var duplicate = items.GroupBy(i => i.Id).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new CollectionException(CollectionErrorKind.Invalid, $"id '{duplicate.Key}' appears more than once in the request");
    }

    /// <summary>A create of a collection that exists: allowed (idempotent) when it was made for the same model (or one that
    /// <paramref name="readsModel"/> accepts, e.g. the float model of an int8 one) and the same render profile.</summary>
    public static void RequireSameModel(CollectionInfo existing, CollectionInfo wanted, Func<string, bool>? readsModel)
    {
        if (!(readsModel?.Invoke(existing.Model) ?? existing.Model == wanted.Model) || existing.Profile != wanted.Profile)
            throw new CollectionException(CollectionErrorKind.Conflict, $"collection '{wanted.Name}' exists for model {existing.Model} (profile {existing.Profile}); delete it or re-embed it for this model");
    }

    /// <summary>The query of a search: of the collection's dimensions.</summary>
    public static void CheckQuery(ReadOnlySpan<float> query, CollectionInfo info)
    {
        if (query.Length != info.Dimensions)
            throw new CollectionException(CollectionErrorKind.Invalid, $"the query embedding has {query.Length} dimensions; collection '{info.Name}' holds {info.Dimensions}");
    }
}
