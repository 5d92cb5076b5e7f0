using System.Diagnostics;
using System.Text.Json;
using VqaApi.Retrieval;

/// <summary>
/// Ingest while searching, on a real <see cref="Collection"/> in a temporary folder (real log segments, snapshots and HNSW
/// index files, the chosen fsync policy; every other option is the Collections default). One writer thread upserts batches
/// as fast as it can while one search thread searches without pause (top_k 10, no filter). A monitor thread polls the
/// collection every millisecond for a running background snapshot (<see cref="Collection.SnapshotRunning"/>) and an HNSW
/// backlog (<see cref="Collection.UsesHnsw"/> and not <see cref="Collection.HnswReady"/>), and each write and search is
/// put in the phase(s) it overlapped. After the last write the searches go on until the HNSW index holds every item, and
/// then for a few seconds more. A second run with snapshots off (SnapshotEveryRecords 100,000,000) gives the comparison.
/// Options (after "ingest"): <c>--items N</c> (100000), <c>--dims D</c> (768), <c>--batch B</c> (256),
/// <c>--snapshot-every R</c> (20000), <c>--hnsw-threshold T</c> (20000), <c>--fsync always|os-buffered</c> (always),
/// <c>--data rank32|random</c> (rank32), <c>--tail-seconds S</c> (3), <c>--no-compare</c>, <c>--folder DIR</c> (where the
/// temporary collections go; default the system's temporary folder), <c>--quick</c> (10,000 items, snapshot and
/// threshold every 2,000).
/// </summary>
static class IngestBench
{
    const int K = 10;
    const int QueryCount = 256;
    /// <summary>SnapshotEveryRecords of the comparison run: more records than it writes, so no snapshot starts.</summary>
    const int SnapshotsOff = 100_000_000;

    sealed record Settings(int Items, int Dims, int Batch, int SnapshotEvery, int HnswThreshold, FsyncPolicy Fsync, bool LowRank,
        double TailSeconds, bool Compare, string Folder);

    /// <summary>One timed call: Stopwatch timestamps; for a write, the items in the collection when it returned.</summary>
    readonly record struct Op(long Start, long End, int ItemsAfter, int FullGcs = 0)
    {
        public double Ms => Stopwatch.GetElapsedTime(Start, End).TotalMilliseconds;
    }

    /// <summary>Intervals during which a condition held, as seen by the monitor (closed at the end of the run if still open).</summary>
    sealed class Intervals
    {
        public readonly List<(long From, long To)> List = [];
        long _openSince = -1;
        public void Observe(bool on, long now)
        {
            if (on && _openSince < 0) _openSince = now;
            else if (!on && _openSince >= 0) { List.Add((_openSince, now)); _openSince = -1; }
        }
        public void Close(long now) => Observe(false, now);

        /// <summary>Whether [start, end] overlaps an interval (the list is sorted and disjoint).</summary>
        public bool Overlaps(long start, long end)
        {
            int lo = 0, hi = List.Count;
            while (lo < hi) // first interval that ends at or after start
            {
                int mid = (lo + hi) / 2;
                if (List[mid].To < start) lo = mid + 1; else hi = mid;
            }
            return lo < List.Count && List[lo].From <= end;
        }
    }

    sealed record RunResult(string Label, int SnapshotEvery, List<Op> Writes, List<Op> Searches, Intervals Snapshots, Intervals Backlog,
        long IngestStart, long IngestEnd, long HnswStartedAt, long HnswReadyAt, int Items, double GenerationSeconds, int SnapshotFailures,
        double CpuCores, int Gen0, int Gen1, int Gen2, double GcPauseMs, string LoadBefore, string LoadAfter, string Sanity);

    public static void Run(string[] args, bool quick)
    {
        var s = Parse(args, quick);
        Console.WriteLine();
        Console.WriteLine($"## Ingest while searching: {s.Items:N0} x {s.Dims}-d {(s.LowRank ? "rank-32" : "random")} vectors, batches of {s.Batch}, " +
                          $"snapshot every {s.SnapshotEvery:N0} records, HNSW from {s.HnswThreshold:N0} items, fsync {s.Fsync}, {Environment.ProcessorCount} cores");
        Console.WriteLine($"One writer thread (Collection.Upsert, new ids, a short text and a one-field metadata object per item) and one search thread " +
                          $"(top_k {K}, no filter, {QueryCount} queries in turn, from the first acknowledged write on) on one collection in {s.Folder}; every other option is the Collections " +
                          $"default (HNSW build threads {new CollectionOptions().HnswBuildThreads}, float32). Phases come from polling SnapshotRunning and " +
                          "HnswReady every ~1 ms; an operation is in a phase when it overlapped it. Times in ms.");

        // Warm-up: JIT every path (exact and HNSW search, snapshot, HNSW worker) on a small throwaway collection.
        RunOne("warm-up", s with { Items = Math.Min(4 * s.Batch * 8, s.Items), SnapshotEvery = 1000, HnswThreshold = 1000, TailSeconds = 0.2 },
            waitForHnsw: true, quiet: true);

        var main = RunOne($"snapshots every {s.SnapshotEvery:N0}", s, waitForHnsw: true, quiet: false);
        RunResult? off = null;
        if (s.Compare)
        {
            Sync();
            off = RunOne("snapshots off", s with { SnapshotEvery = SnapshotsOff, TailSeconds = 0 }, waitForHnsw: false, quiet: false);
        }
        Report(main, off, s);
    }

    static Settings Parse(string[] args, bool quick)
    {
        string? Value(string name) => Bench.OptionValue(args, name);
        static int Int(string v) => int.Parse(v.Replace("_", ""));
        int items = Value("--items") is { } n ? Int(n) : quick ? 10_000 : 100_000;
        int dims = Value("--dims") is { } d ? Int(d) : VectorBench.Dims;
        int batch = Value("--batch") is { } b ? Int(b) : 256;
        int every = Value("--snapshot-every") is { } r ? Int(r) : quick ? 2_000 : 20_000;
        int threshold = Value("--hnsw-threshold") is { } t ? Int(t) : quick ? 2_000 : 20_000;
        var fsync = (Value("--fsync") ?? "always").Replace("-", "").ToLowerInvariant() switch
        {
            "always" => FsyncPolicy.Always,
            "osbuffered" => FsyncPolicy.OsBuffered,
            var x => throw new ArgumentException($"--fsync takes always or os-buffered, not '{x}'"),
        };
        bool lowRank = (Value("--data") ?? "rank32") switch
        {
            "rank32" => true,
            "random" => false,
            var x => throw new ArgumentException($"--data takes rank32 or random, not '{x}'"),
        };
        double tail = Value("--tail-seconds") is { } ts ? double.Parse(ts) : 3;
        string folder = Value("--folder") ?? Path.GetTempPath();
        if (items < 1 || dims < 1 || batch < 1 || every < 10 || threshold < 0 || tail < 0)
            throw new ArgumentException("items, dims and batch must be at least 1, --snapshot-every at least 10, the threshold and tail not negative");
        if (lowRank && dims > VectorBench.Dims) throw new ArgumentException($"rank-32 data has at most {VectorBench.Dims} dimensions; use --data random");
        return new Settings(items, dims, batch, every, threshold, fsync, lowRank, tail, !args.Contains("--no-compare"), folder);
    }

    static RunResult RunOne(string label, Settings s, bool waitForHnsw, bool quiet)
    {
        var dir = Directory.CreateDirectory(Path.Combine(s.Folder, $"vqaapi-ingest-{Guid.NewGuid():N}")).FullName;
        var options = new CollectionOptions
        {
            Root = dir,
            Fsync = s.Fsync,
            SnapshotEveryRecords = s.SnapshotEvery,
            HnswThreshold = s.HnswThreshold,
            MaxItemsPerCollection = Math.Max(new CollectionOptions().MaxItemsPerCollection, s.Items),
            // The comparison run stops at its last write: closing must not wait for the HNSW build.
            HnswShutdownWaitSeconds = waitForHnsw ? new CollectionOptions().HnswShutdownWaitSeconds : 0,
        };
        var queries = new float[QueryCount][];
        for (int i = 0; i < QueryCount; i++) { queries[i] = new float[s.Dims]; Vector(2, i, queries[i], s); }
        var metadata = Enumerable.Range(0, 10).Select(g => JsonDocument.Parse($"{{\"group\":{g}}}").RootElement.Clone()).ToArray();

        var writes = new List<Op>(s.Items / s.Batch + 1);
        var searches = new List<Op>(1 << 16);
        var snapshots = new Intervals();
        var backlog = new Intervals();
        long ingestStart = 0, ingestEnd = 0, hnswStartedAt = -1, hnswReadyAt = -1;
        double generation = 0;
        string loadBefore = LoadAverage();
        using var process = Process.GetCurrentProcess();
        var cpu0 = process.TotalProcessorTime;
        int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
        var pause0 = GC.GetTotalPauseDuration();
        var wall = Stopwatch.StartNew();
        string sanity;
        int snapshotFailures;

        var collection = Collection.Create(Path.Combine(dir, "bench"), new CollectionInfo("bench", "bench-model", "bench-profile", s.Dims, DateTimeOffset.UtcNow), options);
        try
        {
            var stopSearch = new ManualResetEventSlim();
            var firstWrite = new ManualResetEventSlim();
            var stopMonitor = new ManualResetEventSlim();
            Exception? failure = null;

            var monitor = new Thread(() =>
            {
                while (!stopMonitor.IsSet)
                {
                    long now = Stopwatch.GetTimestamp();
                    snapshots.Observe(collection.SnapshotRunning, now);
                    bool uses = collection.UsesHnsw;
                    if (uses && hnswStartedAt < 0) Volatile.Write(ref hnswStartedAt, now);
                    bool pending = uses && !collection.HnswReady;
                    backlog.Observe(pending, now);
                    if (uses && !pending && Volatile.Read(ref ingestEnd) != 0 && hnswReadyAt < 0) Volatile.Write(ref hnswReadyAt, now);
                    Thread.Sleep(1);
                }
            }) { Name = "ingest-monitor", IsBackground = true };

            var searcher = new Thread(() =>
            {
                try
                {
                    firstWrite.Wait(); // searches of an empty collection would only flood the table with no-ops
                    for (int q = 0; !stopSearch.IsSet; q = (q + 1) % QueryCount)
                    {
                        int gc = GC.CollectionCount(2);
                        long t0 = Stopwatch.GetTimestamp();
                        var hits = collection.Search(queries[q], K, float.NegativeInfinity, null);
                        long t1 = Stopwatch.GetTimestamp();
                        searches.Add(new Op(t0, t1, 0, GC.CollectionCount(2) - gc));
                        if (hits.Count == 0) throw new InvalidOperationException("a search found nothing in a non-empty collection");
                    }
                }
                catch (Exception e) { failure ??= e; }
            }) { Name = "ingest-search", IsBackground = true };

            monitor.Start();
            ingestStart = Stopwatch.GetTimestamp();
            searcher.Start();
            long lastProgress = ingestStart;
            var items = new List<NewItem>(s.Batch);
            for (int first = 0; first < s.Items && failure is null; first += s.Batch)
            {
                long g0 = Stopwatch.GetTimestamp();
                items.Clear();
                for (int i = first; i < Math.Min(first + s.Batch, s.Items); i++)
                {
                    var v = new float[s.Dims];
                    Vector(1, i, v, s);
                    items.Add(new NewItem($"item{i:D9}", $"text of item {i}", null, metadata[i % metadata.Length], v));
                }
                int gc = GC.CollectionCount(2);
                long t0 = Stopwatch.GetTimestamp();
                generation += Stopwatch.GetElapsedTime(g0, t0).TotalSeconds;
                collection.Upsert(items, upsert: false);
                long t1 = Stopwatch.GetTimestamp();
                writes.Add(new Op(t0, t1, first + items.Count, GC.CollectionCount(2) - gc));
                firstWrite.Set();
                if (!quiet && Stopwatch.GetElapsedTime(lastProgress, t1).TotalSeconds >= 5)
                {
                    lastProgress = t1;
                    Console.Error.WriteLine($"[ingest] {label}: {first + items.Count:N0} written in {Stopwatch.GetElapsedTime(ingestStart, t1).TotalSeconds:F0} s, " +
                                            $"HNSW pending {collection.HnswPending:N0}, snapshots {snapshots.List.Count}{(collection.SnapshotRunning ? " (+1 running)" : "")}, " +
                                            $"{searches.Count:N0} searches");
                }
            }
            Volatile.Write(ref ingestEnd, Stopwatch.GetTimestamp());

            if (waitForHnsw && failure is null)
            {
                // Searches go on until the HNSW index holds every item and no snapshot runs, then for the tail.
                var deadline = Stopwatch.StartNew();
                while ((Volatile.Read(ref hnswReadyAt) < 0 && collection.UsesHnsw || collection.SnapshotRunning) && deadline.Elapsed < TimeSpan.FromMinutes(20) && failure is null)
                {
                    Thread.Sleep(50);
                    if (!quiet && Stopwatch.GetElapsedTime(lastProgress).TotalSeconds >= 5)
                    {
                        lastProgress = Stopwatch.GetTimestamp();
                        Console.Error.WriteLine($"[ingest] {label}: all written; HNSW pending {collection.HnswPending:N0}, snapshot {(collection.SnapshotRunning ? "running" : "idle")}, " +
                                                $"{searches.Count:N0} searches");
                    }
                }
                Thread.Sleep(TimeSpan.FromSeconds(s.TailSeconds));
            }
            stopSearch.Set();
            firstWrite.Set();
            searcher.Join();
            stopMonitor.Set();
            monitor.Join();
            long end = Stopwatch.GetTimestamp();
            snapshots.Close(end);
            backlog.Close(end);
            if (failure is not null) throw new InvalidOperationException($"{label}: {failure.Message}", failure);

            // Sanity: everything is there, and the last item is found by its own vector.
            var last = new float[s.Dims];
            Vector(1, s.Items - 1, last, s);
            var top = collection.Search(last, 1, float.NegativeInfinity, null);
            sanity = collection.Count == s.Items && top.Count == 1 && top[0].Item.Id == $"item{s.Items - 1:D9}"
                ? $"{collection.Count:N0} items, the last one found by its own vector"
                : $"FAILED: {collection.Count:N0} items, top hit for the last one: {(top.Count > 0 ? top[0].Item.Id : "none")}";
            snapshotFailures = collection.SnapshotFailures;
        }
        finally
        {
            collection.Dispose();
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
        process.Refresh();
        double cores = (process.TotalProcessorTime - cpu0).TotalSeconds / wall.Elapsed.TotalSeconds;
        var result = new RunResult(label, s.SnapshotEvery, writes, searches, snapshots, backlog, ingestStart, ingestEnd, hnswStartedAt, hnswReadyAt,
            s.Items, generation, snapshotFailures, cores, GC.CollectionCount(0) - gen0, GC.CollectionCount(1) - gen1, GC.CollectionCount(2) - gen2,
            (GC.GetTotalPauseDuration() - pause0).TotalMilliseconds, loadBefore, LoadAverage(), sanity);
        if (!quiet)
            Console.Error.WriteLine($"[ingest] {label}: done in {wall.Elapsed.TotalSeconds:F0} s; {writes.Count:N0} writes, {searches.Count:N0} searches; {sanity}");
        return result;
    }

    static void Vector(int seed, int index, Span<float> v, Settings s) => VectorBench.Vector(seed, index, v, s.LowRank);

    /// <summary>The phase an operation overlapped (an operation that overlapped a snapshot and a backlog is in both).</summary>
    static string Phase(RunResult r, Op op)
    {
        bool snapshot = r.Snapshots.Overlaps(op.Start, op.End);
        bool backlog = r.Backlog.Overlaps(op.Start, op.End);
        bool hnsw = r.HnswStartedAt >= 0 && op.End >= r.HnswStartedAt;
        return (snapshot, backlog) switch
        {
            (false, false) => hnsw ? "(a) quiet, HNSW ready" : "(a) quiet, below the HNSW threshold (exact search)",
            (true, false) => hnsw ? "(b) snapshot running, HNSW ready" : "(b) snapshot running, below the HNSW threshold",
            (false, true) => "(c) HNSW catching up",
            (true, true) => "(b+c) snapshot running and HNSW catching up",
        };
    }

    static (int Count, double P50, double P99, double Max) Stats(IEnumerable<Op> ops)
    {
        var ms = ops.Select(o => o.Ms).ToList();
        ms.Sort();
        return ms.Count == 0 ? (0, 0, 0, 0) : (ms.Count, VectorBench.Percentile(ms, 0.5), VectorBench.Percentile(ms, 0.99), ms[^1]);
    }

    static double Seconds(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalSeconds;

    static void Report(RunResult main, RunResult? off, Settings s)
    {
        Console.WriteLine();
        Console.WriteLine($"Run \"{main.Label}\": {Describe(main)}");
        if (off is not null) Console.WriteLine($"Run \"{off.Label}\" (comparison, stopped at its last write): {Describe(off)}");

        Console.WriteLine();
        Console.WriteLine($"### Latency by phase, run \"{main.Label}\"");
        Console.WriteLine();
        Console.WriteLine("| operation | phase | count | p50 ms | p99 ms | max ms |");
        Console.WriteLine("|---|---|---:|---:|---:|---:|");
        void Rows(string name, IEnumerable<Op> ops)
        {
            var list = ops.ToList();
            foreach (var group in list.GroupBy(o => Phase(main, o)).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                var (n, p50, p99, max) = Stats(group);
                Console.WriteLine($"| {name} | {group.Key} | {n:N0} | {p50:F2} | {p99:F2} | {max:F1} |");
            }
            var all = Stats(list);
            Console.WriteLine($"| {name} | all | {all.Count:N0} | {all.P50:F2} | {all.P99:F2} | {all.Max:F1} |");
        }
        Rows($"write (batch of {s.Batch})", main.Writes);
        Rows("search, during ingest", main.Searches.Where(o => o.Start < main.IngestEnd));
        Rows("search, after the last write", main.Searches.Where(o => o.Start >= main.IngestEnd));

        Console.WriteLine();
        Console.WriteLine("### Snapshots");
        Console.WriteLine();
        Console.WriteLine("| # | started at s | items when it started | took s | the write that started it, ms |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        int number = 0;
        foreach (var (from, to) in main.Snapshots.List)
        {
            // The write that started it is the last one that began before the monitor saw it running.
            var starter = main.Writes.LastOrDefault(w => w.Start <= from);
            Console.WriteLine($"| {++number} | {Seconds(main.IngestStart, from):F1} | {starter.ItemsAfter:N0} | {Seconds(from, to):F2} | {starter.Ms:F1} |");
        }
        if (number == 0) Console.WriteLine("| - | no snapshot ran | | | |");

        var writesSorted = main.Writes.Select(w => w.Ms).ToList();
        writesSorted.Sort();
        Console.WriteLine();
        Console.WriteLine("Slowest operations (when, and what was running):");
        Console.WriteLine();
        foreach (var (name, ops) in new[] { ("write", main.Writes), ("search", main.Searches) })
            foreach (var op in ops.OrderByDescending(o => o.Ms).Take(5))
                Console.WriteLine($"- {name} at {Seconds(main.IngestStart, op.Start):F2} s{(name == "write" ? $" (items {op.ItemsAfter:N0})" : "")}: {op.Ms:F1} ms, {Phase(main, op)}{(op.FullGcs > 0 ? $"; {op.FullGcs} gen-2 GC(s) during it" : "")}");

        if (off is null) return;
        Console.WriteLine();
        Console.WriteLine($"### With and without snapshots (same data, same HNSW threshold; both runs' search thread ran throughout)");
        Console.WriteLine();
        Console.WriteLine($"| figure | {main.Label} | {off.Label} | ratio |");
        Console.WriteLine("|---|---:|---:|---:|");
        var w1 = Stats(main.Writes);
        var w0 = Stats(off.Writes);
        var q1 = Stats(main.Searches.Where(o => o.Start < main.IngestEnd));
        var q0 = Stats(off.Searches.Where(o => o.Start < off.IngestEnd));
        void Row(string name, double a, double b, string format) =>
            Console.WriteLine($"| {name} | {a.ToString(format)} | {b.ToString(format)} | {(b > 0 ? (a / b).ToString("F2") : "-")} |");
        Row("write p50 ms", w1.P50, w0.P50, "F2");
        Row("write p99 ms", w1.P99, w0.P99, "F2");
        Row("write max ms", w1.Max, w0.Max, "F1");
        Row("search p50 ms (during ingest)", q1.P50, q0.P50, "F2");
        Row("search p99 ms (during ingest)", q1.P99, q0.P99, "F2");
        Row("search max ms (during ingest)", q1.Max, q0.Max, "F1");
        Row("ingest items/s (wall)", main.Items / Seconds(main.IngestStart, main.IngestEnd), off.Items / Seconds(off.IngestStart, off.IngestEnd), "N0");
    }

    static string Describe(RunResult r)
    {
        double ingest = Seconds(r.IngestStart, r.IngestEnd);
        double inWrites = r.Writes.Sum(w => w.Ms) / 1000;
        string hnsw = r.HnswStartedAt < 0 ? "HNSW never started" :
            $"HNSW started {Seconds(r.IngestStart, r.HnswStartedAt):F1} s in" +
            (r.HnswReadyAt >= 0 ? $", ready {Seconds(r.IngestEnd, r.HnswReadyAt):F1} s after the last write" : ", not waited for");
        return $"{r.Items:N0} items in {ingest:F1} s = {r.Items / ingest:N0} items/s wall ({r.Items / inWrites:N0}/s counting Upsert time only; " +
               $"vector generation {r.GenerationSeconds:F1} s); {r.Snapshots.List.Count} snapshot(s){(r.SnapshotFailures > 0 ? $", {r.SnapshotFailures} failed" : "")}; " +
               $"{hnsw}; {r.Searches.Count:N0} searches; {r.CpuCores:F2} cores busy; GC: {r.Gen0}/{r.Gen1}/{r.Gen2} collections (gen 0/1/2), " +
               $"{r.GcPauseMs:F0} ms paused in all; load average before {r.LoadBefore}, after {r.LoadAfter}; sanity: {r.Sanity}.";
    }

    static string LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "?"; }
    }

    /// <summary>Writes back the previous run's dirty pages so they do not land in the next run's fsyncs.</summary>
    static void Sync()
    {
        try { using var p = Process.Start(new ProcessStartInfo("sync") { UseShellExecute = false }); p?.WaitForExit(); }
        catch (System.ComponentModel.Win32Exception) { }
        Thread.Sleep(2000);
    }
}
