using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using VqaApi.Tasks.Conversion;

using VqaApi.Api.Tests;

namespace VqaApi.Cli.Tests;

/// <summary>
/// The whole training loop on the CPU, as CI runs it: the real generator (vqa-generate) feeds the Python trainer
/// (training/train.py, tiny config, 64 px) for about two minutes, the loss falls, the exported big_vision checkpoint
/// converts, and the API serves the converted model. Needs Debian's python3-torch (installed by .ci/run).
/// </summary>
public class TrainingSmokeTests
{
    private const string Python = "/usr/bin/python3";

    internal static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "VqaApi.sln"))) return d.FullName;
        throw new InvalidOperationException("the repository root (VqaApi.sln) is not above the test assembly");
    }

    private static (int Code, string Output) Run(string file, string arguments, string workingDirectory, int timeoutSeconds)
    {
        var start = new ProcessStartInfo(file, arguments) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000)) { p.Kill(entireProcessTree: true); throw new TimeoutException($"{file} {arguments} ran over {timeoutSeconds} s"); }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    [Fact]
    public async Task Tiny_model_trains_on_the_generator_stream_converts_and_is_served()
    {
        var repo = RepositoryRoot();
        var (torchCode, torchOut) = Run(Python, "-c \"import torch, numpy; print(torch.__version__)\"", repo, 120);
        Assert.True(torchCode == 0, "PyTorch is missing: apt-get install -y python3-torch python3-numpy libopenblas0-pthread (.ci/run does this)\n" + torchOut);

        // The generator's own build output: in this folder the test host's ASP.NET framework has displaced
        // packages the stand-alone generator needs (Microsoft.Extensions.Caching.*, for ICU4N).
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        var generator = Path.Combine(repo, "GeneratorTool", "bin", configuration, "net10.0", "vqa-generate.dll");
        Assert.True(File.Exists(generator), $"{generator} is missing (Api.Tests references the generator project)");
        var run = Path.Combine(Path.GetTempPath(), "vqaapi-train-smoke-" + Guid.NewGuid().ToString("N"));
        try
        {
            var command = $"dotnet {generator} stream --seed 1 --split train --size 64 --mix caption=4,text=2,vqa=3,pair=1";
            var (code, output) = Run(Python,
                $"training/train.py --config tiny --time-budget 150 --margin 20 --workers 1 --threads 1 --batch 32 --lr 3e-4 --warmup 20 --log-every 10 --head-hidden 16 --attribute-weight 1 --out {run} --generator \"{command}\"",
                repo, 400);
            Assert.True(code == 0, "training failed:\n" + output);

            // The training loss (contrastive + VQA + pair heads) falls: the mean of the last five logged steps is
            // clearly below the first logged loss. Accuracy is not asserted: two minutes on two cores teach little.
            var steps = File.ReadLines(Path.Combine(run, "train_log.jsonl")).Select(l => JsonDocument.Parse(l).RootElement)
                .Where(e => e.TryGetProperty("step", out _) && e.TryGetProperty("loss", out _)).ToList();
            Assert.True(steps.Count >= 8, $"only {steps.Count} logged steps:\n{output}");
            double first = steps[0].GetProperty("loss").GetDouble();
            double last = steps.TakeLast(5).Average(e => e.GetProperty("loss").GetDouble());
            Assert.True(last < first - 0.2, $"training loss did not fall: first {first:F3}, mean of the last five {last:F3}\n{output}");

            var model = Path.Combine(run, "model");
            var converted = CheckpointConverter.Convert(Path.Combine(run, "ckpt.npz"), model, new ConvertOptions { Id = "smoke", RenderProfile = "shaped" });
            var manifest = converted.Manifest;
            Assert.Equal(64, manifest.Architecture.Width);
            // The heads trained with the encoder (MLP, hidden 16) become the model's gen-vqa and gen-pair heads.
            var heads = VqaApi.Cli.TrainedHeads.Import(Path.Combine(run, "heads.npz"), converted);
            Assert.Equal(2, heads.Count);
            Assert.All(heads, h => Assert.Equal(16, h.Classifier.Hidden));

            using var factory = new ModelFactory(model);
            using var client = factory.CreateClient();
            var answer = await client.PostAsJsonAsync("/v1/embed", new { texts = new[] { "two red circles", "zwei rote Kreise" } });
            Assert.Equal(System.Net.HttpStatusCode.OK, answer.StatusCode);
            var body = JsonDocument.Parse(await answer.Content.ReadAsStringAsync()).RootElement;
            var vectors = body.GetProperty("texts").EnumerateArray().ToList();
            Assert.Equal(2, vectors.Count);
            var v = vectors[0].GetProperty("embedding").EnumerateArray().Select(x => x.GetDouble()).ToArray();
            Assert.Equal(manifest.Architecture.EmbeddingDim, v.Length);
            Assert.InRange(Math.Sqrt(v.Sum(x => x * x)), 0.99, 1.01);

            using var form = new MultipartFormDataContent
            {
                { new ByteArrayContent(File.ReadAllBytes(Path.Combine(repo, "docs", "tour", "scene.png"))), "image", "scene.png" },
                { new StringContent("How many circles are there?"), "question" },
                { new StringContent("gen-vqa"), "head" },
            };
            var vqa = await client.PostAsync("/v1/vqa", form);
            var vqaBody = await vqa.Content.ReadAsStringAsync();
            Assert.True(vqa.StatusCode == System.Net.HttpStatusCode.OK, vqaBody);
            var best = JsonDocument.Parse(vqaBody).RootElement.GetProperty("answers")[0].GetProperty("label").GetString();
            Assert.Contains(best, heads[0].Labels.Select(l => l.Id));
        }
        finally
        {
            try { Directory.Delete(run, true); } catch (IOException) { }
        }
    }

    private sealed class ModelFactory(string path) : ApiFactory
    {
        protected override Dictionary<string, string?> Settings => new() { ["Model:Path"] = path };
    }
}
