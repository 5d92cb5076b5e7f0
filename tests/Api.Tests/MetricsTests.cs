using System.Net;
using System.Net.Http.Json;

namespace VqaApi.Api.Tests;

public sealed class MetricsFactory : ApiFactory
{
    protected override Dictionary<string, string?> Settings => new() { ["Tasks:MaxPromptsPerRequest"] = "4" };
}

/// <summary>/metrics after a few requests: requests by route and status, the encoder, the cache, decoded bytes and refusals.</summary>
public sealed class MetricsTests(MetricsFactory factory) : IClassFixture<MetricsFactory>
{
    [Fact]
    public async Task A_scrape_counts_the_requests_made()
    {
        var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/v1/embed", new { texts = new[] { "a", "b" }, images = new[] { new { data = Convert.ToBase64String(TestImages.Png(30, 20)) } } })).StatusCode);
        for (int i = 0; i < 2; i++)
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/v1/classify/zero-shot", new { text = "x", candidate_labels = new[] { "cat", "dog" }, hypothesis_template = "{}" })).StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await client.PostAsJsonAsync("/v1/classify/zero-shot",
            new { text = "x", candidate_labels = new[] { "a", "b", "c" }, hypothesis_templates = new[] { "{}", "a {}" } })).StatusCode);

        string[] expected =
        [
            "http_server_request_duration_seconds_count\\{[^}]*http_response_status_code=\"200\"[^}]*http_route=\"/?v1/embed\"",
            "http_server_request_duration_seconds_count\\{[^}]*http_response_status_code=\"413\"",
            "vqa_encoder_canvases(_total)?(\\{[^}]*\\})? [1-9]",
            "vqa_encoder_batch_size(_canvas)?_count(\\{[^}]*\\})? [1-9]",
            "vqa_cache_hits(_total)?(\\{[^}]*\\})? [1-9]", // the second zero-shot found its prompts cached
            "vqa_decode_admitted_bytes(_total)?(\\{[^}]*\\})? [1-9]",
            "vqa_refusals(_total)?\\{[^}]*reason=\"too_many_prompts\"[^}]*\\} 1",
        ];
        string text = "";
        // The exporter caches a scrape briefly (and a busy machine collects late: CI once missed the HTTP counts after 20 s, while
        // the trainer's tests ran beside it); wait, up to 60 s, for one that has everything.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline && !expected.All(e => System.Text.RegularExpressions.Regex.IsMatch(text, e)))
        {
            await Task.Delay(250);
            text = await client.GetStringAsync("/metrics");
        }
        foreach (var pattern in expected) Assert.Matches(pattern, text);
    }
}
