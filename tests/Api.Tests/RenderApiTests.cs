using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using SkiaSharp;
using VqaApi.Rendering;
using VqaApi.Rendering.Shaped;
using VqaApi.Tasks.Checkpoints;
using VqaApi.Tasks.Conversion;
using VqaApi.Tasks.Models;
using VqaApi.Tasks.Serving;

namespace VqaApi.Api.Tests;

/// <summary>/v1/render with every profile and layout, on a model converted with the unifont profile.</summary>
public sealed class RenderApiTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Fact]
    public async Task Shaped_text_pair_and_vqa_layouts_come_back_with_their_report()
    {
        var text = await _client.PostAsJsonAsync("/v1/render", new { profile = "shaped", text = "مرحبا" });
        Assert.Equal(HttpStatusCode.OK, text.StatusCode);
        var report = JsonDocument.Parse(text.Headers.GetValues("X-Render-Report").Single()).RootElement;
        Assert.Equal("text", report.GetProperty("layout").GetString());
        Assert.True(report.GetProperty("blocks")[0].GetProperty("rightToLeft").GetBoolean());
        Assert.Equal("Noto Sans Arabic", report.GetProperty("blocks")[0].GetProperty("fontsUsed")[0].GetString());

        var pairRequest = new HttpRequestMessage(HttpMethod.Post, "/v1/render") { Content = JsonContent.Create(new { profile = "shaped", pair = new { first = "A dog runs.", second = "Un chien court." } }) };
        pairRequest.Headers.Accept.ParseAdd("application/json");
        var pair = await (await _client.SendAsync(pairRequest)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("pair", pair.GetProperty("layout").GetString());
        Assert.Equal(2, pair.GetProperty("report").GetProperty("blocks").GetArrayLength());
        using (var bitmap = SKBitmap.Decode(Convert.FromBase64String(pair.GetProperty("png").GetString()!))) Assert.Equal(64, bitmap.Width);

        var vqa = await _client.PostAsJsonAsync("/v1/render", new
        {
            profile = "shaped", question = "How many circles?",
            image = new { data = Convert.ToBase64String(TestImages.Png(30, 30)) },
        });
        Assert.Equal(HttpStatusCode.OK, vqa.StatusCode);
        Assert.Contains("\"layout\":\"vqa\"", vqa.Headers.GetValues("X-Render-Report").Single());
    }

    [Fact]
    public async Task The_unifont_profile_refuses_layouts_it_cannot_draw()
    {
        var response = await _client.PostAsJsonAsync("/v1/render", new { pair = new { first = "a", second = "b" } });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("shaped profile", await response.Content.ReadAsStringAsync());
        var unknown = await _client.PostAsJsonAsync("/v1/render", new { profile = "comic-sans", text = "a" });
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
    }

    [Fact]
    public async Task A_model_converted_with_the_shaped_profile_is_served_with_it()
    {
        var dir = Path.Combine(Path.GetTempPath(), "vqaapi-shaped-" + Guid.NewGuid().ToString("N"));
        CheckpointConverter.Convert(RandomCheckpoint.Create(ApiFactory.Architecture, 8), "t.npz", dir,
            new ConvertOptions { RenderProfile = "shaped", Id = "shaped-model" });
        try
        {
            var manifest = ModelDirectory.Load(dir).Manifest;
            Assert.Equal("shaped", manifest.RenderProfile.Kind);
            Assert.Equal(64, manifest.RenderProfile.Shaped!.ImageSize);

            await using var shapedApp = factory.WithWebHostBuilder(b => b.UseSetting("Model:Path", dir));
            var client = shapedApp.CreateClient();
            var response = await client.PostAsJsonAsync("/v1/embed", new { texts = new[] { "שלום" } });
            var json = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("shaped", json.GetProperty("renderProfile").GetProperty("kind").GetString());

            var canvas = new float[64 * 64 * 3];
            new ShapedRenderer(manifest.RenderProfile.Shaped).RenderText("שלום").ToCanvas(canvas);
            var model = shapedApp.Services.GetRequiredService<ServedModel>();
            var expected = model.Encoder.Run(canvas)[0].Embedding;
            var actual = json.GetProperty("texts")[0].GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray();
            for (int k = 0; k < expected.Length; k++) Assert.True(Math.Abs(expected[k] - actual[k]) < 1e-5);
        }
        finally { Directory.Delete(dir, true); }
    }
}
