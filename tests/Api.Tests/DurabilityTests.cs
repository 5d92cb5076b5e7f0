using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using VqaApi.Tasks.Checkpoints;
using VqaApi.Tasks.Conversion;

namespace VqaApi.Api.Tests;

/// <summary>
/// kill -9 of the real service in the middle of a stream of writes: after a restart every acknowledged item is
/// there and searchable, and an unacknowledged one is either wholly there or absent.
/// </summary>
public sealed class DurabilityTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vqaapi-kill-").FullName;
    public void Dispose() { try { Directory.Delete(_dir, true); } catch (IOException) { } }

    /// <summary>The service as its own process on this test's model and collections.</summary>
    private Task<ServiceProcess> StartAsync(int snapshotEvery) => ServiceProcess.StartAsync("127.0.0.1",
        $"--Model:Path={Path.Combine(_dir, "model")}", "--Model:CreatePlaceholderIfMissing=false", $"--Collections:Root={Path.Combine(_dir, "collections")}",
        $"--Collections:SnapshotEveryRecords={snapshotEvery}");

    private static float[] Vector(int i)
    {
        var rng = new Random(i);
        return Enumerable.Range(0, 32).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
    }

    [Theory]
    [InlineData(50_000)] // the default: no snapshot in 1.5 s of writes
    [InlineData(60)] // a new log segment and a background snapshot every 20 requests or so: the kill lands anywhere in them
    public async Task Every_acknowledged_write_survives_kill_minus_9(int snapshotEvery)
    {
        CheckpointConverter.Convert(RandomCheckpoint.Create(ApiFactory.Architecture, 5), "t.npz", Path.Combine(_dir, "model"), new ConvertOptions { Id = "kill-test" });
        var service = await StartAsync(snapshotEvery);
        var (process, client) = (service.Process, service.Http);
        var acknowledged = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        try
        {
            Assert.Equal(HttpStatusCode.Created, (await client.PutAsync("/v1/collections/stream", null)).StatusCode);
            using var stop = new CancellationTokenSource();
            var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
            {
                for (int n = 0; !stop.IsCancellationRequested; n++)
                {
                    var batch = Enumerable.Range(0, 3).Select(k => w * 1_000_000 + n * 3 + k).ToArray();
                    try
                    {
                        var response = await client.PostAsJsonAsync("/v1/collections/stream/items", new
                        {
                            items = batch.Select(i => new { id = $"item-{i}", text = $"text {i}", embedding = Vector(i), metadata = new { i } }),
                        });
                        if (response.StatusCode == HttpStatusCode.OK) foreach (var i in batch) acknowledged[$"item-{i}"] = i;
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException) { return; }
                }
            })).ToArray();
            await Task.Delay(1500);
            process.Kill(entireProcessTree: true); // SIGKILL: no shutdown, no flush
            await process.WaitForExitAsync();
            stop.Cancel();
            await Task.WhenAll(writers);
        }
        finally { await service.DisposeAsync(); }
        Assert.True(acknowledged.Count > 30, $"only {acknowledged.Count} writes were acknowledged before the kill");

        var folder = Path.Combine(_dir, "collections", "stream");
        bool snapshotted = File.Exists(Path.Combine(folder, VqaApi.Retrieval.Collection.SnapshotFile));
        if (snapshotEvery < 1000) Assert.True(snapshotted, $"no snapshot was written before the kill ({acknowledged.Count} items acknowledged)");
        await using var restarted = await StartAsync(snapshotEvery);
        client = restarted.Http;
        {
            var info = await client.GetFromJsonAsync<JsonElement>("/v1/collections/stream");
            int count = info.GetProperty("count").GetInt32();
            Assert.True(count >= acknowledged.Count, $"{count} items after restart, {acknowledged.Count} acknowledged");
            Assert.True(count <= acknowledged.Count + 4 * 3, "more items than acknowledged plus the in-flight batches");
            foreach (var (id, i) in acknowledged.Take(40))
            {
                var hit = await client.PostAsJsonAsync("/v1/collections/stream/search", new { embedding = Vector(i), top_k = 1 });
                var result = (await hit.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("results")[0];
                Assert.Equal(id, result.GetProperty("id").GetString());
                Assert.Equal(i, result.GetProperty("metadata").GetProperty("i").GetInt32());
            }
            // Whatever else is there (in flight at the kill) is whole: its text, metadata and vector agree.
            string? after = null;
            do
            {
                var page = await client.GetFromJsonAsync<JsonElement>($"/v1/collections/stream/items?limit=500{(after is null ? "" : $"&after={after}")}");
                foreach (var item in page.GetProperty("items").EnumerateArray())
                {
                    int i = item.GetProperty("metadata").GetProperty("i").GetInt32();
                    Assert.Equal($"item-{i}", item.GetProperty("id").GetString());
                    Assert.Equal($"text {i}", item.GetProperty("text").GetString());
                }
                after = page.GetProperty("next").ValueKind == JsonValueKind.Null ? null : page.GetProperty("next").GetString();
            } while (after is not null);
        }
    }
}
