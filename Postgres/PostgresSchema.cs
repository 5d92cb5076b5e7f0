using Npgsql;

namespace VqaApi.Postgres;

/// <summary>
/// The service's tables in their schema, brought up to date at start-up by numbered migrations recorded in
/// <c>schema_migrations</c>. Each migration runs in one transaction under an advisory lock, so replicas starting together apply it
/// once. A database whose schema is newer than this build knows is refused (an older replica must not write to it).
/// Per collection there are two more tables, made with the collection (<see cref="ItemsTable"/>, <see cref="ImagesTable"/>).
/// </summary>
internal sealed class PostgresSchema(string schema)
{
    public string Name { get; } = schema;
    private string Q => $"\"{Name}\"";

    public string Collections => $"{Q}.collections";
    public string Fields => $"{Q}.collection_fields";
    public string Heads => $"{Q}.heads";
    public string Migrations => $"{Q}.schema_migrations";
    /// <summary>A collection's items; named by its number in <see cref="Collections"/> (never by a client's string).</summary>
    public string ItemsTable(long id) => $"{Q}.items_{id}";
    public string ImagesTable(long id) => $"{Q}.images_{id}";

    /// <summary>The migrations, in order; never edit one that has shipped, add the next.</summary>
    private IReadOnlyList<(int Version, string Description, string Sql)> All =>
    [
        (1, "collections, their metadata fields, heads", $"""
            CREATE TABLE {Collections} (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                name text NOT NULL,
                model text NOT NULL,
                profile text NOT NULL,
                dimensions integer NOT NULL CHECK (dimensions BETWEEN 1 AND 16000),
                half boolean NOT NULL,
                created_at timestamptz NOT NULL,
                owner text,
                item_count bigint NOT NULL DEFAULT 0,
                sequence bigint NOT NULL DEFAULT 0,
                staged boolean NOT NULL DEFAULT FALSE);
            CREATE UNIQUE INDEX collections_served_name ON {Collections} (name) WHERE NOT staged;
            CREATE TABLE {Fields} (
                collection_id bigint NOT NULL REFERENCES {Collections} (id) ON DELETE CASCADE,
                field text NOT NULL,
                PRIMARY KEY (collection_id, field));
            CREATE TABLE {Heads} (
                model_key text NOT NULL,
                name text NOT NULL,
                document bytea NOT NULL,
                updated_at timestamptz NOT NULL,
                PRIMARY KEY (model_key, name));
            """),
    ];

    public int Latest => All[^1].Version;

    /// <summary>Creates the schema and the pgvector extension when missing and applies the migrations this database lacks;
    /// returns the versions applied now.</summary>
    public async Task<IReadOnlyList<int>> MigrateAsync(NpgsqlConnection connection, CancellationToken ct)
    {
        var applied = new List<int>();
        await using var tx = await connection.BeginTransactionAsync(ct);
        await Execute(connection, tx, "SELECT pg_advisory_xact_lock(hashtext('vqaapi.schema'))", ct);
        await Execute(connection, tx, $"CREATE SCHEMA IF NOT EXISTS {Q}", ct);
        await Execute(connection, tx, "CREATE EXTENSION IF NOT EXISTS vector", ct);
        await Execute(connection, tx, $"CREATE TABLE IF NOT EXISTS {Migrations} (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())", ct);
        int current;
        await using (var cmd = new NpgsqlCommand($"SELECT coalesce(max(version), 0) FROM {Migrations}", connection, tx))
            current = Convert.ToInt32(await cmd.ExecuteScalarAsync(ct));
        if (current > Latest)
            throw new VqaApi.Retrieval.CollectionException(VqaApi.Retrieval.CollectionErrorKind.Unavailable, $"the database schema '{Name}' is at version {current}, newer than this build of the service knows ({Latest}); " +
                                                "run the newer service, or point this one at another schema (Collections:Postgres:Schema)");
        foreach (var (version, description, sql) in All.Where(m => m.Version > current))
        {
            await Execute(connection, tx, sql, ct);
            await using var record = new NpgsqlCommand($"INSERT INTO {Migrations} (version, description) VALUES (@v, @d)", connection, tx);
            record.Parameters.AddWithValue("v", version);
            record.Parameters.AddWithValue("d", description);
            await record.ExecuteNonQueryAsync(ct);
            applied.Add(version);
        }
        await tx.CommitAsync(ct);
        return applied;
    }

    private static async Task Execute(NpgsqlConnection connection, NpgsqlTransaction tx, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, connection, tx);
        await cmd.ExecuteNonQueryAsync(ct);
    }
}
