using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using VqaApi.Api.Security;

namespace VqaApi.Api.Tests;

public sealed class QuotaFactory : ApiFactory
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("vqaapi-quota-").FullName;
    public string KeysFile => Path.Combine(Folder, "keys.json");
    protected override Dictionary<string, string?> Settings => new()
    {
        ["Auth:Mode"] = "Required", ["Auth:KeysFile"] = KeysFile, ["Collections:Root"] = Path.Combine(Folder, "collections"),
        ["Quotas:MaxCollectionsPerClient"] = "2", ["Quotas:MaxItemsPerClient"] = "5", ["Quotas:MaxHeadsPerClient"] = "3",
        ["Quotas:MaxHeadBytes"] = "60000", ["Quotas:MaxHeadBytesPerClient"] = "100000",
    };

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try { Directory.Delete(Folder, true); } catch (IOException) { }
    }
}

/// <summary>Per-client quotas on collections, items, heads and head bytes: each client has its own, checked before any work.</summary>
public sealed class QuotaTests(QuotaFactory factory) : IClassFixture<QuotaFactory>
{
    private HttpClient Client(string name)
    {
        var (_, key) = new ApiKeyStore(factory.KeysFile).Create(name, ApiScopes.Admin);
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    private static async Task Exceeded(HttpResponseMessage response, string quota, HttpStatusCode status = HttpStatusCode.Forbidden)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"{(int)response.StatusCode}: {body}");
        Assert.Contains(quota, JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Collections_and_items_count_per_client()
    {
        var alice = Client("alice");
        var bob = Client("bob");
        Assert.Equal(HttpStatusCode.Created, (await alice.PutAsync("/v1/collections/a1", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await alice.PutAsync("/v1/collections/a2", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await alice.PutAsync("/v1/collections/a1", null)).StatusCode); // idempotent: not a new one
        await Exceeded(await alice.PutAsync("/v1/collections/a3", null), "Quotas:MaxCollectionsPerClient");
        Assert.Equal(HttpStatusCode.Created, (await bob.PutAsync("/v1/collections/b1", null)).StatusCode); // bob has his own

        object Items(int from, int count) => new { items = Enumerable.Range(from, count).Select(i => new { id = $"i{i}", text = $"text {i}" }).ToArray() };
        Assert.Equal(HttpStatusCode.OK, (await alice.PostAsJsonAsync("/v1/collections/a1/items", Items(0, 3))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await alice.PostAsJsonAsync("/v1/collections/a2/items", Items(0, 2))).StatusCode);
        await Exceeded(await alice.PostAsJsonAsync("/v1/collections/a2/items", Items(10, 1)), "Quotas:MaxItemsPerClient");
        // Replacing existing ids adds nothing.
        Assert.Equal(HttpStatusCode.OK, (await alice.PostAsJsonAsync("/v1/collections/a1/items", new { items = new[] { new { id = "i0", text = "new text" } }, upsert = true })).StatusCode);
        // Items count against the collection's owner, whoever writes them.
        await Exceeded(await bob.PostAsJsonAsync("/v1/collections/a1/items", Items(20, 1)), "Quotas:MaxItemsPerClient");
        Assert.Equal(HttpStatusCode.OK, (await bob.PostAsJsonAsync("/v1/collections/b1/items", Items(0, 5))).StatusCode);
        var usage = JsonDocument.Parse(await alice.GetStringAsync("/v1/quotas")).RootElement;
        Assert.Equal(2, usage.GetProperty("collections").GetProperty("used").GetInt32());
        Assert.Equal(5, usage.GetProperty("items").GetProperty("used").GetInt64());
        Assert.Equal(5, usage.GetProperty("items").GetProperty("limit").GetInt64());
        // Deleting frees room.
        Assert.Equal(HttpStatusCode.NoContent, (await alice.DeleteAsync("/v1/collections/a2")).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await alice.PutAsync("/v1/collections/a3", null)).StatusCode);
    }

    [Fact]
    public async Task Heads_and_their_bytes_count_per_client()
    {
        var carol = Client("carol");
        var dave = Client("dave");
        object Fit(string name, int hidden = 0, bool overwrite = false) => new
        {
            name, task = "text", hidden, overwrite, validation_fraction = 0,
            examples = new[] { new { label = "a", text = "one" }, new { label = "b", text = "two" }, new { label = "a", text = "uno" }, new { label = "b", text = "dos" } },
        };
        foreach (var name in new[] { "c1", "c2", "c3" })
            Assert.Equal(HttpStatusCode.Created, (await carol.PostAsJsonAsync("/v1/heads", Fit(name))).StatusCode);
        await Exceeded(await carol.PostAsJsonAsync("/v1/heads", Fit("c4")), "Quotas:MaxHeadsPerClient");
        Assert.Equal(HttpStatusCode.Created, (await carol.PostAsJsonAsync("/v1/heads", Fit("c1", overwrite: true))).StatusCode); // a refit is not a new head
        // 32-d embeddings: a hidden layer of 512 is about 66 KB of weights, over the 60,000 bytes one head may take.
        await Exceeded(await dave.PostAsJsonAsync("/v1/heads", Fit("d1", hidden: 512)), "Quotas:MaxHeadBytes", HttpStatusCode.RequestEntityTooLarge);
        // About 56 KB each: two do not fit in the 100,000 bytes a client's heads may take together.
        Assert.Equal(HttpStatusCode.Created, (await dave.PostAsJsonAsync("/v1/heads", Fit("d1", hidden: 300))).StatusCode);
        await Exceeded(await dave.PostAsJsonAsync("/v1/heads", Fit("d2", hidden: 300)), "Quotas:MaxHeadBytesPerClient");
        Assert.Equal(HttpStatusCode.Created, (await dave.PostAsJsonAsync("/v1/heads", Fit("d2", hidden: 32))).StatusCode);
    }
}
