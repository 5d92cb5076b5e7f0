using Microsoft.Extensions.Logging.Abstractions;
using VqaApi.Api.Tests;
using VqaApi.Retrieval;
using VqaApi.Tasks.Checkpoints;
using VqaApi.Testing;

namespace VqaApi.Cli.Tests;

/// <summary>No other test of this assembly runs beside it: its tests set the environment variables that choose the backend.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class EnvironmentCollection
{
    public const string Name = "Environment variables";
}

/// <summary>
/// The collection verbs on the PostgreSQL backend, chosen as a deployment would choose it: environment variables
/// (<c>Collections__Backend</c>, <c>Collections__Postgres__ConnectionString</c>, <c>Collections__Postgres__Schema</c>). index is
/// resumable and reembed moves the collection to another model there too; copy-collection moves it to the embedded files and
/// back, checked by counts and searches.
/// </summary>
[Collection(EnvironmentCollection.Name)]
public sealed class PostgresCommandTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly Dictionary<string, string?> _saved = new();

    public void Dispose()
    {
        foreach (var (name, value) in _saved) Environment.SetEnvironmentVariable(name, value);
        _dir.Dispose();
    }

    private void Set(string name, string value)
    {
        _saved.TryAdd(name, Environment.GetEnvironmentVariable(name));
        Environment.SetEnvironmentVariable(name, value);
    }

    private static Task<(int Exit, string Output, string Error)> Run(params string[] args) => CommandLineTests.RunWithOutput(args);

    [Fact]
    public async Task Index_reembed_and_copy_collection_work_on_postgres()
    {
        var server = await PostgresServer.Shared;
        var schema = PostgresServer.NewSchema();
        foreach (var (key, value) in server.Settings(schema)) Set(key.Replace(":", "__"), value!);
        var modelA = _dir.File("a");
        var modelB = _dir.File("b");
        foreach (var (dir, seed, id) in new[] { (modelA, 1, "model-a"), (modelB, 2, "model-b") })
        {
            RandomCheckpoint.Save(_dir.File(id + ".npz"), RandomCheckpoint.CreateParameters(ApiFactory.Architecture, seed));
            Assert.Equal(0, (await Run("convert", _dir.File(id + ".npz"), dir, "--id", id)).Exit);
        }
        var texts = _dir.File("texts.jsonl");
        File.WriteAllLines(texts, Enumerable.Range(0, 30).Select(i => $"{{\"id\": \"t{i}\", \"text\": \"sentence {i}\", \"metadata\": {{\"n\": {i}}}}}"));
        var images = _dir.File("images");
        Directory.CreateDirectory(Path.Combine(images, "sub"));
        File.WriteAllBytes(Path.Combine(images, "red.png"), Convert.FromBase64String(ColourImages.Base64("red", 1)));
        File.WriteAllBytes(Path.Combine(images, "sub", "blue.png"), Convert.FromBase64String(ColourImages.Base64("blue", 2)));

        var (exit, output, error) = await Run("index", "--collection", "mixed", "--model", modelA, "--texts", texts, "--batch", "8");
        Assert.True(exit == 0, error);
        Assert.Equal(0, (await Run("index", "--collection", "mixed", "--model", modelA, "--images", images)).Exit);
        (exit, output, error) = await Run("index", "--collection", "mixed", "--model", modelA, "--texts", texts);
        Assert.True(exit == 0, error);
        Assert.Contains("(30 skipped)", error);
        Assert.Contains("32 items", output);

        (exit, output, error) = await Run("reembed", "--collection", "mixed", "--model", modelB);
        Assert.True(exit == 0, error);
        Assert.Contains("now for model model-b", output);

        var root = _dir.File("collections");
        (exit, output, error) = await Run("copy-collection", "--collection", "mixed", "--from", "postgres", "--to", "embedded", "--root", root);
        Assert.True(exit == 0, error);
        Assert.Contains("32 items in the source, 32 in the copy", output);
        using (var files = new CollectionStore(Microsoft.Extensions.Options.Options.Create(new CollectionOptions { Root = root }), NullLogger<CollectionStore>.Instance))
        {
            var c = files.Get("mixed");
            Assert.Equal(("model-b", 32), (c.Info.Model, c.Count));
            Assert.Equal(7, c.Get("t7")!.Metadata.GetProperty("n").GetInt32());
            Assert.Equal(Convert.FromBase64String(ColourImages.Base64("blue", 2)), c.ReadImage(c.Get("sub/blue.png")!.ImageSha256!));
            Assert.Equal("t7", c.Search(c.GetVector("t7"), 1, float.NegativeInfinity, null)[0].Item.Id);
        }

        // The target has it already: refused unless --replace; the same backend twice is refused; an unknown collection is named.
        (exit, _, error) = await Run("copy-collection", "--collection", "mixed", "--from", "postgres", "--to", "embedded", "--root", root);
        Assert.Equal(1, exit);
        Assert.Contains("--replace", error);
        (exit, _, error) = await Run("copy-collection", "--collection", "mixed", "--from", "embedded", "--to", "embedded", "--root", root);
        Assert.Equal(1, exit);
        Assert.Contains("same backend", error);
        (exit, _, error) = await Run("copy-collection", "--collection", "nope", "--from", "embedded", "--to", "postgres", "--root", root);
        Assert.Equal(1, exit);
        Assert.Contains("no collection 'nope'", error);
        (exit, output, error) = await Run("copy-collection", "--collection", "mixed", "--from", "embedded", "--to", "postgres", "--root", root, "--replace");
        Assert.True(exit == 0, error);
        Assert.Contains("found as their own best match", output);

        // An unreachable database is a CLI error that names the setting, not a stack trace.
        Set("Collections__Postgres__ConnectionString", "Host=127.0.0.1;Port=1;Username=postgres;Password=x;Database=postgres;SSL Mode=Disable");
        (exit, _, error) = await Run("index", "--collection", "mixed", "--model", modelA, "--texts", texts);
        Assert.Equal(1, exit);
        Assert.Contains("Collections:Postgres:ConnectionString", error);
    }
}
