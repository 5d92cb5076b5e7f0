using VqaApi.Retrieval;

namespace VqaApi.Retrieval.Tests;

public sealed class VectorIndexTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("vqaapi-vectors-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    static float[] RandomUnit(Random rng, int dims)
    {
        var v = new float[dims];
        double norm = 0;
        for (int i = 0; i < dims; i++)
        {
            // Box-Muller: Gaussian components give directions uniform on the sphere.
            double g = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            v[i] = (float)g;
            norm += g * g;
        }
        float inv = (float)(1 / Math.Sqrt(norm));
        for (int i = 0; i < dims; i++) v[i] *= inv;
        return v;
    }

    static List<(long Key, float[] Vector)> Data(int n, int dims, int seed, long keyOffset = 0)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(i => (keyOffset + i, RandomUnit(rng, dims))).ToList();
    }

    static T Fill<T>(T index, IEnumerable<(long Key, float[] Vector)> data) where T : IVectorIndex
    {
        foreach (var (key, vector) in data) index.Upsert(key, vector);
        return index;
    }

    /// <summary>True top-k by a double-precision loop: score descending, then key ascending.</summary>
    static List<(long Key, double Score)> BruteForce(IEnumerable<(long Key, float[] Vector)> data, float[] query, int k,
        Func<long, bool>? filter = null, double minScore = double.NegativeInfinity)
    {
        return data.Where(d => filter is null || filter(d.Key))
            .Select(d =>
            {
                double s = 0;
                for (int i = 0; i < query.Length; i++) s += (double)query[i] * d.Vector[i];
                return (d.Key, Score: s);
            })
            .Where(x => x.Score >= minScore)
            .OrderByDescending(x => x.Score).ThenBy(x => x.Key)
            .Take(k).ToList();
    }

    static double Recall(IReadOnlyList<VectorHit> got, IEnumerable<long> truth) =>
        truth.Count() == 0 ? 1 : (double)got.Select(h => h.Key).Intersect(truth).Count() / truth.Count();

    public static TheoryData<string> Kinds => new() { "exact", "exact-f16", "hnsw", "hnsw-f16" };

    static IVectorIndex Create(string kind, int dims) => kind switch
    {
        "exact" => new ExactIndex(dims),
        "exact-f16" => new ExactIndex(dims, float16: true),
        "hnsw" => new HnswIndex(dims),
        "hnsw-f16" => new HnswIndex(dims, float16: true),
        _ => throw new ArgumentException(kind),
    };

    [Fact]
    public void Exact_search_returns_the_true_top_k()
    {
        var data = Data(3000, 48, seed: 1);
        using var index = Fill(new ExactIndex(48), data);
        var rng = new Random(2);
        for (int q = 0; q < 20; q++)
        {
            var query = RandomUnit(rng, 48);
            var expected = BruteForce(data, query, 10);
            var got = index.Search(query, 10);
            Assert.Equal(expected.Select(e => e.Key), got.Select(h => h.Key));
            for (int i = 0; i < got.Count; i++) Assert.Equal(expected[i].Score, got[i].Score, 1e-5);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Search_breaks_ties_by_smaller_key(string kind)
    {
        var rng = new Random(3);
        var shared = RandomUnit(rng, 16);
        using var index = Create(kind, 16);
        foreach (long key in new long[] { 50, -7, 12, 3, 900 }) index.Upsert(key, shared);
        for (int i = 0; i < 100; i++) index.Upsert(1000 + i, RandomUnit(rng, 16));
        var hits = index.Search(shared, 4);
        Assert.Equal(new long[] { -7, 3, 12, 50 }, hits.Select(h => h.Key));
        Assert.All(hits, h => Assert.Equal(hits[0].Score, h.Score));
    }

    [Fact]
    public void Exact_parallel_path_matches_brute_force_and_is_deterministic()
    {
        // Above the parallel threshold; duplicated vectors make ties that must still come out by key.
        int n = 60_000; // ExactIndex searches in parallel from 50,000 vectors
        var data = Data(n, 8, seed: 4);
        for (int i = 0; i < 200; i++) data[n - 1 - i] = (data[n - 1 - i].Key, data[i * 7].Vector);
        using var index = Fill(new ExactIndex(8), data);
        var rng = new Random(5);
        for (int q = 0; q < 5; q++)
        {
            var query = q == 0 ? data[0].Vector : RandomUnit(rng, 8);
            var expected = BruteForce(data, query, 25);
            var first = index.Search(query, 25);
            Assert.Equal(expected.Select(e => e.Key), first.Select(h => h.Key));
            Assert.Equal(first, index.Search(query, 25));
            var filtered = index.Search(query, 25, key => key % 3 == 0, minScore: 0.2f);
            Assert.Equal(BruteForce(data, query, 25, key => key % 3 == 0, 0.2).Select(e => e.Key), filtered.Select(h => h.Key));
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Exact_reserve_grows_while_searches_run_and_keeps_every_vector(bool float16)
    {
        var data = Data(1000, 16, seed: 11);
        using var index = Fill(new ExactIndex(16, float16), data);
        var stored = data.ToDictionary(d => d.Key, d => { var v = new float[16]; Assert.True(index.TryGetVector(d.Key, v)); return v; });
        var query = data[3].Vector;
        var expected = index.Search(query, 10);
        IReadOnlyList<VectorHit>? during = null;
        index.ReserveAllocated = () =>
        {
            // Copied, not yet swapped in: a search on another thread goes on (it would wait here if the copy held the write lock).
            var search = Task.Run(() => index.Search(query, 10));
            Assert.True(search.Wait(TimeSpan.FromSeconds(30)), "a search waited for Reserve's copy");
            during = search.Result;
        };
        index.Reserve(5000);
        index.ReserveAllocated = null;
        Assert.Equal(expected, during);
        int capacity = index.Capacity;
        Assert.True(capacity >= 5000, $"capacity {capacity}");
        Assert.Equal(expected, index.Search(query, 10));
        foreach (var (key, vector) in stored)
        {
            var got = new float[16];
            Assert.True(index.TryGetVector(key, got));
            Assert.Equal(vector, got);
        }
        // Adds up to the reserved capacity do not grow it again; a smaller reservation changes nothing.
        Fill(index, Data(capacity - data.Count, 16, seed: 12, keyOffset: 10_000));
        index.Reserve(10);
        Assert.Equal(capacity, index.Capacity);
        Assert.Equal(capacity, index.Count);
        Assert.Equal(expected.Select(h => h.Key).Take(3), index.Search(query, 10, key => key < 10_000).Select(h => h.Key).Take(3));
    }

    [Fact]
    public void Exact_growth_past_one_chunk_allocates_one_chunk_and_copies_nothing()
    {
        // 768 dimensions: a chunk is 4,096 rows (12 MB). Growing a 3-chunk index by one row used to copy all of it into an
        // array twice as large (75 MB allocated, seconds at a million rows); now it allocates one more chunk.
        const int dims = 768;
        var data = Data(3 * 4096, dims, seed: 21);
        using var index = Fill(new ExactIndex(dims), data);
        Assert.Equal(4096, index.ChunkRows);
        Assert.Equal(3 * 4096, index.Capacity);
        long before = GC.GetAllocatedBytesForCurrentThread();
        index.Reserve(index.Count + 1);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        long chunkBytes = 4096L * dims * sizeof(float);
        Assert.True(allocated < chunkBytes * 11 / 10, $"growing by one row allocated {allocated:N0} bytes; one chunk is {chunkBytes:N0}");
        Assert.Equal(4 * 4096, index.Capacity);
        var extra = Data(1, dims, seed: 22, keyOffset: 1_000_000);
        Fill(index, extra);
        var got = new float[dims];
        foreach (var (key, vector) in data.Where((_, i) => i % 997 == 0).Concat(extra))
        {
            Assert.True(index.TryGetVector(key, got));
            Assert.Equal(vector, got);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Exact_index_in_small_chunks_matches_brute_force_through_growth_removal_and_reload(bool float16)
    {
        // Chunks of 64 rows: 60,000 rows span 938 chunks and take the parallel search path; removals move rows across chunk
        // boundaries and shrink the storage; a save and load keeps it all.
        const int dims = 8;
        var data = Data(60_000, dims, seed: 23);
        using var index = Fill(new ExactIndex(dims, float16, chunkRows: 64), data);
        Assert.Equal(64, index.ChunkRows);
        var rng = new Random(24);
        var queries = Enumerable.Range(0, 5).Select(_ => RandomUnit(rng, dims)).ToList();
        void Check(ExactIndex idx, List<(long Key, float[] Vector)> stored)
        {
            // float16 keeps 3 significant digits: compare keys only where the brute-force scores are clearly apart.
            foreach (var q in queries)
            {
                var truth = BruteForce(stored, q, 11);
                var hits = idx.Search(q, 10);
                Assert.Equal(10, hits.Count);
                for (int i = 0; i < 10; i++)
                {
                    Assert.Equal(truth[i].Score, hits[i].Score, float16 ? 2e-3 : 1e-5);
                    bool apart = (i == 0 || truth[i - 1].Score - truth[i].Score > 4e-3) && truth[i].Score - truth[i + 1].Score > 4e-3;
                    if (!float16 || apart) Assert.Equal(truth[i].Key, hits[i].Key);
                }
                var filtered = idx.Search(q, 5, key => key % 3 == 0);
                Assert.All(filtered, h => Assert.Equal(0, h.Key % 3));
                Assert.Equal(BruteForce(stored, q, 5, key => key % 3 == 0).Select(t => t.Score), filtered.Select(h => (double)h.Score), new ToleranceComparer(float16 ? 2e-3 : 1e-5));
            }
        }
        Check(index, data);

        // Remove 90% (scattered): rows move from the end into the holes, and the storage shrinks chunk by chunk.
        int capacity = index.Capacity;
        var kept = data.Where(d => d.Key % 10 == 7).ToList();
        foreach (var (key, _) in data) if (key % 10 != 7) Assert.True(index.Remove(key));
        Assert.Equal(kept.Count, index.Count);
        // Storage shrinks once rows fall to a quarter of it, to twice the rows: never more than 4x the rows (plus a chunk).
        Assert.True(index.Capacity <= 4 * index.Count + 64, $"capacity {index.Capacity} (was {capacity}) for {index.Count} rows");
        Assert.True(index.Capacity >= index.Count);
        var got = new float[dims];
        foreach (var (key, vector) in kept)
        {
            Assert.True(index.TryGetVector(key, got));
            for (int i = 0; i < dims; i++) Assert.Equal(vector[i], got[i], float16 ? 1e-3 : 0);
        }
        Check(index, kept);

        string path = Path.Combine(_dir, "chunks.exact");
        index.Save(path);
        using var loaded = ExactIndex.Load(path);
        Assert.Equal(kept.Count, loaded.Count);
        Check(loaded, kept);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Exact_search_among_keys_equals_a_search_filtered_to_them(bool float16)
    {
        const int dims = 24;
        var data = Data(3000, dims, seed: 25);
        using var index = Fill(new ExactIndex(dims, float16, chunkRows: 256), data);
        var rng = new Random(26);
        // A few hundred keys spread over the chunks, some not stored at all.
        var among = data.Where((_, i) => i % 11 == 3).Select(d => d.Key).Concat([100_000, -5]).ToList();
        var set = among.ToHashSet();
        for (int q = 0; q < 10; q++)
        {
            var query = RandomUnit(rng, dims);
            Func<long, bool>? filter = q % 2 == 0 ? null : key => key % 3 != 0;
            float minScore = q % 3 == 0 ? 0.2f : float.NegativeInfinity;
            var expected = index.Search(query, 10, key => set.Contains(key) && (filter is null || filter(key)), minScore);
            var got = index.SearchAmong(query, 10, among, filter, minScore);
            Assert.Equal(expected, got);
            Assert.All(got, h => Assert.Contains(h.Key, set));
        }
        Assert.Empty(index.SearchAmong(RandomUnit(rng, dims), 10, [100_000, 200_000]));
        Assert.Empty(index.SearchAmong(RandomUnit(rng, dims), 0, among));
        Assert.Equal(2, index.SearchAmong(RandomUnit(rng, dims), 10, [data[0].Key, data[1].Key]).Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Hnsw_tests_a_filter_during_the_traversal(bool float16)
    {
        const int dims = 32;
        var data = LowRank(5000, dims, rank: 8, seed: 27);
        var (keys, rows) = Rows(data);
        using var hnsw = new HnswIndex(dims, float16);
        hnsw.UpsertMany(keys, rows, threads: 2);
        var queries = LowRank(5040, dims, rank: 8, seed: 27).Skip(5000).ToList();
        // 1 key in 50 passes: with the filter tested only after the graph search (as before), its 64 candidates held about one
        // passing key and the index fell back to scanning every key.
        Func<long, bool> filter = key => key % 50 == 3;
        double recall = 0;
        foreach (var (_, q) in queries)
        {
            var got = hnsw.Search(q, 10, filter, float.NegativeInfinity);
            Assert.Equal(10, got.Count);
            Assert.All(got, h => Assert.True(filter(h.Key)));
            recall += Recall(got, BruteForce(data, q, 10, filter).Select(e => e.Key));
        }
        Assert.True(recall / queries.Count >= 0.95, $"recall@10 {recall / queries.Count:F3}");

        // A filter that throws: the exception comes back to the caller (it must not cross into native code).
        var e = Assert.Throws<InvalidOperationException>(() => hnsw.Search(queries[0].Vector, 10, key => throw new InvalidOperationException("filter failed"), float.NegativeInfinity));
        Assert.Equal("filter failed", e.Message);
        // Nothing passes: no results, and the index still answers afterwards.
        Assert.Empty(hnsw.Search(queries[0].Vector, 10, _ => false, float.NegativeInfinity));
        Assert.Equal(10, hnsw.Search(queries[0].Vector, 10).Count);
    }

    sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(double obj) => 0;
    }

    [Fact]
    public void Float16_exact_keeps_the_top_10_and_scores_within_1e_3()
    {
        // Well-separated data: the 10 neighbours of each query are clearly closer than the rest.
        var rng = new Random(6);
        var queries = Enumerable.Range(0, 10).Select(_ => RandomUnit(rng, 64)).ToList();
        var data = new List<(long, float[])>();
        long key = 0;
        foreach (var q in queries)
            for (int j = 0; j < 10; j++)
            {
                var noise = RandomUnit(rng, 64);
                var v = new float[64];
                for (int i = 0; i < 64; i++) v[i] = q[i] + (0.2f + 0.05f * j) * noise[i];
                float norm = MathF.Sqrt(v.Sum(x => x * x));
                data.Add((key++, v.Select(x => x / norm).ToArray()));
            }
        data.AddRange(Data(2000, 64, seed: 7, keyOffset: 10_000));
        using var f32 = Fill(new ExactIndex(64), data);
        using var f16 = Fill(new ExactIndex(64, float16: true), data);
        Assert.True(f16.UsesFloat16);
        foreach (var q in queries)
        {
            var a = f32.Search(q, 10);
            var b = f16.Search(q, 10);
            Assert.Equal(a.Select(h => h.Key).Order(), b.Select(h => h.Key).Order());
            var scores = a.ToDictionary(h => h.Key, h => h.Score);
            Assert.All(b, h => Assert.InRange(h.Score - scores[h.Key], -1e-3f, 1e-3f));
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Upsert_replaces_and_remove_updates_count(string kind)
    {
        var data = Data(300, 32, seed: 8);
        using var index = Fill(Create(kind, 32), data);
        Assert.Equal(300, index.Count);
        var rng = new Random(9);
        var replacement = RandomUnit(rng, 32);
        index.Upsert(17, replacement);
        Assert.Equal(300, index.Count);
        var top = index.Search(replacement, 1)[0];
        Assert.Equal(17, top.Key);
        Assert.Equal(1f, top.Score, index.UsesFloat16 ? 2e-3f : 1e-5f);
        // The old vector of 17 is gone: searching for it no longer finds 17 on top.
        var old = index.Search(data[17].Vector, 1)[0];
        Assert.NotEqual(17, old.Key);

        Assert.True(index.Remove(17));
        Assert.False(index.Remove(17));
        Assert.False(index.Contains(17));
        Assert.True(index.Contains(18));
        Assert.Equal(299, index.Count);
        Assert.DoesNotContain(index.Search(replacement, 299), h => h.Key == 17);
        for (int i = 0; i < 150; i++) Assert.True(index.Remove(i == 17 ? 299 : i));
        Assert.Equal(149, index.Count);
        Assert.Equal(149, index.Search(replacement, 1000).Count);
        index.Upsert(17, replacement);
        Assert.Equal(17, index.Search(replacement, 1)[0].Key);
        Assert.Equal(150, index.Count);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Filter_and_min_score_are_respected_with_exactly_min_k_passing_results(string kind)
    {
        var data = Data(2000, 32, seed: 10);
        using var index = Fill(Create(kind, 32), data);
        var query = RandomUnit(new Random(11), 32);

        var evens = index.Search(query, 20, key => key % 2 == 0);
        Assert.Equal(20, evens.Count);
        Assert.All(evens, h => Assert.Equal(0, h.Key % 2));

        var few = index.Search(query, 20, key => key is 5 or 700 or 1999);
        Assert.Equal(new long[] { 5, 700, 1999 }.Order(), few.Select(h => h.Key).Order());

        Assert.Empty(index.Search(query, 20, _ => false));
        Assert.Equal(2000, index.Search(query, 5000).Count);
        Assert.Empty(index.Search(query, 0));

        var above = index.Search(query, 2000, minScore: 0.3f);
        var expected = BruteForce(data, query, 2000, minScore: 0.3);
        Assert.All(above, h => Assert.True(h.Score >= 0.3f));
        Assert.InRange(above.Count, expected.Count - 2, expected.Count + 2); // float16 may move a borderline score across
        var ordered = index.Search(query, 50);
        for (int i = 1; i < ordered.Count; i++) Assert.True(ordered[i - 1].Score >= ordered[i].Score);
    }

    // Random Gaussian directions in 64-d are a worst case for HNSW (no low-dimensional structure). With the defaults
    // (connectivity 16, expansion search 64) recall@10 here is about 0.89; ExpansionSearch 128 or connectivity 32 reach 0.95+.
    [Theory]
    [InlineData(16, 128, false, 0.95)]
    [InlineData(32, 64, false, 0.95)]
    [InlineData(16, 128, true, 0.95)]
    [InlineData(16, 64, false, 0.85)]
    public void Hnsw_recall_at_10_on_5000_random_64d_vectors(int connectivity, int expansionSearch, bool float16, double minRecall)
    {
        var data = Data(5000, 64, seed: 12);
        using var exact = Fill(new ExactIndex(64), data);
        using var hnsw = Fill(new HnswIndex(64, float16, connectivity), data);
        hnsw.ExpansionSearch = expansionSearch;
        var rng = new Random(13);
        double recall = 0;
        int queries = 200;
        for (int q = 0; q < queries; q++)
        {
            var query = RandomUnit(rng, 64);
            var truth = exact.Search(query, 10);
            var got = hnsw.Search(query, 10);
            Assert.Equal(10, got.Count);
            recall += Recall(got, truth.Select(h => h.Key));
            // Same score scale as the exact index.
            var truthScores = truth.ToDictionary(h => h.Key, h => h.Score);
            foreach (var h in got)
                if (truthScores.TryGetValue(h.Key, out var s)) Assert.Equal(s, h.Score, float16 ? 2e-3f : 1e-4f);
        }
        recall /= queries;
        Assert.True(recall >= minRecall, $"recall@10 = {recall:F3}");
    }

    [Fact]
    public async Task Hnsw_serves_more_concurrent_searches_than_usearch_has_thread_contexts()
    {
        // USearch fails a search when all its per-thread contexts are taken; HnswIndex queues the excess instead.
        var data = Data(2000, 32, seed: 25);
        using var hnsw = Fill(new HnswIndex(32), data);
        var queries = Data(64, 32, seed: 26).Select(d => d.Vector).ToArray();
        using var start = new Barrier(48);
        var tasks = Enumerable.Range(0, 48).Select(t => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            for (int i = 0; i < 40; i++) Assert.Equal(10, hnsw.Search(queries[(t + i) % queries.Length], 10).Count);
        }, TaskCreationOptions.LongRunning)).ToArray();
        await Task.WhenAll(tasks);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Hnsw_with_a_selective_filter_falls_back_to_the_exact_answer(bool float16)
    {
        var data = Data(5000, 64, seed: 14);
        using var hnsw = Fill(new HnswIndex(64, float16), data);
        var rng = new Random(15);
        var allowed = new HashSet<long>(Enumerable.Range(0, 5000).Where(_ => rng.NextDouble() < 0.01).Select(i => (long)i));
        Assert.InRange(allowed.Count, 30, 80);
        for (int q = 0; q < 20; q++)
        {
            var query = RandomUnit(rng, 64);
            var expected = BruteForce(data, query, 10, allowed.Contains);
            var got = hnsw.Search(query, 10, allowed.Contains);
            Assert.Equal(expected.Select(e => e.Key), got.Select(h => h.Key));
            for (int i = 0; i < got.Count; i++) Assert.Equal(expected[i].Score, got[i].Score, float16 ? 2e-3 : 1e-5);
        }
        // Fewer passing keys than k: all of them, exactly.
        var five = allowed.Take(5).ToHashSet();
        Assert.Equal(five.Order(), hnsw.Search(RandomUnit(rng, 64), 10, five.Contains).Select(h => h.Key).Order());
    }

    [Fact]
    public void Hnsw_expansion_search_can_be_changed()
    {
        var data = Data(2000, 32, seed: 16);
        using var hnsw = Fill(new HnswIndex(32, expansionSearch: 16), data);
        Assert.Equal(16, hnsw.ExpansionSearch);
        hnsw.ExpansionSearch = 256;
        Assert.Equal(256, hnsw.ExpansionSearch);
        using var exact = Fill(new ExactIndex(32), data);
        var query = RandomUnit(new Random(17), 32);
        Assert.True(Recall(hnsw.Search(query, 10), exact.Search(query, 10).Select(h => h.Key)) >= 0.9);
        Assert.Throws<ArgumentOutOfRangeException>(() => hnsw.ExpansionSearch = 0);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Key_minus_one_and_extreme_keys_work(string kind)
    {
        // -1 is USearch's free-slot marker; HnswIndex keeps it beside the graph.
        var data = Data(200, 16, seed: 18);
        using var index = Fill(Create(kind, 16), data);
        var rng = new Random(19);
        var v = RandomUnit(rng, 16);
        var w = RandomUnit(rng, 16);
        index.Upsert(-1, v);
        index.Upsert(long.MinValue, w);
        index.Upsert(long.MaxValue, RandomUnit(rng, 16));
        Assert.Equal(203, index.Count);
        Assert.True(index.Contains(-1));
        Assert.Equal(-1, index.Search(v, 1)[0].Key);
        Assert.Equal(long.MinValue, index.Search(w, 1)[0].Key);
        Assert.Equal(203, index.Search(v, 500).Count);
        Assert.Empty(index.Search(v, 5, key => key == -1, minScore: 1.5f));
        Assert.Equal(-1, Assert.Single(index.Search(v, 5, key => key == -1)).Key);
        var path = Path.Combine(_dir, kind + "-extreme.idx");
        index.Save(path);
        using var loaded = Load(kind, path);
        Assert.Equal(203, loaded.Count);
        Assert.Equal(-1, loaded.Search(v, 1)[0].Key);
        Assert.True(index.Remove(-1));
        Assert.False(index.Contains(-1));
        Assert.Equal(202, index.Count);
    }

    static IVectorIndex Load(string kind, string path) => kind.StartsWith("exact") ? ExactIndex.Load(path) : HnswIndex.Load(path);

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Save_and_load_round_trip_gives_the_same_results(string kind)
    {
        var data = Data(3000, 40, seed: 20);
        using var index = Fill(Create(kind, 40), data);
        for (int i = 0; i < 100; i++) index.Remove(i * 3);
        var path = Path.Combine(_dir, "sub", kind + ".idx");
        index.Save(path);
        Assert.False(File.Exists(path + ".tmp"));
        using var loaded = Load(kind, path);
        Assert.Equal(index.Count, loaded.Count);
        Assert.Equal(index.Dimensions, loaded.Dimensions);
        Assert.Equal(index.UsesFloat16, loaded.UsesFloat16);
        Assert.False(loaded.Contains(0));
        Assert.True(loaded.Contains(1));
        var rng = new Random(21);
        for (int q = 0; q < 20; q++)
        {
            var query = RandomUnit(rng, 40);
            Assert.Equal(index.Search(query, 10), loaded.Search(query, 10));
            Assert.Equal(index.Search(query, 10, key => key % 7 == 0), loaded.Search(query, 10, key => key % 7 == 0));
        }
        // A loaded index stays writable, and saving over an existing file replaces it.
        loaded.Upsert(1_000_000, data[5].Vector);
        Assert.Contains(loaded.Search(data[5].Vector, 2), h => h.Key == 1_000_000);
        loaded.Save(path);
        using var again = Load(kind, path);
        Assert.Equal(index.Count + 1, again.Count);
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_truncated_or_corrupt_file_gives_a_clear_exception(string kind)
    {
        using var index = Fill(Create(kind, 24), Data(500, 24, seed: 22));
        var path = Path.Combine(_dir, kind + ".idx");
        index.Save(path);
        var bytes = File.ReadAllBytes(path);

        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<InvalidDataException>(() => Load(kind, path).Dispose());
        Assert.Contains(path, e.Message);
        Assert.Contains("truncated", e.Message);

        var corrupt = (byte[])bytes.Clone();
        corrupt[^100] ^= 0x5A;
        File.WriteAllBytes(path, corrupt);
        e = Assert.Throws<InvalidDataException>(() => Load(kind, path).Dispose());
        Assert.Contains("corrupt", e.Message);

        File.WriteAllBytes(path, "not an index at all, just some text"u8.ToArray());
        Assert.Throws<InvalidDataException>(() => Load(kind, path).Dispose());

        if (kind.StartsWith("hnsw"))
        {
            File.WriteAllBytes(path, bytes);
            var meta = File.ReadAllBytes(path + ".meta");
            File.WriteAllBytes(path + ".meta", meta[..(meta.Length - 3)]);
            e = Assert.Throws<InvalidDataException>(() => HnswIndex.Load(path).Dispose());
            Assert.Contains("truncated", e.Message);
            File.Delete(path + ".meta");
            Assert.Throws<FileNotFoundException>(() => HnswIndex.Load(path).Dispose());
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Wrong_dimension_is_an_argument_exception(string kind)
    {
        using var index = Create(kind, 8);
        Assert.Throws<ArgumentException>(() => index.Upsert(1, new float[7]));
        Assert.Throws<ArgumentException>(() => index.Upsert(1, new float[9]));
        Assert.Throws<ArgumentException>(() => index.Search(new float[16], 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => index.Search(new float[8], -1));
        Assert.Equal(0, index.Count);
        Assert.Empty(index.Search(new float[8], 3));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Concurrent_searches_during_upserts_never_throw_and_end_consistent(string kind)
    {
        const int dims = 32;
        var data = Data(2500, dims, seed: 23);
        using var index = Fill(Create(kind, dims), data.Take(1000));
        var queries = Data(64, dims, seed: 24).Select(d => d.Vector).ToArray();
        int searches = 0;
        using var done = new CancellationTokenSource();
        // Dedicated threads, so that busy searchers do not starve the thread pool the writers run on.
        var searchers = Enumerable.Range(0, 4).Select(t => Task.Factory.StartNew(() =>
        {
            int i = t;
            while (!done.IsCancellationRequested)
            {
                var q = queries[i++ % queries.Length];
                var hits = i % 3 == 0 ? index.Search(q, 10, key => key % 2 == 0) : index.Search(q, 10);
                Assert.Equal(10, hits.Count);
                for (int j = 1; j < hits.Count; j++) Assert.True(hits[j - 1].Score >= hits[j].Score);
                Interlocked.Increment(ref searches);
            }
        }, TaskCreationOptions.LongRunning)).ToArray();

        // Writers start once every searcher is running: add 1500 new keys, replace 250 and remove 250 of the first 1000.
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref searches) >= 8, TimeSpan.FromSeconds(30)));
        int before = Volatile.Read(ref searches);
        Parallel.For(1000, 2500, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
        {
            // Midway, make sure searches really ran while writes were going on.
            if (i == 1800) Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref searches) >= before + 4, TimeSpan.FromSeconds(30)));
            index.Upsert(data[i].Key, data[i].Vector);
            if (i < 1250) index.Upsert(i - 1000, data[i].Vector);
            else if (i < 1500) Assert.True(index.Remove(i - 1000));
            _ = index.Contains(i);
        });
        done.Cancel();
        await Task.WhenAll(searchers);

        Assert.Equal(2250, index.Count);
        for (int i = 0; i < 250; i++) Assert.True(index.Contains(i));
        for (int i = 250; i < 500; i++) Assert.False(index.Contains(i));
        for (int i = 500; i < 2500; i++) Assert.True(index.Contains(i));
        Assert.Equal(2250, index.Search(queries[0], 10_000).Count);
        // Replaced keys carry their new vectors.
        var probe = index.Search(data[1000].Vector, 2);
        Assert.Equal(new long[] { 0, 1000 }, probe.Select(h => h.Key).Order());
    }

    /// <summary>Vectors on a random <paramref name="rank"/>-dimensional subspace, normalised (low intrinsic dimension, as embeddings have).</summary>
    static List<(long Key, float[] Vector)> LowRank(int n, int dims, int rank, int seed, long keyOffset = 0)
    {
        var rng = new Random(seed);
        var basis = Enumerable.Range(0, rank).Select(_ => RandomUnit(rng, dims)).ToArray();
        return Enumerable.Range(0, n).Select(i =>
        {
            var z = RandomUnit(rng, rank);
            var v = new float[dims];
            for (int r = 0; r < rank; r++)
                for (int d = 0; d < dims; d++) v[d] += z[r] * basis[r][d];
            float inv = 1 / MathF.Sqrt(v.Sum(x => x * x));
            for (int d = 0; d < dims; d++) v[d] *= inv;
            return (keyOffset + i, v);
        }).ToList();
    }

    static (long[] Keys, float[] Rows) Rows(IReadOnlyList<(long Key, float[] Vector)> data)
    {
        int dims = data[0].Vector.Length;
        var rows = new float[data.Count * dims];
        for (int i = 0; i < data.Count; i++) data[i].Vector.CopyTo(rows, i * dims);
        return (data.Select(d => d.Key).ToArray(), rows);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Hnsw_built_by_parallel_bulk_upsert_agrees_with_exact_search(bool float16)
    {
        const int dims = 48;
        var data = LowRank(6000, dims, rank: 8, seed: 31);
        var (keys, rows) = Rows(data);
        using var hnsw = new HnswIndex(dims, float16);
        hnsw.UpsertMany(keys, rows, threads: 4); // more threads than this machine's cores: the interleaving is real
        Assert.Equal(data.Count, hnsw.Count);
        Assert.All(data, d => Assert.True(hnsw.Contains(d.Key)));
        Assert.False(hnsw.Contains(data.Count));

        double recall = 0;
        // Same subspace as the data (the same seed draws the same basis first), further points.
        var queries = LowRank(6050, dims, rank: 8, seed: 31).Skip(6000).ToList();
        foreach (var (_, q) in queries)
        {
            var truth = BruteForce(data, q, 10).Select(e => e.Key);
            var got = hnsw.Search(q, 10);
            Assert.Equal(10, got.Count);
            recall += Recall(got, truth);
        }
        recall /= queries.Count;
        Assert.True(recall >= 0.95, $"recall@10 {recall:F3} of the parallel-built index");
        // Stored vectors find themselves first. Inserting from 4 threads left a few nodes that a search does not reach
        // (3 and 9 of these 6,000 in two runs); each node inserted concurrently is now checked by a search for its own
        // vector and re-inserted alone when that misses it (HnswIndex.Reinserted), and 0 were lost in 38 runs of this test. Later
        // inserts can still cut a checked node off (2 of 1,000 sampled from 20,000 random 768-d vectors in the vector benchmark), so
        // one is allowed.
        var lost = data.Where(d => hnsw.Search(d.Vector, 1)[0].Key != d.Key).Select(d => d.Key).ToList();
        Assert.True(lost.Count <= 1, $"{lost.Count} of {data.Count} vectors are not found by themselves ({hnsw.Reinserted} re-inserted), e.g. {string.Join(", ", lost.Take(5))}");
    }

    [Fact]
    public void Bulk_upsert_replaces_existing_keys_and_handles_key_minus_one()
    {
        const int dims = 16;
        var first = Data(500, dims, seed: 32);
        using var hnsw = new HnswIndex(dims);
        var (keys, rows) = Rows(first);
        hnsw.UpsertMany(keys, rows, threads: 2);
        // Half of the keys again with new vectors, 300 new keys, and key -1.
        var second = Data(250, dims, seed: 33).Concat(Data(300, dims, seed: 34, keyOffset: 500)).Append((-1L, RandomUnit(new Random(35), dims))).ToList();
        (keys, rows) = Rows(second);
        hnsw.UpsertMany(keys, rows, threads: 3);
        Assert.Equal(801, hnsw.Count);
        Assert.True(hnsw.Contains(-1));
        // Asking for every key scores each one exactly: each holds its newest vector.
        foreach (var (key, v) in second.Take(20).Concat(second.TakeLast(20)))
            Assert.Equal(1f, hnsw.Search(v, 801).Single(h => h.Key == key).Score, 1e-4);
        var old = hnsw.Search(first[0].Vector, 801);
        Assert.True(old.Single(h => h.Key == 0).Score < 0.9f, "key 0 no longer holds its first vector");
        Assert.Equal(1f, hnsw.Search(first[499].Vector, 801).Single(h => h.Key == 499).Score, 1e-4);
    }

    [Fact]
    public void Bulk_upsert_rejects_bad_arguments_and_leaves_the_index_unchanged()
    {
        using var hnsw = new HnswIndex(4);
        Assert.Throws<ArgumentException>(() => hnsw.UpsertMany([1, 2], new float[7], threads: 2));
        Assert.Throws<ArgumentException>(() => hnsw.UpsertMany([1, 1], new float[8], threads: 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => hnsw.UpsertMany([1], new float[4], threads: 0));
        Assert.Equal(0, hnsw.Count);
        hnsw.UpsertMany([], [], threads: 2);
        Assert.Equal(0, hnsw.Count);
        hnsw.Dispose();
        Assert.Throws<ObjectDisposedException>(() => hnsw.UpsertMany([1], [1, 0, 0, 0], threads: 2));
    }

    [Fact]
    public async Task Searches_while_bulk_adding_never_throw_and_see_every_committed_key()
    {
        const int dims = 32;
        var data = LowRank(12_000, dims, rank: 8, seed: 36);
        using var hnsw = new HnswIndex(dims);
        var (keys, rows) = Rows(data);
        hnsw.UpsertMany(keys.AsSpan(0, 500), rows.AsSpan(0, 500 * dims), threads: 2);
        int searches = 0, selfChecks = 0, selfFound = 0;
        using var done = new CancellationTokenSource();
        var searchers = Enumerable.Range(0, 3).Select(t => Task.Factory.StartNew(() =>
        {
            int i = t;
            while (!done.IsCancellationRequested)
            {
                var (key, v) = data[i++ * 37 % data.Count];
                bool committed = hnsw.Contains(key);
                var hits = i % 4 == 0 ? hnsw.Search(v, 10, k => k % 2 == 0) : hnsw.Search(v, 10);
                Assert.Equal(10, hits.Count);
                for (int j = 1; j < hits.Count; j++) Assert.True(hits[j - 1].Score >= hits[j].Score);
                // A key committed before the search is found by its own vector (unfiltered searches; approximately).
                if (committed && i % 4 != 0)
                {
                    Interlocked.Increment(ref selfChecks);
                    if (hits.Any(h => h.Key == key)) Interlocked.Increment(ref selfFound);
                }
                _ = hnsw.Count;
                Interlocked.Increment(ref searches);
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref searches) >= 10, TimeSpan.FromSeconds(30)));
        int before = Volatile.Read(ref searches);

        hnsw.UpsertMany(keys.AsSpan(500), rows.AsSpan(500 * dims), threads: 2);
        int during = Volatile.Read(ref searches) - before;
        done.Cancel();
        await Task.WhenAll(searchers);

        Assert.True(during > 0, "searches ran while the bulk add did");
        Assert.True(selfFound >= 0.99 * selfChecks, $"{selfFound} of {selfChecks} committed keys found by their own vector");
        Assert.Equal(data.Count, hnsw.Count);
        Assert.All(data, d => Assert.True(hnsw.Contains(d.Key)));
        Assert.Equal(data.Count, hnsw.Search(data[0].Vector, 20_000).Count);
    }
}
