using VqaApi.Cli;
using VqaApi.Tasks.Checkpoints;

using VqaApi.Api.Tests;

namespace VqaApi.Cli.Tests;

/// <summary>The command-line verbs, run in process: a user's convert, embed and render, and a clear error for a bad file.</summary>
[Collection("console")]
public sealed class CommandLineTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vqaapi-cli-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);

    internal static async Task<(int Exit, string Error)> Run(params string[] args)
    {
        var error = new StringWriter();
        var previous = Console.Error;
        Console.SetError(error);
        try { return (await CommandLine.RunAsync(args), error.ToString()); }
        finally { Console.SetError(previous); }
    }

    internal static async Task<(int Exit, string Output, string Error)> RunWithOutput(params string[] args)
    {
        var output = new StringWriter();
        var previous = Console.Out;
        Console.SetOut(output);
        try
        {
            var (exit, error) = await Run(args);
            return (exit, output.ToString(), error);
        }
        finally { Console.SetOut(previous); }
    }

    [Fact]
    public async Task Salvage_recovers_a_damaged_collection_and_keeps_the_damaged_files()
    {
        var root = Path.Combine(_dir, "collections");
        var dir = Path.Combine(root, "docs");
        using (var c = VqaApi.Retrieval.Collection.Create(dir, new VqaApi.Retrieval.CollectionInfo("docs", "m", "p", 4, DateTimeOffset.UtcNow), new VqaApi.Retrieval.CollectionOptions()))
            for (int i = 0; i < 50; i++) c.Upsert([new VqaApi.Retrieval.NewItem($"d{i}", $"text {i}", null, null, [1, i, 0, 1])], upsert: false);
        var healthy = await RunWithOutput("salvage", "--collection", "docs", "--root", root);
        Assert.Equal(0, healthy.Exit);
        Assert.Contains("nothing to salvage", healthy.Error);

        var log = VqaApi.Retrieval.Collection.LogSegments(dir)[^1].Path;
        var bytes = File.ReadAllBytes(log);
        bytes[bytes.Length / 2] ^= 0x10;
        File.WriteAllBytes(log, bytes);
        var (exit, output, error) = await RunWithOutput("salvage", "--collection", "docs", "--root", root);
        Assert.Equal(0, exit);
        Assert.Contains("damaged at offset", error);
        Assert.Contains("49 items kept", output);
        Assert.Single(Directory.GetDirectories(root, "docs.damaged-*"));
        using var reopened = VqaApi.Retrieval.Collection.Open(dir, new VqaApi.Retrieval.CollectionOptions());
        Assert.Equal(49, reopened.Count);
        Assert.Equal(1, (await Run("salvage", "--collection", "nope", "--root", root)).Exit);
    }

    [Fact]
    public async Task Keys_are_created_listed_and_revoked()
    {
        var file = Path.Combine(_dir, "keys", "api-keys.json");
        var (exit, key, error) = await RunWithOutput("keys", "create", "--name", "ci robot", "--scope", "write", "--keys-file", file);
        Assert.Equal(0, exit);
        key = key.Trim();
        Assert.StartsWith("vqa_", key);
        Assert.Contains("shown only now", error);
        var record = new VqaApi.Api.Security.ApiKeyStore(file).Find(key);
        Assert.NotNull(record);
        Assert.Equal("write", record!.Scope);

        var (_, listing, _) = await RunWithOutput("keys", "list", "--keys-file", file);
        Assert.Contains(record.Id, listing);
        Assert.Contains("ci robot", listing);
        Assert.DoesNotContain(key, listing);
        Assert.DoesNotContain(key, File.ReadAllText(file));

        Assert.Equal(0, (await Run("keys", "revoke", record.Id, "--keys-file", file)).Exit);
        Assert.Null(new VqaApi.Api.Security.ApiKeyStore(file).Find(key));
        var missing = await Run("keys", "revoke", "nope", "--keys-file", file);
        Assert.Equal(1, missing.Exit);
        Assert.Contains("error: there is no key 'nope'", missing.Error);
        var badScope = await Run("keys", "create", "--name", "x", "--scope", "root", "--keys-file", file);
        Assert.NotEqual(0, badScope.Exit);

        File.WriteAllText(file, "{ not json");
        var broken = await Run("keys", "list", "--keys-file", file);
        Assert.Equal(1, broken.Exit);
        Assert.Contains("cannot be read", broken.Error);
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
    public async Task Index_is_resumable_and_reembed_moves_a_collection_to_another_model()
    {
        var modelA = Path.Combine(_dir, "a");
        var modelB = Path.Combine(_dir, "b");
        foreach (var (dir, seed, id) in new[] { (modelA, 1, "model-a"), (modelB, 2, "model-b") })
        {
            var ckpt = Path.Combine(_dir, id + ".npz");
            RandomCheckpoint.Save(ckpt, RandomCheckpoint.CreateParameters(ApiFactory.Architecture, seed));
            Assert.Equal(0, (await Run("convert", ckpt, dir, "--id", id)).Exit);
        }
        var root = Path.Combine(_dir, "collections");
        var texts = Path.Combine(_dir, "texts.jsonl");
        File.WriteAllLines(texts, Enumerable.Range(0, 30).Select(i => $"{{\"id\": \"t{i}\", \"text\": \"sentence {i}\", \"metadata\": {{\"n\": {i}}}}}"));
        var images = Path.Combine(_dir, "images");
        Directory.CreateDirectory(Path.Combine(images, "sub"));
        File.WriteAllBytes(Path.Combine(images, "red.png"), Convert.FromBase64String(ColourImages.Base64("red", 1)));
        File.WriteAllBytes(Path.Combine(images, "sub", "blue.png"), Convert.FromBase64String(ColourImages.Base64("blue", 2)));

        var (exit, error) = await Run("index", "--collection", "mixed", "--model", modelA, "--root", root, "--texts", texts, "--batch", "8");
        Assert.True(exit == 0, error);
        Assert.Equal(0, (await Run("index", "--collection", "mixed", "--model", modelA, "--root", root, "--images", images)).Exit);
        // Run again: everything is there already, nothing is embedded twice.
        (exit, error) = await Run("index", "--collection", "mixed", "--model", modelA, "--root", root, "--texts", texts);
        Assert.Equal(0, exit);
        Assert.Contains("(30 skipped)", error);

        var options = Microsoft.Extensions.Options.Options.Create(new VqaApi.Retrieval.CollectionOptions { Root = root });
        using (var store = new VqaApi.Retrieval.CollectionStore(options, Microsoft.Extensions.Logging.Abstractions.NullLogger<VqaApi.Retrieval.CollectionStore>.Instance))
        {
            var c = store.Get("mixed");
            Assert.Equal(32, c.Count);
            Assert.Equal("model-a", c.Info.Model);
            Assert.NotNull(c.Get("sub/blue.png"));
        }

        (exit, error) = await Run("reembed", "--collection", "mixed", "--model", modelB, "--root", root);
        Assert.True(exit == 0, error);
        using (var store = new VqaApi.Retrieval.CollectionStore(options, Microsoft.Extensions.Logging.Abstractions.NullLogger<VqaApi.Retrieval.CollectionStore>.Instance))
        {
            var c = store.Get("mixed");
            Assert.Equal(32, c.Count);
            Assert.Equal("model-b", c.Info.Model);
            var t7 = c.Get("t7")!;
            Assert.Equal(7, t7.Metadata.GetProperty("n").GetInt32());
            Assert.Equal("t7", c.Search(c.GetVector("t7"), 1, float.NegativeInfinity, null)[0].Item.Id);
        }
    }

    [Fact]
    public async Task Index_waits_until_the_hnsw_index_holds_every_item_unless_told_not_to()
    {
        var model = Path.Combine(_dir, "m");
        var ckpt = Path.Combine(_dir, "m.npz");
        RandomCheckpoint.Save(ckpt, RandomCheckpoint.CreateParameters(ApiFactory.Architecture, 6));
        Assert.Equal(0, (await Run("convert", ckpt, model, "--id", "model-h")).Exit);
        var root = Path.Combine(_dir, "collections");
        var first = Path.Combine(_dir, "first.jsonl");
        File.WriteAllLines(first, Enumerable.Range(0, 40).Select(i => $"{{\"id\": \"a{i}\", \"text\": \"phrase number {i}\"}}"));
        var second = Path.Combine(_dir, "second.jsonl");
        File.WriteAllLines(second, Enumerable.Range(0, 20).Select(i => $"{{\"id\": \"b{i}\", \"text\": \"another phrase {i}\"}}"));
        var index = Path.Combine(root, "h", VqaApi.Retrieval.Collection.HnswFile);

        var (exit, error) = await Run("index", "--collection", "h", "--model", model, "--root", root, "--texts", first, "--hnsw-threshold", "10");
        Assert.True(exit == 0, error);
        Assert.Contains("HNSW index: all 40 items added", error);
        using (var saved = VqaApi.Retrieval.HnswIndex.Load(index)) Assert.Equal(40, saved.Count); // complete on disk at exit

        (exit, error) = await Run("index", "--collection", "h", "--model", model, "--root", root, "--texts", second, "--hnsw-threshold", "10", "--no-wait-index");
        Assert.True(exit == 0, error);
        Assert.DoesNotContain("HNSW index: all", error);
        using (var saved = VqaApi.Retrieval.HnswIndex.Load(index)) Assert.InRange(saved.Count, 40, 60); // as far as it got

        // The next opening tops the index up from the stored vectors.
        var options = Microsoft.Extensions.Options.Options.Create(new VqaApi.Retrieval.CollectionOptions { Root = root, HnswThreshold = 10 });
        using var store = new VqaApi.Retrieval.CollectionStore(options, Microsoft.Extensions.Logging.Abstractions.NullLogger<VqaApi.Retrieval.CollectionStore>.Instance);
        var c = store.Get("h");
        c.WaitForHnsw(null, TimeSpan.FromMilliseconds(20));
        Assert.True(c.HnswReady);
        Assert.Equal(60, c.Count);
        Assert.Equal("b3", c.Search(c.GetVector("b3"), 1, float.NegativeInfinity, null)[0].Item.Id);
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

    [Fact]
    public async Task Generate_writes_a_shard_in_the_documented_size_and_names_bad_options()
    {
        var shard = Path.Combine(_dir, "train.bin");
        var (exit, error) = await Run("generate", "shard", "--count", "6", "--size", "64", "--seed", "3", "--out", shard);
        Assert.True(exit == 0, error);
        Assert.Equal(64 + 6 * (64 + 2 * 64 * 64 * 3), new FileInfo(shard).Length);
        Assert.False(File.Exists(shard + ".partial"));

        (exit, error) = await Run("generate", "shard", "--count", "6", "--split", "validation", "--out", shard);
        Assert.Equal(1, exit);
        Assert.Contains("unknown split 'validation'", error);
        (exit, error) = await Run("generate", "shard", "--count", "6", "--mix", "photos=1", "--out", shard);
        Assert.Equal(1, exit);
        Assert.Contains("unknown kind 'photos'", error);
    }
}
