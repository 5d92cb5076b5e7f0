using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using VqaApi.Api.Inputs;
using VqaApi.Tasks.Embeddings;

namespace VqaApi.Api.Tests;

public sealed class WorkBoundFactory : ApiFactory
{
    protected override Dictionary<string, string?> Settings => new()
    {
        ["UrlFetch:AllowPrivateNetworks"] = "true", ["UrlFetch:TimeoutSeconds"] = "30", ["UrlFetch:Retries"] = "0",
        ["Limits:RequestTimeoutSeconds"] = "2", ["Limits:MaxDecodedBytesPerRequest"] = "7000000", ["Limits:MaxDecodedBytesInFlight"] = "40000000",
        ["Limits:CollectAfterReleasedBytes"] = "5000000",
        ["Tasks:MaxPromptsPerRequest"] = "100", ["Tasks:MaxTemplateCharacters"] = "50",
        ["EmbeddingCache:MaxBytes"] = "200000", ["Encoder:WarmUp"] = "false",
    };
}

/// <summary>Work and memory per request are bounded by bytes and by a deadline, each refused clearly before the work.</summary>
public sealed class WorkBoundTests(WorkBoundFactory factory) : IClassFixture<WorkBoundFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    private static async Task<JsonElement> Problem(HttpResponseMessage response, HttpStatusCode expected, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(expected == response.StatusCode, $"{(int)response.StatusCode}: {body}");
        var problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal(code, problem.GetProperty("code").GetString());
        return problem;
    }

    [Fact]
    public async Task Url_fetches_share_the_requests_deadline()
    {
        await using var server = new LocalImageServer();
        var slow = new { url = server.Url("/slow.png") }; // answers after 5 s
        var watch = Stopwatch.StartNew();
        var response = await _client.PostAsJsonAsync("/v1/embed", new { images = new[] { slow, slow, slow, slow } });
        watch.Stop();
        var problem = await Problem(response, HttpStatusCode.GatewayTimeout, "request_timeout");
        Assert.Contains("Limits:RequestTimeoutSeconds", problem.GetProperty("detail").GetString());
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"answered after {watch.Elapsed.TotalSeconds:F1} s; four 5-second fetches were not cut at the 2 s deadline");
    }

    [Fact]
    public async Task Images_over_the_requests_decoded_bytes_are_refused_before_decoding()
    {
        // 1,000 x 800 PNG: 5.6 MB at its decode's peak, 2.4 MB once decoded: one fits the 7 MB budget, two held at once do not.
        var big = Convert.ToBase64String(TestImages.Png(1000, 800));
        var gate = factory.Services.GetRequiredService<DecodeGate>();
        var one = await _client.PostAsJsonAsync("/v1/embed", new { images = new[] { new { data = big } } });
        Assert.Equal(HttpStatusCode.OK, one.StatusCode); // embed decodes one image at a time and gives it back
        var two = await _client.PostAsJsonAsync("/v1/embed", new { images = new[] { new { data = big }, new { data = big } } });
        Assert.Equal(HttpStatusCode.OK, two.StatusCode);
        var similarity = await _client.PostAsJsonAsync("/v1/similarity", new { a = new { image = new { data = big } }, b = new { image = new { data = big } } });
        var problem = await Problem(similarity, HttpStatusCode.RequestEntityTooLarge, "decoded_too_large"); // both held at once
        Assert.Contains("Limits:MaxDecodedBytesPerRequest", problem.GetProperty("detail").GetString());
        var huge = Convert.ToBase64String(TestImages.Png(1100, 1000)); // 7.7 MB at its peak: over 7 MB alone
        await Problem(await _client.PostAsJsonAsync("/v1/embed", new { images = new[] { new { data = huge } } }), HttpStatusCode.RequestEntityTooLarge, "decoded_too_large");
        Assert.Equal(0, gate.InFlight); // every reservation given back
    }

    [Fact]
    public async Task Only_released_images_of_at_least_a_mebibyte_count_toward_a_forced_collection()
    {
        var gate = factory.Services.GetRequiredService<DecodeGate>();
        var small = new { images = new[] { new { data = Convert.ToBase64String(TestImages.Png(224, 224)) } } }; // 150,528 bytes of pixels
        var big = new { images = new[] { new { data = Convert.ToBase64String(TestImages.Png(1000, 800)) } } };   // 2,400,000
        async Task Embed(object body) => Assert.Equal(HttpStatusCode.OK, (await _client.PostAsJsonAsync("/v1/embed", body)).StatusCode);
        await Embed(small); // runs any collection earlier tests left due
        long garbage = gate.Garbage, collections = gate.Collections;
        Assert.True(garbage < 5_000_000);
        for (int i = 0; i < 40; i++) await Embed(small); // 6 MB of small pictures: left to the runtime's own collections
        Assert.Equal(garbage, gate.Garbage);
        Assert.Equal(collections, gate.Collections);
        await Embed(big);
        Assert.Equal(garbage + 2_400_000, gate.Garbage);
        await Embed(big);
        await Embed(big); // over 5 MB released in large images: the next decode collects first
        await Embed(small);
        Assert.True(gate.Collections > collections, "no full collection after 7.2 MB of large images were released");
        Assert.True(gate.Garbage < 5_000_000);
    }

    [Fact]
    public async Task Zero_shot_prompts_and_templates_are_bounded_before_any_work()
    {
        var labels = Enumerable.Range(0, 60).Select(i => $"label {i}").ToArray();
        await Problem(await _client.PostAsJsonAsync("/v1/classify/zero-shot", new { text = "x", candidate_labels = labels, hypothesis_templates = new[] { "a {}", "the {}" } }),
            HttpStatusCode.RequestEntityTooLarge, "too_many_prompts"); // 120 prompts > 100
        await Problem(await _client.PostAsJsonAsync("/v1/classify/zero-shot", new { text = "x", candidate_labels = labels[..2], hypothesis_template = "{} " + new string('x', 100) }),
            HttpStatusCode.RequestEntityTooLarge, "template_too_long");
        Assert.Equal(HttpStatusCode.OK, (await _client.PostAsJsonAsync("/v1/classify/zero-shot", new { text = "x", candidate_labels = labels[..10], hypothesis_templates = new[] { "a {}", "the {}" } })).StatusCode);
    }

    [Fact]
    public async Task The_prompt_cache_is_bounded_in_bytes()
    {
        var cache = factory.Services.GetRequiredService<EmbeddingCache>();
        for (int round = 0; round < 6; round++)
        {
            var labels = Enumerable.Range(0, 40).Select(i => $"r{round} label {i} " + new string('y', 30)).ToArray();
            Assert.Equal(HttpStatusCode.OK, (await _client.PostAsJsonAsync("/v1/classify/zero-shot", new { text = "x", candidate_labels = labels, hypothesis_template = "{}" })).StatusCode);
        }
        Assert.True(cache.Bytes <= 200_000, $"{cache.Bytes:N0} bytes cached");
        Assert.True(cache.Count > 0);
    }

    [Fact]
    public async Task Head_label_names_are_bounded()
    {
        object Examples() => new[] { new { label = "a", text = "one" }, new { label = "b", text = "two" } };
        var tooMany = Enumerable.Range(0, 65).ToDictionary(i => $"l{i}", i => "name");
        await Problem(await _client.PostAsJsonAsync("/v1/heads", new { name = "n1", task = "text", examples = Examples(), label_names = new Dictionary<string, object> { ["a"] = tooMany } }),
            HttpStatusCode.BadRequest, "head");
        await Problem(await _client.PostAsJsonAsync("/v1/heads", new { name = "n2", task = "text", examples = Examples(), label_names = new Dictionary<string, object> { ["zzz"] = new { en = "z" } } }),
            HttpStatusCode.BadRequest, "head");
        await Problem(await _client.PostAsJsonAsync("/v1/heads", new { name = "n3", task = "text", examples = Examples(), label_names = new Dictionary<string, object> { ["a"] = new { en = new string('n', 201) } } }),
            HttpStatusCode.BadRequest, "head");
    }
}
