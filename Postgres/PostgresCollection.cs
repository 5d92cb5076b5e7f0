using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Pgvector;
using VqaApi.Retrieval;

namespace VqaApi.Postgres;

/// <summary>
/// One collection in PostgreSQL (see <see cref="PostgresCollectionStore"/>). A write is one transaction that first locks the
/// collection's catalog row, so writes to one collection are ordered (their keys and sequence numbers grow as in the embedded
/// store) on every replica; it is acknowledged after the commit. Searches order by pgvector's cosine distance: exactly (a scan)
/// below Collections:HnswThreshold items, through the HNSW index from there on, with iterative scans so that a filter still
/// yields top_k results, and the search expansion of the embedded store (Collections:HnswExpansionSearch).
/// </summary>
internal sealed class PostgresCollection(PostgresCollectionStore store, CollectionInfo info, long id, bool half, int count) : IVectorCollection
{
    public CollectionInfo Info { get; } = info;
    public int Count { get; } = count;
    public CollectionOptions Options => store.Options;
    internal PostgresCollectionStore Store => store;
    internal long Id => id;

    private string Items => store.Schema.ItemsTable(id);
    private string Images => store.Schema.ImagesTable(id);
    private string VectorType => half ? "halfvec" : "vector";

    private Task<T> Guard<T>(Func<Task<T>> call) => PostgresErrors.Guard(call, Info.Name);

    private object Parameter(float[] v) => half ? new HalfVector(v.Select(x => (Half)x).ToArray()) : new Vector(v);

    private static float[] FromDatabase(object value) => value switch
    {
        Vector v => v.ToArray(),
        HalfVector h => h.ToArray().Select(x => (float)x).ToArray(),
        _ => throw new InvalidDataException($"unexpected embedding type {value.GetType().Name}"),
    };

    /// <summary>The columns <see cref="ReadItem"/> reads, in its order.</summary>
    private const string ItemColumns = "key, id, text, image_sha256, metadata::text";

    private static CollectionItem ReadItem(NpgsqlDataReader r) => new(r.GetString(1), r.GetInt64(0), r.IsDBNull(2) ? null : r.GetString(2), r.IsDBNull(3) ? null : r.GetString(3),
        r.IsDBNull(4) ? default : JsonDocument.Parse(r.GetString(4)).RootElement.Clone(), r.GetInt64(0));

    public Task<UpsertResult> UpsertAsync(IReadOnlyList<NewItem> items, bool upsert, CancellationToken ct = default)
    {
        ItemRules.CheckBatch(items, Info, Options);
        return Guard(async () =>
        {
            await using var connection = await store.Data.OpenConnectionAsync(ct);
            await using var tx = await connection.BeginTransactionAsync(ct);
            var (itemCount, sequence) = await LockCatalogRow(connection, tx, ct);
            var ids = items.Select(i => i.Id).ToArray();
            var replaced = new List<string?>(); // the images of the items replaced
            await using (var existing = new NpgsqlCommand($"SELECT id, image_sha256 FROM {Items} WHERE id = ANY(@ids)", connection, tx))
            {
                existing.Parameters.AddWithValue("ids", ids);
                await using var r = await existing.ExecuteReaderAsync(ct);
                string? first = null;
                while (await r.ReadAsync(ct))
                {
                    first ??= r.GetString(0);
                    replaced.Add(r.IsDBNull(1) ? null : r.GetString(1));
                }
                if (first is not null && !upsert)
                    throw new CollectionException(CollectionErrorKind.Conflict, $"{replaced.Count} id(s) already exist (e.g. '{first}'); send \"upsert\": true to replace them");
            }
            if (itemCount + items.Count - replaced.Count > Options.MaxItemsPerCollection)
                throw new CollectionException(CollectionErrorKind.Invalid, $"collection '{Info.Name}' would exceed {Options.MaxItemsPerCollection:N0} items (Collections:MaxItemsPerCollection)");

            var batch = new NpgsqlBatch(connection, tx);
            if (replaced.Count > 0)
            {
                var remove = new NpgsqlBatchCommand($"DELETE FROM {Items} WHERE id = ANY(@ids)");
                remove.Parameters.AddWithValue("ids", ids);
                batch.BatchCommands.Add(remove);
            }
            var fields = new HashSet<string>(StringComparer.Ordinal);
            foreach (var item in items)
            {
                string? sha = null;
                if (item.Image is { } bytes)
                {
                    sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
                    var image = new NpgsqlBatchCommand($"INSERT INTO {Images} (sha256, bytes) VALUES (@sha, @bytes) ON CONFLICT (sha256) DO NOTHING");
                    image.Parameters.AddWithValue("sha", sha);
                    image.Parameters.AddWithValue("bytes", bytes);
                    batch.BatchCommands.Add(image);
                }
                string? meta = item.Metadata is { ValueKind: JsonValueKind.Object } m ? m.GetRawText() : null;
                if (item.Metadata is { ValueKind: JsonValueKind.Object } o) foreach (var p in o.EnumerateObject()) fields.Add(p.Name);
                var insert = new NpgsqlBatchCommand($"INSERT INTO {Items} (key, id, text, image_sha256, metadata, embedding) VALUES (@key, @id, @text, @sha, @meta, @embedding)");
                insert.Parameters.AddWithValue("key", ++sequence);
                insert.Parameters.AddWithValue("id", item.Id);
                insert.Parameters.AddWithValue("text", (object?)item.Text ?? DBNull.Value);
                insert.Parameters.AddWithValue("sha", (object?)sha ?? DBNull.Value);
                insert.Parameters.Add(new NpgsqlParameter("meta", NpgsqlDbType.Jsonb) { Value = (object?)meta ?? DBNull.Value });
                insert.Parameters.AddWithValue("embedding", Parameter(item.Vector));
                batch.BatchCommands.Add(insert);
            }
            if (replaced.OfType<string>().Distinct().ToArray() is { Length: > 0 } oldImages) batch.BatchCommands.Add(RemoveUnusedImages(oldImages));
            if (fields.Count > 0)
            {
                var known = new NpgsqlBatchCommand($"INSERT INTO {store.Schema.Fields} (collection_id, field) SELECT @cid, unnest(@fields) ON CONFLICT DO NOTHING");
                known.Parameters.AddWithValue("cid", id);
                known.Parameters.AddWithValue("fields", fields.ToArray());
                batch.BatchCommands.Add(known);
            }
            int total = (int)(itemCount + items.Count - replaced.Count);
            batch.BatchCommands.Add(UpdateCatalogRow(total, sequence));
            await using (batch) await batch.ExecuteNonQueryAsync(ct);
            await tx.CommitAsync(ct);
            return new UpsertResult(items.Count - replaced.Count, replaced.Count, sequence, total);
        });
    }

    /// <summary>Locks the collection's catalog row for this transaction (writers of one collection go one at a time) and reads its
    /// item count and sequence. A collection deleted meanwhile is not found.</summary>
    private async Task<(long Count, long Sequence)> LockCatalogRow(NpgsqlConnection connection, NpgsqlTransaction tx, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand($"SELECT item_count, sequence FROM {store.Schema.Collections} WHERE id = @id FOR UPDATE", connection, tx);
        cmd.Parameters.AddWithValue("id", id);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        if (!await r.ReadAsync(ct)) throw new CollectionException(CollectionErrorKind.NotFound, $"there is no collection '{Info.Name}' (it was deleted meanwhile)");
        return (r.GetInt64(0), r.GetInt64(1));
    }

    private NpgsqlBatchCommand UpdateCatalogRow(long count, long sequence)
    {
        var cmd = new NpgsqlBatchCommand($"UPDATE {store.Schema.Collections} SET item_count = @count, sequence = @sequence WHERE id = @id");
        cmd.Parameters.AddWithValue("count", count);
        cmd.Parameters.AddWithValue("sequence", sequence);
        cmd.Parameters.AddWithValue("id", id);
        return cmd;
    }

    /// <summary>Images no item refers to any more (after a replace or delete) are removed with the write.</summary>
    private NpgsqlBatchCommand RemoveUnusedImages(string[] shas)
    {
        var cmd = new NpgsqlBatchCommand($"DELETE FROM {Images} i WHERE i.sha256 = ANY(@shas) AND NOT EXISTS (SELECT 1 FROM {Items} t WHERE t.image_sha256 = i.sha256)");
        cmd.Parameters.AddWithValue("shas", shas);
        return cmd;
    }

    public Task<bool> DeleteAsync(string itemId, CancellationToken ct = default) => Guard(async () =>
    {
        await using var connection = await store.Data.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var (itemCount, sequence) = await LockCatalogRow(connection, tx, ct);
        string? image;
        await using (var delete = new NpgsqlCommand($"DELETE FROM {Items} WHERE id = @id RETURNING image_sha256", connection, tx))
        {
            delete.Parameters.AddWithValue("id", itemId);
            await using var r = await delete.ExecuteReaderAsync(ct);
            if (!await r.ReadAsync(ct)) return false;
            image = r.IsDBNull(0) ? null : r.GetString(0);
        }
        var batch = new NpgsqlBatch(connection, tx);
        if (image is not null) batch.BatchCommands.Add(RemoveUnusedImages([image]));
        batch.BatchCommands.Add(UpdateCatalogRow(itemCount - 1, sequence + 1));
        await using (batch) await batch.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
        return true;
    });

    public Task<CollectionItem?> GetAsync(string itemId, CancellationToken ct = default) => Guard(async () =>
    {
        await using var cmd = store.Data.CreateCommand($"SELECT {ItemColumns} FROM {Items} WHERE id = @id");
        cmd.Parameters.AddWithValue("id", itemId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? ReadItem(r) : null;
    });

    public Task<(CollectionItem Item, float[] Vector)?> GetWithVectorAsync(string itemId, CancellationToken ct = default) => Guard<(CollectionItem, float[])?>(async () =>
    {
        await using var cmd = store.Data.CreateCommand($"SELECT {ItemColumns}, embedding FROM {Items} WHERE id = @id");
        cmd.Parameters.AddWithValue("id", itemId);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? (ReadItem(r), FromDatabase(r.GetValue(5))) : null;
    });

    public Task<IReadOnlySet<string>> ExistingAsync(IReadOnlyCollection<string> ids, CancellationToken ct = default) => Guard<IReadOnlySet<string>>(async () =>
    {
        await using var cmd = store.Data.CreateCommand($"SELECT id FROM {Items} WHERE id = ANY(@ids)");
        cmd.Parameters.AddWithValue("ids", ids.ToArray());
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var found = new HashSet<string>(StringComparer.Ordinal);
        while (await r.ReadAsync(ct)) found.Add(r.GetString(0));
        return found;
    });

    public Task<IReadOnlyList<CollectionItem>> ListAsync(int limit, string? after, CancellationToken ct = default) => Guard<IReadOnlyList<CollectionItem>>(async () =>
    {
        await using var cmd = store.Data.CreateCommand($"SELECT {ItemColumns} FROM {Items} WHERE @after::text IS NULL OR id > @after ORDER BY id LIMIT @limit");
        cmd.Parameters.Add(new NpgsqlParameter("after", NpgsqlDbType.Text) { Value = (object?)after ?? DBNull.Value });
        cmd.Parameters.AddWithValue("limit", limit);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var items = new List<CollectionItem>();
        while (await r.ReadAsync(ct)) items.Add(ReadItem(r));
        return items;
    });

    /// <summary>Rows per page of <see cref="ReadAllAsync"/>: each page is one short query (no cursor held open while the caller
    /// works, so a copy or re-embedding writes on another connection meanwhile).</summary>
    private const int ReadPage = 64;

    public async IAsyncEnumerable<StoredItem> ReadAllAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        long after = 0;
        while (true)
        {
            var page = await Guard(async () =>
            {
                await using var cmd = store.Data.CreateCommand(
                    $"SELECT t.key, t.id, t.text, t.image_sha256, t.metadata::text, t.embedding, i.bytes FROM {Items} t LEFT JOIN {Images} i ON i.sha256 = t.image_sha256 " +
                    "WHERE t.key > @after ORDER BY t.key LIMIT @page");
                cmd.Parameters.AddWithValue("after", after);
                cmd.Parameters.AddWithValue("page", ReadPage);
                await using var r = await cmd.ExecuteReaderAsync(ct);
                var rows = new List<StoredItem>();
                while (await r.ReadAsync(ct))
                {
                    var item = ReadItem(r);
                    var image = r.IsDBNull(6) ? null : r.GetFieldValue<byte[]>(6);
                    if (item.ImageSha256 is not null && image is null)
                        throw new CollectionException(CollectionErrorKind.Damaged, $"the stored image of item '{item.Id}' of collection '{Info.Name}' is missing");
                    rows.Add(new StoredItem(item, FromDatabase(r.GetValue(5)), image));
                }
                return rows;
            });
            foreach (var row in page) yield return row;
            if (page.Count < ReadPage) yield break;
            after = page[^1].Item.Key;
        }
    }

    public Task<byte[]?> ReadImageAsync(string sha256, CancellationToken ct = default) => Guard(async () =>
    {
        await using var cmd = store.Data.CreateCommand($"SELECT bytes FROM {Images} WHERE sha256 = @sha");
        cmd.Parameters.AddWithValue("sha", sha256);
        return await cmd.ExecuteScalarAsync(ct) as byte[];
    });

    public Task<IReadOnlyList<SearchHit>> SearchAsync(float[] query, int k, float minScore, MetadataFilter? filter, CancellationToken ct = default)
    {
        ItemRules.CheckQuery(query, Info);
        return Guard<IReadOnlyList<SearchHit>>(async () =>
        {
            await using var connection = await store.Data.OpenConnectionAsync(ct);
            await using var tx = await connection.BeginTransactionAsync(ct);
            if (filter is not null) await RequireKnownFields(filter, connection, tx, ct);
            // Settings for this transaction only: the search expansion, iterative scans (a filtered search goes on through the graph
            // until it has k results that pass), and below the threshold no index at all (an exact scan, as the embedded store).
            // The size is the handle's (read with it, once per request); a collection deleted since fails below as not found.
            long items = Count;
            bool exact = items < Options.HnswThreshold;
            await using (var settings = new NpgsqlCommand(
                             "SELECT set_config('hnsw.ef_search', @ef, TRUE), set_config('hnsw.iterative_scan', 'strict_order', TRUE), " +
                             "set_config('enable_indexscan', @index, TRUE)", connection, tx))
            {
                settings.Parameters.AddWithValue("ef", Math.Min(1000, Options.HnswExpansionFor(k, (int)Math.Min(int.MaxValue, items))).ToString(System.Globalization.CultureInfo.InvariantCulture));
                settings.Parameters.AddWithValue("index", exact ? "off" : "on");
                await settings.ExecuteNonQueryAsync(ct);
            }
            await using var search = new NpgsqlCommand { Connection = connection, Transaction = tx };
            var where = FilterSql.Where(filter, search);
            search.CommandText = $"SELECT {ItemColumns}, embedding <=> @q::{VectorType} AS distance FROM {Items} WHERE {where} ORDER BY embedding <=> @q::{VectorType} LIMIT @k";
            search.Parameters.AddWithValue("q", new Vector(query));
            search.Parameters.AddWithValue("k", k);
            var hits = new List<SearchHit>(k);
            await using (var r = await search.ExecuteReaderAsync(ct))
                while (await r.ReadAsync(ct))
                {
                    float score = (float)(1 - r.GetDouble(5));
                    if (score >= minScore) hits.Add(new SearchHit(ReadItem(r), score));
                }
            await tx.CommitAsync(ct);
            return hits;
        });
    }

    /// <summary>A filter on a field no item of the collection has ever had is refused, as in the embedded store (a misspelt field
    /// would otherwise match nothing, silently).</summary>
    private async Task RequireKnownFields(MetadataFilter filter, NpgsqlConnection connection, NpgsqlTransaction tx, CancellationToken ct)
    {
        var wanted = filter.Fields.Distinct().ToArray();
        await using var cmd = new NpgsqlCommand($"SELECT field FROM {store.Schema.Fields} WHERE collection_id = @id AND field = ANY(@fields)", connection, tx);
        cmd.Parameters.AddWithValue("id", id);
        cmd.Parameters.AddWithValue("fields", wanted);
        var known = new HashSet<string>(StringComparer.Ordinal);
        await using (var r = await cmd.ExecuteReaderAsync(ct))
            while (await r.ReadAsync(ct)) known.Add(r.GetString(0));
        if (wanted.FirstOrDefault(f => !known.Contains(f)) is { } missing)
            throw new CollectionException(CollectionErrorKind.Invalid, $"no item of collection '{Info.Name}' has the metadata field '{missing}'");
    }
}
