using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using VqaApi.Tasks.Checkpoints;
using VqaApi.Tasks.Serving;

namespace VqaApi.Api.Tests;

/// <summary>The shaped test model (VQA and pair layouts exist), image URLs on loopback allowed, collections in a temp folder; no
/// warm-up, whose canvas would race with the counts.</summary>
public sealed class RefusalFactory : ApiFactory
{
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "vqaapi-refusals-" + Guid.NewGuid().ToString("N"));
    protected override string Profile => "shaped";
    protected override VitArchitecture ModelArchitecture => Architecture with { ImageSize = 96 };
    protected override Dictionary<string, string?> Settings => new()
    {
        ["UrlFetch:AllowPrivateNetworks"] = "true", ["Encoder:WarmUp"] = "false", ["Collections:Root"] = Root, ["Collections:MaxIdLength"] = "16", ["Collections:MaxMetadataBytes"] = "64",
    };

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try { Directory.Delete(Root, true); } catch (IOException) { }
    }
}

/// <summary>
/// Every refusal that needs no model is decided before any image is fetched, decoded or encoded: each request below names an
/// image by URL on a local server that counts its hits (or uploads bytes that are not an image, which would be a 422 if they were
/// decoded first), and is refused for something else. Neither the server nor the encoder sees any work, and a refused
/// collection write leaves no file behind.
/// </summary>
public sealed class CheapRefusalTests(RefusalFactory factory) : IClassFixture<RefusalFactory>, IAsyncLifetime
{
    private readonly HttpClient _client = factory.CreateClient();
    private readonly LocalImageServer _server = new();

    public Task InitializeAsync() => Task.CompletedTask;
    public async Task DisposeAsync() => await _server.DisposeAsync();

    private long Encoded => factory.Services.GetRequiredService<ServedModel>().Encoder.CanvasesEncoded;

    private object Image => new { url = _server.Url("/cat.png") };

    /// <summary>Sends the request, asserts its status and that no image was fetched and no canvas encoded.</summary>
    private async Task RefusedCheaply(Func<Task<HttpResponseMessage>> send, HttpStatusCode expected, string detail)
    {
        long encodedBefore = Encoded;
        int hitsBefore = _server.Hits;
        var response = await send();
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{(int)response.StatusCode}: {body}");
        Assert.Contains(detail, JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString());
        Assert.Equal(hitsBefore, _server.Hits);
        Assert.Equal(encodedBefore, Encoded);
    }

    private Task<HttpResponseMessage> Post(string path, object body) => _client.PostAsJsonAsync(path, body);

    [Fact]
    public async Task The_url_server_and_the_encoder_do_see_an_accepted_request()
    {
        // The check the others rely on: the same kind of request, valid, does reach the server and the encoder.
        long encodedBefore = Encoded;
        int hitsBefore = _server.Hits;
        var response = await Post("/v1/vqa", new { image = Image, question = "what colour?", candidate_answers = new[] { "red", "blue" } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(_server.Hits > hitsBefore);
        Assert.True(Encoded > encodedBefore);
    }

    [Fact]
    public async Task Vqa_refusals_come_before_the_image()
    {
        await RefusedCheaply(() => Post("/v1/vqa", new { image = Image, question = "how many?", top_k = 0, candidate_answers = new[] { "1", "2" } }), HttpStatusCode.BadRequest, "top_k");
        await RefusedCheaply(() => Post("/v1/vqa", new { image = Image }), HttpStatusCode.BadRequest, "'question' is required");
        await RefusedCheaply(() => Post("/v1/vqa", new { image = Image, question = new string('q', 2001) }), HttpStatusCode.RequestEntityTooLarge, "characters");
        await RefusedCheaply(() => Post("/v1/vqa", new { image = Image, question = "q", candidate_answers = new[] { "a", "a" } }), HttpStatusCode.BadRequest, "more than once");
        await RefusedCheaply(() => Post("/v1/vqa", new { image = Image, question = "q", head = "no-such-head" }), HttpStatusCode.NotFound, "no-such-head");
        await RefusedCheaply(() => Post("/v1/vqa", new { image = Image, question = "q" }), HttpStatusCode.BadRequest, "no VQA head");

        // An upload that is not an image: decoded first, this would be a 422.
        await RefusedCheaply(() =>
        {
            var form = new MultipartFormDataContent
            {
                { new ByteArrayContent("not an image"u8.ToArray()), "image", "x.png" },
                { new StringContent("what is it?"), "question" },
                { new StringContent("0"), "top_k" },
                { new StringContent("a"), "candidate_answers" },
            };
            return _client.PostAsync("/v1/vqa", form);
        }, HttpStatusCode.BadRequest, "top_k");
    }

    [Fact]
    public async Task Zero_shot_similarity_embed_and_render_refusals_come_before_the_image()
    {
        await RefusedCheaply(() => Post("/v1/classify/zero-shot", new { image = Image, candidate_labels = Array.Empty<string>() }), HttpStatusCode.BadRequest, "candidate_labels");
        await RefusedCheaply(() => Post("/v1/classify/zero-shot", new { image = Image, candidate_labels = new[] { "cat" }, hypothesis_template = "no slot" }), HttpStatusCode.BadRequest, "{}");
        await RefusedCheaply(() => Post("/v1/classify/zero-shot", new { image = Image, candidate_labels = new[] { "cat", "dog" }, top_k = -1 }), HttpStatusCode.BadRequest, "top_k");
        await RefusedCheaply(() => Post("/v1/similarity", new { a = new { image = Image }, b = new { text = "" } }), HttpStatusCode.BadRequest, "b.text");
        await RefusedCheaply(() => Post("/v1/similarity", new { a = new { image = Image }, b = new { } }), HttpStatusCode.BadRequest, "'b'");
        await RefusedCheaply(() => Post("/v1/embed", new { images = new[] { Image }, texts = new[] { "ok", "" } }), HttpStatusCode.BadRequest, "texts[1]");
        await RefusedCheaply(() => Post("/v1/embed", new { images = Enumerable.Repeat(Image, 5).ToArray() }), HttpStatusCode.BadRequest, "at most 4");
        await RefusedCheaply(() => Post("/v1/render", new { image = Image, question = new string('q', 2001) }), HttpStatusCode.RequestEntityTooLarge, "characters");
        await RefusedCheaply(() => Post("/v1/render", new { image = Image, text = "both" }), HttpStatusCode.BadRequest, "one of");
        await RefusedCheaply(() => Post("/v1/render", new { image = Image, profile = "unifont", question = "q" }), HttpStatusCode.BadRequest, "shaped profile");
    }

    [Fact]
    public async Task Head_fit_refusals_come_before_the_images()
    {
        object Examples(int n) => Enumerable.Range(0, n).Select(i => new { label = i % 2 == 0 ? "a" : "b", image = Image, question = "q" }).ToArray();
        await RefusedCheaply(() => Post("/v1/heads", new { name = "Bad Name!", task = "vqa", examples = Examples(4) }), HttpStatusCode.BadRequest, "Bad Name!");
        await RefusedCheaply(() => Post("/v1/heads", new { name = "h", task = "nope", examples = Examples(4) }), HttpStatusCode.BadRequest, "unknown");
        await RefusedCheaply(() => Post("/v1/heads", new { name = "h", task = "vqa", examples = Examples(4), l2 = -1 }), HttpStatusCode.BadRequest, "l2");
        await RefusedCheaply(() => Post("/v1/heads", new
        {
            name = "h", task = "vqa",
            examples = new object[] { new { label = "a", image = Image, question = "q" }, new { label = "a", image = Image, question = "q" } },
        }), HttpStatusCode.BadRequest, "only one label");
        await RefusedCheaply(() => Post("/v1/heads", new
        {
            name = "h", task = "vqa",
            examples = new object[] { new { label = "a", image = Image, question = "q" }, new { label = "b", image = Image } },
        }), HttpStatusCode.BadRequest, "examples[1]");
    }

    [Fact]
    public async Task Collection_refusals_come_before_the_encoder_and_leave_no_file()
    {
        Assert.Equal(HttpStatusCode.Created, (await _client.PutAsync("/v1/collections/refusals", null)).StatusCode);
        var images = Path.Combine(factory.Root, "refusals", "images");
        object Item(string id, object? metadata = null) => new { id, image = new { data = Convert.ToBase64String(TestImages.Png(24, 24)) }, metadata };
        object UrlItem(string id) => new { id, image = Image };

        await RefusedCheaply(() => Post("/v1/collections/refusals/items", new { items = new[] { UrlItem("a"), UrlItem(new string('x', 17)) } }), HttpStatusCode.BadRequest, "1 to 16 characters");
        await RefusedCheaply(() => Post("/v1/collections/refusals/items", new { items = new[] { Item("a"), Item("b", new { note = new string('m', 100) }) } }), HttpStatusCode.BadRequest, "metadata is larger");
        await RefusedCheaply(() => Post("/v1/collections/refusals/items", new { items = new[] { UrlItem("a"), new { id = "b", image = Image, metadata = (object)42 } } }), HttpStatusCode.BadRequest, "JSON object");
        await RefusedCheaply(() => Post("/v1/collections/refusals/items", new { items = new[] { UrlItem("a"), UrlItem("a") } }), HttpStatusCode.BadRequest, "more than once");
        await RefusedCheaply(() => Post("/v1/collections/refusals/items", new { items = new object[] { UrlItem("a"), new { id = "b", text = "" } } }), HttpStatusCode.BadRequest, "items[1].text");
        Assert.False(Directory.Exists(images) && Directory.EnumerateFileSystemEntries(images).Any(), "a refused write left image files");

        // An id that exists, without upsert: refused (409) before the new item's image is fetched or encoded.
        Assert.Equal(HttpStatusCode.OK, (await Post("/v1/collections/refusals/items", new { items = new[] { new { id = "kept", text = "a red circle" } } })).StatusCode);
        await RefusedCheaply(() => Post("/v1/collections/refusals/items", new { items = new[] { UrlItem("new"), UrlItem("kept") } }), HttpStatusCode.Conflict, "kept");
        Assert.False(Directory.Exists(images) && Directory.EnumerateFileSystemEntries(images).Any(), "a refused write left image files");

        // The same image, accepted, is stored once.
        Assert.Equal(HttpStatusCode.OK, (await Post("/v1/collections/refusals/items", new { items = new[] { Item("img") } })).StatusCode);
        Assert.Single(Directory.EnumerateFiles(images));
    }
}
