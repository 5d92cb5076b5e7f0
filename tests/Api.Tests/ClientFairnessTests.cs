using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using VqaApi.Api.Security;
using Xunit.Abstractions;

namespace VqaApi.Api.Tests;

/// <summary>Keys required, a small shared inference capacity (2 running, 4 waiting), and per-client limits of 1 running + 1 waiting.</summary>
public sealed class FairnessFactory : ApiFactory
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("vqaapi-fair-").FullName;
    public string KeysFile => Path.Combine(Folder, "keys.json");
    protected override Dictionary<string, string?> Settings => new()
    {
        ["Auth:Mode"] = "Required", ["Auth:KeysFile"] = KeysFile,
        ["Inference:MaxConcurrentRequests"] = "2", ["Inference:MaxQueuedRequests"] = "4",
        ["Clients:MaxConcurrentRequests"] = "1", ["Clients:MaxQueuedRequests"] = "1",
    };

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try { Directory.Delete(Folder, true); } catch (IOException) { }
    }
}

/// <summary>
/// One client at concurrency 64 against a polite client sending one request every 100 ms: the polite client must be
/// served (at least 90% of its requests; measured figures printed), the greedy one refused past its own limits.
/// </summary>
public sealed class ClientFairnessTests(FairnessFactory factory, ITestOutputHelper output) : IClassFixture<FairnessFactory>
{
    [Fact]
    public async Task A_busy_client_cannot_crowd_out_a_polite_one()
    {
        var store = new ApiKeyStore(factory.KeysFile);
        var (_, greedyKey) = store.Create("greedy", ApiScopes.Read);
        var (_, politeKey) = store.Create("polite", ApiScopes.Read);
        HttpClient Client(string key)
        {
            var c = factory.CreateClient();
            c.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            return c;
        }
        var greedy = Client(greedyKey);
        var polite = Client(politeKey);
        var body = new { texts = Enumerable.Range(0, 8).Select(i => $"a text to embed, number {i}").ToArray() };

        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(4));
        int greedyOk = 0, greedyRefused = 0;
        var flood = Enumerable.Range(0, 64).Select(async _ =>
        {
            while (!stop.IsCancellationRequested)
            {
                var r = await greedy.PostAsJsonAsync("/v1/embed", body);
                if (r.StatusCode == HttpStatusCode.OK) Interlocked.Increment(ref greedyOk);
                else if (r.StatusCode == HttpStatusCode.TooManyRequests) Interlocked.Increment(ref greedyRefused);
            }
        }).ToList();

        int politeOk = 0, politeSent = 0;
        var statuses = new List<int>();
        await Task.Delay(300);
        while (!stop.IsCancellationRequested)
        {
            var r = await polite.PostAsJsonAsync("/v1/embed", body);
            politeSent++;
            statuses.Add((int)r.StatusCode);
            if (r.StatusCode == HttpStatusCode.OK) politeOk++;
            await Task.Delay(100);
        }
        await Task.WhenAll(flood);
        output.WriteLine($"greedy (64 at once): {greedyOk} served, {greedyRefused} refused (429); polite: {politeOk} of {politeSent} served " +
                         $"({string.Join(",", statuses.GroupBy(s => s).Select(g => $"{g.Key} x{g.Count()}"))})");
        Assert.True(greedyRefused > 0, "the flood was never refused: it did not press on its limits");
        Assert.True(politeSent >= 10);
        Assert.True(politeOk >= 0.9 * politeSent, $"polite client served {politeOk} of {politeSent}");
    }
}
