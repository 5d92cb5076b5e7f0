using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using VqaApi.Tasks.Checkpoints;
using VqaApi.Tasks.Conversion;
using VqaApi.Testing;

namespace VqaApi.Api.Tests;

/// <summary>
/// Several API processes (replicas) on one PostgreSQL database, as users run them behind a load balancer: what one writes the
/// others read at once (collections, items, heads, deletions); a replica killed with SIGKILL during writes loses no acknowledged
/// item; the database stopped and started under a running replica gives 503s with a clear problem, then recovery without a
/// restart; 8 writers and 8 searchers for a minute lose nothing and see no server error.
/// </summary>
[Collection(PostgresServer.Collection)]
public sealed class ReplicaTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private readonly string _schema = PostgresServer.NewSchema();
    private PostgresServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await PostgresServer.Shared;
        CheckpointConverter.Convert(RandomCheckpoint.Create(ApiFactory.Architecture, 5), "t.npz", _dir.File("model"), new ConvertOptions { Id = "replica-test" });
    }

    public Task DisposeAsync()
    {
        _dir.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>A replica: its own process, port and embedded folder (unused), the shared database and schema.</summary>
    private Task<ServiceProcess> Replica(params string[] extra) => ServiceProcess.StartAsync("127.0.0.1",
    [
        $"--Model:Path={_dir.File("model")}", "--Model:CreatePlaceholderIfMissing=false", $"--Collections:Root={_dir.File("unused-" + Guid.NewGuid().ToString("N"))}",
        .. _server.Settings(_schema).Select(p => $"--{p.Key}={p.Value}"), .. extra,
    ]);

    private static float[] Vector(int i)
    {
        var rng = new Random(i);
        return Enumerable.Range(0, 32).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
    }

    private static async Task<JsonElement> Ok(HttpResponseMessage response, HttpStatusCode expected = HttpStatusCode.OK)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {body}");
        return body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
    }

    [Fact]
    public async Task Two_replicas_see_each_others_collections_items_heads_and_deletions_at_once()
    {
        await using var a = await Replica();
        await using var b = await Replica();
        await Ok(await a.Http.PutAsync("/v1/collections/shared", null), HttpStatusCode.Created);
        await Ok(await b.Http.PutAsync("/v1/collections/shared", null)); // exists already: 200, not a second collection
        await Ok(await a.Http.PostAsJsonAsync("/v1/collections/shared/items", new
        {
            items = new object[]
            {
                new { id = "t1", text = "a red circle", metadata = new { lang = "en" } },
                new { id = "v1", embedding = Vector(1), metadata = new { lang = "xx" } },
            },
        }));
        var seen = await Ok(await b.Http.GetAsync("/v1/collections/shared"));
        Assert.Equal(2, seen.GetProperty("count").GetInt32());
        var found = await Ok(await b.Http.PostAsJsonAsync("/v1/collections/shared/search", new { text = "a red circle", top_k = 1 }));
        Assert.Equal("t1", found.GetProperty("results")[0].GetProperty("id").GetString());
        Assert.Equal(1.0, found.GetProperty("results")[0].GetProperty("score").GetDouble(), 4);
        await Ok(await b.Http.PostAsJsonAsync("/v1/collections/shared/items", new { items = new[] { new { id = "img", image = new { data = ColourImages.Base64("red", 3) } } } }));
        Assert.Equal(Convert.FromBase64String(ColourImages.Base64("red", 3)), await (await a.Http.GetAsync("/v1/collections/shared/images/img")).Content.ReadAsByteArrayAsync());
        var byFilter = await Ok(await a.Http.PostAsJsonAsync("/v1/collections/shared/search", new { id = "v1", filter = new { lang = "xx" } }));
        Assert.Equal(["v1"], byFilter.GetProperty("results").EnumerateArray().Select(r => r.GetProperty("id").GetString()));

        // A head fitted through one replica is served by the other; deleted through the other, it is gone from the first.
        var examples = Enumerable.Range(0, 8).Select(i => new { label = i % 2 == 0 ? "red" : "blue", image = new { data = ColourImages.Base64(i % 2 == 0 ? "red" : "blue", 40 + i) } });
        await Ok(await a.Http.PostAsJsonAsync("/v1/heads", new { name = "colour", task = "image", examples, validation_fraction = 0 }), HttpStatusCode.Created);
        var head = await Ok(await b.Http.GetAsync("/v1/heads/colour"));
        Assert.True(head.GetProperty("fittedOnServedModel").GetBoolean());
        Assert.Contains((await Ok(await b.Http.GetAsync("/v1/heads"))).EnumerateArray(), h => h.GetProperty("name").GetString() == "colour");
        var quota = await Ok(await b.Http.GetAsync("/v1/quotas"));
        Assert.Equal(1, quota.GetProperty("heads").GetProperty("used").GetInt32());
        Assert.Equal(3, quota.GetProperty("items").GetProperty("used").GetInt32());
        await Ok(await b.Http.DeleteAsync("/v1/heads/colour"), HttpStatusCode.NoContent);
        await Ok(await a.Http.GetAsync("/v1/heads/colour"), HttpStatusCode.NotFound);

        await Ok(await a.Http.DeleteAsync("/v1/collections/shared"), HttpStatusCode.NoContent);
        await Ok(await b.Http.GetAsync("/v1/collections/shared"), HttpStatusCode.NotFound);
        await Ok(await b.Http.PostAsJsonAsync("/v1/collections/shared/search", new { text = "a red circle" }), HttpStatusCode.NotFound);
        Assert.Empty((await Ok(await b.Http.GetAsync("/v1/collections"))).EnumerateArray());
    }

    [Fact]
    public async Task A_replica_killed_during_writes_loses_no_acknowledged_item()
    {
        var acknowledged = new ConcurrentDictionary<string, int>();
        var a = await Replica();
        try
        {
            await Ok(await a.Http.PutAsync("/v1/collections/stream", null), HttpStatusCode.Created);
            using var stop = new CancellationTokenSource();
            var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
            {
                for (int n = 0; !stop.IsCancellationRequested; n++)
                {
                    var batch = Enumerable.Range(0, 3).Select(k => w * 1_000_000 + n * 3 + k).ToArray();
                    try
                    {
                        var response = await a.Http.PostAsJsonAsync("/v1/collections/stream/items", new
                        {
                            items = batch.Select(i => new { id = $"item-{i}", text = $"text {i}", embedding = Vector(i), metadata = new { i } }),
                        });
                        if (response.StatusCode == HttpStatusCode.OK) foreach (var i in batch) acknowledged[$"item-{i}"] = i;
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException) { return; }
                }
            })).ToArray();
            await Task.Delay(2000);
            a.Process.Kill(entireProcessTree: true); // SIGKILL: its connection to the database drops mid-work
            await a.Process.WaitForExitAsync();
            stop.Cancel();
            await Task.WhenAll(writers);
        }
        finally { await a.DisposeAsync(); }
        Assert.True(acknowledged.Count > 15, $"only {acknowledged.Count} writes were acknowledged before the kill");

        await using var b = await Replica();
        var info = await Ok(await b.Http.GetAsync("/v1/collections/stream"));
        int count = info.GetProperty("count").GetInt32();
        Assert.True(count >= acknowledged.Count, $"{count} items on the other replica, {acknowledged.Count} acknowledged");
        Assert.True(count <= acknowledged.Count + 4 * 3, "more items than acknowledged plus the in-flight batches");
        foreach (var (id, i) in acknowledged.OrderBy(p => p.Value).Where((_, n) => n % Math.Max(1, acknowledged.Count / 30) == 0))
        {
            var result = (await Ok(await b.Http.PostAsJsonAsync("/v1/collections/stream/search", new { embedding = Vector(i), top_k = 1 }))).GetProperty("results")[0];
            Assert.Equal(id, result.GetProperty("id").GetString());
            Assert.Equal(i, result.GetProperty("metadata").GetProperty("i").GetInt32());
        }
        var ids = new HashSet<string>();
        for (string? after = null; ;)
        {
            var page = await Ok(await b.Http.GetAsync($"/v1/collections/stream/items?limit=1000{(after is null ? "" : $"&after={after}")}"));
            foreach (var item in page.GetProperty("items").EnumerateArray()) ids.Add(item.GetProperty("id").GetString()!);
            if (page.GetProperty("next").ValueKind == JsonValueKind.Null) break;
            after = page.GetProperty("next").GetString();
        }
        var lost = acknowledged.Keys.Where(id => !ids.Contains(id)).ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} acknowledged items are missing, e.g. {string.Join(", ", lost.Take(5))}");
    }

    [Fact]
    public async Task The_database_stopped_and_started_gives_503_then_recovers_without_a_restart()
    {
        if (!_server.IsPglite) return; // an external server (VQA_TEST_POSTGRES) is not stopped by the tests
        await using var a = await Replica();
        await Ok(await a.Http.PutAsync("/v1/collections/outage", null), HttpStatusCode.Created);
        await Ok(await a.Http.PostAsJsonAsync("/v1/collections/outage/items", new { items = new[] { new { id = "before", embedding = Vector(7) } } }));
        _server.Stop();
        try
        {
            foreach (var call in new Func<Task<HttpResponseMessage>>[]
                     {
                         () => a.Http.PostAsJsonAsync("/v1/collections/outage/search", new { embedding = Vector(7) }),
                         () => a.Http.PostAsJsonAsync("/v1/collections/outage/items", new { items = new[] { new { id = "during", embedding = Vector(8) } } }),
                         () => a.Http.GetAsync("/v1/collections"),
                         () => a.Http.GetAsync("/v1/heads"),
                     })
            {
                var response = await call();
                var problem = await Ok(response, HttpStatusCode.ServiceUnavailable);
                Assert.Contains("cannot be reached", problem.GetProperty("detail").GetString());
                Assert.Equal("2", response.Headers.RetryAfter?.ToString());
            }
            var ready = await Ok(await a.Http.GetAsync("/readyz"), HttpStatusCode.ServiceUnavailable);
            Assert.Contains("database", ready.GetProperty("detail").GetString());
            Assert.Equal(HttpStatusCode.OK, (await a.Http.GetAsync("/healthz")).StatusCode); // alive, not ready
        }
        finally { await _server.StartAgainAsync(); }

        HttpResponseMessage? after = null;
        for (var deadline = DateTime.UtcNow.AddSeconds(30); DateTime.UtcNow < deadline; await Task.Delay(250))
            if ((after = await a.Http.PostAsJsonAsync("/v1/collections/outage/search", new { embedding = Vector(7), top_k = 1 })).IsSuccessStatusCode) break;
        var hit = await Ok(after!);
        Assert.Equal("before", hit.GetProperty("results")[0].GetProperty("id").GetString());
        await Ok(await a.Http.PostAsJsonAsync("/v1/collections/outage/items", new { items = new[] { new { id = "after", embedding = Vector(9) } } }));
        Assert.Equal(2, (await Ok(await a.Http.GetAsync("/v1/collections/outage"))).GetProperty("count").GetInt32());
        await Ok(await a.Http.GetAsync("/readyz"));
    }

    [Fact]
    public async Task Eight_writers_and_eight_searchers_for_a_minute_lose_nothing()
    {
        await using var a = await Replica();
        await Ok(await a.Http.PutAsync("/v1/collections/busy", null), HttpStatusCode.Created);
        await Ok(await a.Http.PostAsJsonAsync("/v1/collections/busy/items", new { items = new[] { new { id = "seed", embedding = Vector(0), metadata = new { w = -1 } } } }));
        var acknowledged = new ConcurrentDictionary<string, int>();
        var failures = new ConcurrentBag<string>();
        int searches = 0;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (int n = 0; !stop.IsCancellationRequested; n++)
            {
                int i = (w + 1) * 1_000_000 + n;
                var response = await a.Http.PostAsJsonAsync("/v1/collections/busy/items", new { items = new[] { new { id = $"w{i}", embedding = Vector(i), metadata = new { w } } } });
                if (response.StatusCode == HttpStatusCode.OK) acknowledged[$"w{i}"] = i;
                else failures.Add($"write {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }
        }));
        var searchers = Enumerable.Range(0, 8).Select(s => Task.Run(async () =>
        {
            for (int n = 0; !stop.IsCancellationRequested; n++)
            {
                var response = await a.Http.PostAsJsonAsync("/v1/collections/busy/search", new { embedding = Vector(n), top_k = 5, filter = new { w = new Dictionary<string, int> { ["$gte"] = s % 4 - 1 } } });
                if (response.StatusCode == HttpStatusCode.OK) Interlocked.Increment(ref searches);
                else failures.Add($"search {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }
        }));
        await Task.WhenAll(writers.Concat(searchers));
        Assert.Empty(failures);
        Assert.True(acknowledged.Count > 50 && searches > 50, $"{acknowledged.Count} writes and {searches} searches in a minute");
        var count = (await Ok(await a.Http.GetAsync("/v1/collections/busy"))).GetProperty("count").GetInt32();
        Assert.Equal(acknowledged.Count + 1, count);
        var existing = await Ok(await a.Http.PostAsJsonAsync("/v1/collections/busy/items", new { items = acknowledged.Keys.Take(50).Select(id => new { id, embedding = Vector(0) }) }), HttpStatusCode.Conflict);
        Assert.Contains("already exists", existing.GetProperty("detail").GetString());
    }
}
