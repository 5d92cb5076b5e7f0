using VqaApi.Retrieval;

namespace VqaApi.Retrieval.Tests;

/// <summary>
/// Snapshots written in the background: writes are acknowledged while one is written, and a crash at any point of it
/// (simulated by copying the collection folder at that point, which is what a kill -9 leaves behind) loses nothing.
/// </summary>
public sealed class CollectionSnapshotTests : IDisposable
{
    private const int D = 8;
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    private static float[] Vector(int seed)
    {
        var rng = new Random(seed);
        var v = Enumerable.Range(0, D).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        float n = MathF.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / n).ToArray();
    }

    private static Collection New(string dir, CollectionOptions options) =>
        Collection.Create(dir, new CollectionInfo("s", "m", "p", D, DateTimeOffset.UtcNow), options);

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from)) File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
    }

    /// <summary>The collection holds exactly these ids with exactly these vectors.</summary>
    private static void AssertHolds(Collection c, IReadOnlyDictionary<string, float[]> expected)
    {
        Assert.Equal(expected.Count, c.Count);
        foreach (var (id, vector) in expected) Assert.Equal(vector, c.GetVector(id));
    }

    [Fact]
    public async Task Writes_are_acknowledged_while_a_snapshot_is_being_written()
    {
        var dir = _tmp.File("w");
        var writing = new ManualResetEventSlim();
        var release = new ManualResetEventSlim();
        var ended = new ManualResetEventSlim();
        var options = new CollectionOptions { SnapshotEveryRecords = 1000 };
        var atCut = new Dictionary<string, float[]>();
        var expected = new Dictionary<string, float[]>();
        using (var c = New(dir, options))
        {
            c.Hook = e =>
            {
                if (e == CollectionEvent.SnapshotWriting) { writing.Set(); release.Wait(); } // a snapshot that takes as long as the test wants
                if (e == CollectionEvent.SnapshotEnded) ended.Set();
            };
            for (int b = 0; b < 10; b++) // the 10th batch reaches 1,000 records and starts the snapshot
            {
                Assert.False(c.SnapshotRunning);
                c.Upsert(Enumerable.Range(b * 100, 100).Select(i => new NewItem($"id{i}", null, null, null, Vector(i))).ToList(), upsert: false);
            }
            Assert.True(c.SnapshotRunning); // from the write that started it on
            for (int i = 0; i < 1000; i++) atCut[$"id{i}"] = Vector(i);
            Assert.True(writing.Wait(TimeSpan.FromSeconds(30)), "the snapshot did not start");

            // The snapshot is stuck after its first batch of items. Writes go on: new items, and a replacement and a
            // delete of items it has not read yet (their vectors as of the snapshot must still reach it, so the collection
            // keeps a copy of each), and a replacement of one it has read (no copy needed).
            var writes = Task.Run(() =>
            {
                for (int i = 0; i < 50; i++) c.Upsert([new NewItem($"new{i}", null, null, null, Vector(10_000 + i))], upsert: false);
                c.Upsert([new NewItem("id900", null, null, null, Vector(20_000))], upsert: true);
                Assert.True(c.Delete("id901"));
                c.Upsert([new NewItem("id5", null, null, null, Vector(20_005))], upsert: true);
            });
            await writes.WaitAsync(TimeSpan.FromSeconds(60)); // a TimeoutException here: the writes waited for the snapshot
            Assert.False(ended.IsSet, "the snapshot was still being written when the writes were acknowledged");
            Assert.True(c.SnapshotRunning);
            Assert.Equal("new7", c.Search(Vector(10_007), 1, float.NegativeInfinity, null)[0].Item.Id);
            Assert.Equal(Vector(20_000), c.GetVector("id900"));
            Assert.Equal(2, c.RetainedVectors); // id900 and id901; not id5, which the snapshot had written

            release.Set();
            Assert.True(ended.Wait(TimeSpan.FromSeconds(60)));
            Assert.Equal(0, c.RetainedVectors);
            c.WaitForBackgroundSnapshot();
            Assert.False(c.SnapshotRunning);
            Assert.Equal(0, c.SnapshotFailures);
        }
        foreach (var (id, v) in atCut) expected[id] = v;
        for (int i = 0; i < 50; i++) expected[$"new{i}"] = Vector(10_000 + i);
        expected["id900"] = Vector(20_000);
        expected["id5"] = Vector(20_005);
        expected.Remove("id901");

        // The snapshot alone is the collection as it was when the snapshot started.
        var alone = _tmp.File("alone");
        Directory.CreateDirectory(alone);
        File.Copy(Path.Combine(dir, Collection.InfoFile), Path.Combine(alone, Collection.InfoFile));
        File.Copy(Path.Combine(dir, Collection.SnapshotFile), Path.Combine(alone, Collection.SnapshotFile));
        using (var snapshotOnly = Collection.Open(alone, options)) AssertHolds(snapshotOnly, atCut);

        // Snapshot + the segment written meanwhile: everything acknowledged; the covered segment is gone.
        Assert.Equal([2], Collection.LogSegments(dir).Select(s => s.Number));
        using var reopened = Collection.Open(dir, options);
        AssertHolds(reopened, expected);
    }

    [Theory]
    [InlineData(nameof(CollectionEvent.SnapshotRotated))]
    [InlineData(nameof(CollectionEvent.SnapshotWriting))]
    [InlineData(nameof(CollectionEvent.SnapshotWritten))]
    [InlineData(nameof(CollectionEvent.SnapshotRenamed))] // between the rename and the deletion of the covered segment
    [InlineData(nameof(CollectionEvent.SnapshotSegmentDeleted))]
    public void A_crash_at_any_point_of_a_snapshot_loses_no_acknowledged_write(string point)
    {
        var crashAt = Enum.Parse<CollectionEvent>(point);
        var dir = _tmp.File("c");
        var crashed = _tmp.File("crashed");
        var writing = new ManualResetEventSlim();
        var resume = new ManualResetEventSlim();
        var ended = new ManualResetEventSlim();
        var options = new CollectionOptions { SnapshotEveryRecords = 100 };
        var state = new Dictionary<string, float[]>();
        Dictionary<string, float[]>? atCrash = null;
        using (var c = New(dir, options))
        {
            c.Hook = e =>
            {
                if (e == crashAt && atCrash is null)
                {
                    CopyFolder(dir, crashed); // what kill -9 at this instant leaves on disk
                    atCrash = new Dictionary<string, float[]>(state);
                }
                if (e == CollectionEvent.SnapshotWriting) { writing.Set(); resume.Wait(); }
                if (e == CollectionEvent.SnapshotEnded) ended.Set();
            };
            void Write(int first)
            {
                var batch = Enumerable.Range(first, 10).Select(i => new NewItem($"i{i}", null, null, null, Vector(i))).ToList();
                // Recorded as acknowledged before the call returns: a crash copy taken inside the call (at the rotation)
                // happens after these records are in the log.
                foreach (var item in batch) state[item.Id] = item.Vector;
                c.Upsert(batch, upsert: false);
            }
            for (int b = 0; b < 10; b++) Write(b * 10); // the 10th batch starts the snapshot
            Assert.True(writing.Wait(TimeSpan.FromSeconds(30)));
            for (int b = 10; b < 15; b++) Write(b * 10); // acknowledged while the snapshot is written, into the new segment
            c.Upsert([new NewItem("i55", null, null, null, Vector(555))], upsert: true);
            state["i55"] = Vector(555);
            Assert.True(c.Delete("i95"));
            state.Remove("i95");
            resume.Set();
            Assert.True(ended.Wait(TimeSpan.FromSeconds(60)));
            Assert.Equal(0, c.SnapshotFailures);
        }
        Assert.NotNull(atCrash);

        using (var recovered = Collection.Open(crashed, options))
        {
            Assert.False(recovered.RecoveredTornRecord);
            AssertHolds(recovered, atCrash!);
        }
        // A segment that the snapshot already covers is harmless (its records are skipped) and is deleted at start-up.
        Assert.Single(Collection.LogSegments(crashed), s => s.Number == 2);
        if (crashAt >= CollectionEvent.SnapshotRenamed) Assert.Single(Collection.LogSegments(crashed));
        using (var again = Collection.Open(crashed, options)) AssertHolds(again, atCrash!);

        using var reopened = Collection.Open(dir, options);
        AssertHolds(reopened, state);
    }

    [Fact]
    public void Snapshot_waits_for_the_running_one_and_then_covers_everything()
    {
        var dir = _tmp.File("p");
        var options = new CollectionOptions { SnapshotEveryRecords = 1_000_000 };
        var expected = new Dictionary<string, float[]>();
        using (var c = New(dir, options))
        {
            for (int i = 0; i < 30; i++)
            {
                c.Upsert([new NewItem($"x{i}", null, null, null, Vector(i))], upsert: false);
                expected[$"x{i}"] = Vector(i);
                if (i % 10 == 9) c.Snapshot();
            }
            c.Snapshot(); // nothing new since the last one: no new segment, the snapshot is rewritten
            Assert.Equal(0, c.SnapshotFailures);
        }
        Assert.Single(Collection.LogSegments(dir));
        Assert.Equal(0, new FileInfo(Collection.LogSegments(dir)[0].Path).Length);
        using var reopened = Collection.Open(dir, options);
        AssertHolds(reopened, expected);
    }

    [Fact]
    public void A_legacy_single_log_file_is_replayed_and_continued_in_segments()
    {
        var dir = _tmp.File("legacy");
        var options = new CollectionOptions { SnapshotEveryRecords = 20 };
        var expected = new Dictionary<string, float[]>();
        using (var c = New(dir, options))
            for (int i = 0; i < 5; i++) { c.Upsert([new NewItem($"l{i}", null, null, null, Vector(i))], upsert: false); expected[$"l{i}"] = Vector(i); }
        // Collections written before log segments had one log.bin.
        File.Move(Collection.LogSegments(dir)[0].Path, Path.Combine(dir, Collection.LegacyLogFile));
        using (var c = Collection.Open(dir, options))
        {
            AssertHolds(c, expected);
            for (int i = 5; i < 40; i++)
            {
                c.Upsert([new NewItem($"l{i}", null, null, null, Vector(i))], upsert: false);
                expected[$"l{i}"] = Vector(i);
                c.WaitForBackgroundSnapshot();
            }
        }
        Assert.False(File.Exists(Path.Combine(dir, Collection.LegacyLogFile)), "the snapshot covered and deleted log.bin");
        using var reopened = Collection.Open(dir, options);
        AssertHolds(reopened, expected);
    }

    [Fact]
    public void A_damaged_older_segment_is_refused_not_silently_skipped()
    {
        var dir = _tmp.File("bad");
        var options = new CollectionOptions { SnapshotEveryRecords = 10 };
        var block = new ManualResetEventSlim();
        using (var c = New(dir, options))
        {
            c.Hook = e => { if (e == CollectionEvent.SnapshotWriting) block.Wait(); };
            for (int i = 0; i < 15; i++) c.Upsert([new NewItem($"d{i}", null, null, null, Vector(i))], upsert: false);
            // Copy while the snapshot is stuck: segment 1 (records 1-10) is still needed.
            CopyFolder(dir, _tmp.File("bad-copy"));
            block.Set();
        }
        var copy = _tmp.File("bad-copy");
        var first = Collection.LogSegments(copy)[0].Path;
        var bytes = File.ReadAllBytes(first);
        File.WriteAllBytes(first, bytes[..^5]);
        var e = Assert.Throws<LogDamagedException>(() => Collection.Open(copy, options));
        Assert.Contains(Path.GetFileName(first), e.Message);
        Assert.Equal(bytes.Length - 5, new FileInfo(first).Length); // not cut further
    }

    [Fact]
    public void With_float16_storage_the_vector_read_back_is_the_rounded_one()
    {
        var dir = _tmp.File("f16");
        var options = new CollectionOptions { Float16 = true, SnapshotEveryRecords = 1_000_000 };
        var sent = Vector(3);
        var rounded = sent.Select(x => (float)(Half)x).ToArray();
        Assert.NotEqual(sent, rounded);
        using (var c = New(dir, options))
        {
            c.Upsert([new NewItem("h", null, null, null, sent)], upsert: false);
            Assert.Equal(rounded, c.GetVector("h"));
            c.Snapshot();
        }
        using var reopened = Collection.Open(dir, options);
        Assert.Equal(rounded, reopened.GetVector("h"));
        Assert.Null(reopened.GetVector("missing"));
    }
}

/// <summary>The HNSW side of collections: the search expansion, waiting for the background build, a half-built index at close.</summary>
public sealed class CollectionHnswLifecycleTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    [Theory]
    [InlineData(0, 10, 1_000, 128)]
    [InlineData(0, 10, 199_999, 128)]
    [InlineData(0, 10, 200_000, 256)]
    [InlineData(0, 10, 5_000_000, 256)]
    [InlineData(0, 100, 1_000, 200)]
    [InlineData(0, 200, 300_000, 400)]
    [InlineData(64, 100, 1_000_000, 64)]
    [InlineData(300, 10, 10, 300)]
    public void The_automatic_search_expansion_grows_with_the_collection_and_top_k_and_an_explicit_one_wins(int configured, int topK, int items, int expected) =>
        Assert.Equal(expected, new CollectionOptions { HnswExpansionSearch = configured }.HnswExpansionFor(topK, items));

    [Theory]
    [InlineData(-1, false)]
    [InlineData(0, true)]
    [InlineData(192, true)]
    [InlineData(10_001, false)]
    public void The_search_expansion_is_validated(int value, bool valid)
    {
        var options = new CollectionOptions { HnswExpansionSearch = value };
        var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        Assert.Equal(valid, System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), results, validateAllProperties: true));
        Assert.Equal(0, new CollectionOptions().HnswExpansionSearch);
    }

    [Fact]
    public void A_per_search_expansion_raises_recall_without_changing_the_index_setting()
    {
        const int n = 4000, d = 48, k = 10;
        var rng = new Random(21);
        var data = Enumerable.Range(0, n).Select(_ => CollectionHnswTests.Random(rng, d)).ToArray();
        using var exact = new ExactIndex(d);
        using var hnsw = new HnswIndex(d, expansionSearch: 1);
        for (int i = 0; i < n; i++) { exact.Upsert(i, data[i]); hnsw.Upsert(i, data[i]); }
        double low = 0, high = 0;
        var queries = Enumerable.Range(0, 50).Select(_ => CollectionHnswTests.Random(rng, d)).ToList();
        foreach (var q in queries)
        {
            var truth = exact.Search(q, k).Select(h => h.Key).ToHashSet();
            low += hnsw.Search(q, k).Count(h => truth.Contains(h.Key)) / (double)k;
            var wide = hnsw.Search(q, k, null, float.NegativeInfinity, expansion: 400);
            Assert.Equal(k, wide.Count);
            Assert.True(wide.Zip(wide.Skip(1)).All(p => p.First.Score >= p.Second.Score), "best first");
            high += wide.Count(h => truth.Contains(h.Key)) / (double)k;
        }
        low /= queries.Count;
        high /= queries.Count;
        Assert.True(high >= 0.95 && high > low + 0.05, $"recall@10 {low:F3} at the index's expansion (k), {high:F3} at 400");
        Assert.Equal(1, hnsw.ExpansionSearch);
    }

    [Fact]
    public void WaitForHnsw_returns_once_every_item_is_in_the_index()
    {
        const int d = 16;
        var rng = new Random(5);
        var options = new CollectionOptions { HnswThreshold = 100, SnapshotEveryRecords = 1_000_000, Fsync = FsyncPolicy.OsBuffered };
        using var c = Collection.Create(_tmp.File("w"), new CollectionInfo("w", "m", "p", d, DateTimeOffset.UtcNow), options);
        var pending = new List<int>();
        c.WaitForHnsw(pending.Add, TimeSpan.FromMilliseconds(10)); // no index yet: returns at once
        Assert.Empty(pending);
        for (int i = 0; i < 6000; i += 1000)
            c.Upsert(Enumerable.Range(i, 1000).Select(k => new NewItem($"id{k}", null, null, null, CollectionHnswTests.Random(rng, d))).ToList(), upsert: false);
        c.WaitForHnsw(pending.Add, TimeSpan.FromMilliseconds(10));
        Assert.True(c.HnswReady);
        Assert.Equal(0, c.HnswPending);
        Assert.Equal(6000, c.HnswIndexedCount);
        Assert.All(pending, p => Assert.InRange(p, 1, 6000));
    }

    [Fact]
    public async Task A_half_built_index_is_saved_at_close_and_topped_up_at_the_next_start()
    {
        const int n = 10_000, d = 16;
        var rng = new Random(6);
        var dir = _tmp.File("half");
        var vectors = Enumerable.Range(0, n).Select(_ => CollectionHnswTests.Random(rng, d)).ToArray();
        var stepped = new ManualResetEventSlim();
        var go = new ManualResetEventSlim();
        var options = new CollectionOptions { HnswThreshold = 100, HnswShutdownWaitSeconds = 0, SnapshotEveryRecords = 1_000_000, Fsync = FsyncPolicy.OsBuffered };
        var c = Collection.Create(dir, new CollectionInfo("half", "m", "p", d, DateTimeOffset.UtcNow), options);
        c.Hook = e => { if (e == CollectionEvent.HnswStep && !stepped.IsSet) { stepped.Set(); go.Wait(); } };
        c.Upsert(Enumerable.Range(0, n).Select(k => new NewItem($"id{k}", null, null, null, vectors[k])).ToList(), upsert: false);
        Assert.True(stepped.Wait(TimeSpan.FromSeconds(60)), "the worker finished no step");
        // Close while the worker is held after its first step: it is told to stop, and stops there.
        var closing = Task.Run(c.Dispose);
        Assert.True(SpinWait.SpinUntil(() => c.HnswStopRequested, TimeSpan.FromSeconds(30)));
        go.Set();
        await closing.WaitAsync(TimeSpan.FromSeconds(60));

        int saved;
        using (var partial = HnswIndex.Load(Path.Combine(dir, Collection.HnswFile))) saved = partial.Count;
        Assert.InRange(saved, 1, n - 1);

        using var reopened = Collection.Open(dir, new CollectionOptions { HnswThreshold = 100, SnapshotEveryRecords = 1_000_000, Fsync = FsyncPolicy.OsBuffered });
        reopened.WaitForHnsw(null, TimeSpan.FromMilliseconds(20));
        Assert.True(reopened.HnswReady);
        Assert.Equal(n, reopened.HnswIndexedCount);
        int self = Enumerable.Range(0, 200).Count(k => reopened.Search(vectors[k * 50], 1, float.NegativeInfinity, null)[0].Item.Id == $"id{k * 50}");
        Assert.True(self >= 195, $"{self} of 200 items found by their own vector");
    }

    [Fact]
    public void A_saved_index_older_than_the_items_loses_its_deleted_entries_at_start()
    {
        const int n = 1000, d = 16;
        var rng = new Random(7);
        var dir = _tmp.File("stale");
        var options = new CollectionOptions { HnswThreshold = 100, SnapshotEveryRecords = 1_000_000, Fsync = FsyncPolicy.OsBuffered };
        var index = Path.Combine(dir, Collection.HnswFile);
        using (var c = Collection.Create(dir, new CollectionInfo("stale", "m", "p", d, DateTimeOffset.UtcNow), options))
            c.Upsert(Enumerable.Range(0, n).Select(k => new NewItem($"id{k}", null, null, null, CollectionHnswTests.Random(rng, d))).ToList(), upsert: false);
        File.Copy(index, index + ".old");
        File.Copy(index + ".meta", index + ".meta.old");
        using (var c = Collection.Open(dir, options))
        {
            Assert.True(c.HnswReady);
            for (int k = 0; k < 50; k++) Assert.True(c.Delete($"id{k}"));
        }
        // Put back the index saved before the deletes, as if the service had died before saving it again.
        File.Move(index + ".old", index, overwrite: true);
        File.Move(index + ".meta.old", index + ".meta", overwrite: true);
        using var reopened = Collection.Open(dir, options);
        Assert.Equal(n - 50, reopened.Count);
        Assert.True(reopened.HnswReady);
        Assert.Equal(n - 50, reopened.HnswIndexedCount);
    }
}
