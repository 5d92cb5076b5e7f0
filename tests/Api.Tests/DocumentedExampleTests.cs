using Microsoft.Extensions.Configuration;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace VqaApi.Api.Tests;

/// <summary>The bundled model (a copy: the examples fit a head into it), as a new user serves it.</summary>
public sealed class BundledModelFactory : ApiFactory
{
    public string Folder { get; } = Directory.CreateTempSubdirectory("vqaapi-examples-").FullName;
    public string BundledCopy => Path.Combine(Folder, "model");

    public BundledModelFactory() => CopyBundledModel(BundledCopy);

    /// <summary>The bundled default model's folder: appsettings.json's Model:Path, as <c>dotnet run --project Api</c> serves it.</summary>
    public static string BundledModelPath()
    {
        var repo = FindRepo();
        var settings = new ConfigurationBuilder().AddJsonFile(Path.Combine(repo, "appsettings.json")).Build();
        return Path.Combine(repo, settings["Model:Path"] ?? throw new InvalidOperationException("appsettings.json names no Model:Path"));
    }

    /// <summary>Copy the bundled model (<see cref="BundledModelPath"/>) to a folder, so that a test may change it.</summary>
    public static void CopyBundledModel(string folder)
    {
        var source = BundledModelPath();
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(folder, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    protected override Dictionary<string, string?> Settings => new() { ["Model:Path"] = BundledCopy, ["Collections:Root"] = Path.Combine(Folder, "collections") };

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try { Directory.Delete(Folder, true); } catch (IOException) { }
    }

    public static string FindRepo()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "VqaApi.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("the repository root");
    }
}

/// <summary>
/// Every operation of the OpenAPI document, run as its documentation shows it (its JSON example, its path-parameter
/// examples), in an order a user of Swagger UI would follow (create, write, read, delete): every one succeeds. And numbers
/// are numbers in every schema.
/// </summary>
public sealed class DocumentedExampleTests(BundledModelFactory factory, ITestOutputHelper output) : IClassFixture<BundledModelFactory>
{
    private static int Order(string method, string path) => (method, path) switch
    {
        ("put", _) => 0,
        ("post", "/v1/heads") => 1,
        ("post", { } p) when p.EndsWith("/items") => 2,
        ("delete", { } p) when p.EndsWith("/items/{id}") => 8,
        ("delete", _) => 9,
        _ => 5,
    };

    [Fact]
    public async Task Every_documented_example_runs_as_shown()
    {
        var client = factory.CreateClient();
        var spec = JsonDocument.Parse(await client.GetStringAsync("/openapi/v1.json")).RootElement;
        var operations = spec.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject().Select(o => (Path: p.Name, Method: o.Name, Operation: o.Value)))
            .OrderBy(o => Order(o.Method, o.Path)).ToList();
        var failures = new List<string>();
        foreach (var (path, method, operation) in operations)
        {
            var target = path;
            if (operation.TryGetProperty("parameters", out var parameters))
                foreach (var p in parameters.EnumerateArray().Where(p => p.GetProperty("in").GetString() == "path"))
                {
                    Assert.True(p.TryGetProperty("example", out var example), $"{method} {path}: path parameter {p.GetProperty("name")} has no example");
                    target = target.Replace("{" + p.GetProperty("name").GetString() + "}", Uri.EscapeDataString(example.GetString()!));
                }
            using var request = new HttpRequestMessage(new HttpMethod(method.ToUpperInvariant()), target);
            if (operation.TryGetProperty("requestBody", out var body))
            {
                var content = body.GetProperty("content");
                JsonElement example = default;
                Assert.True(content.TryGetProperty("application/json", out var json) && json.TryGetProperty("example", out example), $"{method} {path}: no JSON example");
                request.Content = new StringContent(example.GetRawText(), Encoding.UTF8, "application/json");
            }
            var response = await client.SendAsync(request);
            output.WriteLine($"{method.ToUpperInvariant()} {path}: {(int)response.StatusCode}");
            if (!response.IsSuccessStatusCode)
                failures.Add($"{method.ToUpperInvariant()} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(operations.Count >= 22, $"{operations.Count} operations");
    }

    [Fact]
    public async Task The_schemas_say_what_the_service_does()
    {
        var text = await factory.CreateClient().GetStringAsync("/openapi/v1.json");
        var mixed = Regex.Matches(text, "\"type\":\\s*\\[[^\\]]*\"(integer|number)\"[^\\]]*\"string\"[^\\]]*\\]|\"type\":\\s*\\[[^\\]]*\"string\"[^\\]]*\"(integer|number)\"[^\\]]*\\]");
        Assert.True(mixed.Count == 0, $"{mixed.Count} schemas mix numbers and strings, e.g. {mixed.FirstOrDefault()?.Value}");
        var spec = JsonDocument.Parse(text).RootElement;
        Assert.All(spec.GetProperty("tags").EnumerateArray(), t => Assert.False(string.IsNullOrEmpty(t.GetProperty("description").GetString())));
        // The licence the document states is the repository's own (LICENSE at its root).
        var license = spec.GetProperty("info").GetProperty("license");
        Assert.Equal("Apache-2.0", license.GetProperty("name").GetString());
        Assert.Equal("https://www.apache.org/licenses/LICENSE-2.0", license.GetProperty("url").GetString());
        var licenseText = File.ReadAllText(Path.Combine(BundledModelFactory.FindRepo(), "LICENSE"));
        Assert.Contains("Apache License", licenseText);
        Assert.Contains("Version 2.0, January 2004", licenseText);
        Assert.DoesNotContain("\"uint8\"", text);
        var problem = spec.GetProperty("components").GetProperty("schemas").GetProperty("ProblemDetails").GetProperty("properties");
        Assert.True(problem.TryGetProperty("code", out _) && problem.TryGetProperty("traceId", out _));
        var render = spec.GetProperty("paths").GetProperty("/v1/render").GetProperty("post").GetProperty("responses").GetProperty("200");
        Assert.True(render.GetProperty("content").TryGetProperty("image/png", out _));
        Assert.True(render.GetProperty("headers").TryGetProperty("X-Render-Report", out _));
        var vqaForm = spec.GetProperty("paths").GetProperty("/v1/vqa").GetProperty("post").GetProperty("requestBody").GetProperty("content").GetProperty("multipart/form-data").GetProperty("schema");
        Assert.Equal(["image", "question"], vqaForm.GetProperty("required").EnumerateArray().Select(r => r.GetString()!).Order());
        Assert.True(vqaForm.GetProperty("properties").TryGetProperty("top_k", out _)); // the JSON spelling, in forms too
        var embed = spec.GetProperty("paths").GetProperty("/v1/embed").GetProperty("post").GetProperty("requestBody").GetProperty("content")
            .GetProperty("application/json").GetProperty("schema").GetProperty("properties");
        Assert.True(embed.TryGetProperty("include_pre_logits", out _));
        Assert.False(embed.TryGetProperty("includePreLogits", out _)); // still accepted, not documented
        foreach (var (path, method) in new[] { ("/v1/vqa", "post"), ("/v1/embed", "post"), ("/v1/classify/zero-shot", "post"), ("/v1/collections/{name}/search", "post") })
            Assert.True(spec.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("responses").GetProperty("200").GetProperty("content")
                .GetProperty("application/json").TryGetProperty("example", out _), $"{path}: no response example");
    }
}
