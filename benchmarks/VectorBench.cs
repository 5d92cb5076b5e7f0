using System.Diagnostics;
using Cloud.Unum.USearch;
using VqaApi.Tasks.Retrieval;

/// <summary>
/// Exact vs HNSW vector search on 768-d normalised vectors: uniformly random ones (the worst case for HNSW: distances
/// concentrate and there is no structure to exploit) and, closer to real embeddings, ones that lie on a random 32-dimensional
/// subspace ("rank 32"). Not part of "all": the 1M case takes long.
/// </summary>
static class VectorBench
{
    const int Dims = 768;
    const int K = 10;
    const int QueryCount = 200;
    const int Rank = 32;
    /// <summary>Maps the rank-32 data into 768 dimensions (fixed, seeded).</summary>
    static readonly float[] Basis = MakeBasis();
    /// <summary>An HNSW build that takes longer stops, and the table says how far it got.</summary>
    static readonly TimeSpan BuildBudget = TimeSpan.FromMinutes(15);

    public static void Run(bool quick)
    {
        var sizes = quick ? new[] { 10_000, 50_000 } : new[] { 10_000, 100_000, 1_000_000 };
        Console.WriteLine();
        Console.WriteLine($"## Vector search, {Dims}-d normalised float32 vectors (seeded, generated on the fly), k = {K}, {QueryCount} queries, {Environment.ProcessorCount} cores");
        Console.WriteLine($"Data \"random\": components uniform in [-1, 1), normalised (the worst case for HNSW). Data \"rank {Rank}\": a random linear map of " +
                          $"{Rank}-d random vectors into {Dims}-d, normalised (low intrinsic dimension, like real embeddings); exact and HNSW float32 only. " +
                          "Queries are further vectors of the same kind.");
        Console.WriteLine($"USearch {USearchCapabilities.Version()} (SIMD available: {USearchCapabilities.HardwareAccelerationAvailable()}), HNSW connectivity 16, expansion add 128. " +
                          $"Exact search is single-threaded below 50,000 vectors and uses all cores above. HNSW builds add one vector at a time (Upsert holds the write lock) " +
                          $"and stop after {BuildBudget.TotalMinutes:F0} min. Memory: managed = GC.GetTotalMemory delta, working set = Process.WorkingSet64 delta " +
                          "(managed + native; freed native memory is not always returned to the OS, so later rows can read low).");
        var build = new List<string>();
        var search = new List<string>();
        foreach (int n in sizes)
        {
            RunSize(n, lowRank: false, build, search);
            RunSize(n, lowRank: true, build, search);
        }

        Console.WriteLine();
        Console.WriteLine("| N | data | index | vectors built | build s | vectors/s | managed MB | working set MB | MB per 1k vectors (working set) |");
        Console.WriteLine("|---:|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var row in build) Console.WriteLine(row);
        Console.WriteLine();
        Console.WriteLine($"| N | data | index | search expansion | p50 ms | p99 ms | queries/s (one thread) | recall@{K} vs exact |");
        Console.WriteLine("|---:|---|---|---:|---:|---:|---:|---:|");
        foreach (var row in search) Console.WriteLine(row);
    }

    static void RunSize(int n, bool lowRank, List<string> buildRows, List<string> searchRows)
    {
        var queries = Enumerable.Range(0, QueryCount).Select(i => Vector(seed: 2, i, lowRank)).ToArray();
        string data = lowRank ? $"rank {Rank}" : "random";
        var indexes = new List<IVectorIndex>();
        try
        {
            // Exact float32 first: its answers are the ground truth for recall.
            var exact = Build(n, lowRank, data, new ExactIndex(Dims), "exact float32", TimeSpan.MaxValue, buildRows, out _);
            indexes.Add(exact);
            var truth = Measure(n, data, exact, "exact float32", "-", queries, null, searchRows);

            if (!lowRank)
            {
                var exact16 = Build(n, lowRank, data, new ExactIndex(Dims, float16: true), "exact float16", TimeSpan.MaxValue, buildRows, out _);
                indexes.Add(exact16);
                Measure(n, data, exact16, "exact float16", "-", queries, truth, searchRows);
            }

            foreach (bool f16 in lowRank ? new[] { false } : new[] { false, true })
            {
                string name = f16 ? "HNSW float16" : "HNSW float32";
                var hnsw = Build(n, lowRank, data, new HnswIndex(Dims, f16), name, BuildBudget, buildRows, out int built);
                indexes.Add(hnsw);
                var hnswTruth = truth;
                if (built < n)
                {
                    // Partial build: recall against the exact answer over the vectors it holds.
                    hnswTruth = queries.Select(q => exact.Search(q, K, key => key < built).Select(h => h.Key).ToArray()).ToArray();
                    name += $" (first {built:N0})";
                }
                foreach (int ef in new[] { 64, 256 })
                {
                    hnsw.ExpansionSearch = ef;
                    Measure(n, data, hnsw, name, ef.ToString(), queries, hnswTruth, searchRows);
                }
            }
        }
        finally
        {
            foreach (var index in indexes) index.Dispose();
            GC.Collect();
        }
    }

    static T Build<T>(int n, bool lowRank, string data, T index, string name, TimeSpan budget, List<string> rows, out int built) where T : IVectorIndex
    {
        var (managed0, ws0) = Memory();
        var vector = new float[Dims];
        var sw = new Stopwatch();
        var wall = Stopwatch.StartNew();
        built = 0;
        for (int i = 0; i < n; i++)
        {
            Vector(seed: 1, i, vector, lowRank); // generated outside the timed part
            sw.Start();
            index.Upsert(i, vector);
            sw.Stop();
            built++;
            if ((i & 1023) == 1023 && wall.Elapsed > budget) break;
        }
        var (managed1, ws1) = Memory();
        double wsMb = (ws1 - ws0) / 1048576.0;
        string count = built == n ? $"{n:N0}" : $"{built:N0} of {n:N0} (stopped at {budget.TotalMinutes:F0} min)";
        rows.Add($"| {n:N0} | {data} | {name} | {count} | {sw.Elapsed.TotalSeconds:F1} | {built / sw.Elapsed.TotalSeconds:N0} | " +
                 $"{(managed1 - managed0) / 1048576.0:F0} | {wsMb:F0} | {wsMb / (built / 1000.0):F2} |");
        Console.Error.WriteLine($"[vectors] {n:N0} {data} {name}: built {built:N0} in {sw.Elapsed.TotalSeconds:F1} s");
        return index;
    }

    /// <summary>Times one query at a time; returns each query's top-k keys.</summary>
    static long[][] Measure(int n, string data, IVectorIndex index, string name, string ef, float[][] queries, long[][]? truth, List<string> rows)
    {
        for (int i = 0; i < 5; i++) index.Search(queries[i], K); // warm-up
        var times = new List<double>(queries.Length);
        var keys = new long[queries.Length][];
        double recall = 0;
        for (int q = 0; q < queries.Length; q++)
        {
            var sw = Stopwatch.StartNew();
            var hits = index.Search(queries[q], K);
            times.Add(sw.Elapsed.TotalMilliseconds);
            keys[q] = hits.Select(h => h.Key).ToArray();
            if (truth is not null) recall += truth[q].Length == 0 ? 1 : (double)keys[q].Intersect(truth[q]).Count() / truth[q].Length;
        }
        times.Sort();
        double p50 = Percentile(times, 0.5), p99 = Percentile(times, 0.99);
        string recallText = truth is null ? "1 (ground truth)" : $"{recall / queries.Length:F3}";
        rows.Add($"| {n:N0} | {data} | {name} | {ef} | {p50:F3} | {p99:F3} | {1000 * queries.Length / times.Sum():N0} | {recallText} |");
        Console.Error.WriteLine($"[vectors] {n:N0} {data} {name} ef {ef}: p50 {p50:F3} ms, recall {recallText}");
        return keys;
    }

    static (long Managed, long WorkingSet) Memory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long managed = GC.GetTotalMemory(forceFullCollection: true);
        using var process = Process.GetCurrentProcess();
        return (managed, process.WorkingSet64);
    }

    static float[] Vector(int seed, int index, bool lowRank)
    {
        var v = new float[Dims];
        Vector(seed, index, v, lowRank);
        return v;
    }

    /// <summary>Vector number <paramref name="index"/> of a seeded stream, generated on the fly (SplitMix64 per vector,
    /// components uniform in [-1, 1), then L2-normalised), so 1M vectors never need to be held outside the index.
    /// With <paramref name="lowRank"/>, a 32-d vector drawn that way is mapped into 768-d by <see cref="Basis"/>.</summary>
    static void Vector(int seed, int index, float[] v, bool lowRank)
    {
        if (lowRank)
        {
            Span<float> z = stackalloc float[Rank];
            Uniform(seed, index, z);
            for (int i = 0; i < v.Length; i++)
                v[i] = System.Numerics.Tensors.TensorPrimitives.Dot(Basis.AsSpan(i * Rank, Rank), z);
        }
        else Uniform(seed, index, v);
        float inv = 1 / System.Numerics.Tensors.TensorPrimitives.Norm(v);
        for (int i = 0; i < v.Length; i++) v[i] *= inv;
    }

    static float[] MakeBasis()
    {
        var basis = new float[Dims * Rank];
        for (int row = 0; row < Dims; row++) Uniform(99, row, basis.AsSpan(row * Rank, Rank));
        return basis;
    }

    static void Uniform(int seed, int index, Span<float> v)
    {
        // Scramble the start so that the streams of neighbouring vectors do not overlap.
        ulong state = Mix((ulong)(uint)seed << 32 | (uint)index);
        for (int i = 0; i < v.Length; i++)
        {
            ulong z = Mix(state += 0x9E3779B97F4A7C15UL);
            v[i] = (float)((z >> 40) * (1.0 / (1UL << 24)) * 2 - 1);
        }
    }

    static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    static double Percentile(List<double> sorted, double q) => sorted[Math.Min(sorted.Count - 1, Math.Max(0, (int)Math.Ceiling(q * sorted.Count) - 1))];
}
