using VqaApi.Retrieval;
using Xunit.Abstractions;

namespace VqaApi.Retrieval.Tests;

/// <summary>Runs alone: it measures the managed heap, which tests running beside it would disturb.</summary>
[CollectionDefinition("managed memory", DisableParallelization = true)]
public sealed class ManagedMemoryCollection;

/// <summary>Each vector is held once in memory, by the exact index; items keep no copy.</summary>
[Collection("managed memory")]
public sealed class CollectionMemoryTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    private static long ManagedBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static float[] Vector(int seed, int d)
    {
        var rng = new Random(seed);
        var v = Enumerable.Range(0, d).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        float n = MathF.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / n).ToArray();
    }

    [Fact]
    public void Items_hold_no_copy_of_their_vectors()
    {
        const int n = 20_000, d = 768, batch = 500;
        long vectorBytes = d * sizeof(float);

        // The exact index alone, holding the same vectors: the floor.
        long before = ManagedBytes();
        var index = new ExactIndex(d);
        for (int i = 0; i < n; i++) index.Upsert(i + 1, Vector(i, d));
        long indexBytes = ManagedBytes() - before;
        GC.KeepAlive(index);
        index.Dispose();
        index = null;

        var options = new CollectionOptions { Fsync = FsyncPolicy.OsBuffered, SnapshotEveryRecords = 1_000_000, HnswThreshold = int.MaxValue };
        before = ManagedBytes();
        var c = Collection.Create(_tmp.File("m"), new CollectionInfo("m", "model", "p", d, DateTimeOffset.UtcNow), options);
        for (int start = 0; start < n; start += batch)
            c.Upsert(Enumerable.Range(start, batch).Select(i => new NewItem($"item-{i:D6}", null, null, null, Vector(i, d))).ToList(), upsert: false);
        long collectionBytes = ManagedBytes() - before;
        Assert.Equal(n, c.Count);

        double outsidePerItem = (collectionBytes - indexBytes) / (double)n;
        double ratio = outsidePerItem / vectorBytes;
        output.WriteLine($"{n:N0} items of {d} dimensions (vector {vectorBytes:N0} bytes): collection {collectionBytes / 1048576.0:F1} MB managed, " +
                         $"exact index alone {indexBytes / 1048576.0:F1} MB; {outsidePerItem:F0} bytes per item outside the index = {ratio:F3} of a vector");
        // An item that kept its float[] would cost more than one whole vector here (ratio > 1).
        Assert.True(ratio < 0.25, $"{outsidePerItem:F0} bytes per item beside the index ({ratio:F3} of a vector): items seem to hold vectors");

        // Reopening replays 20,000 records through one reused vector buffer: it ends up no bigger than the writer did.
        c.Dispose();
        c = null;
        before = ManagedBytes();
        using var reopened = Collection.Open(_tmp.File("m"), options);
        long reopenedBytes = ManagedBytes() - before;
        output.WriteLine($"after reopening: {reopenedBytes / 1048576.0:F1} MB managed ({reopenedBytes / (double)collectionBytes:F3} of the written collection)");
        Assert.Equal(n, reopened.Count);
        Assert.True(reopenedBytes < collectionBytes * 1.1, $"reopened {reopenedBytes:N0} bytes vs {collectionBytes:N0} written");
    }
}
