using System.Diagnostics;
using System.Text.Json;
using System.Numerics.Tensors;
using VqaApi.Retrieval;

/// <summary>
/// Filtered searches of a collection with its HNSW index ready: metadata filters of several pass rates, latency and recall
/// against a brute-force answer computed here from the same vectors and metadata. Uses only the public Collection API, so
/// the same file measures older code too.
/// </summary>
static class FilterBench
{
    const int K = 10;
    const int Queries = 50;
    static readonly string[] Languages = ["en", "de", "fr", "es", "it", "pt", "nl", "sv", "pl", "cs"];

    public static void Run(string[] args, bool quick)
    {
        int n = Bench.OptionValue(args, "--items") is { } v ? int.Parse(v.Replace("_", "")) : quick ? 20_000 : 100_000;
        int d = VectorBench.Dims;
        // The collections' default, or 0 (every filtered search through the graph) or a huge value (every one exact).
        int exactBelow = Bench.OptionValue(args, "--exact-below") is { } e ? int.Parse(e.Replace("_", "")) : new CollectionOptions().HnswFilterExactBelow;
        Console.WriteLine();
        Console.WriteLine($"## Filtered search: {n:N0} x {d}-d rank-{VectorBench.Rank} vectors in a collection, HNSW ready, top {K}, {Queries} queries, {Environment.ProcessorCount} cores");
        Console.WriteLine("Item i has metadata {\"lang\": one of 10 codes (i % 10), \"g\": i % 1000}. Recall against brute force over the items that pass (float32, computed here). " +
                          "Times in ms, one query at a time, Collection.Search (the API's search minus HTTP and embedding). " +
                          $"Collections:HnswFilterExactBelow = {exactBelow:N0} (--exact-below).");
        var dir = Directory.CreateTempSubdirectory("vqaapi-filterbench-").FullName;
        try
        {
            var options = new CollectionOptions { Root = dir, Fsync = FsyncPolicy.OsBuffered, HnswThreshold = Math.Min(20_000, n), SnapshotEveryRecords = 100_000_000,
                HnswFilterExactBelow = exactBelow };
            using var c = Collection.Create(Path.Combine(dir, "f"), new CollectionInfo("f", "m", "p", d, DateTimeOffset.UtcNow), options);
            var vectors = new float[(long)n * d];
            var clock = Stopwatch.StartNew();
            for (int start = 0; start < n; start += 1024)
            {
                int count = Math.Min(1024, n - start);
                var batch = new List<NewItem>(count);
                for (int i = start; i < start + count; i++)
                {
                    var row = vectors.AsSpan(i * d, d);
                    VectorBench.Vector(seed: 1, i, row, lowRank: true);
                    var meta = JsonDocument.Parse($"{{\"lang\": \"{Languages[i % 10]}\", \"g\": {i % 1000}}}").RootElement.Clone();
                    batch.Add(new NewItem($"i{i}", null, null, meta, row.ToArray()));
                }
                c.Upsert(batch, upsert: false);
            }
            c.WaitForHnsw(null, TimeSpan.FromMilliseconds(200));
            Console.Error.WriteLine($"[filter] {n:N0} items stored and in the HNSW index in {clock.Elapsed.TotalSeconds:F0} s");

            var queries = Enumerable.Range(0, Queries).Select(q => { var x = new float[d]; VectorBench.Vector(seed: 2, q, x, lowRank: true); return x; }).ToArray();
            var cases = new (string Name, string Json, Func<int, bool> Passes)[]
            {
                ("none (1 in 1)", "null", _ => true),
                ("lang in 5 codes (1 in 2)", """{"lang": {"$in": ["en", "de", "fr", "es", "it"]}}""", i => i % 10 < 5),
                ("lang = de (1 in 10)", """{"lang": "de"}""", i => i % 10 == 1),
                ("g < 10 (1 in 100)", """{"g": {"$lt": 10}}""", i => i % 1000 < 10),
                ("g = 7 (1 in 1,000)", """{"g": 7}""", i => i % 1000 == 7),
            };
            Console.WriteLine();
            Console.WriteLine("| filter | passing items | p50 ms | p99 ms | recall@10 |");
            Console.WriteLine("|---|---:|---:|---:|---:|");
            foreach (var (name, json, passes) in cases)
            {
                var filter = MetadataFilter.Parse(JsonDocument.Parse(json).RootElement);
                var passing = Enumerable.Range(0, n).Where(passes).ToArray();
                var times = new List<double>(Queries);
                double recall = 0;
                for (int q = -3; q < Queries; q++)
                {
                    var query = queries[Math.Max(q, 0)];
                    long t0 = Stopwatch.GetTimestamp();
                    var hits = c.Search(query, K, float.NegativeInfinity, filter);
                    double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                    if (q < 0) continue;
                    times.Add(ms);
                    var truth = passing.OrderByDescending(i => TensorPrimitives.Dot(query, vectors.AsSpan(i * d, d))).Take(K).Select(i => $"i{i}").ToHashSet();
                    recall += hits.Count(h => truth.Contains(h.Item.Id)) / (double)truth.Count;
                }
                times.Sort();
                Console.WriteLine($"| {name} | {passing.Length:N0} | {VectorBench.Percentile(times, 0.5):F3} | {VectorBench.Percentile(times, 0.99):F3} | {recall / Queries:F3} |");
            }
        }
        finally { Directory.Delete(dir, true); }
    }
}
