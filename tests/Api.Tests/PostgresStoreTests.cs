using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using VqaApi.Postgres;
using VqaApi.Retrieval;
using VqaApi.Testing;

namespace VqaApi.Api.Tests;

/// <summary>
/// The PostgreSQL backend against the embedded one, call by call: the same items, the same filters (equality of numbers, strings,
/// booleans and null, $in, ranges, objects and arrays that never match, missing fields), the same search results exactly and
/// through the HNSW index, float16 vectors, staged replacement, copying both ways; and what start-up says when the database is
/// unreachable or its schema is newer.
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class PostgresStoreTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private PostgresServer _server = null!;
    private readonly List<ICollectionStore> _stores = [];

    public async Task InitializeAsync() => _server = await PostgresServer.Shared;

    public Task DisposeAsync()
    {
        foreach (var s in _stores) s.Dispose();
        _dir.Dispose();
        return Task.CompletedTask;
    }

    private CollectionOptions Options(CollectionBackend backend, string? schema = null, Action<CollectionOptions>? change = null)
    {
        var o = new CollectionOptions { Backend = backend, Root = _dir.File("embedded-" + Guid.NewGuid().ToString("N")), HnswThreshold = 1_000_000 };
        o.Postgres.ConnectionString = _server.ConnectionString;
        o.Postgres.Schema = schema ?? PostgresServer.NewSchema();
        change?.Invoke(o);
        return o;
    }

    private async Task<ICollectionStore> Open(CollectionOptions options)
    {
        var store = Hosting.CollectionRegistration.Create(Microsoft.Extensions.Options.Options.Create(options), NullLoggerFactory.Instance);
        _stores.Add(store);
        await store.StartAsync();
        return store;
    }

    private static float[] Unit(Random random, int dims)
    {
        var v = new float[dims];
        for (int i = 0; i < dims; i++) v[i] = (float)(random.NextDouble() * 2 - 1);
        float norm = MathF.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / norm).ToArray();
    }

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    /// <summary>Metadata of many shapes: numbers (integers and fractions), strings, booleans, null, arrays, objects, missing fields.</summary>
    private static List<NewItem> Items(int count, int dims, int seed)
    {
        var random = new Random(seed);
        string[] langs = ["en", "de", "fr", "ja", "ar"];
        var items = new List<NewItem>();
        for (int i = 0; i < count; i++)
        {
            var fields = new List<string>();
            if (i % 7 != 0) fields.Add($"\"year\": {2000 + i % 30}");
            if (i % 6 != 1) fields.Add($"\"lang\": \"{langs[i % langs.Length]}\"");
            if (i % 3 == 0) fields.Add($"\"score\": {(i % 11) / 4.0:0.00}");
            fields.Add($"\"flag\": {(i % 4 == 0 ? "true" : i % 4 == 1 ? "false" : "null")}");
            if (i % 6 == 0) fields.Add("\"tags\": [\"a\", \"b\"]");
            if (i % 9 == 0) fields.Add("\"nested\": {\"x\": 1}");
            if (i % 13 == 0) fields.Add("\"year_text\": \"2010\"");
            var meta = i % 17 == 0 ? (JsonElement?)null : Json("{" + string.Join(", ", fields) + "}");
            items.Add(new NewItem($"item-{i:D4}", i % 2 == 0 ? $"text {i}" : null, null, meta, Unit(random, dims)));
        }
        return items;
    }

    private static readonly string[] Filters =
    [
        "{\"lang\": \"de\"}", "{\"lang\": {\"$eq\": \"ja\"}}", "{\"year\": 2010}", "{\"year\": 2010.0}", "{\"year\": {\"$gte\": 2010, \"$lt\": 2020}}",
        "{\"year\": {\"$gt\": 2025}}", "{\"year\": {\"$lte\": 2003}, \"lang\": \"en\"}", "{\"score\": {\"$gte\": 1.25}}", "{\"flag\": true}", "{\"flag\": false}",
        "{\"flag\": null}", "{\"lang\": {\"$in\": [\"fr\", \"ar\", 5]}}", "{\"year\": {\"$in\": [2001, 2002, \"2003\"]}}", "{\"tags\": [\"a\", \"b\"]}",
        "{\"nested\": {\"x\": 1}}", "{\"year_text\": 2010}", "{\"year_text\": \"2010\"}", "{\"year_text\": {\"$gt\": 0}}", "{\"lang\": {\"$in\": []}}",
    ];

    [Fact]
    public async Task Search_list_and_filters_give_what_the_embedded_store_gives()
    {
        const int dims = 24;
        var items = Items(300, dims, seed: 3);
        var stores = new[] { await Open(Options(CollectionBackend.Embedded)), await Open(Options(CollectionBackend.Postgres)) };
        var collections = new List<IVectorCollection>();
        foreach (var store in stores)
        {
            var (c, created) = await store.CreateAsync(new CollectionInfo("parity", "m", "p", dims, DateTimeOffset.UtcNow, "owner-1"));
            Assert.True(created);
            foreach (var chunk in items.Chunk(64)) await c.UpsertAsync(chunk, upsert: false);
            collections.Add(c);
        }
        var random = new Random(9);
        for (int q = 0; q < 5; q++)
        {
            var query = Unit(random, dims);
            foreach (var filter in Filters.Select(f => (string?)f).Prepend(null))
            {
                var parsed = MetadataFilter.Parse(filter is null ? null : Json(filter));
                var results = new List<IReadOnlyList<SearchHit>>();
                foreach (var c in collections) results.Add(await c.SearchAsync(query, 15, -0.2f, parsed));
                Assert.True(results[0].Select(h => h.Item.Id).SequenceEqual(results[1].Select(h => h.Item.Id)),
                    $"filter {filter}: embedded [{string.Join(", ", results[0].Select(h => h.Item.Id))}], postgres [{string.Join(", ", results[1].Select(h => h.Item.Id))}]");
                for (int i = 0; i < results[0].Count; i++) Assert.Equal(results[0][i].Score, results[1][i].Score, 4);
            }
        }
        // Unknown fields are refused alike; the item views agree (metadata equal as JSON values: jsonb may order keys otherwise).
        foreach (var c in collections)
            Assert.Equal(CollectionErrorKind.Invalid, (await Assert.ThrowsAsync<CollectionException>(() => c.SearchAsync(Unit(random, dims), 3, -1, MetadataFilter.Parse(Json("{\"nope\": 1}"))))).Kind);
        var pages = new List<List<CollectionItem>>();
        foreach (var c in collections)
        {
            var all = new List<CollectionItem>();
            string? after = null;
            for (var page = await c.ListAsync(40, after); page.Count > 0; page = await c.ListAsync(40, after = page[^1].Id)) all.AddRange(page);
            pages.Add(all);
        }
        Assert.Equal(pages[0].Select(i => (i.Id, i.Text, i.Key)), pages[1].Select(i => (i.Id, i.Text, i.Key)));
        for (int i = 0; i < pages[0].Count; i++) Assert.True(JsonEquals(pages[0][i].Metadata, pages[1][i].Metadata), pages[0][i].Id);
        var vectors = new List<float[]>();
        foreach (var c in collections) vectors.Add((await c.GetWithVectorAsync("item-0042"))!.Value.Vector);
        Assert.Equal(vectors[0], vectors[1]);
    }

    private static bool JsonEquals(JsonElement a, JsonElement b) =>
        a.ValueKind == JsonValueKind.Undefined || b.ValueKind == JsonValueKind.Undefined ? a.ValueKind == b.ValueKind : JsonElement.DeepEquals(a, b);

    [Fact]
    public async Task Writes_count_replace_delete_and_refuse_as_the_embedded_store_does()
    {
        foreach (var backend in new[] { CollectionBackend.Embedded, CollectionBackend.Postgres })
        {
            var store = await Open(Options(backend, change: o => o.MaxItemsPerCollection = 5));
            var (c, _) = await store.CreateAsync(new CollectionInfo("writes", "m", "p", 4, DateTimeOffset.UtcNow));
            var png = File.ReadAllBytes(Path.Combine(PostgresServer.FindRepo(), "docs", "tour", "scene.png"));
            var first = await c.UpsertAsync([new NewItem("a", "x", null, null, [1, 0, 0, 0]), new NewItem("b", null, png, Json("{\"k\": 1}"), [0, 1, 0, 0])], upsert: false);
            Assert.Equal((2, 0, 2L, 2), (first.Added, first.Replaced, first.Sequence, first.Count));
            var conflict = await Assert.ThrowsAsync<CollectionException>(() => c.UpsertAsync([new NewItem("a", "y", null, null, [1, 0, 0, 0])], upsert: false));
            Assert.Equal(CollectionErrorKind.Conflict, conflict.Kind);
            var replaced = await c.UpsertAsync([new NewItem("a", "y", null, null, [0, 0, 1, 0])], upsert: true);
            Assert.Equal((0, 1, 3L, 2), (replaced.Added, replaced.Replaced, replaced.Sequence, replaced.Count));
            Assert.Equal("y", (await c.GetAsync("a"))!.Text);
            Assert.Equal(CollectionErrorKind.Invalid, (await Assert.ThrowsAsync<CollectionException>(() =>
                c.UpsertAsync([.. Enumerable.Range(0, 4).Select(i => new NewItem($"n{i}", "t", null, null, [0, 0, 0, 1]))], upsert: false))).Kind);
            Assert.Equal(CollectionErrorKind.Invalid, (await Assert.ThrowsAsync<CollectionException>(() => c.UpsertAsync([new NewItem("z", "t", null, null, [1, 0, 0])], upsert: false))).Kind);
            Assert.Equal(png, await c.ReadImageAsync((await c.GetAsync("b"))!.ImageSha256!));
            Assert.Equal(["b"], await c.ExistingAsync(["b", "nope"]));
            Assert.True(await c.DeleteAsync("b"));
            Assert.False(await c.DeleteAsync("b"));
            Assert.Null(await c.GetAsync("b"));
            Assert.Equal(1, (await store.GetAsync("writes")).Count);
            // Idempotent create; another model is refused; delete; gone.
            Assert.False((await store.CreateAsync(new CollectionInfo("writes", "m", "p", 4, DateTimeOffset.UtcNow))).Created);
            Assert.Equal(CollectionErrorKind.Conflict, (await Assert.ThrowsAsync<CollectionException>(() => store.CreateAsync(new CollectionInfo("writes", "other", "p", 4, DateTimeOffset.UtcNow)))).Kind);
            await store.DeleteAsync("writes");
            Assert.Equal(CollectionErrorKind.NotFound, (await Assert.ThrowsAsync<CollectionException>(() => store.GetAsync("writes"))).Kind);
            Assert.Equal(CollectionErrorKind.NotFound, (await Assert.ThrowsAsync<CollectionException>(() => c.UpsertAsync([new NewItem("q", "t", null, null, [1, 0, 0, 0])], upsert: true))).Kind);
            Assert.Empty(await store.ListAsync());
        }
    }

    [Fact]
    public async Task The_hnsw_index_finds_what_the_exact_scan_finds_with_and_without_filters_and_in_float16()
    {
        const int dims = 32;
        var items = Items(1500, dims, seed: 5);
        foreach (bool half in new[] { false, true })
        {
            var schema = PostgresServer.NewSchema();
            var indexed = await Open(Options(CollectionBackend.Postgres, schema, o => { o.HnswThreshold = 0; o.Float16 = half; }));
            var (c, _) = await indexed.CreateAsync(new CollectionInfo("ann", "m", "p", dims, DateTimeOffset.UtcNow));
            foreach (var chunk in items.Chunk(250)) await c.UpsertAsync(chunk, upsert: false);
            // The same tables read with a threshold above the count: an exact scan.
            var exact = await (await Open(Options(CollectionBackend.Postgres, schema, o => o.Float16 = half))).GetAsync("ann");
            var random = new Random(11);
            int found = 0, wanted = 0;
            foreach (var filter in new string?[] { null, "{\"lang\": \"de\"}", "{\"year\": {\"$gte\": 2025}}" })
                for (int q = 0; q < 10; q++)
                {
                    var query = Unit(random, dims);
                    var parsed = MetadataFilter.Parse(filter is null ? null : Json(filter));
                    var truth = (await exact.SearchAsync(query, 10, float.NegativeInfinity, parsed)).Select(h => h.Item.Id).ToHashSet();
                    var approx = await c.SearchAsync(query, 10, float.NegativeInfinity, parsed);
                    Assert.Equal(10, approx.Count); // iterative scans fill top_k under a filter
                    found += approx.Count(h => truth.Contains(h.Item.Id));
                    wanted += truth.Count;
                }
            Assert.True(found >= 0.9 * wanted, $"half={half}: HNSW recall@10 {found}/{wanted}");
            // float16 storage: a vector read back is the float16-rounded one.
            var stored = (await c.GetWithVectorAsync("item-0007"))!.Value.Vector;
            var sent = items[7].Vector;
            Assert.Equal(half ? sent.Select(x => (float)(Half)x) : sent, stored);
        }
    }

    [Fact]
    public async Task Copies_go_both_ways_with_images_and_a_staged_copy_replaces_in_one_step()
    {
        const int dims = 8;
        var png = File.ReadAllBytes(Path.Combine(PostgresServer.FindRepo(), "docs", "tour", "scene.png"));
        var items = Items(150, dims, seed: 8).Select((item, i) => i % 10 == 3 ? item with { Text = null, Image = png } : item).ToList();
        var embedded = await Open(Options(CollectionBackend.Embedded));
        var postgres = await Open(Options(CollectionBackend.Postgres));
        var (source, _) = await embedded.CreateAsync(new CollectionInfo("moving", "m", "p", dims, DateTimeOffset.UtcNow, "owner-7"));
        await source.UpsertAsync(items, upsert: false);

        var there = await CollectionCopy.RunAsync(embedded, postgres, "moving", replace: false);
        Assert.Equal((150, 150, CollectionCopy.SampleSize, CollectionCopy.SampleSize), (there.SourceCount, there.TargetCount, there.Searched, there.SearchAgreement));
        var copy = await postgres.GetAsync("moving");
        Assert.Equal(("m", "p", "owner-7"), (copy.Info.Model, copy.Info.Profile, copy.Info.Owner));
        await foreach (var stored in copy.ReadAllAsync())
        {
            var original = items.Single(i => i.Id == stored.Item.Id);
            Assert.Equal(original.Vector, stored.Vector);
            Assert.Equal(original.Image, stored.Image);
            Assert.Equal(original.Text, stored.Item.Text);
        }
        Assert.Equal(CollectionErrorKind.Conflict, (await Assert.ThrowsAsync<CollectionException>(() => CollectionCopy.RunAsync(embedded, postgres, "moving", replace: false))).Kind);

        // Back again, over a changed embedded collection (--replace): the copy replaces it whole.
        await source.UpsertAsync([new NewItem("extra", "only here", null, null, items[0].Vector)], upsert: false);
        var back = await CollectionCopy.RunAsync(postgres, embedded, "moving", replace: true);
        Assert.Equal((150, 150), (back.SourceCount, back.TargetCount));
        var returned = await embedded.GetAsync("moving");
        Assert.Null(await returned.GetAsync("extra"));
        Assert.Equal(png, await returned.ReadImageAsync((await returned.GetAsync("item-0003"))!.ImageSha256!));

        // A staged collection is invisible until it replaces the served one.
        var staged = await postgres.CreateStagedAsync(new CollectionInfo("moving", "m2", "p", dims, DateTimeOffset.UtcNow));
        await staged.UpsertAsync([new NewItem("new", "n", null, null, items[1].Vector)], upsert: false);
        Assert.Equal("m", (await postgres.GetAsync("moving")).Info.Model);
        Assert.Single(await postgres.ListAsync());
        await postgres.ReplaceAsync(staged);
        var replaced = await postgres.GetAsync("moving");
        Assert.Equal(("m2", 1), (replaced.Info.Model, replaced.Count));
    }

    [Fact]
    public async Task Start_up_names_an_unreachable_database_and_a_newer_schema_and_migrates_once()
    {
        var closed = Options(CollectionBackend.Postgres);
        closed.Postgres.ConnectionString = $"Host=127.0.0.1;Port={FreePort()};Username=postgres;Password=secret-password;Database=postgres;SSL Mode=Disable";
        closed.Postgres.ConnectTimeoutSeconds = 2;
        var unreachable = await Assert.ThrowsAsync<CollectionException>(() => Open(closed));
        Assert.Equal(CollectionErrorKind.Unavailable, unreachable.Kind);
        Assert.Contains("cannot be reached", unreachable.Message);
        Assert.Contains("Collections:Postgres:ConnectionString", unreachable.Message);
        Assert.DoesNotContain("secret-password", unreachable.Message);

        var schema = PostgresServer.NewSchema();
        await Open(Options(CollectionBackend.Postgres, schema));
        await Open(Options(CollectionBackend.Postgres, schema)); // a second replica: nothing left to apply
        await using var connection = new NpgsqlConnection(_server.ConnectionString);
        await connection.OpenAsync();
        await using (var versions = new NpgsqlCommand($"SELECT count(*) FROM \"{schema}\".schema_migrations", connection))
            Assert.Equal(1L, await versions.ExecuteScalarAsync());
        await using (var newer = new NpgsqlCommand($"INSERT INTO \"{schema}\".schema_migrations (version, description) VALUES (999, 'from the future')", connection))
            await newer.ExecuteNonQueryAsync();
        await connection.CloseAsync();
        var refused = await Assert.ThrowsAsync<CollectionException>(() => Open(Options(CollectionBackend.Postgres, schema)));
        Assert.Contains("newer than this build", refused.Message);
    }

    [Fact]
    public async Task Start_up_names_a_database_without_pgvector()
    {
        if (!_server.IsPglite) return; // an external server (VQA_TEST_POSTGRES) has pgvector
        var bare = await PostgresServer.StartWithoutPgvectorAsync();
        try
        {
            var options = Options(CollectionBackend.Postgres);
            options.Postgres.ConnectionString = bare.ConnectionString;
            var refused = await Assert.ThrowsAsync<CollectionException>(() => Open(options));
            Assert.Equal(CollectionErrorKind.Unavailable, refused.Kind);
            Assert.Contains("lacks the pgvector extension", refused.Message);
            Assert.Contains("CREATE EXTENSION vector", refused.Message);
        }
        finally { bare.StopAndRemove(); }
    }

    private static int FreePort()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
