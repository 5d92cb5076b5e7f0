using System.Runtime.InteropServices;
using System.Text.Json;

namespace VqaApi.Retrieval;

/// <summary>Collection: the HNSW index's lifecycle (built in the background past the threshold, fed by a work queue, saved, loaded).</summary>
public sealed partial class Collection
{
    /// <summary>True once every live item is in the HNSW index (false before the threshold or while it catches up).</summary>
    public bool HnswReady => _hnsw is not null && _hnswBacklog.IsEmpty;

    public bool UsesHnsw => _hnsw is not null;

    /// <summary>Items written but not yet added to the HNSW index by the background worker.</summary>
    public int HnswPending => _hnswBacklog.Count;

    /// <summary>For tests: entries in the HNSW index (stale ones included until the worker removes them).</summary>
    internal int HnswIndexedCount { get { lock (_hnswLock) return _hnsw?.Count ?? 0; } }

    /// <summary>For tests: closing has told the HNSW worker to stop after its current step.</summary>
    internal bool HnswStopRequested => _hnswStop.IsCancellationRequested;

    /// <summary>Blocks until the HNSW index holds every item written so far (at once when the collection has none), calling
    /// <paramref name="progress"/> with the number still pending every <paramref name="interval"/>. Throws when the
    /// background worker has stopped (it failed, or the collection is closing).</summary>
    public void WaitForHnsw(Action<int>? progress, TimeSpan interval, CancellationToken cancel = default)
    {
        while (_hnsw is not null && !_hnswBacklog.IsEmpty)
        {
            if (_hnswWorker is { IsCompleted: true } worker)
                throw new IOException($"the HNSW index of collection '{Info.Name}' stopped with {HnswPending:N0} items left to add" +
                                      (worker.Exception?.InnerException is { } e ? $": {e.Message}" : ""));
            progress?.Invoke(HnswPending);
            cancel.WaitHandle.WaitOne(interval);
            cancel.ThrowIfCancellationRequested();
        }
    }

    /// <summary>Creates (or loads the saved) HNSW index once the collection is big enough, and queues what it lacks.</summary>
    private void StartHnsw(bool loadSaved)
    {
        lock (_hnswLock)
        {
            if (_hnsw is not null || _byId.Count < _options.HnswThreshold) return;
            var path = Path.Combine(_directory, HnswFile);
            // The index-wide expansion is the floor; searches ask for more per query (CollectionOptions.HnswExpansionFor).
            int expansion = _options.HnswExpansionSearch > 0 ? _options.HnswExpansionSearch : CollectionOptions.HnswAutoSmall;
            HnswIndex? hnsw = null;
            if (loadSaved && File.Exists(path))
            {
                try { hnsw = HnswIndex.Load(path, expansion); }
                catch (Exception e) when (e is InvalidDataException or IOException) { hnsw = null; } // rebuilt below from the stored vectors
                if (hnsw is not null && hnsw.Dimensions != Info.Dimensions) { hnsw.Dispose(); hnsw = null; }
            }
            hnsw ??= new HnswIndex(Info.Dimensions, _options.HnswFloat16, expansionSearch: expansion);
            _lock.EnterReadLock();
            try
            {
                // A saved index can be older than the items (saved at a snapshot, or half built at shutdown): drop what was
                // deleted or replaced since, and queue what it lacks.
                foreach (var key in hnsw.Keys()) if (!_byKey.ContainsKey(key)) hnsw.Remove(key);
                foreach (var key in _byKey.Keys) if (!hnsw.Contains(key)) { _hnswBacklog[key] = 0; _hnswWork.Writer.TryWrite((key, true)); }
            }
            finally { _lock.ExitReadLock(); }
            _hnsw = hnsw;
            var stop = _hnswStop.Token;
            _hnswWorker = Task.Run(() => HnswLoop(stop));
        }
    }

    private void Enqueue(long key, bool add)
    {
        if (add) _hnswBacklog[key] = 0;
        _hnswWork.Writer.TryWrite((key, add));
    }

    /// <summary>Work items the background worker takes per step (a snapshot, which saves the index, waits at most one step).</summary>
    private const int HnswStepItems = 4096;

    /// <summary>Adds and removes HNSW entries off the request path, a step of queued work at a time, inserting with
    /// HnswBuildThreads threads; the backlog is searched exactly meanwhile. Stops between steps when <paramref name="stop"/> fires.
    /// Waits for work without a thread; each step, seconds of blocking work while the index is built or catches up, runs on a
    /// thread of its own (see <see cref="OffThePool"/>).</summary>
    private async Task HnswLoop(CancellationToken stop)
    {
        var reader = _hnswWork.Reader;
        var adds = new List<long>(HnswStepItems);
        var keys = new List<long>(HnswStepItems);
        var inStep = new HashSet<long>(HnswStepItems);
        float[] rows = [];
        int d = Info.Dimensions;
        try
        {
            while (await reader.WaitToReadAsync(stop).ConfigureAwait(false))
                if (!await OffThePool(Step).ConfigureAwait(false)) return;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested) { }

        bool Step()
        {
            lock (_hnswLock)
            {
                if (stop.IsCancellationRequested || _hnsw is not { } hnsw) return false;
                adds.Clear();
                keys.Clear();
                inStep.Clear();
                // Keys are sequence numbers, never reused: a remove in this step is of a key added earlier, or of one
                // added in this step whose item is already gone from the index (then the add below skips it). So removes go first.
                while (adds.Count < HnswStepItems && reader.TryRead(out var work))
                {
                    if (work.Add) adds.Add(work.Key);
                    else hnsw.Remove(work.Key);
                }
                if (rows.Length < adds.Count * d) rows = new float[adds.Count * d];
                _lock.EnterReadLock();
                try
                {
                    // The exact index holds the only copy of each vector (float16-rounded when Collections:Float16 is on).
                    foreach (long key in adds)
                        if (inStep.Add(key) && _index.TryGetVector(key, rows.AsSpan(keys.Count * d, d))) keys.Add(key);
                }
                finally { _lock.ExitReadLock(); }
                hnsw.UpsertMany(CollectionsMarshal.AsSpan(keys), rows.AsSpan(0, keys.Count * d), _options.HnswBuildThreads);
                foreach (long key in adds) _hnswBacklog.TryRemove(key, out _);
                if (!reader.TryPeek(out _)) rows = []; // caught up: do not keep a step's buffer per idle collection
            }
            Hook?.Invoke(CollectionEvent.HnswStep);
            return true;
        }
    }

    /// <summary>
    /// Runs seconds of blocking background work (a snapshot, an HNSW step) on a thread of its own instead of a thread-pool
    /// thread. The pool starts with one thread per core: on the 2-core build machine a snapshot and an HNSW step on pool
    /// threads left it none, and until it grew requests and every search that splits over cores (Parallel.For in the exact
    /// index) waited, and writes behind the read lock such a search holds: the stalls the ingest benchmark showed are in
    /// docs/benchmarks.md, "Ingest while searching".
    /// </summary>
    private static Task<T> OffThePool<T>(Func<T> work) =>
        Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void SaveHnsw()
    {
        lock (_hnswLock) _hnsw?.Save(Path.Combine(_directory, HnswFile));
    }
}
