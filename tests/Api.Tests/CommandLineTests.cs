using VqaApi.Api.Cli;
using VqaApi.Tasks.Checkpoints;

namespace VqaApi.Api.Tests;

/// <summary>The command-line verbs, run in process: a user's convert, embed and render, and a clear error for a bad file.</summary>
[Collection("console")]
public sealed class CommandLineTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vqaapi-cli-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);

    private static async Task<(int Exit, string Error)> Run(params string[] args)
    {
        var error = new StringWriter();
        var previous = Console.Error;
        Console.SetError(error);
        try { return (await CommandLine.RunAsync(args), error.ToString()); }
        finally { Console.SetError(previous); }
    }

    [Fact]
    public async Task Convert_embed_and_render_from_the_command_line()
    {
        var ckpt = Path.Combine(_dir, "tiny.npz");
        RandomCheckpoint.Save(ckpt, RandomCheckpoint.CreateParameters(ApiFactory.Architecture, 3), NpyDType.BFloat16);
        var model = Path.Combine(_dir, "model");
        Assert.Equal(0, (await Run("convert", ckpt, model, "--fp16")).Exit);

        var outFile = Path.Combine(_dir, "text.npy");
        Assert.Equal(0, (await Run("embed", "--model", model, "--text", "hello", "--text", "world", "--out", outFile)).Exit);
        using (var f = File.OpenRead(outFile))
        {
            var embeddings = NpyArray.Read(f, "text.npy");
            Assert.Equal([2, 32], embeddings.Shape);
            Assert.Equal(1.0, Math.Sqrt(embeddings.Data.Take(32).Sum(v => (double)v * v)), 4);
        }

        var tensor = Path.Combine(_dir, "x.npy");
        using (var f = File.Create(tensor)) new NpyArray([1, 64, 64, 3], new float[64 * 64 * 3]).Write(f);
        var pre = Path.Combine(_dir, "pre.npy");
        Assert.Equal(0, (await Run("embed", "--model", model, "--tensor", tensor, "--output", "pre_logits", "--out", pre)).Exit);
        using (var f = File.OpenRead(pre)) Assert.Equal([1, 64], NpyArray.Read(f, "pre.npy").Shape);

        var png = Path.Combine(_dir, "canvas.png");
        Assert.Equal(0, (await Run("render", "--text", "Hello", "--out", png)).Exit);
        Assert.True(new FileInfo(png).Length > 100);
    }

    [Fact]
    public async Task Fit_a_head_from_a_jsonl_file()
    {
        var ckpt = Path.Combine(_dir, "tiny.npz");
        RandomCheckpoint.Save(ckpt, RandomCheckpoint.CreateParameters(ApiFactory.Architecture, 4));
        var model = Path.Combine(_dir, "model");
        Assert.Equal(0, (await Run("convert", ckpt, model)).Exit);
        var red = Path.Combine(_dir, "red.png");
        var blue = Path.Combine(_dir, "blue.png");
        File.WriteAllBytes(red, Convert.FromBase64String(ColourImages.Base64("red", 1)));
        File.WriteAllBytes(blue, Convert.FromBase64String(ColourImages.Base64("blue", 2)));
        var examples = Path.Combine(_dir, "examples.jsonl");
        File.WriteAllLines(examples, Enumerable.Range(0, 6).Select(i => i % 2 == 0
            ? "{\"label\": \"red\", \"image\": \"red.png\"}" : "{\"label\": \"blue\", \"image\": \"blue.png\"}"));
        var (exit, error) = await Run("fit-head", "--model", model, "--examples", examples, "--name", "colour", "--task", "image", "--validation-fraction", "0");
        Assert.True(exit == 0, error);
        Assert.True(File.Exists(Path.Combine(model, "heads", "colour.json")));

        File.AppendAllText(examples, "not json\n");
        (exit, error) = await Run("fit-head", "--model", model, "--examples", examples, "--name", "colour2", "--task", "image");
        Assert.Equal(1, exit);
        Assert.Contains("examples.jsonl line 7", error);
    }

    [Fact]
    public async Task A_bad_checkpoint_gives_one_line_naming_the_problem()
    {
        var bad = Path.Combine(_dir, "bad.npz");
        File.WriteAllBytes(bad, [1, 2, 3, 4]);
        var (exit, error) = await Run("convert", bad, Path.Combine(_dir, "out"));
        Assert.Equal(1, exit);
        Assert.StartsWith("error: 'bad.npz' is not a readable .npz archive", error);
        Assert.False(Directory.Exists(Path.Combine(_dir, "out")));

        var wrongTensor = Path.Combine(_dir, "t.npy");
        using (var f = File.Create(wrongTensor)) new NpyArray([1, 32, 32, 3], new float[32 * 32 * 3]).Write(f);
        RandomCheckpoint.Save(Path.Combine(_dir, "ok.npz"), RandomCheckpoint.CreateParameters(ApiFactory.Architecture, 3));
        Assert.Equal(0, (await Run("convert", Path.Combine(_dir, "ok.npz"), Path.Combine(_dir, "m"))).Exit);
        (exit, error) = await Run("embed", "--model", Path.Combine(_dir, "m"), "--tensor", wrongTensor, "--out", Path.Combine(_dir, "o.npy"));
        Assert.Equal(1, exit);
        Assert.Contains("needs (N, 64, 64, 3)", error);
    }
}
