using System.Text.Json;
using VqaApi.Retrieval;

namespace VqaApi.Retrieval.Tests;

public sealed class CollectionTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    private static readonly CollectionOptions Options = new() { SnapshotEveryRecords = 1000 };

    private Collection New(string name = "c", CollectionOptions? options = null) =>
        Collection.Create(_tmp.File(name), new CollectionInfo(name, "m", "p", 4, DateTimeOffset.UtcNow), options ?? Options);

    private static float[] V(params float[] v)
    {
        double n = Math.Sqrt(v.Sum(x => (double)x * x));
        return v.Select(x => (float)(x / n)).ToArray();
    }

    private static JsonElement Meta(string json) => JsonDocument.Parse(json).RootElement.Clone();

    private int ImageFiles(string name) =>
        Directory.Exists(Path.Combine(_tmp.File(name), Collection.ImageFolder)) ? Directory.GetFileSystemEntries(Path.Combine(_tmp.File(name), Collection.ImageFolder)).Length : 0;

    [Fact]
    public void A_refused_write_stores_no_image()
    {
        using var c = New(options: new CollectionOptions { SnapshotEveryRecords = 1000, MaxMetadataBytes = 32 });
        byte[] Image(int seed) => Enumerable.Range(0, 100).Select(i => (byte)(i * seed)).ToArray();
        // The second item is refused (metadata over the limit in UTF-8 bytes, though under it in characters); the first item's image is not kept.
        var tooBig = Meta("{\"n\": \"" + new string('é', 20) + "\"}");
        var e = Assert.Throws<CollectionException>(() => c.Upsert([new NewItem("a", null, Image(1), null, V(1, 0, 0, 0)), new NewItem("b", null, Image(2), tooBig, V(0, 1, 0, 0))], upsert: false));
        Assert.Contains("metadata is larger", e.Message);
        Assert.Equal(0, ImageFiles("c"));
        Assert.Throws<CollectionException>(() => c.Upsert([new NewItem("a", null, Image(1), Meta("[1]"), V(1, 0, 0, 0))], upsert: false));
        Assert.Equal(0, ImageFiles("c"));

        c.Upsert([new NewItem("a", null, Image(1), null, V(1, 0, 0, 0))], upsert: false);
        Assert.Equal(1, ImageFiles("c"));
        // An existing id without upsert: refused, and the new image is not kept.
        Assert.Throws<CollectionException>(() => c.Upsert([new NewItem("b", null, Image(3), null, V(0, 1, 0, 0)), new NewItem("a", null, Image(4), null, V(1, 0, 0, 0))], upsert: false));
        Assert.Equal(1, ImageFiles("c"));
    }

    [Fact]
    public void Items_survive_reopening_and_search_finds_the_nearest()
    {
        using (var c = New())
        {
            c.Upsert([new NewItem("a", "alpha", null, Meta("{\"lang\": \"en\", \"year\": 2020}"), V(1, 0, 0, 0)),
                      new NewItem("b", "beta", null, Meta("{\"lang\": \"de\", \"year\": 2023}"), V(0, 1, 0, 0)),
                      new NewItem("c", "gamma", null, null, V(1, 1, 0, 0))], upsert: false);
            c.Delete("c");
        }
        using var reopened = Collection.Open(_tmp.File("c"), Options);
        Assert.Equal(2, reopened.Count);
        Assert.Null(reopened.Get("c"));
        var hits = reopened.Search(V(0.9f, 0.1f, 0, 0), 2, float.NegativeInfinity, null);
        Assert.Equal(["a", "b"], hits.Select(h => h.Item.Id));
        Assert.Equal("alpha", hits[0].Item.Text);
        Assert.Equal(2020, hits[0].Item.Metadata.GetProperty("year").GetInt32());
    }

    [Fact]
    public void A_torn_final_record_is_dropped_and_nothing_else()
    {
        using (var c = New())
            for (int i = 0; i < 5; i++) c.Upsert([new NewItem($"id{i}", null, null, null, V(1, i, 0, 0))], upsert: false);
        var log = Collection.LogSegments(_tmp.File("c"))[^1].Path;
        var bytes = File.ReadAllBytes(log);
        // Cut the last record short, as a crash during its write would.
        File.WriteAllBytes(log, bytes[..(bytes.Length - 9)]);
        using var reopened = Collection.Open(_tmp.File("c"), Options);
        Assert.True(reopened.RecoveredTornRecord);
        Assert.Equal(4, reopened.Count);
        Assert.Null(reopened.Get("id4"));
        Assert.NotNull(reopened.Get("id3"));
        reopened.Upsert([new NewItem("id5", null, null, null, V(0, 0, 1, 0))], upsert: false); // the log is usable again
        Assert.Equal(5, reopened.Count);
    }

    [Fact]
    public void A_whole_final_record_with_a_bad_checksum_is_damage_not_a_torn_write()
    {
        using (var c = New())
            for (int i = 0; i < 3; i++) c.Upsert([new NewItem($"id{i}", null, null, null, V(1, i, 0, 0))], upsert: false);
        var log = Collection.LogSegments(_tmp.File("c"))[^1].Path;
        var bytes = File.ReadAllBytes(log);
        bytes[^3] ^= 0xFF; // flip bits inside the last record's vector: the record is whole, so no crash cut it
        File.WriteAllBytes(log, bytes);
        var e = Assert.Throws<LogDamagedException>(() => Collection.Open(_tmp.File("c"), Options));
        Assert.False(e.Damage.TornTail);
        Assert.Equal(2, e.Damage.LastSequence);
        Assert.Contains("checksum mismatch", e.Message);
        Assert.Equal(bytes, File.ReadAllBytes(log)); // left as it is
    }

    [Fact]
    public void Snapshots_delete_the_log_segments_they_cover_and_keep_everything()
    {
        var options = new CollectionOptions { SnapshotEveryRecords = 10 };
        var dir = _tmp.File("c");
        using (var c = New(options: options))
        {
            for (int i = 0; i < 25; i++)
            {
                c.Upsert([new NewItem($"id{i}", $"t{i}", null, null, V(1, i, 0, 0))], upsert: false);
                c.WaitForBackgroundSnapshot(); // so that the snapshots start at exactly 10 and 20 records
            }
            c.Delete("id3");
            Assert.Equal(0, c.SnapshotFailures);
        }
        Assert.True(File.Exists(Path.Combine(dir, Collection.SnapshotFile)));
        Assert.False(File.Exists(Path.Combine(dir, Collection.SnapshotFile + ".tmp")));
        // Segments 1 (records 1-10) and 2 (11-20) went with the snapshots; segment 3 holds the 6 records since.
        Assert.Equal([3], Collection.LogSegments(dir).Select(s => s.Number));
        Assert.True(new FileInfo(Collection.LogSegments(dir)[0].Path).Length < 6 * 60, "the log holds only what came after the last snapshot");
        using var reopened = Collection.Open(dir, options);
        Assert.Equal(24, reopened.Count);
        Assert.Null(reopened.Get("id3"));
        Assert.Equal("t24", reopened.Get("id24")!.Text);
    }

    [Fact]
    public void Duplicates_need_upsert_and_dimensions_must_match()
    {
        using var c = New();
        c.Upsert([new NewItem("a", "one", null, null, V(1, 0, 0, 0))], upsert: false);
        var e = Assert.Throws<CollectionException>(() => c.Upsert([new NewItem("a", "two", null, null, V(0, 1, 0, 0))], upsert: false));
        Assert.Equal(CollectionErrorKind.Conflict, e.Kind);
        var r = c.Upsert([new NewItem("a", "two", null, null, V(0, 1, 0, 0))], upsert: true);
        Assert.Equal((0, 1), (r.Added, r.Replaced));
        Assert.Equal("two", c.Get("a")!.Text);
        Assert.Equal(CollectionErrorKind.Invalid, Assert.Throws<CollectionException>(() => c.Upsert([new NewItem("b", null, null, null, [1f, 0f])], upsert: false)).Kind);
        Assert.Equal(CollectionErrorKind.Invalid, Assert.Throws<CollectionException>(() => c.Upsert([new NewItem("x", null, null, null, V(1, 0, 0, 0)), new NewItem("x", null, null, null, V(1, 0, 0, 0))], upsert: true)).Kind);
        Assert.Equal(1, c.Count);
    }

    [Fact]
    public void Filters_equality_one_of_and_range()
    {
        using var c = New();
        for (int i = 0; i < 20; i++)
            c.Upsert([new NewItem($"id{i}", null, null, Meta($"{{\"lang\": \"{(i % 2 == 0 ? "en" : "fr")}\", \"year\": {2000 + i}, \"tag\": \"t{i % 4}\"}}"), V(1, i, 1, 0))], upsert: false);
        var q = V(1, 5, 1, 0);
        IEnumerable<string> Ids(string filter) => c.Search(q, 20, float.NegativeInfinity, MetadataFilter.Parse(Meta(filter))).Select(h => h.Item.Id).Order();
        Assert.Equal(Enumerable.Range(0, 20).Where(i => i % 2 == 0).Select(i => $"id{i}").Order(), Ids("{\"lang\": \"en\"}"));
        Assert.Equal(Enumerable.Range(0, 20).Where(i => i % 4 is 1 or 2).Select(i => $"id{i}").Order(), Ids("{\"tag\": {\"$in\": [\"t1\", \"t2\"]}}"));
        Assert.Equal(Enumerable.Range(5, 5).Select(i => $"id{i}").Order(), Ids("{\"year\": {\"$gte\": 2005, \"$lt\": 2010}}"));
        Assert.Equal(["id6", "id8"], Ids("{\"lang\": \"en\", \"year\": {\"$gt\": 2005, \"$lte\": 2008}}"));
        Assert.Equal(CollectionErrorKind.Invalid, Assert.Throws<CollectionException>(() => Ids("{\"colour\": \"red\"}").ToList()).Kind);
        Assert.Equal(CollectionErrorKind.Invalid, Assert.Throws<CollectionException>(() => Ids("{\"year\": {\"$near\": 3}}").ToList()).Kind);
    }

    [Fact]
    public void String_filters_compare_text_not_json_spelling()
    {
        using var c = New();
        c.Upsert([new NewItem("a", null, null, Meta("{\"city\": \"caf\\u00e9 \u4e1c\u4eac\"}"), V(1, 0, 0, 0)),
                  new NewItem("b", null, null, Meta("{\"city\": \"cafe\"}"), V(0, 1, 0, 0)),
                  new NewItem("c", null, null, Meta("{\"city\": 5}"), V(0, 0, 1, 0))], upsert: false);
        string[] Ids(string filter) => c.Search(V(1, 1, 1, 0), 10, float.NegativeInfinity, MetadataFilter.Parse(Meta(filter))).Select(h => h.Item.Id).Order().ToArray();
        // The stored value is escaped JSON, the filter's is not (and the other way round): equal text matches.
        Assert.Equal(["a"], Ids("{\"city\": \"café 东京\"}"));
        Assert.Equal(["a"], Ids("{\"city\": {\"$in\": [\"x\", \"caf\\u00e9 \\u4e1c\\u4eac\"]}}"));
        Assert.Equal(["b"], Ids("{\"city\": \"cafe\"}"));
        Assert.Equal(["c"], Ids("{\"city\": 5.0}"));
        Assert.Empty(Ids("{\"city\": \"5\"}"));
    }

    [Fact]
    public async Task Concurrent_writes_and_searches_are_safe()
    {
        using var c = New(options: new CollectionOptions { SnapshotEveryRecords = 50, Fsync = FsyncPolicy.OsBuffered });
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            for (int i = 0; i < 100; i++) c.Upsert([new NewItem($"w{w}-{i}", null, null, null, V(1, w, i, 1))], upsert: false);
        })).ToArray();
        var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < 200; i++) Assert.True(c.Search(V(1, 1, 1, 1), 5, float.NegativeInfinity, null).Count <= 5);
        })).ToArray();
        await Task.WhenAll([.. writers, .. readers]);
        Assert.Equal(400, c.Count);
    }

    [Fact]
    public void Searches_run_while_a_write_grows_the_exact_index()
    {
        // The exact index grows by copying every vector into a larger array: seconds for a big collection. The write that
        // needs it does the copy before taking the collection's write lock, so searches are not held up by it.
        using var c = New(options: new CollectionOptions { Fsync = FsyncPolicy.OsBuffered });
        int capacity = 0;
        for (int i = 0; capacity == 0 || c.Count < capacity; i++)
        {
            c.Upsert([new NewItem($"a{i}", null, null, null, V(1, i % 7, i % 5, 1))], upsert: false);
            capacity = c.ExactIndex.Capacity;
        }
        IReadOnlyList<SearchHit>? during = null;
        int grown = 0;
        c.ExactIndex.ReserveAllocated = () =>
        {
            grown++;
            var search = Task.Run(() => c.Search(V(1, 0, 0, 1), 3, float.NegativeInfinity, null));
            Assert.True(search.Wait(TimeSpan.FromSeconds(30)), "a search waited for the exact index to grow");
            during = search.Result;
        };
        c.Upsert([new NewItem("b", null, null, null, V(-1, 0, 0, 0))], upsert: false); // one more than the capacity
        c.ExactIndex.ReserveAllocated = null;
        Assert.Equal(1, grown);
        Assert.NotNull(during);
        Assert.Equal(3, during.Count);
        Assert.True(c.ExactIndex.Capacity > capacity);
        Assert.Equal("b", c.Search(V(-1, 0, 0, 0), 1, float.NegativeInfinity, null)[0].Item.Id);
    }

    [Fact]
    public void Snapshots_and_hnsw_steps_run_off_the_thread_pool()
    {
        // Each is seconds of blocking work at scale. On pool threads, a snapshot and an HNSW step took both threads of the
        // 2-core build machine's pool, and searches that split over cores (and requests) waited until the pool grew.
        var seen = new System.Collections.Concurrent.ConcurrentQueue<(CollectionEvent Event, bool OnPool)>();
        using var c = New(options: new CollectionOptions { SnapshotEveryRecords = 100, HnswThreshold = 50, Fsync = FsyncPolicy.OsBuffered });
        c.Hook = e =>
        {
            if (e is CollectionEvent.SnapshotWriting or CollectionEvent.HnswStep) seen.Enqueue((e, Thread.CurrentThread.IsThreadPoolThread));
        };
        for (int b = 0; b < 10; b++)
            c.Upsert(Enumerable.Range(b * 20, 20).Select(i => new NewItem($"t{i}", null, null, null, V(1, i % 11, i % 13, i % 7 + 1))).ToList(), upsert: false);
        c.WaitForBackgroundSnapshot();
        c.WaitForHnsw(null, TimeSpan.FromMilliseconds(10));
        Assert.True(SpinWait.SpinUntil(() => seen.Any(x => x.Event == CollectionEvent.HnswStep), TimeSpan.FromSeconds(30)), "no HNSW step");
        Assert.Contains(seen, x => x.Event == CollectionEvent.SnapshotWriting);
        Assert.All(seen, x => Assert.False(x.OnPool, $"{x.Event} ran on a thread-pool thread"));
        Assert.Equal(200, c.Count);
    }
}

public sealed class CollectionHnswTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    /// <summary>A random unit vector (also used by <see cref="CollectionHnswLifecycleTests"/>).</summary>
    internal static float[] Random(Random rng, int d)
    {
        var v = Enumerable.Range(0, d).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        float n = MathF.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / n).ToArray();
    }

    [Fact]
    public async Task Above_the_threshold_searches_use_hnsw_and_it_loads_from_disk()
    {
        var options = new CollectionOptions { HnswThreshold = 100, SnapshotEveryRecords = 1_000_000 };
        var rng = new Random(4);
        var vectors = Enumerable.Range(0, 400).Select(_ => Random(rng, 16)).ToList();
        var queries = Enumerable.Range(0, 20).Select(_ => Random(rng, 16)).ToList();
        List<string[]> expected;
        using (var c = Collection.Create(_tmp.File("h"), new CollectionInfo("h", "m", "p", 16, DateTimeOffset.UtcNow), options))
        {
            for (int i = 0; i < 400; i += 50)
                c.Upsert(Enumerable.Range(i, 50).Select(k => new NewItem($"id{k}", null, null, JsonDocument.Parse($"{{\"even\": {(k % 2 == 0 ? "true" : "false")}}}").RootElement, vectors[k])).ToList(), upsert: false);
            Assert.True(c.UsesHnsw);
            // Searchable at once, whether or not the background worker has caught up.
            Assert.Equal("id399", c.Search(vectors[399], 1, float.NegativeInfinity, null)[0].Item.Id);
            for (int wait = 0; wait < 200 && !c.HnswReady; wait++) await Task.Delay(50);
            Assert.True(c.HnswReady);
            expected = queries.Select(q => c.Search(q, 5, float.NegativeInfinity, null).Select(h => h.Item.Id).ToArray()).ToList();
            var even = c.Search(queries[0], 10, float.NegativeInfinity, MetadataFilter.Parse(JsonDocument.Parse("{\"even\": true}").RootElement));
            Assert.Equal(10, even.Count);
            Assert.All(even, h => Assert.True(int.Parse(h.Item.Id[2..]) % 2 == 0));
        }
        Assert.True(File.Exists(Path.Combine(_tmp.File("h"), Collection.HnswFile)));
        using var reopened = Collection.Open(_tmp.File("h"), options);
        Assert.True(reopened.UsesHnsw);
        Assert.True(reopened.HnswReady, "the saved index covers every item: nothing to rebuild");
        int agree = 0;
        for (int q = 0; q < queries.Count; q++)
            agree += reopened.Search(queries[q], 5, float.NegativeInfinity, null).Select(h => h.Item.Id).Intersect(expected[q]).Count();
        Assert.True(agree >= 0.95 * 5 * queries.Count, $"{agree} of {5 * queries.Count} results agree after reload");
    }

    [Theory]
    [InlineData(0)]          // every filtered search goes through the graph, which tests the filter during its traversal
    [InlineData(1_000_000)]  // every filtered search scores the passing items exactly
    public async Task Filtered_searches_agree_with_brute_force_on_the_graph_and_the_exact_path(int exactBelow)
    {
        const int n = 3000, d = 16;
        var options = new CollectionOptions { HnswThreshold = 100, HnswFilterExactBelow = exactBelow, SnapshotEveryRecords = 1_000_000, Fsync = FsyncPolicy.OsBuffered };
        var rng = new Random(12);
        var vectors = Enumerable.Range(0, n).Select(_ => Random(rng, d)).ToList();
        using var c = Collection.Create(_tmp.File("f"), new CollectionInfo("f", "m", "p", d, DateTimeOffset.UtcNow), options);
        for (int i = 0; i < n; i += 500)
            c.Upsert(Enumerable.Range(i, 500).Select(k => new NewItem($"id{k}", null, null, JsonDocument.Parse($"{{\"g\": {k % 100}}}").RootElement.Clone(), vectors[k])).ToList(), upsert: false);
        for (int wait = 0; wait < 600 && !c.HnswReady; wait++) await Task.Delay(50);
        Assert.True(c.HnswReady);
        var cases = new (string Filter, Func<int, bool> Passes)[]
        {
            ("{\"g\": {\"$lt\": 50}}", k => k % 100 < 50),  // 1 in 2
            ("{\"g\": {\"$lt\": 10}}", k => k % 100 < 10),  // 1 in 10
            ("{\"g\": 7}", k => k % 100 == 7),             // 1 in 100
        };
        foreach (var (json, passes) in cases)
        {
            var filter = MetadataFilter.Parse(JsonDocument.Parse(json).RootElement);
            double recall = 0;
            for (int q = 0; q < 20; q++)
            {
                var query = Random(rng, d);
                var truth = Enumerable.Range(0, n).Where(passes).OrderByDescending(k => vectors[k].Zip(query, (a, b) => (double)a * b).Sum()).Take(10).Select(k => $"id{k}").ToList();
                var got = c.Search(query, 10, float.NegativeInfinity, filter);
                Assert.Equal(10, got.Count);
                Assert.All(got, h => Assert.True(passes(int.Parse(h.Item.Id[2..])), $"{h.Item.Id} does not pass {json}"));
                if (exactBelow > 0) Assert.Equal(truth, got.Select(h => h.Item.Id)); // the exact path is exact
                recall += got.Count(h => truth.Contains(h.Item.Id)) / 10.0;
            }
            Assert.True(recall / 20 >= 0.95, $"recall@10 {recall / 20:F3} with filter {json}");
        }
    }

    [Fact]
    public async Task The_background_build_inserts_with_several_threads_and_agrees_with_exact_search()
    {
        const int n = 5000, d = 16;
        var options = new CollectionOptions { HnswThreshold = 500, HnswBuildThreads = 3, SnapshotEveryRecords = 1_000_000 };
        var rng = new Random(8);
        var live = new Dictionary<string, float[]>();
        using var c = Collection.Create(_tmp.File("p"), new CollectionInfo("p", "m", "p", d, DateTimeOffset.UtcNow), options);
        for (int i = 0; i < n; i += 250)
        {
            var batch = Enumerable.Range(i, 250).Select(k => new NewItem($"id{k}", null, null, null, Random(rng, d))).ToList();
            c.Upsert(batch, upsert: false);
            foreach (var item in batch) live[item.Id] = item.Vector;
        }
        // Replacements and deletes while the worker is still catching up.
        var replaced = Enumerable.Range(0, 100).Select(k => new NewItem($"id{k}", null, null, null, Random(rng, d))).ToList();
        c.Upsert(replaced, upsert: true);
        foreach (var item in replaced) live[item.Id] = item.Vector;
        for (int k = 100; k < 150; k++) { Assert.True(c.Delete($"id{k}")); live.Remove($"id{k}"); }

        for (int wait = 0; wait < 1200 && !c.HnswReady; wait++) await Task.Delay(50);
        Assert.True(c.HnswReady, "the background worker caught up");
        Assert.Equal(n - 50, c.Count);

        double recall = 0;
        var queries = Enumerable.Range(0, 30).Select(_ => Random(rng, d)).ToList();
        foreach (var q in queries)
        {
            var truth = live.OrderByDescending(e => e.Value.Zip(q, (a, b) => (double)a * b).Sum()).Take(10).Select(e => e.Key).ToHashSet();
            var got = c.Search(q, 10, float.NegativeInfinity, null);
            Assert.Equal(10, got.Count);
            Assert.DoesNotContain(got, h => int.Parse(h.Item.Id[2..]) is >= 100 and < 150);
            recall += got.Count(h => truth.Contains(h.Item.Id)) / 10.0;
        }
        Assert.True(recall / queries.Count >= 0.95, $"recall@10 {recall / queries.Count:F3}");
        // Replaced items answer to their new vectors.
        int self = replaced.Count(item => c.Search(item.Vector, 1, float.NegativeInfinity, null)[0].Item.Id == item.Id);
        Assert.True(self >= 98, $"{self} of 100 replaced items found by their new vector");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-2)]
    public void Hnsw_build_threads_must_be_positive_and_default_to_the_processor_count(int threads)
    {
        var bad = new CollectionOptions { HnswBuildThreads = threads };
        var results = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        Assert.False(System.ComponentModel.DataAnnotations.Validator.TryValidateObject(bad, new(bad), results, validateAllProperties: true));
        Assert.Contains(results, r => r.MemberNames.Contains(nameof(CollectionOptions.HnswBuildThreads)));
        Assert.Equal(Environment.ProcessorCount, new CollectionOptions().HnswBuildThreads);
    }
}

/// <summary>A full disk: the write that does not fit fails cleanly (507), and everything stored before stays.</summary>
public sealed class CollectionDiskFullTests : IDisposable
{
    private readonly string _mount = Path.Combine(Path.GetTempPath(), "vqaapi-full-" + Guid.NewGuid().ToString("N"));

    public CollectionDiskFullTests()
    {
        Directory.CreateDirectory(_mount);
        // A 256 KB tmpfs stands in for a disk that fills up (the tests and CI run as root).
        Run("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", _mount);
    }

    public void Dispose()
    {
        Run("umount", _mount);
        Directory.Delete(_mount, true);
    }

    private static void Run(string file, params string[] args)
    {
        using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(file, args) { RedirectStandardError = true })!;
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed: {p.StandardError.ReadToEnd()}");
    }

    [Fact]
    public void Deleting_where_the_folder_cannot_change_is_refused_and_leaves_the_collection_served()
    {
        var options = new CollectionOptions { Root = _mount };
        using var store = new CollectionStore(Microsoft.Extensions.Options.Options.Create(options), Microsoft.Extensions.Logging.Abstractions.NullLogger<CollectionStore>.Instance);
        var (c, _) = store.Create("kept", "m", "p", 4);
        c.Upsert([new NewItem("a", "text", null, null, [1, 0, 0, 0])], upsert: false);
        Run("chattr", "+i", _mount); // immutable: nothing in it can be renamed or removed, not even by root
        try
        {
            var e = Assert.Throws<CollectionException>(() => store.Delete("kept"));
            Assert.Equal(CollectionErrorKind.InsufficientStorage, e.Kind);
            Assert.Contains("could not be deleted", e.Message);
            Assert.DoesNotContain(_mount, e.Message);
            Assert.Equal(1, store.Get("kept").Count); // still served, whole
        }
        finally { Run("chattr", "-i", _mount); }
        store.Delete("kept");
        Assert.Empty(Directory.GetFileSystemEntries(_mount));
    }

    [Fact]
    public void Creating_a_collection_on_a_full_disk_leaves_nothing_behind()
    {
        // Fill the disk to the last byte, then create.
        using (var filler = new FileStream(Path.Combine(_mount, "filler"), FileMode.Create))
        {
            var block = new byte[4096];
            try { while (true) { filler.Write(block); filler.Flush(true); } }
            catch (IOException) { }
        }
        var dir = Path.Combine(_mount, "new");
        var e = Assert.Throws<CollectionException>(() => Collection.Create(dir, new CollectionInfo("new", "m", "p", 8, DateTimeOffset.UtcNow), new CollectionOptions()));
        Assert.Equal(CollectionErrorKind.InsufficientStorage, e.Kind);
        Assert.DoesNotContain(_mount, e.Message);
        Assert.False(Directory.Exists(dir), "a failed create left its folder");
        Assert.Equal(["filler"], Directory.GetFileSystemEntries(_mount).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData(1, 1500, 64)]
    [InlineData(3, 100, 256)] // small images, large log records: the log fills the disk as often as the images
    [InlineData(4, 3000, 16)]
    public void A_write_that_does_not_fit_keeps_no_image_files(int perWrite, int imageBytes, int dimensions)
    {
        var dir = Path.Combine(_mount, "i");
        int stored = 0;
        using var c = Collection.Create(dir, new CollectionInfo("i", "m", "p", dimensions, DateTimeOffset.UtcNow), new CollectionOptions { SnapshotEveryRecords = 1_000_000 });
        var vector = Enumerable.Repeat(1f / MathF.Sqrt(dimensions), dimensions).ToArray();
        var random = new Random(3);
        CollectionException? full = null;
        for (int i = 0; i < 100_000 && full is null; i++)
        {
            // Each item with its own image: the disk fills in the image store or in the log.
            var items = Enumerable.Range(0, perWrite).Select(k =>
            {
                var image = new byte[imageBytes];
                random.NextBytes(image);
                return new NewItem($"id{i * perWrite + k}", null, image, null, vector);
            }).ToList();
            try { c.Upsert(items, upsert: false); stored += perWrite; }
            catch (CollectionException e) { full = e; }
        }
        Assert.Equal(CollectionErrorKind.InsufficientStorage, full?.Kind);
        var files = Directory.GetFiles(Path.Combine(dir, Collection.ImageFolder));
        Assert.Equal(stored, c.Count);
        Assert.Equal(c.All().Select(item => item.ImageSha256!).Order(StringComparer.Ordinal), files.Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData(1_000_000)]
    [InlineData(50)] // new log segments and background snapshots while the disk fills up
    public void The_failed_write_leaves_the_stored_data_intact(int snapshotEvery)
    {
        var options = new CollectionOptions { SnapshotEveryRecords = snapshotEvery };
        var dir = Path.Combine(_mount, "c");
        int stored = 0;
        CollectionException? full = null;
        using (var c = Collection.Create(dir, new CollectionInfo("c", "m", "p", 256, DateTimeOffset.UtcNow), options))
        {
            var vector = Enumerable.Repeat(1f / 16, 256).ToArray();
            for (int i = 0; i < 10_000 && full is null; i++)
            {
                try
                {
                    c.Upsert(Enumerable.Range(0, 10).Select(k => new NewItem($"id{i * 10 + k}", new string('x', 200), null, null, vector)).ToList(), upsert: false);
                    stored += 10;
                }
                catch (CollectionException e) { full = e; }
            }
            Assert.NotNull(full);
            Assert.Equal(CollectionErrorKind.InsufficientStorage, full!.Kind);
            Assert.Contains("the disk is full", full.Message);
            Assert.DoesNotContain(_mount, full.Message); // a client sees this: no path of the machine
            Assert.Equal(stored, c.Count);
            Assert.Null(c.Get($"id{stored}"));
            c.WaitForBackgroundSnapshot();
            if (snapshotEvery < 1000) Assert.True(c.SnapshotFailures > 0 || File.Exists(Path.Combine(dir, Collection.SnapshotFile)));
        }
        Assert.False(File.Exists(Path.Combine(dir, Collection.SnapshotFile + ".tmp")), "a failed snapshot leaves no temporary file");
        using var reopened = Collection.Open(dir, options);
        Assert.Equal(stored, reopened.Count);
        Assert.False(reopened.RecoveredTornRecord, "the failed write was cut back, not left torn");
        Assert.Equal(Enumerable.Range(0, stored).Select(i => $"id{i}").Order(StringComparer.Ordinal), reopened.All().Select(i => i.Id).Order(StringComparer.Ordinal));
    }
}
