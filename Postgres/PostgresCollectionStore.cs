using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Pgvector.Npgsql;
using VqaApi.Retrieval;

namespace VqaApi.Postgres;

/// <summary>
/// Collections in PostgreSQL with pgvector, shared by every API replica that points at the same database: a catalog table
/// (<c>collections</c>: name, model, profile, dimensions, owner, item count, write sequence) and, per collection, a table of items
/// (<c>vector(D)</c>, or <c>halfvec(D)</c> with Collections:Float16; metadata as <c>jsonb</c>; an HNSW index made with the
/// collection) and a table of the images items were added with (content-addressed, for re-embedding: in the database, so that
/// every replica reads them without a shared disk). Nothing is cached between requests: what one replica writes, the others
/// read at once.
/// </summary>
public sealed class PostgresCollectionStore : ICollectionStore
{
    private readonly CollectionOptions _options;
    private readonly ILogger _logger;
    private readonly PostgresSchema _schema;
    private NpgsqlDataSource? _data;

    public PostgresCollectionStore(IOptions<CollectionOptions> options, ILogger<PostgresCollectionStore> logger)
    {
        _options = options.Value;
        _logger = logger;
        _schema = new PostgresSchema(_options.Postgres.Schema);
    }

    public CollectionBackend Backend => CollectionBackend.Postgres;
    public CollectionOptions Options => _options;
    internal PostgresSchema Schema => _schema;

    /// <summary>The database, as the service names it in messages (host, port, database; never the password).</summary>
    public string Where
    {
        get
        {
            var b = Connection();
            return $"{b.Host}:{b.Port}/{b.Database ?? b.Username}";
        }
    }

    internal NpgsqlDataSource Data => _data ?? throw new InvalidOperationException("the PostgreSQL collection store has not been started");

    private NpgsqlConnectionStringBuilder Connection()
    {
        if (string.IsNullOrWhiteSpace(_options.Postgres.ConnectionString))
            throw new CollectionException(CollectionErrorKind.Unavailable, "Collections:Backend is Postgres but Collections:Postgres:ConnectionString is empty");
        NpgsqlConnectionStringBuilder parsed;
        try { parsed = new NpgsqlConnectionStringBuilder(_options.Postgres.ConnectionString); }
        catch (ArgumentException e)
        {
            throw new CollectionException(CollectionErrorKind.Unavailable, $"Collections:Postgres:ConnectionString is not a valid Npgsql connection string: {e.Message}");
        }
        parsed.CommandTimeout = _options.Postgres.CommandTimeoutSeconds;
        parsed.Timeout = _options.Postgres.ConnectTimeoutSeconds;
        parsed.ApplicationName ??= "vqaapi";
        return parsed;
    }

    /// <summary>Connects, checks the server and pgvector, applies the migrations, then opens the pool the requests use (with
    /// pgvector's types, loaded once the extension exists). Fails with a message that names the database and what is wrong.</summary>
    public async Task StartAsync(CancellationToken ct = default)
    {
        var builder = Connection();
        try
        {
            // Its own connection, outside the pool the requests use (that one knows pgvector's types, which exist only after this).
            await using (var bare = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Pooling = false }.ConnectionString))
            {
                await bare.OpenAsync(ct);
                var applied = await _schema.MigrateAsync(bare, ct);
                if (applied.Count > 0) _logger.LogInformation("PostgreSQL schema {Schema}: applied migrations {Versions}", _schema.Name, string.Join(", ", applied));
                await using var cmd = new NpgsqlCommand("SELECT extversion FROM pg_extension WHERE extname = 'vector'", bare);
                var version = await cmd.ExecuteScalarAsync(ct);
                _logger.LogInformation("Collections in PostgreSQL {Server} at {Where}, schema {Schema}, pgvector {Version}", bare.PostgreSqlVersion, Where, _schema.Name, version);
            }
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UndefinedFile or PostgresErrorCodes.FeatureNotSupported || e.MessageText.Contains("extension \"vector\"", StringComparison.Ordinal))
        {
            throw new CollectionException(CollectionErrorKind.Unavailable, $"the PostgreSQL database at {Where} lacks the pgvector extension ({e.MessageText}): install pgvector on the server " +
                                                "(https://github.com/pgvector/pgvector), or have an administrator run CREATE EXTENSION vector in this database");
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
        {
            throw new CollectionException(CollectionErrorKind.Unavailable, $"the PostgreSQL user of Collections:Postgres:ConnectionString may not set up the service's tables at {Where} ({e.MessageText}): " +
                                                $"grant it CREATE on the database, or create the schema '{_schema.Name}' and the extension vector as an administrator");
        }
        catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException or TimeoutException)
        {
            throw new CollectionException(CollectionErrorKind.Unavailable, $"Collections:Backend is Postgres, but the database at {Where} cannot be reached: {e.Message} " +
                                                "(check Collections:Postgres:ConnectionString and that the server is running)");
        }
        var pooled = new NpgsqlDataSourceBuilder(builder.ConnectionString);
        pooled.UseVector();
        _data = pooled.Build();
        if (await RemoveAbandonedStagedAsync(ct) is > 0 and var removed)
            _logger.LogInformation("Removed {Count} staged collection copies left for more than a day by a re-embedding or copy that did not finish", removed);
    }

    public async Task<string?> ProblemAsync(CancellationToken ct = default)
    {
        try
        {
            await using var cmd = Data.CreateCommand("SELECT 1");
            await cmd.ExecuteScalarAsync(ct);
            return null;
        }
        // Whatever fails, the replica is not ready (a load balancer should send its traffic elsewhere), and says why.
        catch (Exception e) when (e is not OperationCanceledException) { return PostgresErrors.NotReachable(PostgresErrors.Why(e)); }
    }

    private const string CatalogColumns = "id, name, model, profile, dimensions, half, created_at, owner, item_count";

    private PostgresCollection Read(NpgsqlDataReader r) => new(this,
        new CollectionInfo(r.GetString(1), r.GetString(2), r.GetString(3), r.GetInt32(4), r.GetFieldValue<DateTimeOffset>(6), r.IsDBNull(7) ? null : r.GetString(7)),
        r.GetInt64(0), r.GetBoolean(5), (int)Math.Min(int.MaxValue, r.GetInt64(8)));

    public Task<IReadOnlyList<IVectorCollection>> ListAsync(CancellationToken ct = default) => PostgresErrors.Guard<IReadOnlyList<IVectorCollection>>(async () =>
    {
        await using var cmd = Data.CreateCommand($"SELECT {CatalogColumns} FROM {_schema.Collections} WHERE NOT staged ORDER BY name COLLATE \"C\"");
        await using var r = await cmd.ExecuteReaderAsync(ct);
        var all = new List<IVectorCollection>();
        while (await r.ReadAsync(ct)) all.Add(Read(r));
        return all;
    });

    public Task<IVectorCollection> GetAsync(string name, CancellationToken ct = default)
    {
        CollectionStore.ValidateName(name);
        return PostgresErrors.Guard<IVectorCollection>(async () => await Find(name, ct) ?? throw NotFound(name));
    }

    private static CollectionException NotFound(string name) => new(CollectionErrorKind.NotFound, $"there is no collection '{name}'");

    private async Task<PostgresCollection?> Find(string name, CancellationToken ct)
    {
        await using var cmd = Data.CreateCommand($"SELECT {CatalogColumns} FROM {_schema.Collections} WHERE name = @name AND NOT staged");
        cmd.Parameters.AddWithValue("name", name);
        await using var r = await cmd.ExecuteReaderAsync(ct);
        return await r.ReadAsync(ct) ? Read(r) : null;
    }

    public Task<(IVectorCollection Collection, bool Created)> CreateAsync(CollectionInfo info, Func<Task>? beforeCreate = null, Func<string, bool>? readsModel = null,
        CancellationToken ct = default)
    {
        CollectionStore.ValidateName(info.Name);
        return PostgresErrors.Guard<(IVectorCollection, bool)>(async () =>
        {
            if (await Find(info.Name, ct) is { } existing) return (Same(existing, info, readsModel), false);
            // The quota check reads the catalog on its own connection, so it runs before the creating transaction (a concurrent
            // create by another client can pass it too: quotas are checked, not transactional).
            if (beforeCreate is not null) await beforeCreate();
            var created = await CreateTablesAsync(info, staged: false, ct);
            if (created is not null) return (created, true);
            // Another replica created it between the two reads.
            return (Same(await Find(info.Name, ct) ?? throw NotFound(info.Name), info, readsModel), false);
        });
    }

    private static IVectorCollection Same(PostgresCollection existing, CollectionInfo wanted, Func<string, bool>? readsModel)
    {
        ItemRules.RequireSameModel(existing.Info, wanted, readsModel);
        return existing;
    }

    /// <summary>pgvector indexes vectors of up to 2,000 dimensions (halfvec: 4,000); larger ones are searched exactly.</summary>
    private bool Indexable(int dims) => dims <= (_options.Float16 ? 4000 : 2000);

    /// <summary>The catalog row and the collection's two tables with its indexes, in one transaction; null when a served collection
    /// of that name exists already.</summary>
    private async Task<PostgresCollection?> CreateTablesAsync(CollectionInfo info, bool staged, CancellationToken ct)
    {
        await using var connection = await Data.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        long id;
        await using (var insert = new NpgsqlCommand(
                         $"INSERT INTO {_schema.Collections} (name, model, profile, dimensions, half, created_at, owner, staged) " +
                         "VALUES (@name, @model, @profile, @dims, @half, @created, @owner, @staged) " +
                         (staged ? "" : "ON CONFLICT (name) WHERE NOT staged DO NOTHING ") + "RETURNING id", connection, tx))
        {
            insert.Parameters.AddWithValue("name", info.Name);
            insert.Parameters.AddWithValue("model", info.Model);
            insert.Parameters.AddWithValue("profile", info.Profile);
            insert.Parameters.AddWithValue("dims", info.Dimensions);
            insert.Parameters.AddWithValue("half", _options.Float16);
            insert.Parameters.AddWithValue("created", info.CreatedAt);
            insert.Parameters.AddWithValue("owner", (object?)info.Owner ?? DBNull.Value);
            insert.Parameters.AddWithValue("staged", staged);
            if (await insert.ExecuteScalarAsync(ct) is not long newId) return null;
            id = newId;
        }
        string type = _options.Float16 ? "halfvec" : "vector", ops = _options.Float16 ? "halfvec_cosine_ops" : "vector_cosine_ops";
        var items = _schema.ItemsTable(id);
        var ddl = $"""
            CREATE TABLE {items} (
                key bigint PRIMARY KEY,
                id text COLLATE "C" NOT NULL UNIQUE,
                text text,
                image_sha256 text,
                metadata jsonb,
                embedding {type}({info.Dimensions}) NOT NULL);
            CREATE INDEX ON {items} (image_sha256) WHERE image_sha256 IS NOT NULL;
            CREATE TABLE {_schema.ImagesTable(id)} (sha256 text PRIMARY KEY, bytes bytea NOT NULL);
            """;
        if (Indexable(info.Dimensions))
            ddl += $"CREATE INDEX ON {items} USING hnsw (embedding {ops}) WITH (m = {_options.Postgres.HnswM}, ef_construction = {_options.Postgres.HnswEfConstruction});";
        await using (var create = new NpgsqlCommand(ddl, connection, tx)) await create.ExecuteNonQueryAsync(ct);
        await tx.CommitAsync(ct);
        return new PostgresCollection(this, info, id, _options.Float16, 0);
    }

    public Task DeleteAsync(string name, CancellationToken ct = default)
    {
        CollectionStore.ValidateName(name);
        return PostgresErrors.Guard(async () =>
        {
            await using var connection = await Data.OpenConnectionAsync(ct);
            await using var tx = await connection.BeginTransactionAsync(ct);
            long? id;
            await using (var find = new NpgsqlCommand($"DELETE FROM {_schema.Collections} WHERE name = @name AND NOT staged RETURNING id", connection, tx))
            {
                find.Parameters.AddWithValue("name", name);
                id = await find.ExecuteScalarAsync(ct) as long?;
            }
            if (id is not { } gone) throw NotFound(name);
            await DropTablesAsync(connection, tx, gone, ct);
            await tx.CommitAsync(ct);
        }, name);
    }

    private async Task DropTablesAsync(NpgsqlConnection connection, NpgsqlTransaction tx, long id, CancellationToken ct)
    {
        await using var drop = new NpgsqlCommand($"DROP TABLE IF EXISTS {_schema.ItemsTable(id)}, {_schema.ImagesTable(id)}", connection, tx);
        await drop.ExecuteNonQueryAsync(ct);
    }

    public Task<IVectorCollection> CreateStagedAsync(CollectionInfo info, CancellationToken ct = default)
    {
        CollectionStore.ValidateName(info.Name);
        return PostgresErrors.Guard<IVectorCollection>(async () => (await CreateTablesAsync(info, staged: true, ct))!);
    }

    /// <summary>In one transaction: the old collection's row and tables go, the staged one becomes the served one. Other replicas
    /// see the old collection until the commit and the new one after it.</summary>
    public Task ReplaceAsync(IVectorCollection staged, CancellationToken ct = default)
    {
        if (staged is not PostgresCollection built || built.Store != this) throw new ArgumentException("the staged collection comes from another store", nameof(staged));
        return PostgresErrors.Guard(async () =>
        {
            await using var connection = await Data.OpenConnectionAsync(ct);
            await using var tx = await connection.BeginTransactionAsync(ct);
            await using (var old = new NpgsqlCommand($"DELETE FROM {_schema.Collections} WHERE name = @name AND NOT staged RETURNING id", connection, tx))
            {
                old.Parameters.AddWithValue("name", built.Info.Name);
                if (await old.ExecuteScalarAsync(ct) is long oldId) await DropTablesAsync(connection, tx, oldId, ct);
            }
            await using (var serve = new NpgsqlCommand($"UPDATE {_schema.Collections} SET staged = FALSE WHERE id = @id AND staged", connection, tx))
            {
                serve.Parameters.AddWithValue("id", built.Id);
                if (await serve.ExecuteNonQueryAsync(ct) != 1) throw new CollectionException(CollectionErrorKind.Conflict, $"the staged copy of collection '{built.Info.Name}' is gone");
            }
            await tx.CommitAsync(ct);
        }, built.Info.Name);
    }

    /// <summary>Staged collections nobody finished (a re-embedding or copy cut short), for the CLI to clean up.</summary>
    public Task<int> RemoveAbandonedStagedAsync(CancellationToken ct = default) => PostgresErrors.Guard(async () =>
    {
        await using var connection = await Data.OpenConnectionAsync(ct);
        await using var tx = await connection.BeginTransactionAsync(ct);
        var ids = new List<long>();
        await using (var find = new NpgsqlCommand($"DELETE FROM {_schema.Collections} WHERE staged AND created_at < now() - interval '1 day' RETURNING id", connection, tx))
        await using (var r = await find.ExecuteReaderAsync(ct))
            while (await r.ReadAsync(ct)) ids.Add(r.GetInt64(0));
        foreach (var id in ids) await DropTablesAsync(connection, tx, id, ct);
        await tx.CommitAsync(ct);
        return ids.Count;
    });

    public void Dispose() => _data?.Dispose();
}
