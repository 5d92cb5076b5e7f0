using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace VqaApi.Api.Tests;

/// <summary>Collections over HTTP on the small test model, stored under a temp folder (the embedded backend).</summary>
public class CollectionFactory : ApiFactory
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "vqaapi-collections-" + Guid.NewGuid().ToString("N"));
    protected override Dictionary<string, string?> Settings =>
        new Dictionary<string, string?> { ["Collections:Root"] = Root, ["Collections:MaxBatch"] = "50" }.Concat(BackendSettings).ToDictionary();

    /// <summary>The settings that choose the backend (none: the embedded default).</summary>
    protected virtual Dictionary<string, string?> BackendSettings => new();

    /// <summary>Records another model for a stored collection, as if it had been embedded by that model.</summary>
    public virtual Task SetModelAsync(string collection, string model)
    {
        var info = Path.Combine(Root, collection, "collection.json");
        File.WriteAllText(info, File.ReadAllText(info).Replace(ApiFactoryModelId, model));
        return Task.CompletedTask;
    }

    public const string ApiFactoryModelId = "api-test-model";

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try { Directory.Delete(Root, true); } catch (IOException) { }
    }
}

/// <summary>The same collections in PostgreSQL with pgvector (PGlite, or VQA_TEST_POSTGRES), in a schema of their own.</summary>
public sealed class PostgresCollectionFactory : CollectionFactory
{
    private readonly VqaApi.Testing.PostgresServer _server = VqaApi.Testing.PostgresServer.Shared.GetAwaiter().GetResult();
    public string Schema { get; } = VqaApi.Testing.PostgresServer.NewSchema();
    protected override Dictionary<string, string?> BackendSettings => _server.Settings(Schema);

    public override async Task SetModelAsync(string collection, string model)
    {
        await using var connection = new Npgsql.NpgsqlConnection(_server.ConnectionString);
        await connection.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand($"UPDATE \"{Schema}\".collections SET model = @model WHERE name = @name", connection);
        cmd.Parameters.AddWithValue("model", model);
        cmd.Parameters.AddWithValue("name", collection);
        Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
    }
}

public sealed class CollectionApiTests(CollectionFactory factory) : CollectionApiContract<CollectionFactory>(factory), IClassFixture<CollectionFactory>;

[Collection(VqaApi.Testing.PostgresServer.Collection)]
public sealed class PostgresCollectionApiTests(PostgresCollectionFactory factory) : CollectionApiContract<PostgresCollectionFactory>(factory), IClassFixture<PostgresCollectionFactory>;

/// <summary>What the collection endpoints do, on every backend (the embedded files and PostgreSQL run the same tests).</summary>
public abstract class CollectionApiContract<TFactory>(TFactory factory) where TFactory : CollectionFactory
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<JsonElement> Json(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{(int)response.StatusCode}: {body}");
        return body.Length == 0 ? default : JsonDocument.Parse(body).RootElement;
    }

    [Fact]
    public async Task Create_add_search_by_text_image_embedding_and_id_with_filters()
    {
        await Json(await _client.PutAsync("/v1/collections/docs", null), HttpStatusCode.Created);
        await Json(await _client.PutAsync("/v1/collections/docs", null)); // idempotent
        var texts = new[] { "a red circle", "ein roter Kreis", "un carré bleu", "a blue square", "трава зелёная", "the sky at night" };
        var items = texts.Select((t, i) => new { id = $"t{i}", text = t, metadata = new { i, lang = i % 2 == 0 ? "en" : "xx" } }).ToList<object>();
        items.Add(new { id = "img", image = new { data = Convert.ToBase64String(TestImages.Png(30, 30)) }, metadata = new { i = 99, lang = "img" } });
        var added = await Json(await _client.PostAsJsonAsync("/v1/collections/docs/items", new { items }));
        Assert.Equal(7, added.GetProperty("added").GetInt32());
        Assert.True(added.GetProperty("searchable").GetBoolean());

        // A text identical to a stored one is its own nearest neighbour (the same canvas, the same embedding).
        var byText = await Json(await _client.PostAsJsonAsync("/v1/collections/docs/search", new { text = "un carré bleu", top_k = 3 }));
        Assert.Equal("t2", byText.GetProperty("results")[0].GetProperty("id").GetString());
        Assert.Equal(1.0, byText.GetProperty("results")[0].GetProperty("score").GetDouble(), 4);
        Assert.False(byText.GetProperty("results")[0].GetProperty("hasImage").GetBoolean());
        var byImage = await Json(await _client.PostAsJsonAsync("/v1/collections/docs/search", new { image = new { data = Convert.ToBase64String(TestImages.Png(30, 30)) }, top_k = 1 }));
        Assert.Equal("img", byImage.GetProperty("results")[0].GetProperty("id").GetString());
        Assert.True(byImage.GetProperty("results")[0].GetProperty("hasImage").GetBoolean());
        // The image an item was added with comes back as it was sent (thumbnails); a text item has none.
        var image = await _client.GetAsync("/v1/collections/docs/images/img");
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
        Assert.Equal("image/png", image.Content.Headers.ContentType?.MediaType);
        Assert.Equal(TestImages.Png(30, 30), await image.Content.ReadAsByteArrayAsync());
        var none = await Json(await _client.GetAsync("/v1/collections/docs/images/t1"), HttpStatusCode.NotFound);
        Assert.Contains("not added as an image", none.GetProperty("detail").GetString());
        await Json(await _client.GetAsync("/v1/collections/docs/images/nope"), HttpStatusCode.NotFound);
        await Json(await _client.GetAsync("/v1/collections/nope/images/img"), HttpStatusCode.NotFound);
        var byId = await Json(await _client.PostAsJsonAsync("/v1/collections/docs/search", new { id = "t4", top_k = 1 }));
        Assert.Equal("t4", byId.GetProperty("results")[0].GetProperty("id").GetString());
        await Json(await _client.PostAsJsonAsync("/v1/collections/docs/search", new { id = "nope", top_k = 1 }), HttpStatusCode.NotFound);
        // The embedding is read back from the collection's index (items keep no copy of it), and only when asked for.
        Assert.Equal(JsonValueKind.Null, (await Json(await _client.GetAsync("/v1/collections/docs/items/t1"))).GetProperty("embedding").ValueKind);
        var stored = await Json(await _client.GetAsync("/v1/collections/docs/items/t1?embedding=true"));
        Assert.Equal(32, stored.GetProperty("embedding").GetArrayLength());
        Assert.Equal(1.0, Math.Sqrt(stored.GetProperty("embedding").EnumerateArray().Sum(x => x.GetDouble() * x.GetDouble())), 4);
        await Json(await _client.GetAsync("/v1/collections/docs/items/nope?embedding=true"), HttpStatusCode.NotFound);
        var byEmbedding = await Json(await _client.PostAsJsonAsync("/v1/collections/docs/search", new { embedding = stored.GetProperty("embedding"), top_k = 1 }));
        Assert.Equal("t1", byEmbedding.GetProperty("results")[0].GetProperty("id").GetString());

        var filtered = await Json(await _client.PostAsJsonAsync("/v1/collections/docs/search", new { text = "un carré bleu", top_k = 10, filter = new { lang = "en", i = new Dictionary<string, int> { ["$gte"] = 2 } } }));
        Assert.Equal(["t2", "t4"], filtered.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("id").GetString()).Order());
        var threshold = await Json(await _client.PostAsJsonAsync("/v1/collections/docs/search", new { text = "un carré bleu", top_k = 10, min_score = 0.9999 }));
        Assert.Equal(1, threshold.GetProperty("results").GetArrayLength());

        var page1 = await Json(await _client.GetAsync("/v1/collections/docs/items?limit=4"));
        Assert.Equal(4, page1.GetProperty("items").GetArrayLength());
        var page2 = await Json(await _client.GetAsync($"/v1/collections/docs/items?limit=4&after={page1.GetProperty("next").GetString()}"));
        Assert.Equal(3, page2.GetProperty("items").GetArrayLength());
        Assert.Equal(JsonValueKind.Null, page2.GetProperty("next").ValueKind);

        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync("/v1/collections/docs/items/t0")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/v1/collections/docs/items/t0")).StatusCode);
    }

    [Fact]
    public async Task Bad_requests_are_4xx_and_stored_data_stays()
    {
        await _client.PutAsync("/v1/collections/strict", null);
        await Json(await _client.PostAsJsonAsync("/v1/collections/strict/items", new { items = new[] { new { id = "a", text = "first" } } }));
        await Json(await _client.PostAsJsonAsync("/v1/collections/strict/items", new { items = new[] { new { id = "a", text = "second" } } }), HttpStatusCode.Conflict);
        var upserted = await Json(await _client.PostAsJsonAsync("/v1/collections/strict/items", new { items = new[] { new { id = "a", text = "second" } }, upsert = true }));
        Assert.Equal(1, upserted.GetProperty("replaced").GetInt32());
        await Json(await _client.PostAsJsonAsync("/v1/collections/strict/items", new { items = new[] { new { id = "b", embedding = new float[] { 1, 2, 3 } } } }), HttpStatusCode.BadRequest);
        await Json(await _client.PostAsJsonAsync("/v1/collections/strict/items", new { items = Enumerable.Range(0, 51).Select(i => new { id = $"x{i}", text = "t" }) }), HttpStatusCode.BadRequest);
        await Json(await _client.PostAsJsonAsync("/v1/collections/strict/search", new { text = "x", filter = new { missing = 1 } }), HttpStatusCode.BadRequest);
        await Json(await _client.PostAsJsonAsync("/v1/collections/strict/search", new { text = "x", id = "a" }), HttpStatusCode.BadRequest);
        await Json(await _client.PostAsJsonAsync("/v1/collections/nope/search", new { text = "x" }), HttpStatusCode.NotFound);
        await Json(await _client.PutAsync("/v1/collections/..%2Fetc", null), HttpStatusCode.BadRequest);
        await Json(await _client.PutAsync("/v1/collections/Bad.Name", null), HttpStatusCode.BadRequest);
        var item = await Json(await _client.GetAsync("/v1/collections/strict/items/a"));
        Assert.Equal("second", item.GetProperty("text").GetString());
    }

    [Fact]
    public async Task A_collection_of_another_model_is_refused_for_text_search()
    {
        await _client.PutAsync("/v1/collections/foreign", null);
        await factory.SetModelAsync("foreign", "some-other-model");
        await using var app = factory.WithWebHostBuilder(_ => { });
        var client = app.CreateClient();
        var response = await client.PostAsJsonAsync("/v1/collections/foreign/search", new { text = "x" });
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("reembed", await response.Content.ReadAsStringAsync());
    }
}

public sealed class CollectionItemPathTests(CollectionFactory factory) : CollectionItemPathContract<CollectionFactory>(factory), IClassFixture<CollectionFactory>;

[Collection(VqaApi.Testing.PostgresServer.Collection)]
public sealed class PostgresCollectionItemPathTests(PostgresCollectionFactory factory) : CollectionItemPathContract<PostgresCollectionFactory>(factory), IClassFixture<PostgresCollectionFactory>;

/// <summary>Ids with '/' (as the index verb writes them) are reached by path, encoded or not; min_score must be a number from -1 to 1.</summary>
public abstract class CollectionItemPathContract<TFactory>(TFactory factory) where TFactory : CollectionFactory
{
    [Fact]
    public async Task Ids_with_slashes_and_bad_min_scores()
    {
        var client = factory.CreateClient();
        await client.PutAsync("/v1/collections/paths", null);
        var add = await client.PostAsJsonAsync("/v1/collections/paths/items", new { items = new[] { new { id = "dir/sub/a.png", text = "a red circle" }, new { id = "50%", text = "half" } } });
        Assert.Equal(HttpStatusCode.OK, add.StatusCode);
        foreach (var path in new[] { "dir/sub/a.png", "dir%2Fsub%2Fa.png", "dir%2fsub/a.png" })
        {
            var got = await client.GetAsync($"/v1/collections/paths/items/{path}");
            Assert.Equal(HttpStatusCode.OK, got.StatusCode);
            Assert.Equal("dir/sub/a.png", JsonDocument.Parse(await got.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString());
        }
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/collections/paths/items/50%25")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync("/v1/collections/paths/items/dir%2Fsub%2Fa.png")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/v1/collections/paths/items/dir/sub/a.png")).StatusCode);

        foreach (var bad in new[] { "\"NaN\"", "\"Infinity\"", "2", "-1.5" })
        {
            var search = await client.PostAsync("/v1/collections/paths/search", new StringContent($"{{\"text\": \"red\", \"min_score\": {bad}}}", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, search.StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/v1/collections/paths/search", new { text = "red", min_score = 0.1 })).StatusCode);
    }
}
