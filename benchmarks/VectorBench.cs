using System.Diagnostics;
using System.Numerics.Tensors;
using Cloud.Unum.USearch;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using VqaApi.Tasks.Embeddings;
using VqaApi.Tasks.Encoders;
using VqaApi.Tasks.Inference;
using VqaApi.Tasks.Models;
using VqaApi.Retrieval;
using VqaApi.Tasks.Serving;

/// <summary>
/// Exact vs HNSW vector search on 768-d normalised vectors: uniformly random ones (the worst case for HNSW: distances
/// concentrate and there is no structure to exploit) and, closer to real embeddings, ones that lie on a random 32-dimensional
/// subspace ("rank 32"). Not part of "all": the 1M case takes long. Options (after "vectors"):
/// <c>--sizes 10000,100000,1000000</c>, <c>--data random,rank32</c>, <c>--hnsw f32,f16</c> (HNSW storage precisions; add
/// <c>f32-unchecked</c> or <c>f16-unchecked</c> for builds without the check of concurrently inserted nodes),
/// <c>--threads N</c> (HNSW build threads, default one per core), <c>--build-minutes M</c> (cap per HNSW build),
/// <c>--expansions 64,128,256,512</c>, <c>--quick</c> (10k only); <c>--embeddings N</c> adds N real text embeddings of the
/// bundled model (<c>--model DIR</c>, default models/clippo-ti16-gen): UI messages of the installed packages' translation
/// catalogues in many languages, queried with held-out messages; <c>--sizes 0</c> runs only those.
/// </summary>
static class VectorBench
{
    internal const int Dims = 768;
    const int K = 10;
    const int QueryCount = 200;
    internal const int Rank = 32;
    /// <summary>Vectors generated into one reused buffer and handed to the index per step (1M vectors are never held outside it).</summary>
    const int StepRows = 4096;
    /// <summary>Maps the rank-32 data into 768 dimensions (fixed, seeded).</summary>
    static readonly float[] Basis = MakeBasis();

    /// <summary>How hard a data set is for any nearest-neighbour index, from exact answers (medians over the queries).
    /// Relative contrast (He, Kumar and Chang, ICML 2012): mean distance from the query to the data over distance to its
    /// k-th neighbour; near 1, the neighbours are barely closer than everything else. LID: the maximum-likelihood local
    /// intrinsic dimensionality (Levina and Bickel, 2004) from the k nearest distances.</summary>
    sealed record DifficultyRow(int N, string Data, double RelativeContrast, double Lid, double KthSimilarity, double MeanSimilarity);

    /// <summary>Scoring a collection's HNSW backlog (items not in the graph yet) exactly, two ways: one scan of the whole
    /// exact index with a membership test, or <see cref="ExactIndex.SearchAmong"/> over the backlog's keys.</summary>
    sealed record BacklogRow(int N, string Data, int Backlog, double ScanP50, double ScanP99, double AmongP50, double AmongP99);

    /// <summary>Searches with a filter that lets one key in <see cref="Modulus"/> through: the HNSW index (graph, falling back
    /// to its own exact scan when the graph cannot vouch for k hits) against the exact index with the same filter.</summary>
    sealed record FilterRow(int N, string Data, string Index, int Modulus, double HnswP50, double HnswP99, double Recall, double ExactP50, double ExactP99);

    /// <summary>How many of <see cref="SelfQueries"/> stored vectors, spread over the index, come back among their own k nearest
    /// from an HNSW index built with <paramref name="Threads"/> threads (a graph whose nodes are all reachable finds all).</summary>
    sealed record SelfRow(int N, string Data, string Index, int Threads, int Found, long Reinserted);

    sealed record Settings(int[] Sizes, bool[] LowRank, HnswKind[] Hnsw, int Threads, TimeSpan BuildBudget, int[] Expansions,
        int EmbeddingTexts, string Model, int Connectivity, int ExpansionAdd);

    /// <summary>An HNSW variant: storage precision, and whether nodes inserted from several threads are checked by a search for
    /// their own vector and re-inserted when missed (<see cref="HnswIndex.CheckConcurrentInserts"/>, the default).</summary>
    sealed record HnswKind(bool Float16, bool Checked)
    {
        public string Name => (Float16 ? "HNSW float16" : "HNSW float32") + (Checked ? "" : ", inserts unchecked");
        public HnswIndex Create(int dims, Settings s) => new(dims, Float16, s.Connectivity, s.ExpansionAdd) { CheckConcurrentInserts = Checked };
    }

    sealed record BuildRow(int N, string Data, string Index, int Built, double Seconds, double ManagedMb, double WorkingSetMb, double? NativeMb, string Note);

    /// <summary>One search measurement; Expansion 0 = exact.</summary>
    sealed record SearchRow(int N, string Data, string Index, int Built, int Expansion, double P50, double P99, double Qps, double? Recall);

    public static async Task RunAsync(string[] args, bool quick)
    {
        var s = Parse(args, quick);
        Console.WriteLine();
        Console.WriteLine($"## Vector search, {Dims}-d normalised float32 vectors (seeded, generated on the fly), k = {K}, {QueryCount} queries, {Environment.ProcessorCount} cores");
        Console.WriteLine($"Data \"random\": components uniform in [-1, 1), normalised (the worst case for HNSW). Data \"rank {Rank}\": a random linear map of " +
                          $"{Rank}-d random vectors into {Dims}-d, normalised (low intrinsic dimension, like real embeddings). Queries are further vectors of the same kind. " +
                          "Exact float32 is the ground truth; exact float16 is measured on the random data only.");
        Console.WriteLine($"USearch {USearchCapabilities.Version()} (SIMD available: {USearchCapabilities.HardwareAccelerationAvailable()}), HNSW connectivity {s.Connectivity}, expansion add {s.ExpansionAdd}, " +
                          $"built with HnswIndex.UpsertMany from {s.Threads} thread(s) in steps of {StepRows:N0} vectors (generation not timed), each build capped at " +
                          $"{s.BuildBudget.TotalMinutes:F0} min. Exact search is single-threaded below 50,000 vectors and uses all cores above; searches are timed one query at a time. " +
                          "Memory: managed = GC heap delta, native = USearch's own report, working set = Process.WorkingSet64 delta (freed native memory is not always " +
                          "returned to the OS, so later rows can read low).");
        var builds = new List<BuildRow>();
        var searches = new List<SearchRow>();
        var difficulty = new List<DifficultyRow>();
        var backlog = new List<BacklogRow>();
        var filtered = new List<FilterRow>();
        var self = new List<SelfRow>();
        var total = Stopwatch.StartNew();
        foreach (int n in s.Sizes)
            foreach (bool lowRank in s.LowRank)
                RunSize(n, lowRank, s, builds, searches, difficulty, backlog, filtered, self);
        if (s.EmbeddingTexts > 0) await RunEmbeddingsAsync(s, builds, searches, difficulty);

        Console.WriteLine();
        Console.WriteLine($"Run took {total.Elapsed.TotalMinutes:F1} min; peak working set {PeakWorkingSetMb():N0} MB.");
        Console.WriteLine();
        Console.WriteLine("| data | index | N | vectors built | build s | vectors/s | managed MB | native MB | working set MB | bytes per vector |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in builds.OrderBy(r => r.Data).ThenBy(r => r.Index).ThenBy(r => r.N)) Console.WriteLine(Format(r));
        Console.WriteLine();
        Console.WriteLine($"| data | index | N | search expansion | p50 ms | p99 ms | queries/s (one thread) | recall@{K} vs exact |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in searches.OrderBy(r => r.Data).ThenBy(r => r.Index).ThenBy(r => r.Expansion).ThenBy(r => r.N)) Console.WriteLine(Format(r));
        Console.WriteLine();
        Console.WriteLine($"How hard each data set is for any index (exact answers, medians over the {QueryCount} queries): relative contrast = mean " +
                          $"distance from a query to the data (2,000 stored vectors) / distance to its {K}th neighbour (He, Kumar and Chang 2012: near 1, " +
                          $"the neighbours are barely closer than the rest, and graph or partition indexes must visit most of the data); LID = local " +
                          $"intrinsic dimensionality, maximum-likelihood estimate from the {K} nearest distances (Levina and Bickel 2004).");
        Console.WriteLine();
        Console.WriteLine($"| data | N | relative contrast | LID | similarity of the {K}th neighbour | mean similarity to the data |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        foreach (var r in difficulty.OrderBy(r => r.Data).ThenBy(r => r.N))
            Console.WriteLine($"| {r.Data} | {r.N:N0} | {r.RelativeContrast:F3} | {r.Lid:F1} | {r.KthSimilarity:F3} | {r.MeanSimilarity:F3} |");
        Console.WriteLine();
        Console.WriteLine($"Exact scoring of an HNSW backlog (the items a collection has not added to its graph yet; every search scores them " +
                          $"exactly beside the graph): one scan of the whole exact float32 index with a membership test (the collection's way for a " +
                          $"backlog of 1/32 of the items or more), or ExactIndex.SearchAmong over the backlog's keys (its way below that). " +
                          $"{BacklogQueries} queries, top {K}, times in ms.");
        Console.WriteLine();
        Console.WriteLine("| data | N | backlog | scan p50 | scan p99 | by key p50 | by key p99 | scan / by key (p50) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in backlog.OrderBy(r => r.Data).ThenBy(r => r.N).ThenBy(r => r.Backlog))
            Console.WriteLine($"| {r.Data} | {r.N:N0} | {r.Backlog:N0} | {r.ScanP50:F3} | {r.ScanP99:F3} | {r.AmongP50:F3} | {r.AmongP99:F3} | {r.ScanP50 / r.AmongP50:F1} |");
        Console.WriteLine();
        Console.WriteLine($"Stored vectors that find themselves among their own {K} nearest (HNSW, expansion 64; {SelfQueries:N0} vectors spread " +
                          "over the index; compare --threads 1 with more threads to see what the parallel build costs):");
        Console.WriteLine();
        Console.WriteLine("| data | index | N | build threads | found | re-inserted by the insert check |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|");
        foreach (var r in self.OrderBy(r => r.Data).ThenBy(r => r.Index).ThenBy(r => r.N))
            Console.WriteLine($"| {r.Data} | {r.Index} | {r.N:N0} | {r.Threads} | {r.Found:N0} of {Math.Min(SelfQueries, r.N):N0} | {r.Reinserted:N0} |");
        Console.WriteLine();
        Console.WriteLine($"Filtered searches (top {K}, {FilterQueries} queries, times in ms): a filter letting one key in M through, HNSW at the " +
                          "collections' automatic expansion (USearch tests the filter during the traversal; when fewer than k come back, the index " +
                          "scores every passing key exactly from its own vectors) against the exact float32 index with the same filter; recall of HNSW against it.");
        Console.WriteLine();
        Console.WriteLine("| data | index | N | passing | HNSW p50 | HNSW p99 | recall@10 | exact p50 | exact p99 |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in filtered.OrderBy(r => r.Data).ThenBy(r => r.Index).ThenBy(r => r.N).ThenBy(r => r.Modulus))
            Console.WriteLine($"| {r.Data} | {r.Index} | {r.N:N0} | 1 in {r.Modulus} | {r.HnswP50:F3} | {r.HnswP99:F3} | {r.Recall:F3} | {r.ExactP50:F3} | {r.ExactP99:F3} |");
        Console.WriteLine();
        Console.WriteLine($"Goal (HNSW p99 < 10 ms with recall@{K} >= 0.95): per size, the smallest measured search expansion reaching recall 0.95, and its p99.");
        Console.WriteLine();
        Console.WriteLine($"| data | index | N | vectors built | expansion | recall@{K} | p99 ms | goal met |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|---:|---|");
        foreach (var group in searches.Where(r => r.Expansion > 0).GroupBy(r => (r.Data, r.Index, r.N)).OrderBy(g => g.Key.Data).ThenBy(g => g.Key.Index).ThenBy(g => g.Key.N))
        {
            var first = group.OrderBy(r => r.Expansion).FirstOrDefault(r => r.Recall >= 0.95);
            var best = group.MaxBy(r => r.Recall)!;
            string built = group.First().Built == group.Key.N ? $"{group.Key.N:N0}" : $"{group.First().Built:N0} of {group.Key.N:N0}";
            Console.WriteLine(first is null
                ? $"| {group.Key.Data} | {group.Key.Index} | {group.Key.N:N0} | {built} | none (best {best.Expansion}) | {best.Recall:F3} | {best.P99:F2} | no: recall |"
                : $"| {group.Key.Data} | {group.Key.Index} | {group.Key.N:N0} | {built} | {first.Expansion} | {first.Recall:F3} | {first.P99:F2} | {(first.P99 < 10 ? "yes" : "no: p99")}{(first.Built < first.N ? " (partial build)" : "")} |");
        }
    }

    static Settings Parse(string[] args, bool quick)
    {
        string? Value(string name) => Bench.OptionValue(args, name);
        static string[] List(string value) => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var sizes = Value("--sizes") is { } sz ? List(sz).Select(x => int.Parse(x.Replace("_", ""))).ToArray()
            : quick ? [10_000] : [10_000, 100_000, 1_000_000];
        var data = (Value("--data") is { } d ? List(d) : ["random", "rank32"]).Select(x => x switch
        {
            "random" => false,
            "rank32" => true,
            _ => throw new ArgumentException($"--data takes random and/or rank32, not '{x}'"),
        }).ToArray();
        var hnsw = (Value("--hnsw") is { } h ? List(h) : ["f32", "f16"]).Where(x => x != "none").Select(x => x switch
        {
            "f32" => new HnswKind(false, true),
            "f16" => new HnswKind(true, true),
            "f32-unchecked" => new HnswKind(false, false),
            "f16-unchecked" => new HnswKind(true, false),
            _ => throw new ArgumentException($"--hnsw takes f32, f16, f32-unchecked and/or f16-unchecked (or none: exact indexes only), not '{x}'"),
        }).ToArray();
        int threads = Value("--threads") is { } t ? int.Parse(t) : Environment.ProcessorCount;
        double minutes = Value("--build-minutes") is { } m ? double.Parse(m) : quick ? 5 : 45;
        var expansions = Value("--expansions") is { } e ? List(e).Select(int.Parse).ToArray() : quick ? [64, 256] : [64, 128, 256, 512];
        int texts = Value("--embeddings") is { } t2 ? int.Parse(t2) : 0;
        string model = Value("--model") ?? "models/clippo-ti16-gen";
        sizes = sizes.Where(x => x > 0).ToArray();
        int connectivity = Value("--connectivity") is { } c ? int.Parse(c) : 16;
        int expansionAdd = Value("--expansion-add") is { } ea ? int.Parse(ea) : 128;
        if (sizes.Any(x => x < K) || threads < 1 || minutes <= 0 || expansions.Any(x => x < 1) || texts < 0 || connectivity < 2 || expansionAdd < 1)
            throw new ArgumentException("sizes must be at least 10 (or 0: none), threads and expansions at least 1, build minutes positive, connectivity at least 2");
        return new Settings(sizes, data, hnsw, threads, TimeSpan.FromMinutes(minutes), expansions, texts, model, connectivity, expansionAdd);
    }

    static void RunSize(int n, bool lowRank, Settings s, List<BuildRow> builds, List<SearchRow> searches, List<DifficultyRow> difficulty,
        List<BacklogRow> backlog, List<FilterRow> filtered, List<SelfRow> self)
    {
        var queries = new float[QueryCount][];
        for (int i = 0; i < QueryCount; i++) { queries[i] = new float[Dims]; Vector(seed: 2, i, queries[i], lowRank); }
        string data = lowRank ? $"rank {Rank}" : "random";

        // Exact float32 first: its answers are the ground truth for recall. It stays until the HNSW rows are done, for the
        // truth over a partial build; every other index is disposed after its rows, so one HNSW index at a time sits beside it.
        using var exact = new ExactIndex(Dims);
        builds.Add(BuildExact(n, lowRank, data, exact, "exact float32"));
        var truth = Measure(n, n, data, exact, "exact float32", 0, queries, null, searches);
        var sample = new float[Math.Min(n, 2000) * Dims];
        Generate(seed: 1, 0, sample.Length / Dims, sample, lowRank);
        difficulty.Add(Difficulty(n, data, exact, queries, sample, Dims));
        foreach (int pending in new[] { 256, 4096, n / 4 }.Where(b => b < n).Distinct()) backlog.Add(Backlog(n, data, exact, queries, pending));

        if (!lowRank)
        {
            using var exact16 = new ExactIndex(Dims, float16: true);
            builds.Add(BuildExact(n, lowRank, data, exact16, "exact float16"));
            Measure(n, n, data, exact16, "exact float16", 0, queries, truth, searches);
        }

        foreach (var kind in s.Hnsw)
        {
            string name = kind.Name;
            using var hnsw = kind.Create(Dims, s);
            var row = BuildHnsw(n, lowRank, data, hnsw, name, s);
            builds.Add(row);
            // Partial build: recall against the exact answer over the vectors it holds.
            var hnswTruth = row.Built == n ? truth : queries.Select(q => exact.Search(q, K, key => key < row.Built).Select(h => h.Key).ToArray()).ToArray();
            foreach (int ef in s.Expansions)
            {
                hnsw.ExpansionSearch = ef;
                Measure(n, row.Built, data, hnsw, name, ef, queries, hnswTruth, searches);
            }
            if (row.Built == n)
            {
                hnsw.ExpansionSearch = 64;
                self.Add(SelfFound(n, lowRank, data, hnsw, name, s.Threads));
                foreach (int modulus in new[] { 2, 10, 100 })
                    filtered.Add(Filtered(n, data, hnsw, name, exact, queries, modulus, new CollectionOptions().HnswExpansionFor(K, n)));
            }
        }
        GC.Collect();
    }

    /// <summary>Real embeddings: texts of the parallel corpus (UI messages in many languages) encoded by the model, the
    /// items from the training split and the queries from the held-out split, exact vs HNSW as for the synthetic data.</summary>
    static async Task RunEmbeddingsAsync(Settings s, List<BuildRow> builds, List<SearchRow> searches, List<DifficultyRow> difficulty)
    {
        var clock = Stopwatch.StartNew();
        var corpus = VqaApi.Generation.ParallelCorpus.Load();
        static IEnumerable<string> Texts(IEnumerable<VqaApi.Generation.ParallelGroup> groups) =>
            groups.SelectMany(g => g.Sentences).Select(x => x.Text).Distinct(StringComparer.Ordinal);
        var items = Texts(corpus.Pairs(heldOut: false)).Take(s.EmbeddingTexts).ToList();
        var queryTexts = Texts(corpus.Pairs(heldOut: true)).Take(QueryCount).ToList();
        if (items.Count < K || queryTexts.Count < QueryCount)
        {
            Console.WriteLine($"Real embeddings skipped: the translation catalogues under {VqaApi.Generation.ParallelCorpus.DefaultRoot} give only {items.Count} texts.");
            return;
        }
        await using var model = ServedModel.Open(Options.Create(new ModelOptions { Path = s.Model, CreatePlaceholderIfMissing = false }),
            Options.Create(new EncoderOptions { UseCuda = false, MaxBatch = 32, MaxQueuedCanvases = 4096 }), NullLogger<ServedModel>.Instance);
        var embeddings = new EmbeddingService(model, new InferenceGate(Options.Create(new InferenceOptions { TimeoutSeconds = 3600, MaxQueuedRequests = 1000 })),
            new EmbeddingCache(1));
        var vectors = new List<float[]>(items.Count);
        foreach (var chunk in items.Chunk(256)) vectors.AddRange((await embeddings.TextsAsync(chunk, default)).Vectors);
        var queries = (await embeddings.TextsAsync(queryTexts, default)).Vectors;
        int dims = vectors[0].Length, n = vectors.Count;
        string data = $"embeddings ({model.Manifest.Id}, {dims}-d)";
        Console.WriteLine($"Data \"{data}\": {n:N0} texts from {corpus.Languages.Count} languages of the installed translation catalogues (training split), " +
                          $"{QueryCount} held-out texts as queries, embedded by the model in {clock.Elapsed.TotalSeconds:F0} s on this machine.");
        var rows = new float[n * dims];
        for (int i = 0; i < n; i++) vectors[i].CopyTo(rows, i * dims);

        using var exact = new ExactIndex(dims);
        var (managed0, ws0) = Memory();
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < n; i++) exact.Upsert(i, rows.AsSpan(i * dims, dims));
        sw.Stop();
        var (managed1, ws1) = Memory();
        builds.Add(new BuildRow(n, data, "exact float32", n, sw.Elapsed.TotalSeconds, Mb(managed1 - managed0), Mb(ws1 - ws0), null, ""));
        var truth = Measure(n, n, data, exact, "exact float32", 0, queries, null, searches);
        difficulty.Add(Difficulty(n, data, exact, queries.ToArray(), rows.AsSpan(0, Math.Min(n, 2000) * dims).ToArray(), dims));
        foreach (var kind in s.Hnsw)
        {
            string name = kind.Name;
            using var hnsw = kind.Create(dims, s);
            (managed0, ws0) = Memory();
            sw.Restart();
            hnsw.UpsertMany(Enumerable.Range(0, n).Select(i => (long)i).ToArray(), rows, s.Threads);
            sw.Stop();
            (managed1, ws1) = Memory();
            var row = new BuildRow(n, data, name, n, sw.Elapsed.TotalSeconds, Mb(managed1 - managed0), Mb(ws1 - ws0), Mb(hnsw.NativeMemoryUsage), "");
            builds.Add(row);
            Console.Error.WriteLine($"[vectors] {Format(row)}");
            foreach (int ef in s.Expansions)
            {
                hnsw.ExpansionSearch = ef;
                Measure(n, n, data, hnsw, name, ef, queries, truth, searches);
            }
        }
    }

    static BuildRow BuildExact(int n, bool lowRank, string data, ExactIndex index, string name)
    {
        var (managed0, ws0) = Memory();
        var rows = new float[StepRows * Dims];
        var sw = new Stopwatch();
        for (int start = 0; start < n; start += StepRows)
        {
            int count = Math.Min(StepRows, n - start);
            Generate(seed: 1, start, count, rows, lowRank);
            sw.Start();
            for (int i = 0; i < count; i++) index.Upsert(start + i, rows.AsSpan(i * Dims, Dims));
            sw.Stop();
        }
        var (managed1, ws1) = Memory();
        var row = new BuildRow(n, data, name, n, sw.Elapsed.TotalSeconds, Mb(managed1 - managed0), Mb(ws1 - ws0), null, "");
        Console.Error.WriteLine($"[vectors] {Format(row)}");
        return row;
    }

    static BuildRow BuildHnsw(int n, bool lowRank, string data, HnswIndex index, string name, Settings s)
    {
        var (managed0, ws0) = Memory();
        var rows = new float[StepRows * Dims];
        var keys = new long[StepRows];
        var sw = new Stopwatch();
        var wall = Stopwatch.StartNew();
        var cpu0 = CpuTime();
        int built = 0, reported = 0;
        while (built < n && wall.Elapsed < s.BuildBudget)
        {
            int count = Math.Min(StepRows, n - built);
            Generate(seed: 1, built, count, rows, lowRank);
            for (int i = 0; i < count; i++) keys[i] = built + i;
            sw.Start();
            index.UpsertMany(keys.AsSpan(0, count), rows.AsSpan(0, count * Dims), s.Threads);
            sw.Stop();
            built += count;
            if (built - reported >= Math.Max(n / 10, StepRows) || built == n)
            {
                reported = built;
                Console.Error.WriteLine($"[vectors] {n:N0} {data} {name}: {built:N0} built in {sw.Elapsed.TotalSeconds:F0} s ({built / sw.Elapsed.TotalSeconds:N0}/s, " +
                                        $"{(CpuTime() - cpu0).TotalSeconds / wall.Elapsed.TotalSeconds:F2} cores busy)");
            }
        }
        var (managed1, ws1) = Memory();
        string note = built == n ? "" : $" (stopped at {s.BuildBudget.TotalMinutes:F0} min)";
        var row = new BuildRow(n, data, name, built, sw.Elapsed.TotalSeconds, Mb(managed1 - managed0), Mb(ws1 - ws0), Mb(index.NativeMemoryUsage), note);
        Console.Error.WriteLine($"[vectors] {Format(row)}");
        return row;
    }

    /// <summary>Relative contrast and LID of a data set from its exact index (see <see cref="DifficultyRow"/>); distances are
    /// Euclidean between unit vectors, sqrt(2 - 2 cos).</summary>
    static DifficultyRow Difficulty(int n, string data, ExactIndex exact, float[][] queries, float[] sample, int dims)
    {
        static double Distance(double similarity) => Math.Sqrt(Math.Max(2 - 2 * similarity, 1e-12));
        var contrast = new List<double>(queries.Length);
        var lid = new List<double>(queries.Length);
        var kth = new List<double>(queries.Length);
        var mean = new List<double>(queries.Length);
        int rows = sample.Length / dims;
        foreach (var q in queries)
        {
            var hits = exact.Search(q, K);
            double meanDistance = 0, meanSimilarity = 0;
            for (int i = 0; i < rows; i++)
            {
                double sim = TensorPrimitives.Dot(q, sample.AsSpan(i * dims, dims));
                meanDistance += Distance(sim);
                meanSimilarity += sim;
            }
            meanDistance /= rows;
            double dk = Distance(hits[^1].Score);
            contrast.Add(meanDistance / dk);
            double logs = 0;
            for (int i = 0; i < hits.Count - 1; i++) logs += Math.Log(Distance(hits[i].Score) / dk);
            lid.Add(logs < 0 ? -(hits.Count - 1) / logs : double.PositiveInfinity);
            kth.Add(hits[^1].Score);
            mean.Add(meanSimilarity / rows);
        }
        static double Median(List<double> x) { x.Sort(); return Percentile(x, 0.5); }
        var row = new DifficultyRow(n, data, Median(contrast), Median(lid), Median(kth), Median(mean));
        Console.Error.WriteLine($"[vectors] {n:N0} {data}: relative contrast {row.RelativeContrast:F3}, LID {row.Lid:F1}");
        return row;
    }

    const int BacklogQueries = 50;
    const int FilterQueries = 50;
    const int SelfQueries = 1000;

    static SelfRow SelfFound(int n, bool lowRank, string data, HnswIndex hnsw, string name, int threads)
    {
        int count = Math.Min(SelfQueries, n), found = 0;
        var v = new float[Dims];
        for (int j = 0; j < count; j++)
        {
            int i = (int)((long)j * n / count);
            Vector(seed: 1, i, v, lowRank);
            if (hnsw.Search(v, K).Any(h => h.Key == i)) found++;
        }
        Console.Error.WriteLine($"[vectors] {n:N0} {data} {name}, {threads} build thread(s): {found} of {count} stored vectors find themselves");
        return new SelfRow(n, data, name, threads, found, hnsw.Reinserted);
    }

    static FilterRow Filtered(int n, string data, HnswIndex hnsw, string name, ExactIndex exact, float[][] queries, int modulus, int expansion)
    {
        Func<long, bool> filter = key => key % modulus == 0;
        var h = new List<double>(FilterQueries);
        var e = new List<double>(FilterQueries);
        double recall = 0;
        for (int q = -3; q < FilterQueries; q++)
        {
            var query = queries[Math.Max(q, 0)];
            long t0 = Stopwatch.GetTimestamp();
            var truth = exact.Search(query, K, filter);
            double exactMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            t0 = Stopwatch.GetTimestamp();
            var got = hnsw.Search(query, K, filter, float.NegativeInfinity, expansion);
            double hnswMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            if (q < 0) continue;
            e.Add(exactMs);
            h.Add(hnswMs);
            recall += (double)got.Select(x => x.Key).Intersect(truth.Select(x => x.Key)).Count() / truth.Count;
        }
        h.Sort();
        e.Sort();
        var row = new FilterRow(n, data, name, modulus, Percentile(h, 0.5), Percentile(h, 0.99), recall / FilterQueries, Percentile(e, 0.5), Percentile(e, 0.99));
        Console.Error.WriteLine($"[vectors] {n:N0} {data} {name}, 1 in {modulus} passing: HNSW p50 {row.HnswP50:F3} ms (recall {row.Recall:F3}), exact p50 {row.ExactP50:F3} ms");
        return row;
    }

    /// <summary>The last <paramref name="pending"/> keys as the backlog (a collection's newest items), scored both ways; the
    /// two answers must agree.</summary>
    static BacklogRow Backlog(int n, string data, ExactIndex exact, float[][] queries, int pending)
    {
        var keys = Enumerable.Range(n - pending, pending).Select(i => (long)i).ToArray();
        var set = new System.Collections.Concurrent.ConcurrentDictionary<long, byte>(keys.Select(k => KeyValuePair.Create(k, (byte)0)));
        var scan = new List<double>(BacklogQueries);
        var among = new List<double>(BacklogQueries);
        for (int q = -3; q < BacklogQueries; q++) // three warm-up queries
        {
            var query = queries[Math.Max(q, 0)];
            long t0 = Stopwatch.GetTimestamp();
            var a = exact.Search(query, K, key => set.ContainsKey(key));
            double scanMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            t0 = Stopwatch.GetTimestamp();
            var b = exact.SearchAmong(query, K, set.Select(p => p.Key));
            double amongMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            if (!a.SequenceEqual(b)) throw new InvalidOperationException($"backlog {pending}: the two ways disagree");
            if (q < 0) continue;
            scan.Add(scanMs);
            among.Add(amongMs);
        }
        scan.Sort();
        among.Sort();
        var row = new BacklogRow(n, data, pending, Percentile(scan, 0.5), Percentile(scan, 0.99), Percentile(among, 0.5), Percentile(among, 0.99));
        Console.Error.WriteLine($"[vectors] {n:N0} {data}, backlog {pending:N0}: scan p50 {row.ScanP50:F3} ms, by key p50 {row.AmongP50:F3} ms");
        return row;
    }

    /// <summary>Times one query at a time; returns each query's top-k keys.</summary>
    static long[][] Measure(int n, int built, string data, IVectorIndex index, string name, int ef, float[][] queries, long[][]? truth, List<SearchRow> rows)
    {
        for (int i = 0; i < 5; i++) index.Search(queries[i], K); // warm-up
        var times = new List<double>(queries.Length);
        var keys = new long[queries.Length][];
        double recall = 0;
        for (int q = 0; q < queries.Length; q++)
        {
            long t0 = Stopwatch.GetTimestamp();
            var hits = index.Search(queries[q], K);
            times.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            keys[q] = hits.Select(h => h.Key).ToArray();
            if (truth is not null) recall += truth[q].Length == 0 ? 1 : (double)keys[q].Intersect(truth[q]).Count() / truth[q].Length;
        }
        times.Sort();
        var row = new SearchRow(n, data, name, built, ef, Percentile(times, 0.5), Percentile(times, 0.99), 1000 * queries.Length / times.Sum(),
            truth is null ? null : recall / queries.Length);
        rows.Add(row);
        Console.Error.WriteLine($"[vectors] {Format(row)}");
        return keys;
    }

    static string Format(BuildRow r) =>
        $"| {r.Data} | {r.Index} | {r.N:N0} | {(r.Built == r.N ? $"{r.N:N0}" : $"{r.Built:N0}{r.Note}")} | {r.Seconds:F1} | {r.Built / r.Seconds:N0} | " +
        $"{r.ManagedMb:F0} | {(r.NativeMb is { } nat ? $"{nat:F0}" : "-")} | {r.WorkingSetMb:F0} | " +
        $"{(r.NativeMb is { } native ? native : Math.Max(r.ManagedMb, 0)) * 1048576 / r.Built:N0} |";

    static string Format(SearchRow r) =>
        $"| {r.Data} | {r.Index}{(r.Built < r.N ? $" (first {r.Built:N0})" : "")} | {r.N:N0} | {(r.Expansion == 0 ? "-" : r.Expansion.ToString())} | " +
        $"{r.P50:F3} | {r.P99:F3} | {r.Qps:N0} | {(r.Recall is { } x ? x.ToString("F3") : "1 (ground truth)")} |";

    static double Mb(long bytes) => bytes / 1048576.0;

    static (long Managed, long WorkingSet) Memory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        long managed = GC.GetTotalMemory(forceFullCollection: true);
        using var process = Process.GetCurrentProcess();
        return (managed, process.WorkingSet64);
    }

    static TimeSpan CpuTime()
    {
        using var process = Process.GetCurrentProcess();
        return process.TotalProcessorTime;
    }

    static double PeakWorkingSetMb()
    {
        using var process = Process.GetCurrentProcess();
        return Mb(process.PeakWorkingSet64);
    }

    /// <summary>Vectors first .. first + count - 1 of a seeded stream into <paramref name="rows"/>, on all cores.</summary>
    static void Generate(int seed, int first, int count, float[] rows, bool lowRank) =>
        Parallel.For(0, count, i => Vector(seed, first + i, rows.AsSpan(i * Dims, Dims), lowRank));

    /// <summary>Vector number <paramref name="index"/> of a seeded stream, generated on the fly (SplitMix64 per vector,
    /// components uniform in [-1, 1), then L2-normalised), so 1M vectors never need to be held outside the index.
    /// With <paramref name="lowRank"/>, a 32-d vector drawn that way is mapped into 768-d by <see cref="Basis"/>.</summary>
    internal static void Vector(int seed, int index, Span<float> v, bool lowRank)
    {
        if (lowRank)
        {
            Span<float> z = stackalloc float[Rank];
            Uniform(seed, index, z);
            for (int i = 0; i < v.Length; i++)
                v[i] = TensorPrimitives.Dot(Basis.AsSpan(i * Rank, Rank), z);
        }
        else Uniform(seed, index, v);
        TensorPrimitives.Multiply(v, 1 / TensorPrimitives.Norm(v), v);
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

    internal static double Percentile(List<double> sorted, double q) => sorted[Math.Min(sorted.Count - 1, Math.Max(0, (int)Math.Ceiling(q * sorted.Count) - 1))];
}
