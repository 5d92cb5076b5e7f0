using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace VqaApi.Api.Tests;

public sealed class AllowedOriginFactory : ApiFactory
{
    protected override Dictionary<string, string?> Settings => new() { ["Browser:AllowedOrigins:0"] = "https://app.example" };
}

public sealed class NoDocsFactory : ApiFactory
{
    protected override Dictionary<string, string?> Settings => new() { ["Browser:SwaggerUi"] = "false", ["Browser:OpenApiDocument"] = "false" };
}

/// <summary>Security headers, cross-origin writes, DNS rebinding against the keyless loopback mode, CORS, and the docs switches.</summary>
public sealed class BrowserSecurityTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Theory]
    [InlineData("/v1/models")]
    [InlineData("/healthz")]
    [InlineData("/swagger/index.html")]
    [InlineData("/v1/no-such-thing")]
    [InlineData("/")]
    [InlineData("/app.js")]
    public async Task Every_response_carries_the_security_headers(string path)
    {
        var response = await _client.GetAsync(path);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        var csp = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Equal(path.StartsWith("/swagger") ? "default-src 'self'" : "default-src 'none'", csp.Split(';')[0]);
        // The web page may run its own script and styles, and nothing inline or from elsewhere.
        if (path == "/") Assert.Contains("script-src 'self';", csp);
        else if (!path.StartsWith("/swagger")) Assert.DoesNotContain("script-src", csp);
    }

    [Fact]
    public async Task The_web_page_is_served_at_the_root_with_its_files_and_the_services_fonts()
    {
        var page = await _client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<script type=\"module\" src=\"app.js\">", html);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org", "")); // nothing from the internet
        Assert.DoesNotContain("https://", html);
        foreach (var file in new[] { "/app.js", "/markdown.js", "/app.css", "/samples/tour-scene.png", "/fonts/NotoSansArabic-Regular.ttf" })
            Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync(file)).StatusCode);
        Assert.Equal("font/collection", (await _client.GetAsync("/fonts/NotoSansCJK-Regular.ttc")).Content.Headers.ContentType?.MediaType);
        // Only font files from the fonts folder, and nothing of the service's own folder.
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/fonts/unifont.hex")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/appsettings.json")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/VqaApi.dll")).StatusCode);
    }

    [Fact]
    public async Task A_write_from_a_page_of_another_origin_is_refused()
    {
        using var form = new MultipartFormDataContent { { new StringContent("hello"), "texts" } };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/embed") { Content = form };
        request.Headers.Add("Origin", "https://evil.example");
        var response = await _client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("origin_refused", problem.GetProperty("code").GetString());

        using var same = new HttpRequestMessage(HttpMethod.Post, "/v1/embed") { Content = JsonContent.Create(new { texts = new[] { "hello" } }) };
        same.Headers.Add("Origin", "http://localhost"); // Swagger UI on the service itself
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(same)).StatusCode);
        using var read = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        read.Headers.Add("Origin", "https://evil.example");
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(read)).StatusCode); // reads are the browser's CORS business
    }

    [Theory]
    [InlineData("evil.example", HttpStatusCode.MisdirectedRequest)]
    [InlineData("10.0.0.5", HttpStatusCode.MisdirectedRequest)]
    [InlineData("127.0.0.1", HttpStatusCode.OK)]
    [InlineData("[::1]", HttpStatusCode.OK)]
    [InlineData("localhost", HttpStatusCode.OK)]
    public async Task Without_keys_only_loopback_host_names_are_answered(string host, HttpStatusCode expected)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/models");
        request.Headers.Host = host;
        Assert.Equal(expected, (await _client.SendAsync(request)).StatusCode);
    }
}

public sealed class CorsTests(AllowedOriginFactory factory) : IClassFixture<AllowedOriginFactory>
{
    [Fact]
    public async Task An_allowed_origin_gets_cors_headers_and_may_write()
    {
        var client = factory.CreateClient();
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/v1/embed");
        preflight.Headers.Add("Origin", "https://app.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "content-type,authorization");
        var answer = await client.SendAsync(preflight);
        Assert.True(answer.IsSuccessStatusCode, answer.StatusCode.ToString());
        Assert.Equal("https://app.example", answer.Headers.GetValues("Access-Control-Allow-Origin").Single());

        using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/embed") { Content = JsonContent.Create(new { texts = new[] { "hello" } }) };
        post.Headers.Add("Origin", "https://app.example");
        var response = await client.SendAsync(post);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("https://app.example", response.Headers.GetValues("Access-Control-Allow-Origin").Single());

        using var other = new HttpRequestMessage(HttpMethod.Options, "/v1/embed");
        other.Headers.Add("Origin", "https://other.example");
        other.Headers.Add("Access-Control-Request-Method", "POST");
        Assert.False((await client.SendAsync(other)).Headers.Contains("Access-Control-Allow-Origin"));
    }
}

public sealed class ApiDocsSwitchTests(NoDocsFactory factory) : IClassFixture<NoDocsFactory>
{
    [Fact]
    public async Task Swagger_ui_and_the_document_can_be_switched_off()
    {
        var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/swagger/index.html")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/openapi/v1.json")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/models")).StatusCode);
    }
}

public sealed class NoWebPageFactory : ApiFactory
{
    protected override Dictionary<string, string?> Settings => new() { ["Browser:WebPage"] = "false" };
}

public sealed class WebPageSwitchTests(NoWebPageFactory factory) : IClassFixture<NoWebPageFactory>
{
    [Fact]
    public async Task Without_the_web_page_the_root_goes_to_swagger_ui()
    {
        var client = factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        var root = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.Redirect, root.StatusCode);
        Assert.Equal("/swagger", root.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/app.js")).StatusCode);
    }
}
