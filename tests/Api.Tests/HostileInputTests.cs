using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace VqaApi.Api.Tests;

public sealed class HostileFactory : ApiFactory
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "vqaapi-hostile-" + Guid.NewGuid().ToString("N"));
    protected override string Profile => "shaped";
    protected override Dictionary<string, string?> Settings => new() { ["Collections:Root"] = Root, ["Encoder:WarmUp"] = "false" };

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try { Directory.Delete(Root, true); } catch (IOException) { }
    }
}

/// <summary>
/// Every operation of the OpenAPI document, with hostile path values and bodies (malformed, empty, deep, huge, invalid
/// UTF-8, NaN and infinities, wrong types and content types): never a 5xx, and the service answers its health probe after.
/// </summary>
public sealed class HostileInputTests(HostileFactory factory, ITestOutputHelper output) : IClassFixture<HostileFactory>
{
    private static readonly string[] PathValues =
    [
        "x", "..%2F..%2Fetc%2Fpasswd", "a%2Fb", "%01", // (a NUL in the path is refused by the server itself, before the app)
        new string('n', 300), "%C3%BCn%C3%AF", "CON", "a.b", "-", "%FF%FE",
    ];

    private static IEnumerable<(string Name, HttpContent? Content)> Bodies()
    {
        HttpContent Json(string s) => new StringContent(s, Encoding.UTF8, "application/json");
        yield return ("none", null);
        yield return ("empty", Json(""));
        yield return ("null", Json("null"));
        yield return ("array", Json("[]"));
        yield return ("number", Json("42"));
        yield return ("cut", Json("{\"text\": \"abc"));
        yield return ("deep", Json(new string('[', 5000) + new string(']', 5000)));
        yield return ("deep object", Json(string.Concat(Enumerable.Repeat("{\"a\":", 3000)) + "1" + new string('}', 3000)));
        yield return ("huge string", Json("{\"text\": \"" + new string('x', 2_000_000) + "\", \"question\": \"" + new string('q', 100_000) + "\"}"));
        yield return ("nan", Json("{\"text\": \"x\", \"top_k\": \"NaN\", \"min_score\": \"NaN\", \"l2\": \"NaN\", \"validation_fraction\": \"NaN\", \"embedding\": [\"NaN\", \"Infinity\"]}"));
        yield return ("infinity", Json("{\"top_k\": 1e400, \"min_score\": -1e400, \"hidden\": 99999999999}"));
        yield return ("wrong types", Json("{\"text\": 5, \"texts\": \"x\", \"images\": {}, \"image\": [], \"items\": \"y\", \"examples\": 3, \"candidate_labels\": [1, null, {}], \"filter\": [1]}"));
        yield return ("nulls", Json("{\"texts\": [null], \"images\": [null], \"items\": [null], \"examples\": [null], \"a\": null, \"b\": {\"image\": null}}"));
        yield return ("invalid utf8", new ByteArrayContent([0x7B, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0xFF, 0x22, 0x7D]) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } });
        yield return ("text/plain", new StringContent("hello", Encoding.UTF8, "text/plain"));
        yield return ("bad multipart", new ByteArrayContent("--zz\r\ngarbage"u8.ToArray()) { Headers = { ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=zz") } });
        yield return ("multipart no boundary", new ByteArrayContent("x"u8.ToArray()) { Headers = { ContentType = MediaTypeHeaderValue.Parse("multipart/form-data") } });
        var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0, 0, 0, 0 }), "image", "x.png" },
            { new ByteArrayContent(new byte[] { 0xFF, 0xFE, 0xFD }), "question" },
            { new StringContent("-5"), "top_k" },
            { new ByteArrayContent(new byte[] { 0xC3, 0x28 }), "texts" },
        };
        yield return ("hostile multipart", form);
        yield return ("bomb header", Json("{\"image\": {\"data\": \"" + Convert.ToBase64String(TestImages.PngHeaderOnly(60000, 60000)) + "\"}, \"question\": \"q\", \"text\": \"t\"}"));
        yield return ("private url", Json("{\"image\": {\"url\": \"http://169.254.169.254/latest\"}, \"images\": [{\"url\": \"file:///etc/passwd\"}], \"items\": [{\"id\": \"a\", \"image\": {\"url\": \"http://[::1]/x\"}}]}"));
    }

    [Fact]
    public async Task No_operation_answers_a_hostile_request_with_a_5xx()
    {
        var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.Created, (await client.PutAsync("/v1/collections/x", null)).StatusCode);
        var spec = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json")).RootElement;
        var failures = new List<string>();
        int sent = 0;
        foreach (var path in spec.GetProperty("paths").EnumerateObject())
            foreach (var operation in path.Value.EnumerateObject())
            {
                var method = new HttpMethod(operation.Name.ToUpperInvariant());
                var targets = path.Name.Contains('{')
                    ? PathValues.Select(v => System.Text.RegularExpressions.Regex.Replace(path.Name, "\\{[^}]+\\}", v)).Append(path.Name.Replace("{name}", "x").Replace("{id}", "a%2Fb"))
                    : [path.Name];
                foreach (var target in targets)
                {
                    var bodies = method == HttpMethod.Get || method == HttpMethod.Delete ? [("none", (HttpContent?)null)] : Bodies();
                    foreach (var (name, content) in bodies)
                    {
                        using var request = new HttpRequestMessage(method, target + (method == HttpMethod.Get ? "?limit=-5&after=%00&embedding=maybe" : "")) { Content = content };
                        var response = await client.SendAsync(request);
                        sent++;
                        if ((int)response.StatusCode >= 500)
                            failures.Add($"{method} {target[..Math.Min(target.Length, 80)]} [{name}]: {(int)response.StatusCode} {(await response.Content.ReadAsStringAsync())[..Math.Min(200, (int)(response.Content.Headers.ContentLength ?? 200))]}");
                    }
                }
            }
        output.WriteLine($"{sent} hostile requests, {failures.Count} answered 5xx");
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(30)));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync("/v1/embed", new StringContent("{\"texts\": [\"still here\"]}", Encoding.UTF8, "application/json"))).StatusCode);
    }
}
