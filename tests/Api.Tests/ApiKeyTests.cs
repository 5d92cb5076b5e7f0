using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using VqaApi.Api.Security;
using VqaApi.Tasks.Heads;
using VqaApi.Tasks.Serving;

namespace VqaApi.Api.Tests;

/// <summary>The test model with API keys required, its keys file and collections in temp folders.</summary>
public sealed class KeysRequiredFactory : ApiFactory
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("vqaapi-keys-").FullName;
    public string KeysFile => Path.Combine(Folder, "keys.json");
    protected override Dictionary<string, string?> Settings => new()
    {
        ["Auth:Mode"] = "Required", ["Auth:KeysFile"] = KeysFile, ["Collections:Root"] = Path.Combine(Folder, "collections"),
    };

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try { Directory.Delete(Folder, true); } catch (IOException) { }
    }
}

public sealed class ApiKeyTests(KeysRequiredFactory factory) : IClassFixture<KeysRequiredFactory>
{
    private readonly ApiKeyStore _store = new(factory.KeysFile);

    private HttpClient Client(string? key = null, bool header = false)
    {
        var client = factory.CreateClient();
        if (key is not null)
        {
            if (header) client.DefaultRequestHeaders.Add("X-API-Key", key);
            else client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        return client;
    }

    private static async Task<JsonElement> Problem(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonDocument.Parse(body).RootElement;
    }

    [Fact]
    public async Task Without_a_key_every_v1_call_is_401_but_health_and_the_spec_answer()
    {
        var anonymous = Client();
        var response = await anonymous.GetAsync("/v1/models");
        var problem = await Problem(response, HttpStatusCode.Unauthorized);
        Assert.Equal("unauthorized", problem.GetProperty("code").GetString());
        Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString());
        await Problem(await anonymous.PostAsJsonAsync("/v1/embed", new { texts = new[] { "x" } }), HttpStatusCode.Unauthorized);
        await Problem(await anonymous.DeleteAsync("/v1/collections/anything"), HttpStatusCode.Unauthorized);
        await Problem(await Client("vqa_0123456789ab_not-a-key").GetAsync("/v1/models"), HttpStatusCode.Unauthorized);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/openapi/v1.json")).StatusCode);
    }

    [Fact]
    public async Task Scopes_nest_read_write_admin()
    {
        var (_, readKey) = _store.Create("reader", ApiScopes.Read);
        var (_, writeKey) = _store.Create("writer", ApiScopes.Write);
        var (_, adminKey) = _store.Create("admin", ApiScopes.Admin);
        var read = Client(readKey);
        var write = Client(writeKey, header: true);
        var admin = Client(adminKey);

        Assert.Equal(HttpStatusCode.OK, (await read.GetAsync("/v1/models")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await read.PostAsJsonAsync("/v1/embed", new { texts = new[] { "hello" } })).StatusCode);
        var forbidden = await Problem(await read.PutAsync("/v1/collections/scoped", null), HttpStatusCode.Forbidden);
        Assert.Contains("'admin'", forbidden.GetProperty("detail").GetString());
        await Problem(await write.PutAsync("/v1/collections/scoped", null), HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.Created, (await admin.PutAsync("/v1/collections/scoped", null)).StatusCode);

        var items = new { items = new[] { new { id = "a", text = "a red circle" } } };
        var refused = await Problem(await read.PostAsJsonAsync("/v1/collections/scoped/items", items), HttpStatusCode.Forbidden);
        Assert.Contains("'write'", refused.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.OK, (await write.PostAsJsonAsync("/v1/collections/scoped/items", items)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await read.PostAsJsonAsync("/v1/collections/scoped/search", new { text = "red" })).StatusCode);
        await Problem(await write.DeleteAsync("/v1/collections/scoped"), HttpStatusCode.Forbidden);
        await Problem(await read.GetAsync("/metrics"), HttpStatusCode.Forbidden); // metrics: admin only
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/v1/collections/scoped")).StatusCode);
    }

    [Fact]
    public async Task A_revoked_key_is_refused_at_its_next_call_and_the_file_holds_no_key()
    {
        var (record, key) = _store.Create("short-lived", ApiScopes.Admin);
        var client = Client(key);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/heads")).StatusCode);
        Assert.True(new ApiKeyStore(factory.KeysFile).Revoke(record.Id)); // as `vqa keys revoke` does, from another process
        var problem = await Problem(await client.GetAsync("/v1/heads"), HttpStatusCode.Unauthorized);
        Assert.Contains("revoked", problem.GetProperty("detail").GetString());

        var text = File.ReadAllText(factory.KeysFile);
        Assert.DoesNotContain(key, text);
        Assert.DoesNotContain(key.Split('_')[2], text);
        Assert.Contains(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(key))), text);
    }

    [Fact]
    public async Task Heads_that_ship_with_the_model_are_read_only()
    {
        var model = factory.Services.GetRequiredService<ServedModel>();
        var store = new HeadStore(model);
        var weights = new HeadWeights(model.Manifest.Architecture.EmbeddingDim, 0, 2, [], [], new float[model.Manifest.Architecture.EmbeddingDim * 2], new float[2]);
        store.Save(new Head
        {
            Name = "shipped", Task = HeadTasks.Image, Labels = [new HeadLabel("a"), new HeadLabel("b")], Model = store.Model, RenderProfile = model.Canvases.ProfileName,
            Weights = HeadWeightsFile.From(weights), Metrics = new HeadMetrics(1, null, 2, 0, 1, 0, 0, false, 0, 0), ReadOnly = true,
        });
        var (_, adminKey) = _store.Create("admin", ApiScopes.Admin);
        var admin = Client(adminKey);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/v1/heads/shipped")).StatusCode);
        var problem = await Problem(await admin.DeleteAsync("/v1/heads/shipped"), HttpStatusCode.Forbidden);
        Assert.Equal("head_read_only", problem.GetProperty("code").GetString());
        var examples = Enumerable.Range(0, 4).Select(i => new { label = i % 2 == 0 ? "a" : "b", image = new { data = Convert.ToBase64String(TestImages.Png(20 + i, 20)) } }).ToArray();
        await Problem(await admin.PostAsJsonAsync("/v1/heads", new { name = "shipped", task = "image", examples, overwrite = true }), HttpStatusCode.Forbidden);
        Assert.True(store.Exists("shipped"));
        Assert.Equal(HttpStatusCode.Created, (await admin.PostAsJsonAsync("/v1/heads", new { name = "mine", task = "image", examples })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync("/v1/heads/mine")).StatusCode);
    }

    [Fact]
    public async Task The_spec_declares_the_scheme_and_each_operations_scope()
    {
        var spec = JsonDocument.Parse(await Client().GetStringAsync("/openapi/v1.json")).RootElement;
        var scheme = spec.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey");
        Assert.Equal("http", scheme.GetProperty("type").GetString());
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString());
        var delete = spec.GetProperty("paths").GetProperty("/v1/collections/{name}").GetProperty("delete");
        Assert.True(delete.GetProperty("security")[0].TryGetProperty("ApiKey", out _));
        Assert.Contains("**admin**", delete.GetProperty("description").GetString());
        Assert.True(delete.GetProperty("responses").TryGetProperty("403", out _));
        Assert.Contains("**read**", spec.GetProperty("paths").GetProperty("/v1/vqa").GetProperty("post").GetProperty("description").GetString());
        // Health probes say explicitly that they need no key: one empty requirement.
        var health = spec.GetProperty("paths").GetProperty("/healthz").GetProperty("get").GetProperty("security");
        Assert.Equal(1, health.GetArrayLength());
        Assert.Empty(health[0].EnumerateObject());
    }
}

/// <summary>Auth:Mode Auto on a real server: keys are required when it listens beyond loopback, not when it listens on loopback only.</summary>
public sealed class ApiKeyModeTests
{
    [Theory]
    [InlineData(true, "http://localhost:5000")]
    [InlineData(true, "http://127.0.0.1:5000", "http://[::1]:5000")]
    [InlineData(true, "https://127.3.4.5:443")]
    [InlineData(false, "http://0.0.0.0:8080")]
    [InlineData(false, "http://[::]:80")]
    [InlineData(false, "http://*:80")]
    [InlineData(false, "http://+:80")]
    [InlineData(false, "http://localhost:5000", "http://10.1.2.3:5000")]
    [InlineData(false, "http://myhost.example:5000")]
    public void Loopback_addresses_are_told_apart(bool loopback, params string[] addresses) =>
        Assert.Equal(loopback, ApiKeyGate.AllLoopback(addresses));

    [Theory]
    [InlineData("http://127.0.0.1:0", HttpStatusCode.OK)]
    [InlineData("http://0.0.0.0:0", HttpStatusCode.Unauthorized)]
    public async Task Auto_requires_keys_beyond_loopback(string urls, HttpStatusCode expected)
    {
        using var model = new ApiFactory(); // converts the test model; the factory itself is not started
        var keys = Path.Combine(model.ModelPath, "keys.json");
        var app = VqaApp.Build(["--urls", urls], new Dictionary<string, string?>
        {
            ["Model:Path"] = model.ModelPath, ["Model:CreatePlaceholderIfMissing"] = "false", ["Encoder:UseCuda"] = "false", ["Encoder:WarmUp"] = "false",
            ["Auth:KeysFile"] = keys, ["Collections:Root"] = Path.Combine(model.ModelPath, "collections"), ["Logging:LogLevel:Default"] = "Warning",
        });
        await app.StartAsync();
        try
        {
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
            int port = new Uri(address.Replace("0.0.0.0", "127.0.0.1")).Port;
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            var models = await http.GetAsync("/v1/models");
            Assert.Equal(expected, models.StatusCode);
            Assert.False(models.Headers.Contains("Server"), "Kestrel's Server header is off");
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
        }
        finally { await app.StopAsync(); await app.DisposeAsync(); }
    }
}
