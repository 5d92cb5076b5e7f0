using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using VqaApi.Tasks.Models;
using VqaApi.Tasks.Serving;

namespace VqaApi.Api.Tests;

public sealed class ZeroShotApiTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();
    private long Encoded => factory.Services.GetRequiredService<ServedModel>().Encoder.CanvasesEncoded;

    [Fact]
    public async Task The_label_drawn_exactly_like_the_query_wins()
    {
        var labels = new[] { "a red bicycle", "un vélo rouge", "красный велосипед", "a blue car", "猫" };
        var response = await _client.PostAsJsonAsync("/v1/classify/zero-shot", new { text = "a red bicycle", candidate_labels = labels, hypothesis_template = "{}", top_k = 3 });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        var ranked = json.GetProperty("labels");
        Assert.Equal(3, ranked.GetArrayLength());
        Assert.Equal("a red bicycle", ranked[0].GetProperty("label").GetString());
        // Identical canvases: cosine 1, so the logit is exactly the temperature.
        var temperature = factory.Model.Manifest.Temperature;
        Assert.Equal(temperature, ranked[0].GetProperty("logit").GetDouble(), 3);
        Assert.True(ranked[0].GetProperty("score").GetDouble() > ranked[1].GetProperty("score").GetDouble());
    }

    [Fact]
    public async Task Seen_labels_cost_one_image_encode()
    {
        var labels = Enumerable.Range(0, 1000).Select(i => $"object number {i}").ToArray();
        var image = new { data = Convert.ToBase64String(TestImages.Png(50, 40)) };
        long before = Encoded;
        var first = await (await _client.PostAsJsonAsync("/v1/classify/zero-shot", new { image, candidate_labels = labels, hypothesis_template = "a photo of {}.", top_k = 1 }))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1000, first.GetProperty("promptsEncoded").GetInt32());
        Assert.Equal(1001, Encoded - before);

        before = Encoded;
        var second = await (await _client.PostAsJsonAsync("/v1/classify/zero-shot", new { image, candidate_labels = labels, hypothesis_template = "a photo of {}.", top_k = 1 }))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(0, second.GetProperty("promptsEncoded").GetInt32());
        Assert.Equal(1, Encoded - before); // only the image
        Assert.Equal(first.GetProperty("labels")[0].GetProperty("label").GetString(), second.GetProperty("labels")[0].GetProperty("label").GetString());
    }

    [Fact]
    public async Task Default_templates_are_the_eight_clippo_prompts_averaged()
    {
        var json = await (await _client.PostAsJsonAsync("/v1/classify/zero-shot", new { text = "dog", candidate_labels = new[] { "dog", "cat" } }))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(8, json.GetProperty("templates").GetArrayLength());
        Assert.Equal(16, json.GetProperty("promptsTotal").GetInt32());
        double total = json.GetProperty("labels").EnumerateArray().Sum(l => l.GetProperty("score").GetDouble());
        Assert.Equal(1.0, total, 6);
    }

    [Fact]
    public async Task Multipart_upload_with_repeated_label_fields()
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(TestImages.Png(20, 20));
        file.Headers.ContentType = new("image/png");
        form.Add(file, "image", "x.png");
        form.Add(new StringContent("circle"), "candidate_labels");
        form.Add(new StringContent("carré"), "candidate_labels");
        form.Add(new StringContent("{}"), "hypothesis_template");
        var response = await _client.PostAsync("/v1/classify/zero-shot", form);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("labels").GetArrayLength());
    }

    [Theory]
    [InlineData("{\"text\": \"x\"}", "candidate_labels")]
    [InlineData("{\"text\": \"x\", \"candidate_labels\": []}", "candidate_labels")]
    [InlineData("{\"text\": \"x\", \"candidate_labels\": [\"a\", \"a\"]}", "more than once")]
    [InlineData("{\"text\": \"x\", \"candidate_labels\": [\"a\", \"\"]}", "empty")]
    [InlineData("{\"text\": \"x\", \"candidate_labels\": [\"a\"], \"hypothesis_template\": \"no slot\"}", "{}")]
    [InlineData("{\"candidate_labels\": [\"a\"]}", "exactly one of 'image' or 'text'")]
    [InlineData("{\"text\": \"x\", \"candidate_labels\": [\"a\"], \"top_k\": 0}", "top_k")]
    public async Task Bad_requests_are_400(string body, string fragment)
    {
        var response = await _client.PostAsync("/v1/classify/zero-shot", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(fragment, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Ten_thousand_labels_are_refused()
    {
        var labels = Enumerable.Range(0, 10_000).Select(i => $"l{i}").ToArray();
        var response = await _client.PostAsJsonAsync("/v1/classify/zero-shot", new { text = "x", candidate_labels = labels });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Tasks:MaxLabels", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Similarity_of_identical_and_different_texts()
    {
        var same = await (await _client.PostAsJsonAsync("/v1/similarity", new { a = new { text = "hello" }, b = new { text = "hello" } })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1.0, same.GetProperty("cosine").GetDouble(), 5);
        Assert.Equal(same.GetProperty("temperature").GetDouble(), same.GetProperty("logit").GetDouble(), 4);
        var mixed = await _client.PostAsJsonAsync("/v1/similarity", new { a = new { text = "hello" }, b = new { image = new { data = Convert.ToBase64String(TestImages.Png()) } } });
        Assert.Equal(HttpStatusCode.OK, mixed.StatusCode);
        var cos = (await mixed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("cosine").GetDouble();
        Assert.InRange(cos, -1, 0.9999);
        var bad = await _client.PostAsJsonAsync("/v1/similarity", new { a = new { text = "x" } });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
    }
}

/// <summary>An inference time limit far below what 1,800 cold prompts need: 504, and the ONNX work really stops.</summary>
public sealed class ShortTimeoutFactory : ApiFactory
{
    protected override Dictionary<string, string?> Settings => new() { ["Inference:TimeoutSeconds"] = "0.05" };
}

public sealed class InferenceTimeoutTests(ShortTimeoutFactory factory) : IClassFixture<ShortTimeoutFactory>
{
    [Fact]
    public async Task A_slow_request_is_504_and_its_encoding_stops()
    {
        var client = factory.CreateClient();
        var encoder = factory.Services.GetRequiredService<ServedModel>().Encoder;
        var labels = Enumerable.Range(0, 600).Select(i => $"a slow label {i}").ToArray(); // x 3 templates: within Tasks:MaxPromptsPerRequest
        long before = encoder.CanvasesEncoded;
        var response = await client.PostAsJsonAsync("/v1/classify/zero-shot", new { text = "q", candidate_labels = labels, hypothesis_templates = new[] { "{}", "a {}", "the {}" } });
        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Contains("Inference:TimeoutSeconds", await response.Content.ReadAsStringAsync());
        await Task.Delay(300); // anything still running would show up here
        Assert.True(encoder.CanvasesEncoded - before < 1800, $"{encoder.CanvasesEncoded - before} of 1800 canvases encoded after the timeout");
        Assert.Equal(0, encoder.QueuedCanvases);
    }
}
