using System.Diagnostics;
using VqaApi.Cli;
using VqaApi.Tasks.Checkpoints;
using VqaApi.Tasks.Conversion;
using VqaApi.Tasks.Heads;
using VqaApi.Tasks.Models;

using VqaApi.Api.Tests;

namespace VqaApi.Cli.Tests;

/// <summary>
/// The heads the trainer learns with the encoder become the service's heads unchanged: PyTorch writes a checkpoint,
/// MLP heads (through the trainer's own export) and the logits it computes for a few embeddings
/// (training/tests/make_head_fixture.py); `convert --heads` imports them and the service's head gives the same logits.
/// Also runs the trainer's own unit tests (training/tests/test_trainer_units.py: losses, schedule, resume) and its export
/// parity test (training/tests/test_export_parity.py: big_vision's fixture, and the converted ONNX encoder).
/// Needs Debian's python3-torch (installed by .ci/run).
/// </summary>
public class TrainedHeadsTests
{
    private const string Python = "/usr/bin/python3";

    private static (int Code, string Output) Run(string arguments, int timeoutSeconds, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(Python, arguments) { WorkingDirectory = TrainingSmokeTests.RepositoryRoot(), RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        using var p = Process.Start(start)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeoutSeconds * 1000)) { p.Kill(entireProcessTree: true); throw new TimeoutException($"python3 {arguments} ran over {timeoutSeconds} s"); }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    private static float[,] ReadMatrix(string path)
    {
        using var f = File.OpenRead(path);
        var a = NpyArray.Read(f, Path.GetFileName(path));
        var m = new float[a.Shape[0], a.Shape[1]];
        Buffer.BlockCopy(a.Data, 0, m, 0, a.Data.Length * 4);
        return m;
    }

    [Fact]
    public void Convert_with_heads_serves_the_trainers_heads_with_the_trainers_logits()
    {
        var dir = Path.Combine(Path.GetTempPath(), "vqaapi-heads-" + Guid.NewGuid().ToString("N"));
        try
        {
            var (code, output) = Run($"training/tests/make_head_fixture.py {dir}", 300);
            Assert.True(code == 0, "fixture script failed (needs python3-torch):\n" + output);
            var model = CheckpointConverter.Convert(Path.Combine(dir, "ckpt.npz"), Path.Combine(dir, "model"), new ConvertOptions { Id = "heads-test", RenderProfile = "shaped" });
            var heads = TrainedHeads.Import(Path.Combine(dir, "heads.npz"), model);
            Assert.Equal([TrainedHeads.VqaName, TrainedHeads.PairName], heads.Select(h => h.Name));

            var store = new HeadStore(model.Path, model.Manifest);
            var vqa = store.Get(TrainedHeads.VqaName);
            Assert.Equal(HeadTasks.Vqa, vqa.Task);
            Assert.Equal(27, vqa.Labels.Count);
            Assert.Equal("count_0", vqa.Labels[0].Id);
            Assert.Equal("zwei", vqa.Labels[2].Names!["de"]);
            Assert.Equal(16, vqa.Classifier.Hidden);
            Assert.Equal(0.75, vqa.Metrics.ValidationAccuracy);
            Assert.Equal(1234, vqa.Metrics.TrainExamples);
            Assert.Equal(HeadStore.ModelKey(model.Manifest), vqa.Model);
            var pair = store.Get(TrainedHeads.PairName);
            Assert.Equal(["entailment", "contradiction", "neutral"], pair.Labels.Select(l => l.Id));

            var x = ReadMatrix(Path.Combine(dir, "embeddings.npy"));
            foreach (var (head, file) in new[] { (vqa, "logits_vqa.npy"), (pair, "logits_pair.npy") })
            {
                var expected = ReadMatrix(Path.Combine(dir, file));
                for (int i = 0; i < x.GetLength(0); i++)
                {
                    var row = Enumerable.Range(0, x.GetLength(1)).Select(j => x[i, j]).ToArray();
                    var logits = head.Classifier.Logits(row);
                    for (int c = 0; c < logits.Length; c++)
                        Assert.True(Math.Abs(logits[c] - expected[i, c]) < 1e-4, $"{head.Name} row {i} class {c}: {logits[c]} against PyTorch's {expected[i, c]}");
                }
            }

            // A heads file that does not fit the model is refused with the reason.
            var other = CheckpointConverter.Convert(RandomCheckpoint.Create(ApiFactory.Architecture, seed: 1), "other.npz",
                Path.Combine(dir, "other"), new ConvertOptions { Id = "other", RenderProfile = "shaped" }); // 32-dimensional embedding
            var e = Assert.Throws<FormatException>(() => TrainedHeads.Import(Path.Combine(dir, "heads.npz"), other));
            Assert.Contains("64-dimensional", e.Message);
            Assert.Throws<FileNotFoundException>(() => TrainedHeads.Import(Path.Combine(dir, "missing.npz"), model));
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }

    [Fact]
    public void The_trainers_export_matches_big_vision_and_the_converted_onnx_encoder()
    {
        // training/tests/test_export_parity.py: the shared big_vision fixture through the PyTorch model, and random tiny
        // models (learned and sincos2d position embeddings, fp32 and fp16 exports) through `vqa convert` + `vqa embed`,
        // run with this build's CLI (vqa.dll beside the tests).
        var cli = "dotnet " + Path.Combine(AppContext.BaseDirectory, "vqa.dll");
        var (code, output) = Run("training/tests/test_export_parity.py", 600, new Dictionary<string, string> { ["VQAAPI_CLI"] = cli });
        Assert.True(code == 0, output);
        Assert.DoesNotContain("FAIL", output);
        Assert.Contains("PASS test_onnx_parity_sincos2d", output);
        Assert.Contains("PASS test_onnx_parity_fp32", output);
    }

    [Fact]
    public void The_trainers_unit_tests_pass()
    {
        var (code, output) = Run("training/tests/test_trainer_units.py", 600);
        Assert.True(code == 0, output);
        Assert.DoesNotContain("FAIL", output);
    }
}
