using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace VqaApi.Api.Tests;

/// <summary>Every hostile input is a 4xx ProblemDetails that says what to fix, and the service keeps serving.</summary>
public sealed class BadInputTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private async Task<JsonElement> Problem(HttpResponseMessage response, HttpStatusCode status, string detailFragment)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.Contains(detailFragment, problem.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        // The service is still up and still embeds.
        var ok = await _client.PostAsJsonAsync("/v1/embed", new { texts = new[] { "still alive" } });
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        return problem;
    }

    private Task<HttpResponseMessage> PostImage(byte[] bytes) =>
        _client.PostAsJsonAsync("/v1/embed", new { images = new[] { new { data = Convert.ToBase64String(bytes) } } });

    private Task<HttpResponseMessage> UploadImage(byte[] bytes, string contentType = "image/png")
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        form.Add(file, "images", "upload.bin");
        return _client.PostAsync("/v1/embed", form);
    }

    [Fact]
    public async Task Bytes_that_are_no_image_are_415() =>
        await Problem(await PostImage("this is not an image at all"u8.ToArray()), HttpStatusCode.UnsupportedMediaType, "images[0]");

    [Fact]
    public async Task Truncated_image_is_refused()
    {
        var png = TestImages.Png(60, 60);
        var response = await UploadImage(png[..(png.Length / 2)]);
        Assert.True(response.StatusCode is HttpStatusCode.UnprocessableEntity, $"got {(int)response.StatusCode}");
        await Problem(response, HttpStatusCode.UnprocessableEntity, "images[0]");
    }

    [Fact]
    public async Task Zero_size_upload_is_400() => await Problem(await UploadImage([]), HttpStatusCode.BadRequest, "empty");

    [Fact]
    public async Task Decompression_bomb_is_refused_from_its_header() =>
        await Problem(await PostImage(TestImages.PngHeaderOnly(60000, 60000)), HttpStatusCode.RequestEntityTooLarge, "pixels");

    [Fact]
    public async Task Invalid_base64_is_400() =>
        await Problem(await _client.PostAsJsonAsync("/v1/embed", new { images = new[] { new { data = "@@not base64@@" } } }), HttpStatusCode.BadRequest, "base64");

    [Fact]
    public async Task Wrong_content_type_is_415() =>
        await Problem(await _client.PostAsync("/v1/embed", new StringContent("hello", Encoding.UTF8, "text/plain")), HttpStatusCode.UnsupportedMediaType, "application/json");

    [Fact]
    public async Task Empty_text_is_400() =>
        await Problem(await _client.PostAsJsonAsync("/v1/embed", new { texts = new[] { "" } }), HttpStatusCode.BadRequest, "texts[0] is empty");

    [Fact]
    public async Task Megabyte_text_is_413() =>
        await Problem(await _client.PostAsJsonAsync("/v1/embed", new { texts = new[] { new string('x', 1_000_000) } }), HttpStatusCode.RequestEntityTooLarge, "MaxCharactersPerText");

    [Fact]
    public async Task Too_many_texts_is_400() =>
        await Problem(await _client.PostAsJsonAsync("/v1/embed", new { texts = Enumerable.Repeat("a", 9).ToArray() }), HttpStatusCode.BadRequest, "at most 8");

    [Fact]
    public async Task Invalid_utf8_json_is_400()
    {
        var body = new ByteArrayContent([.. "{\"texts\": [\""u8, 0xC3, 0x28, 0xFF, .. "\"]}"u8]);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        await Problem(await _client.PostAsync("/v1/embed", body), HttpStatusCode.BadRequest, "invalid UTF-8");
    }

    [Fact]
    public async Task Invalid_utf8_form_text_is_400()
    {
        var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent([0x61, 0xFF, 0xFE, 0x62]), "texts");
        await Problem(await _client.PostAsync("/v1/embed", form), HttpStatusCode.BadRequest, "not valid UTF-8");
    }

    [Fact]
    public async Task Malformed_json_is_400() =>
        await Problem(await _client.PostAsync("/v1/embed", new StringContent("{\"texts\": [1, 2", Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, "not valid JSON");

    [Fact]
    public async Task Empty_request_is_400() =>
        await Problem(await _client.PostAsJsonAsync("/v1/embed", new { texts = Array.Empty<string>() }), HttpStatusCode.BadRequest, "nothing to embed");

    [Fact]
    public async Task Body_over_the_limit_is_413()
    {
        var huge = new ByteArrayContent(new byte[3_100_000]);
        huge.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        await Problem(await _client.PostAsync("/v1/embed", huge), HttpStatusCode.RequestEntityTooLarge, "MaxRequestBodyBytes");
    }

    [Fact]
    public async Task Image_over_the_byte_limit_is_413()
    {
        var response = await UploadImage(new byte[1_500_000]);
        await Problem(response, HttpStatusCode.RequestEntityTooLarge, "bytes");
    }

    [Fact]
    public async Task Private_network_url_is_refused_by_default()
    {
        await using var server = new LocalImageServer();
        var response = await _client.PostAsJsonAsync("/v1/embed", new { images = new[] { new { url = server.Url("/cat.png") } } });
        await Problem(response, HttpStatusCode.Forbidden, "127.0.0.1");
        var metadata = await _client.PostAsJsonAsync("/v1/embed", new { images = new[] { new { url = "http://169.254.169.254/latest/meta-data" } } });
        await Problem(metadata, HttpStatusCode.Forbidden, "169.254.169.254");
        var scheme = await _client.PostAsJsonAsync("/v1/embed", new { images = new[] { new { url = "file:///etc/passwd" } } });
        await Problem(scheme, HttpStatusCode.BadRequest, "only http and https");
    }

    [Fact]
    public async Task Render_without_input_is_400() =>
        await Problem(await _client.PostAsJsonAsync("/v1/render", new { }), HttpStatusCode.BadRequest, "send a 'text'");
}

/// <summary>The same app with private addresses allowed, as a test against a local server needs.</summary>
public sealed class UrlFetchFactory : ApiFactory
{
    protected override Dictionary<string, string?> Settings => new()
    {
        ["UrlFetch:AllowPrivateNetworks"] = "true", ["UrlFetch:TimeoutSeconds"] = "1", ["UrlFetch:Retries"] = "1", ["UrlFetch:RetryDelayMilliseconds"] = "20",
    };
}

public sealed class UrlFetchTests(UrlFetchFactory factory) : IClassFixture<UrlFetchFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private Task<HttpResponseMessage> Embed(string url) =>
        _client.PostAsJsonAsync("/v1/embed", new { images = new[] { new { url } } });

    [Fact]
    public async Task Url_images_redirects_and_limits()
    {
        await using var server = new LocalImageServer();
        Assert.Equal(HttpStatusCode.OK, (await Embed(server.Url("/cat.png"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await Embed(server.Url("/redirect"))).StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await Embed(server.Url("/page.html"))).StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await Embed(server.Url("/big.png"))).StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await Embed(server.Url("/missing.png"))).StatusCode);
        Assert.Equal(HttpStatusCode.GatewayTimeout, (await Embed(server.Url("/slow.png"))).StatusCode);
    }

    [Fact]
    public async Task Transient_failures_are_retried()
    {
        await using var server = new LocalImageServer();
        Assert.Equal(HttpStatusCode.OK, (await Embed(server.Url("/flaky.png"))).StatusCode); // 503 once, then the image
        Assert.Equal(2, server.FlakyHits);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await Embed(server.Url("/broken.png"))).StatusCode);
        Assert.Equal(2, server.BrokenHits); // one try and one retry (UrlFetch:Retries = 1)
    }
}

/// <summary>A queue of one canvas: a request for two is refused with 429 and Retry-After.</summary>
public sealed class TinyQueueFactory : ApiFactory
{
    protected override Dictionary<string, string?> Settings => new() { ["Encoder:MaxQueuedCanvases"] = "1", ["Encoder:RetryAfterSeconds"] = "3" };
}

public sealed class QueueTests(TinyQueueFactory factory) : IClassFixture<TinyQueueFactory>
{
    [Fact]
    public async Task Full_queue_answers_429_with_retry_after()
    {
        var client = factory.CreateClient();
        var response = await client.PostAsJsonAsync("/v1/embed", new { texts = new[] { "one", "two" } });
        Assert.Equal((HttpStatusCode)429, response.StatusCode);
        Assert.Equal("3", response.Headers.RetryAfter?.ToString());
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/v1/embed", new { texts = new[] { "one" } })).StatusCode);
    }
}
