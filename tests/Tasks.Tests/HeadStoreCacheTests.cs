using VqaApi.Tasks.Checkpoints;
using VqaApi.Tasks.Conversion;
using VqaApi.Tasks.Heads;
using VqaApi.Tasks.Models;

namespace VqaApi.Tasks.Tests;

/// <summary>A served head is read and parsed once, not on every request: the store asks only for the stored stamp and
/// reads the document again when it changed, whether this process or another replica wrote it.</summary>
public sealed class HeadStoreCacheTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vqaapi-head-cache-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);

    /// <summary>The heads folder, counting the documents read.</summary>
    private sealed class CountingFiles(string directory) : IHeadDocuments
    {
        private readonly HeadFiles _files = new(directory);
        public int Reads;
        public IReadOnlyList<string> Names() => _files.Names();
        public HeadDocument? Read(string name) { Reads++; return _files.Read(name); }
        public string? Stamp(string name) => _files.Stamp(name);
        public long Size(string name) => _files.Size(name);
        public void Write(string name, byte[] json) => _files.Write(name, json);
        public bool Delete(string name) => _files.Delete(name);
        public string Describe(string name) => _files.Describe(name);
    }

    private static Head MakeHead(HeadModel model, params string[] labels)
    {
        int d = 16, k = labels.Length;
        var weights = new HeadWeights(d, 0, k, [], [], new float[d * k], new float[k]);
        return new Head
        {
            Name = "topic", Task = HeadTasks.Text, Labels = labels.Select(l => new HeadLabel(l)).ToList(), Model = model, RenderProfile = "unifont",
            Weights = HeadWeightsFile.From(weights), Metrics = new HeadMetrics(k, null, k, 0, 1, 0, 0, false, 0, 0),
        };
    }

    [Fact]
    public void A_head_is_read_once_until_its_document_changes()
    {
        var arch = new VitArchitecture(32, 1, 2, 64, 16, 32, PoolType.Gap, 16);
        var manifest = CheckpointConverter.Convert(RandomCheckpoint.Create(arch, seed: 1), "t.npz", Path.Combine(_dir, "m"), new ConvertOptions { Id = "t" }).Manifest;
        var heads = Path.Combine(_dir, "heads");
        var documents = new CountingFiles(heads);
        var store = new HeadStore(_dir, manifest, documents);
        store.Save(MakeHead(store.Model, "a", "b"));

        for (int i = 0; i < 5; i++) Assert.Equal(["a", "b"], store.Get("topic").Labels.Select(l => l.Id));
        Assert.Equal(1, documents.Reads);
        Assert.True(store.Exists("topic"));
        Assert.Equal(1, documents.Reads);

        // Written by another process (another replica, or a tool): a new file renamed into place.
        var other = new HeadStore(_dir, manifest);
        other.Save(MakeHead(store.Model, "a", "b", "c"));
        Assert.Equal(["a", "b", "c"], store.Get("topic").Labels.Select(l => l.Id));
        Assert.Equal(2, documents.Reads);
        Assert.Equal(3, store.Get("topic").Labels.Count);
        Assert.Equal(2, documents.Reads);

        // Deleted by another process: not found here either, and not served from the cache.
        Assert.True(File.Exists(Path.Combine(heads, "topic.json")));
        other.Delete("topic");
        Assert.False(store.Exists("topic"));
        Assert.Equal(HeadErrorKind.NotFound, Assert.Throws<HeadException>(() => store.Get("topic")).Kind);
    }
}
