using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using VqaApi.Retrieval;

/// <summary>
/// The two collection backends on the same data, through the same calls the API makes (<see cref="IVectorCollection"/>): the
/// embedded store (files, in-process exact and HNSW indexes) and PostgreSQL with pgvector. N rank-32 vectors in 768 dimensions
/// (the vector benchmark's data) are written in batches of 256 (ingest items/s, index built as items arrive on both); then 200
/// queries of the same kind, one at a time, for each search expansion (the embedded HNSW's ef, pgvector's hnsw.ef_search), give
/// p50/p99 latency and recall@10 against exact answers computed by brute force. The PostgreSQL server: <c>--postgres
/// CONNECTION</c> (a real server with pgvector), else PGlite (PostgreSQL in WebAssembly, started from tests/postgres as the tests
/// do: it runs pgvector's C code compiled to WebAssembly in one Node process, so its figures are a floor, not what a native
/// server does). Options (after "backends"): <c>--items N</c> (100000), <c>--expansions 40,100,200</c>, <c>--postgres CONN</c>,
/// <c>--quick</c> (10,000 items).
/// </summary>
static class BackendBench
{
    const int K = 10, Queries = 200, Batch = 256, Dims = VectorBench.Dims;

    public static async Task RunAsync(string[] args, bool quick)
    {
        int items = int.Parse(Bench.OptionValue(args, "--items") ?? (quick ? "10000" : "100000"));
        var expansions = (Bench.OptionValue(args, "--expansions") ?? "40,100,200").Split(',').Select(int.Parse).ToArray();
        string? external = Bench.OptionValue(args, "--postgres");
        var server = external is null ? await VqaApi.Testing.PostgresServer.Shared : null;
        string connection = external ?? server!.ConnectionString;
        string where = external is null ? "PGlite 0.5 (PostgreSQL 18.6 in WebAssembly, pgvector 0.8.7, one Node process)" : "PostgreSQL at --postgres";
        Console.WriteLine($"\n## Collection backends: {items:N0} rank-32 {Dims}-d vectors, batches of {Batch}, {Queries} queries, top {K}; PostgreSQL: {where}\n");

        var folder = Directory.CreateTempSubdirectory("vqaapi-backends-").FullName;
        var truth = new int[Queries][];
        var queries = new float[Queries][];
        try
        {
            // Exact answers by brute force over the generated vectors (regenerated in steps; never all held twice).
            var rows = new float[Batch * Dims];
            var best = Enumerable.Range(0, Queries).Select(_ => new PriorityQueue<int, float>()).ToArray();
            for (int q = 0; q < Queries; q++)
            {
                queries[q] = new float[Dims];
                VectorBench.Vector(1234, q, queries[q], lowRank: true);
            }
            for (int start = 0; start < items; start += Batch)
            {
                int n = Math.Min(Batch, items - start);
                for (int i = 0; i < n; i++) VectorBench.Vector(7, start + i, rows.AsSpan(i * Dims, Dims), lowRank: true);
                Parallel.For(0, Queries, q =>
                {
                    for (int i = 0; i < n; i++)
                    {
                        float s = System.Numerics.Tensors.TensorPrimitives.Dot(queries[q], rows.AsSpan(i * Dims, Dims));
                        best[q].Enqueue(start + i, s);
                        if (best[q].Count > K) best[q].Dequeue();
                    }
                });
            }
            for (int q = 0; q < Queries; q++) truth[q] = [.. Enumerable.Range(0, K).Select(_ => best[q].Dequeue())];

            Console.WriteLine("| backend | ingest items/s | expansion | search p50 ms | search p99 ms | recall@10 |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|");
            foreach (var backend in new[] { CollectionBackend.Embedded, CollectionBackend.Postgres })
            {
                var options = new CollectionOptions
                {
                    Backend = backend, Root = Path.Combine(folder, "embedded"), HnswThreshold = 0, Fsync = FsyncPolicy.Always, MaxBatch = Batch,
                };
                options.Postgres.ConnectionString = connection;
                options.Postgres.Schema = "bench_" + Guid.NewGuid().ToString("N")[..12];
                options.Postgres.CommandTimeoutSeconds = 3600;
                using var store = VqaApi.Api.Hosting.CollectionRegistration.Create(Microsoft.Extensions.Options.Options.Create(options), NullLoggerFactory.Instance);
                await store.StartAsync();
                var (collection, _) = await store.CreateAsync(new CollectionInfo("bench", "m", "p", Dims, DateTimeOffset.UtcNow));
                var clock = Stopwatch.StartNew();
                for (int start = 0; start < items; start += Batch)
                {
                    int n = Math.Min(Batch, items - start);
                    var batch = new NewItem[n];
                    for (int i = 0; i < n; i++)
                    {
                        var v = new float[Dims];
                        VectorBench.Vector(7, start + i, v, lowRank: true);
                        batch[i] = new NewItem($"v{start + i}", null, null, null, v);
                    }
                    await collection.UpsertAsync(batch, upsert: false);
                    if (start / Batch % 40 == 0) Console.Error.Write($"\r{backend}: {start + n:N0}/{items:N0} items, {clock.Elapsed:mm\\:ss} ");
                }
                // The embedded index is built in the background: ingest ends when it holds every item, as pgvector's does at commit.
                if (collection is Collection embedded) embedded.WaitForHnsw(null, TimeSpan.FromMilliseconds(50));
                double ingest = items / clock.Elapsed.TotalSeconds;
                Console.Error.WriteLine();
                foreach (int ef in expansions)
                {
                    options.HnswExpansionSearch = ef; // read at each search by both backends
                    for (int q = 0; q < 5; q++) await collection.SearchAsync(queries[q], K, float.NegativeInfinity, null); // warm-up
                    var times = new double[Queries];
                    int found = 0;
                    for (int q = 0; q < Queries; q++)
                    {
                        long t0 = Stopwatch.GetTimestamp();
                        var hits = await collection.SearchAsync(queries[q], K, float.NegativeInfinity, null);
                        times[q] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                        var expected = truth[q].Select(i => $"v{i}").ToHashSet();
                        found += hits.Count(h => expected.Contains(h.Item.Id));
                    }
                    Array.Sort(times);
                    Console.WriteLine($"| {(backend == CollectionBackend.Embedded ? "embedded" : "postgres")} | {ingest:N0} | {ef} | {times[Queries / 2]:F2} | {times[(int)(Queries * 0.99)]:F2} | {found / (double)(Queries * K):F3} |");
                }
                await store.DeleteAsync("bench");
            }
        }
        finally { Directory.Delete(folder, true); }
    }
}
