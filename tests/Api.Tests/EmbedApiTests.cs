using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using SkiaSharp;
using VqaApi.Rendering;
using VqaApi.Tasks.Encoders;
using VqaApi.Tasks.Models;
using VqaApi.Tasks.Serving;

namespace VqaApi.Api.Tests;

public sealed class EmbedApiTests(ApiFactory factory) : IClassFixture<ApiFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    /// <summary>What the encoder gives for canvases drawn directly, bypassing HTTP.</summary>
    private EncoderResult[] Direct(float[] canvases)
    {
        var model = factory.Services.GetRequiredService<ServedModel>();
        return model.Encoder.Run(canvases);
    }

    private static float[] Floats(JsonElement e) => e.EnumerateArray().Select(v => v.GetSingle()).ToArray();

    /// <summary>Batches of different sizes may round differently in the last bits; anything else is a bug.</summary>
    private static void Close(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int k = 0; k < expected.Length; k++) Assert.True(Math.Abs(expected[k] - actual[k]) < 1e-5, $"[{k}] {expected[k]} vs {actual[k]}");
    }

    [Fact]
    public async Task Texts_are_embedded_exactly_as_their_rendered_canvases()
    {
        var response = await _client.PostAsJsonAsync("/v1/embed", new { texts = new[] { "a photo of a cat", "Ünïcödé ЖУК 中文" }, includePreLogits = true });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("api-test-model", json.GetProperty("model").GetString());
        Assert.Equal("unifont", json.GetProperty("renderProfile").GetProperty("kind").GetString());
        Assert.Equal(32, json.GetProperty("dimensions").GetInt32());

        var renderer = new UnifontRenderer(UnifontFont.Default, new UnifontProfile { ImageSize = 64 });
        var canvases = new float[2 * 64 * 64 * 3];
        renderer.Render("a photo of a cat", canvases.AsSpan(0, 64 * 64 * 3));
        renderer.Render("Ünïcödé ЖУК 中文", canvases.AsSpan(64 * 64 * 3));
        var expected = Direct(canvases);
        var texts = json.GetProperty("texts").EnumerateArray().ToList();
        for (int i = 0; i < 2; i++)
        {
            var embedding = Floats(texts[i].GetProperty("embedding"));
            Close(expected[i].Embedding, embedding);
            Close(expected[i].PreLogits, Floats(texts[i].GetProperty("preLogits")));
            Assert.Equal(1.0, Math.Sqrt(embedding.Sum(v => (double)v * v)), 4);
        }
        Assert.NotEqual(expected[0].Embedding, expected[1].Embedding);
    }

    [Fact]
    public async Task Base64_and_uploaded_images_match_the_official_preprocessing()
    {
        var png = TestImages.Png(90, 50);
        var response = await _client.PostAsJsonAsync("/v1/embed", new { images = new[] { new { data = Convert.ToBase64String(png) } } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        var image = json.GetProperty("images")[0];
        Assert.Equal(90, image.GetProperty("width").GetInt32());
        Assert.Equal(50, image.GetProperty("height").GetInt32());
        Assert.False(image.TryGetProperty("preLogits", out var pre) && pre.ValueKind != JsonValueKind.Null);

        var canvas = new float[64 * 64 * 3];
        ImagePreprocessor.ToCanvas(ImageDecoder.Decode(png, new ImageLimits()), 64, canvas);
        var expected = Direct(canvas)[0].Embedding;
        Close(expected, Floats(image.GetProperty("embedding")));

        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(png);
        file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(file, "images", "photo.png");
        form.Add(new StringContent("a caption"), "texts");
        var upload = await _client.PostAsync("/v1/embed", form);
        Assert.Equal(HttpStatusCode.OK, upload.StatusCode);
        var uploaded = await upload.Content.ReadFromJsonAsync<JsonElement>();
        Close(expected, Floats(uploaded.GetProperty("images")[0].GetProperty("embedding")));
        Assert.Equal(1, uploaded.GetProperty("texts").GetArrayLength());
    }

    [Theory]
    [InlineData(SKEncodedImageFormat.Jpeg, "jpeg")]
    [InlineData(SKEncodedImageFormat.Webp, "webp")]
    [InlineData(SKEncodedImageFormat.Png, "png")]
    public async Task Common_formats_are_accepted(SKEncodedImageFormat format, string name)
    {
        var bytes = TestImages.Encode(33, 21, format);
        var response = await _client.PostAsJsonAsync("/v1/embed", new { images = new[] { new { data = Convert.ToBase64String(bytes) } } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains(name, json.GetProperty("images")[0].GetProperty("format").GetString()!, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Animated_gif_and_16_bit_png_are_read()
    {
        foreach (var bytes in new[] { TestImages.AnimatedGif(), TestImages.Png16Bit() })
        {
            var response = await _client.PostAsJsonAsync("/v1/embed", new { images = new[] { new { data = "data:image/png;base64," + Convert.ToBase64String(bytes) } } });
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task Texts_report_what_fit_on_the_canvas()
    {
        var response = await _client.PostAsJsonAsync("/v1/embed", new { texts = new[] { "short", new string('m', 1000) } });
        var texts = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("texts");
        Assert.Equal(5, texts[0].GetProperty("codePointsDrawn").GetInt32());
        Assert.False(texts[0].GetProperty("truncated").GetBoolean());
        // 64 px canvas: 4 lines of 16 px; 'm' is 8 px wide after trimming, so about 7 per line fit (div = 64 - 8).
        Assert.Equal(1000, texts[1].GetProperty("codePoints").GetInt32());
        Assert.InRange(texts[1].GetProperty("codePointsDrawn").GetInt32(), 20, 40);
        Assert.True(texts[1].GetProperty("truncated").GetBoolean());
    }

    [Fact]
    public async Task Cmyk_jpeg_is_converted_to_rgb()
    {
        // data/cmyk.jpg: 24x16, made with Pillow (Image.new("CMYK")), a mode Skia cannot write.
        var bytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "data", "cmyk.jpg"));
        var decoded = ImageDecoder.Decode(bytes, new ImageLimits());
        Assert.Equal((24, 16), (decoded.Width, decoded.Height));
        // Top-left pixel is C=0 M=0 Y=0 K=40: a light grey, not black and not garbage.
        Assert.InRange(decoded.Rgb[0], 180, 235);
        Assert.InRange(Math.Abs(decoded.Rgb[0] - decoded.Rgb[1]), 0, 12);
        var response = await _client.PostAsJsonAsync("/v1/embed", new { images = new[] { new { data = Convert.ToBase64String(bytes) } } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Render_returns_the_canvas_the_encoder_sees()
    {
        var response = await _client.PostAsJsonAsync("/v1/render", new { text = "Hello World" });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        using var bitmap = SKBitmap.Decode(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(64, bitmap.Width);
        var gray = new UnifontRenderer(UnifontFont.Default, new UnifontProfile { ImageSize = 64 }).RenderGray(Encoding.UTF8.GetBytes("Hello World"));
        for (int y = 0; y < 64; y++)
            for (int x = 0; x < 64; x++)
                Assert.Equal(gray[y * 64 + x], bitmap.GetPixel(x, y).Red);
    }

    [Fact]
    public async Task Models_describes_the_served_model()
    {
        var json = await _client.GetFromJsonAsync<JsonElement>("/v1/models");
        var model = json[0];
        Assert.Equal("api-test-model", model.GetProperty("id").GetString());
        Assert.Equal("CPU", model.GetProperty("executionProvider").GetString());
        Assert.Contains("disabled", model.GetProperty("executionProviderNote").GetString());
        Assert.False(model.GetProperty("randomlyInitialized").GetBoolean());
        Assert.Equal(64, model.GetProperty("architecture").GetProperty("width").GetInt32());
        Assert.Equal("unifont", model.GetProperty("renderProfile").GetProperty("kind").GetString());
    }

    [Fact]
    public async Task Health_ready_and_swagger_answer()
    {
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync("/healthz")).StatusCode);
        HttpStatusCode ready = HttpStatusCode.ServiceUnavailable;
        for (int i = 0; i < 100 && ready != HttpStatusCode.OK; i++)
        {
            ready = (await _client.GetAsync("/readyz")).StatusCode;
            if (ready != HttpStatusCode.OK) await Task.Delay(100);
        }
        Assert.Equal(HttpStatusCode.OK, ready);
        var openApi = await _client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        Assert.True(openApi.GetProperty("paths").TryGetProperty("/v1/embed", out _));
        Assert.True(openApi.GetProperty("paths").TryGetProperty("/v1/render", out _));
        var swagger = await _client.GetAsync("/swagger/index.html");
        Assert.Equal(HttpStatusCode.OK, swagger.StatusCode);
    }

    [Fact]
    public async Task Concurrent_requests_are_batched_and_agree_with_single_runs()
    {
        var texts = Enumerable.Range(0, 12).Select(i => $"sentence number {i}").ToArray();
        var tasks = texts.Select(t => _client.PostAsJsonAsync("/v1/embed", new { texts = new[] { t } })).ToArray();
        var responses = await Task.WhenAll(tasks);
        var renderer = new UnifontRenderer(UnifontFont.Default, new UnifontProfile { ImageSize = 64 });
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.Equal(HttpStatusCode.OK, responses[i].StatusCode);
            var json = await responses[i].Content.ReadFromJsonAsync<JsonElement>();
            var canvas = new float[64 * 64 * 3];
            renderer.Render(texts[i], canvas);
            var expected = Direct(canvas)[0].Embedding;
            var actual = Floats(json.GetProperty("texts")[0].GetProperty("embedding"));
            Close(expected, actual);
        }
    }
}
