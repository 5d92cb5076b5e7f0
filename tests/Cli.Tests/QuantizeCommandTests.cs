using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using VqaApi.Api.Tests;
using VqaApi.Tasks.Checkpoints;
using VqaApi.Tasks.Models;

namespace VqaApi.Cli.Tests;

/// <summary>
/// <c>vqa quantize</c> and <c>convert --int8</c> as a user runs them, and the int8 model served: it says what it is, and it
/// serves the heads and collections of the float model it was made from (its fidelity being within tolerance).
/// </summary>
[Collection("console")]
public sealed class QuantizeCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vqaapi-int8-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);

    private sealed class ModelFactory(string model, string collections) : ApiFactory
    {
        protected override Dictionary<string, string?> Settings => new() { ["Model:Path"] = model, ["Collections:Root"] = collections };
    }

    private static Task<(int Exit, string Output, string Error)> Run(params string[] args) => CommandLineTests.RunWithOutput(args);

    [Fact]
    public async Task An_int8_copy_serves_the_float_models_heads_and_collections()
    {
        var ckpt = Path.Combine(_dir, "tiny.npz");
        RandomCheckpoint.Save(ckpt, RandomCheckpoint.CreateParameters(ApiFactory.Architecture, 7));
        var model = Path.Combine(_dir, "model");
        var collections = Path.Combine(_dir, "collections");
        Assert.Equal(0, (await Run("convert", ckpt, model, "--id", "tiny")).Exit);

        // On the float model: a head fitted, a collection filled.
        using (var floatApi = new ModelFactory(model, collections))
        {
            var client = floatApi.CreateClient();
            var fit = await client.PostAsJsonAsync("/v1/heads", new
            {
                name = "mood", task = "text", validation_fraction = 0,
                examples = new[] { new { label = "good", text = "I love it" }, new { label = "bad", text = "I hate it" }, new { label = "good", text = "great" }, new { label = "bad", text = "awful" } },
            });
            Assert.Equal(HttpStatusCode.Created, fit.StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await client.PutAsync("/v1/collections/notes", null)).StatusCode);
            var added = await client.PostAsJsonAsync("/v1/collections/notes/items", new { items = new[] { new { id = "a", text = "a red circle" }, new { id = "b", text = "a blue square" } } });
            Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        }

        File.WriteAllText(Path.Combine(model, "README.md"), "# tiny\n\nA random model that knows nothing.\n");
        var int8 = Path.Combine(_dir, "model-int8");
        var (exit, output, error) = await Run("quantize", model, int8, "--fidelity-canvases", "24");
        Assert.True(exit == 0, error);
        Assert.Contains("cosine to tiny over 24 canvases", output);
        var manifest = ModelDirectory.Load(int8).Manifest;
        Assert.Equal("tiny-int8", manifest.Id);
        Assert.True(manifest.Quantization!.CompatibleWithSource, output);
        var card = ModelDirectory.Load(int8).Card!;
        Assert.StartsWith("> **tiny-int8 is an int8 copy of tiny**", card);
        Assert.Contains("A random model that knows nothing.", card);

        using (var int8Api = new ModelFactory(int8, collections))
        {
            var client = int8Api.CreateClient();
            var info = (await client.GetFromJsonAsync<JsonElement>("/v1/models"))[0];
            Assert.Equal("int8", info.GetProperty("weightsDType").GetString());
            Assert.Equal("tiny", info.GetProperty("quantization").GetProperty("fromId").GetString());
            Assert.Equal(24, info.GetProperty("quantization").GetProperty("fidelity").GetProperty("canvases").GetInt32());
            var head = await client.GetFromJsonAsync<JsonElement>("/v1/heads/mood");
            Assert.True(head.GetProperty("fittedOnServedModel").GetBoolean());
            Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/v1/classify/text", new { head = "mood", text = "I love it" })).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.PutAsync("/v1/collections/notes", null)).StatusCode); // the float model's collection, idempotent
            var found = await client.PostAsJsonAsync("/v1/collections/notes/search", new { text = "a red circle", top_k = 1 });
            Assert.Equal(HttpStatusCode.OK, found.StatusCode);
            Assert.Equal("a", (await found.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("results")[0].GetProperty("id").GetString());
        }

        // Without a fidelity measure the int8 model does not take the float model's heads: 409, saying why.
        var unmeasured = Path.Combine(_dir, "model-int8-unmeasured");
        Assert.Equal(0, (await Run("quantize", model, unmeasured, "--fidelity-canvases", "0")).Exit);
        using (var api = new ModelFactory(unmeasured, collections))
        {
            var response = await api.CreateClient().PostAsJsonAsync("/v1/classify/text", new { head = "mood", text = "I love it" });
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            Assert.Contains("fidelity", await response.Content.ReadAsStringAsync());
        }

        // Static activations (QDQ, calibrated on generated canvases): recorded as such, within the heads' tolerance, served.
        var qdq = Path.Combine(_dir, "model-static");
        (exit, output, error) = await Run("quantize", model, qdq, "--activations", "static", "--calibration-canvases", "16", "--fidelity-canvases", "24");
        Assert.True(exit == 0, error);
        Assert.Contains("(static-int8, weights in [-64, 64])", output); // 7-bit weights: right on CPUs without VNNI too
        Assert.Equal("static-int8", ModelDirectory.Load(qdq).Manifest.Quantization!.Method);
        using (var api = new ModelFactory(qdq, collections))
            Assert.Equal(HttpStatusCode.OK, (await api.CreateClient().PostAsJsonAsync("/v1/classify/text", new { head = "mood", text = "I love it" })).StatusCode);
        (exit, _, error) = await Run("quantize", model, Path.Combine(_dir, "model-static-0"), "--activations", "static", "--calibration-canvases", "0");
        Assert.Equal(1, exit);
        Assert.Contains("--calibration-canvases", error);

        // convert --int8 in one step: the float model it goes through is not left behind.
        var direct = Path.Combine(_dir, "direct");
        (exit, output, error) = await Run("convert", ckpt, direct, "--int8", "--fidelity-canvases", "8", "--id", "tiny-direct");
        Assert.True(exit == 0, error);
        Assert.Equal("tiny-direct", ModelDirectory.Load(direct).Manifest.Id);
        Assert.Equal("int8", ModelDirectory.Load(direct).Manifest.WeightsDType);
        Assert.DoesNotContain(Directory.GetDirectories(_dir, ".*"), d => d.Contains("direct"));
        // A second run refuses to overwrite, naming the way out.
        (exit, _, error) = await Run("convert", ckpt, direct, "--int8");
        Assert.Equal(1, exit);
        Assert.Contains("--overwrite", error);
    }
}
