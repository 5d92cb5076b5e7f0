using Npgsql;
using VqaApi.Retrieval;
using VqaApi.Tasks.Heads;

namespace VqaApi.Postgres;

/// <summary>
/// The served model's heads as rows of the <c>heads</c> table (model id, name, JSON, time written), in the database of the
/// collection store: a head fitted through one replica is served by every other at once. The head store calls these
/// synchronously (heads are small and rarely written). Rows are per model id, so replicas serving different models keep apart.
/// </summary>
public sealed class PostgresHeadDocuments(PostgresCollectionStore store, string modelId) : IHeadDocuments
{
    private string Table => store.Schema.Heads;

    private T Guard<T>(Func<T> call)
    {
        try { return call(); }
        catch (Exception e) when (PostgresErrors.Translate(e, null) is { } problem)
        {
            throw new HeadException(problem.Kind == CollectionErrorKind.InsufficientStorage ? HeadErrorKind.InsufficientStorage : HeadErrorKind.Unavailable,
                problem.Message.Replace("collection database", "head database", StringComparison.Ordinal), e);
        }
    }

    private NpgsqlCommand Command(string sql, string? name = null)
    {
        var cmd = store.Data.CreateCommand(sql);
        cmd.Parameters.AddWithValue("model", modelId);
        if (name is not null) cmd.Parameters.AddWithValue("name", name);
        return cmd;
    }

    public IReadOnlyList<string> Names() => Guard(() =>
    {
        using var cmd = Command($"SELECT name FROM {Table} WHERE model_key = @model ORDER BY name COLLATE \"C\"");
        using var r = cmd.ExecuteReader();
        var names = new List<string>();
        while (r.Read()) names.Add(r.GetString(0));
        return names;
    });

    public HeadDocument? Read(string name) => Guard(() =>
    {
        using var cmd = Command($"SELECT document, updated_at FROM {Table} WHERE model_key = @model AND name = @name", name);
        using var r = cmd.ExecuteReader();
        return r.Read() ? new HeadDocument(r.GetFieldValue<byte[]>(0), r.GetFieldValue<DateTime>(1).Ticks.ToString()) : null;
    });

    public string? Stamp(string name) => Guard(() =>
    {
        using var cmd = Command($"SELECT updated_at FROM {Table} WHERE model_key = @model AND name = @name", name);
        return cmd.ExecuteScalar() is DateTime updated ? updated.Ticks.ToString() : null;
    });

    public long Size(string name) => Guard(() =>
    {
        using var cmd = Command($"SELECT octet_length(document) FROM {Table} WHERE model_key = @model AND name = @name", name);
        return cmd.ExecuteScalar() is int n ? n : 0L;
    });

    public void Write(string name, byte[] json) => Guard(() =>
    {
        // clock_timestamp(), not now(): two writes in one transaction would share now()'s stamp.
        using var cmd = Command($"INSERT INTO {Table} (model_key, name, document, updated_at) VALUES (@model, @name, @document, clock_timestamp()) " +
                                "ON CONFLICT (model_key, name) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at", name);
        cmd.Parameters.AddWithValue("document", json);
        return cmd.ExecuteNonQuery();
    });

    /// <summary>Adds a head only when the database has none of that name (the heads a model directory ships with, copied in at
    /// start-up without overwriting what replicas have written since).</summary>
    public bool Import(string name, byte[] json) => Guard(() =>
    {
        using var cmd = Command($"INSERT INTO {Table} (model_key, name, document, updated_at) VALUES (@model, @name, @document, clock_timestamp()) ON CONFLICT DO NOTHING", name);
        cmd.Parameters.AddWithValue("document", json);
        return cmd.ExecuteNonQuery() == 1;
    });

    public bool Delete(string name) => Guard(() =>
    {
        using var cmd = Command($"DELETE FROM {Table} WHERE model_key = @model AND name = @name", name);
        return cmd.ExecuteNonQuery() == 1;
    });

    public string Describe(string name) => $"head '{name}' in the database";
}
