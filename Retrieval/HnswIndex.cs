using System.Buffers;
using System.IO.Hashing;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using Cloud.Unum.USearch;
using Microsoft.Win32.SafeHandles;

namespace VqaApi.Retrieval;

/// <summary>
/// Approximate (HNSW) vector index on USearch (Cloud.Unum.USearch; inner-product metric, float32 or float16 storage).
/// Scores are similarities (1 - USearch's inner-product distance = dot product = cosine for normalised vectors), so they
/// compare directly with <see cref="ExactIndex"/> scores.
/// <para>
/// Calls go straight to the C library shipped in the package (the same functions its managed <c>USearchIndex</c> calls),
/// because the managed wrapper has no way to change the search expansion, no span-based add/search, and reserves
/// capacity one vector at a time. Thread-safety: USearch allows concurrent native calls (searches and adds together) only
/// up to the number of thread contexts reserved in the index, and growing the capacity must not overlap anything; so every
/// native search or add holds one of <see cref="NativeContexts"/> slots, searches take a read lock, Upsert/Remove
/// take the write lock, and <see cref="UpsertMany"/> inserts new keys from several threads under the upgradeable read lock
/// (searches go on; other writers and saves wait).
/// </para>
/// <para>
/// USearch cannot enumerate keys and reserves key <c>ulong.MaxValue</c> (= -1L) as its "free slot" marker, so this class keeps a
/// managed key set (for Count/Contains and the exact fallback, whose vectors come from USearch's get) and stores key -1 itself.
/// </para>
/// </summary>
public sealed class HnswIndex : IVectorIndex
{
    /// <summary>The key USearch cannot hold (its free-slot marker, ulong.MaxValue); kept beside the graph.</summary>
    const long ReservedKey = -1;
    static ReadOnlySpan<byte> MetaMagic => "VQAHNSW1"u8;
    const int MetaVersion = 1;

    /// <summary>Concurrent native calls allowed, searches and bulk-add workers together (USearch thread contexts reserved in
    /// the index; a call without a free context would index past USearch's per-thread buffers).</summary>
    internal static readonly int NativeContexts = Math.Max(16, 2 * Environment.ProcessorCount);
    /// <summary>Rows a bulk upsert inserts per step: the upgradeable lock is let go between steps, so a waiting writer (and the
    /// searches queued behind it) waits at most one step, and Count/Contains see the progress.</summary>
    const int BulkStepRows = 2048;

    /// <summary>Most threads one <see cref="UpsertMany"/> uses: half of the native contexts, so that searches always find one.</summary>
    public static int MaxAddThreads => NativeContexts / 2;

    readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    readonly SemaphoreSlim _contexts = new(NativeContexts, NativeContexts);
    readonly HashSet<long> _keys = new();
    readonly USearchHandle _handle;
    readonly int _dimensions;
    readonly bool _float16;
    readonly int _connectivity;
    readonly int _expansionAdd;
    int _expansionSearch;
    float[]? _reservedKeyVector;
    bool _disposed;

    public HnswIndex(int dimensions, bool float16 = false, int connectivity = 16, int expansionAdd = 128, int expansionSearch = 64)
    {
        VectorIndexShared.CheckDimensions(dimensions);
        ArgumentOutOfRangeException.ThrowIfLessThan(connectivity, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(expansionAdd, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(expansionSearch, 1);
        _dimensions = dimensions;
        _float16 = float16;
        _connectivity = connectivity;
        _expansionAdd = expansionAdd;
        _expansionSearch = expansionSearch;
        _handle = USearchNative.Create(dimensions, float16, connectivity, expansionAdd, CheckExpansion);
        try { Reserve(64); }
        catch { _handle.Dispose(); throw; }
    }

    public int Dimensions => _dimensions;
    public bool UsesFloat16 => _float16;

    public int Count
    {
        get
        {
            _lock.EnterReadLock();
            try { return _keys.Count + (_reservedKeyVector is null ? 0 : 1); }
            finally { _lock.ExitReadLock(); }
        }
    }

    /// <summary>Candidate list size of a graph search (USearch "expansion_search", HNSW ef): higher = better recall, slower.
    /// Every search asks USearch for this many candidates (USearch searches with the larger of its index-wide setting and the
    /// count asked for), so the index-wide setting stays at <see cref="CheckExpansion"/> and changing this needs no lock.</summary>
    public int ExpansionSearch
    {
        get => Volatile.Read(ref _expansionSearch);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ObjectDisposedException.ThrowIf(_disposed, this);
            Volatile.Write(ref _expansionSearch, value); // searches ask for it per call (see CheckExpansion)
        }
    }

    /// <summary>Bytes USearch reports for the graph and its vectors (not counting this class's key set).</summary>
    public long NativeMemoryUsage
    {
        get
        {
            _lock.EnterReadLock();
            try
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                return USearchNative.MemoryUsage(_handle);
            }
            finally { _lock.ExitReadLock(); }
        }
    }

    /// <summary>Grows capacity (caller holds the write lock, or owns the index exclusively). Reserving resets USearch's
    /// thread contexts to the core count, so the search contexts are set again afterwards.</summary>
    void Reserve(long capacity)
    {
        USearchNative.Reserve(_handle, capacity);
        USearchNative.ChangeThreadsSearch(_handle, NativeContexts);
    }

    public void Upsert(long key, ReadOnlySpan<float> vector)
    {
        VectorIndexShared.CheckVector(vector, _dimensions, nameof(vector));
        _lock.EnterWriteLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            UpsertExclusive(key, vector);
        }
        finally { _lock.ExitWriteLock(); }
    }

    /// <summary>One upsert; the caller holds the write lock.</summary>
    unsafe void UpsertExclusive(long key, ReadOnlySpan<float> vector)
    {
        if (key == ReservedKey)
        {
            var copy = vector.ToArray();
            if (_float16)
                for (int i = 0; i < copy.Length; i++) copy[i] = (float)(Half)copy[i]; // same precision as the graph's vectors
            _reservedKeyVector = copy;
            return;
        }
        // USearch refuses duplicate keys: replacing is remove + add (the freed node is reused by the add).
        if (_keys.Contains(key))
        {
            USearchNative.Remove(_handle, key);
            _keys.Remove(key);
        }
        EnsureCapacity(_keys.Count + 1L);
        fixed (float* p = vector)
            USearchNative.Add(_handle, key, p);
        _keys.Add(key);
    }

    /// <summary>Grows the capacity (doubling) to hold at least <paramref name="size"/> vectors; the caller holds the write lock.</summary>
    void EnsureCapacity(long size)
    {
        long capacity = USearchNative.Capacity(_handle);
        if (size > capacity) Reserve(Math.Max(size, capacity * 2));
    }

    /// <summary>
    /// Adds or replaces many vectors: <paramref name="keys"/>[i] gets row i of <paramref name="vectors"/> (row-major,
    /// keys.Length x Dimensions; keys distinct). Keys not yet in the index are inserted by up to <paramref name="threads"/>
    /// threads at once (at most <see cref="MaxAddThreads"/>), in steps of a few thousand rows; keys already present, and key -1,
    /// are replaced one at a time under the write lock as <see cref="Upsert"/> does. Searches run meanwhile and may already
    /// return a key of the current step before Count and Contains include it. If an insertion fails, the rows inserted
    /// before it stay and the error is thrown.
    /// </summary>
    public void UpsertMany(ReadOnlySpan<long> keys, ReadOnlySpan<float> vectors, int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        if ((long)keys.Length * _dimensions != vectors.Length)
            throw new ArgumentException($"{vectors.Length} values are not {keys.Length} vectors of {_dimensions} dimensions.", nameof(vectors));
        var distinct = new HashSet<long>(keys.Length);
        foreach (long key in keys)
            if (!distinct.Add(key)) throw new ArgumentException($"Key {key} appears more than once; a bulk upsert takes distinct keys.", nameof(keys));
        for (int start = 0; start < keys.Length; start += BulkStepRows)
        {
            int rows = Math.Min(BulkStepRows, keys.Length - start);
            UpsertStep(keys.Slice(start, rows), vectors.Slice(start * _dimensions, rows * _dimensions), threads);
        }
    }

    unsafe void UpsertStep(ReadOnlySpan<long> keys, ReadOnlySpan<float> vectors, int threads)
    {
        _lock.EnterUpgradeableReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            // Classified under this step's lock: no other writer can add or remove a key until it ends.
            var fresh = new List<int>(keys.Length);
            List<int>? present = null;
            for (int i = 0; i < keys.Length; i++)
            {
                if (keys[i] == ReservedKey || _keys.Contains(keys[i])) (present ??= []).Add(i);
                else fresh.Add(i);
            }
            long needed = (long)_keys.Count + fresh.Count;
            if (present is not null || needed > USearchNative.Capacity(_handle))
            {
                _lock.EnterWriteLock();
                try
                {
                    if (present is not null)
                        foreach (int i in present) UpsertExclusive(keys[i], vectors.Slice(i * _dimensions, _dimensions));
                    EnsureCapacity((long)_keys.Count + fresh.Count);
                }
                finally { _lock.ExitWriteLock(); }
            }
            if (fresh.Count == 0) return;

            var freshKeys = new long[fresh.Count];
            for (int j = 0; j < fresh.Count; j++) freshKeys[j] = keys[fresh[j]];
            var added = new bool[fresh.Count];
            Exception? error;
            int workers = Math.Min(threads, MaxAddThreads);
            fixed (float* rowsPointer = vectors)
            {
                nint rows = (nint)rowsPointer;
                int d = _dimensions;
                error = RunConcurrently(freshKeys.Length, workers, j =>
                {
                    USearchNative.Add(_handle, freshKeys[j], (float*)rows + (long)fresh[j] * d);
                    added[j] = true;
                });
                if (error is null && workers > 1 && freshKeys.Length > 1 && CheckConcurrentInserts) error = ReinsertUnfound(freshKeys, fresh, rows, workers);
            }

            // Only now do Count, Contains and the exact fallback see the new keys.
            _lock.EnterWriteLock();
            try
            {
                for (int j = 0; j < freshKeys.Length; j++)
                    if (added[j]) _keys.Add(freshKeys[j]);
            }
            finally { _lock.ExitWriteLock(); }
            if (error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        }
        finally { _lock.ExitUpgradeableReadLock(); }
    }

    /// <summary>Nodes re-inserted alone because their own vector did not find them after a concurrent insertion (see
    /// <see cref="ReinsertUnfound"/>), since this index was created or loaded.</summary>
    public long Reinserted => Interlocked.Read(ref _reinserted);
    long _reinserted;

    /// <summary>Whether <see cref="UpsertMany"/> checks the nodes it inserted from several threads (<see cref="ReinsertUnfound"/>);
    /// on by default. Off only to measure what the check costs (the vector benchmark's <c>--hnsw f32-unchecked</c>).</summary>
    public bool CheckConcurrentInserts { get; set; } = true;

    /// <summary>USearch's index-wide search expansion: the expansion of <see cref="ReinsertUnfound"/>'s searches, which ask for
    /// one result. Searches for callers ask for <see cref="ExpansionSearch"/> candidates or more, which overrides it. Measured once
    /// with a throwaway test on 10,000 random 768-d vectors built from 2 threads: the check at 128 (the collections' search expansion) doubled the
    /// build time; at 16 it re-inserted 145-176 of the 10,000 nodes (at 8: about 850, at 4: about 2,200) and afterwards
    /// every node found itself, as after the check at 128.</summary>
    internal const int CheckExpansion = 16;

    /// <summary>
    /// Checks each node this step inserted concurrently by searching its own vector, and re-inserts alone (remove + add,
    /// under the write lock) the ones not found. Inserting from several threads leaves a few nodes that no search reaches:
    /// in a throwaway test on 5,000 random 16-dimensional unit vectors, 0.05% of nodes with 2 threads and 0.15% with 3 (on 2 cores), none with
    /// one; a collection's item that cannot be found by its own embedding is a wrong answer, and one search per
    /// inserted node at the index-wide expansion <see cref="CheckExpansion"/> costs far less than its insertion. A node counts as found when the best hit is the node itself or
    /// scores at least as high (a duplicate vector, or one with a larger inner product); the caller holds the upgradeable
    /// read lock. Returns the first error.
    /// </summary>
    unsafe Exception? ReinsertUnfound(long[] keys, List<int> rowOf, nint rows, int threads)
    {
        var unfound = new bool[keys.Length];
        int d = _dimensions;
        var error = RunConcurrently(keys.Length, threads, j =>
        {
            float* row = (float*)rows + (long)rowOf[j] * d;
            ulong best;
            float distance = float.PositiveInfinity;
            if (USearchNative.Search(_handle, row, 1, &best, &distance) == 1 && (long)best == keys[j]) return;
            var vector = new ReadOnlySpan<float>(row, d);
            float self = TensorPrimitives.Dot(vector, vector);
            // Stored float16 vectors score their own query within about 1e-3 of the float32 dot product.
            unfound[j] = 1f - distance < self - (_float16 ? 2e-3f * MathF.Abs(self) + 1e-4f : 1e-6f * MathF.Abs(self) + 1e-7f);
        });
        if (error is not null) return error;
        int count = 0;
        foreach (bool u in unfound) if (u) count++;
        if (count == 0) return null;
        _lock.EnterWriteLock();
        try
        {
            for (int j = 0; j < keys.Length; j++)
            {
                if (!unfound[j]) continue;
                USearchNative.Remove(_handle, keys[j]);
                USearchNative.Add(_handle, keys[j], (float*)rows + (long)rowOf[j] * d);
            }
        }
        catch (Exception e) { return e; }
        finally { _lock.ExitWriteLock(); }
        Interlocked.Add(ref _reinserted, count);
        return null;
    }

    /// <summary>
    /// Runs <paramref name="body"/> for 0 .. count-1 on <paramref name="threads"/> threads (this one and threads - 1 started
    /// here), each holding a native context for its run. Returns the first error (the others stop at it).
    /// </summary>
    Exception? RunConcurrently(int count, int threads, Action<int> body)
    {
        int next = -1;
        Exception? error = null;
        void Work()
        {
            _contexts.Wait();
            try
            {
                int j;
                while (Volatile.Read(ref error) is null && (j = Interlocked.Increment(ref next)) < count) body(j);
            }
            catch (Exception e) { Interlocked.CompareExchange(ref error, e, null); }
            finally { _contexts.Release(); }
        }
        // Dedicated threads: minutes of native work would hold thread-pool threads hostage.
        var helpers = new Thread[Math.Max(0, Math.Min(threads, count) - 1)];
        for (int t = 0; t < helpers.Length; t++)
        {
            helpers[t] = new Thread(Work) { IsBackground = true, Name = "hnsw-add" };
            helpers[t].Start();
        }
        Work();
        foreach (var helper in helpers) helper.Join();
        return error;
    }

    public bool Remove(long key)
    {
        _lock.EnterWriteLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (key == ReservedKey)
            {
                bool had = _reservedKeyVector is not null;
                _reservedKeyVector = null;
                return had;
            }
            if (!_keys.Contains(key)) return false;
            // USearch marks the node deleted (it stays in the graph for routing) and reuses it on a later add.
            USearchNative.Remove(_handle, key);
            _keys.Remove(key);
            return true;
        }
        finally { _lock.ExitWriteLock(); }
    }

    public bool Contains(long key)
    {
        _lock.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return key == ReservedKey ? _reservedKeyVector is not null : _keys.Contains(key);
        }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>The keys in the index (a copy).</summary>
    public long[] Keys()
    {
        _lock.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var keys = new long[_keys.Count + (_reservedKeyVector is null ? 0 : 1)];
            _keys.CopyTo(keys);
            if (_reservedKeyVector is not null) keys[^1] = ReservedKey;
            return keys;
        }
        finally { _lock.ExitReadLock(); }
    }

    public IReadOnlyList<VectorHit> Search(ReadOnlySpan<float> query, int k, Func<long, bool>? filter = null, float minScore = float.NegativeInfinity) =>
        Search(query, k, filter, minScore, expansion: 0);

    /// <summary>
    /// <see cref="Search(ReadOnlySpan{float}, int, Func{long, bool}?, float)"/> with this query's search expansion raised to
    /// <paramref name="expansion"/> (values up to <see cref="ExpansionSearch"/> change nothing). USearch searches with
    /// max(index expansion, candidates asked for), so the graph is asked for that many candidates: no index-wide setting
    /// changes, so no lock is taken and concurrent searches keep their own expansion.
    /// A filter is tested by USearch during the graph traversal (<see cref="USearchNative.FilteredSearch"/>): rejected nodes
    /// still route the search, and it goes on until it has k accepted results or runs out of candidates; the more selective
    /// the filter, the more of the graph it visits.
    /// </summary>
    public IReadOnlyList<VectorHit> Search(ReadOnlySpan<float> query, int k, Func<long, bool>? filter, float minScore, int expansion)
    {
        VectorIndexShared.CheckVector(query, _dimensions, nameof(query));
        VectorIndexShared.CheckK(k);
        ArgumentOutOfRangeException.ThrowIfNegative(expansion);
        _lock.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            int inGraph = _keys.Count;
            int total = inGraph + (_reservedKeyVector is null ? 0 : 1);
            if (k == 0 || total == 0) return [];
            var top = new TopK(Math.Min(k, total));

            if (inGraph > 0 && !GraphSearch(query, k, filter, minScore, inGraph, expansion, top))
            {
                // The graph could not vouch for the answer (selective filter, or too few results came back):
                // score every passing key exactly.
                top = new TopK(Math.Min(k, total));
                ExactScan(query, filter, minScore, top);
            }
            if (_reservedKeyVector is { } reserved && (filter is null || filter(ReservedKey)))
            {
                float score = TensorPrimitives.Dot(query, reserved);
                if (score >= minScore) top.Add(ReservedKey, score);
            }
            return top.ToSortedArray();
        }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>
    /// One graph search (the filter tested during the traversal). Adds the accepted hits to <paramref name="top"/> and returns whether they
    /// can stand as the answer: k hits passed, or the candidates reached below minScore, or the whole graph came back.
    /// </summary>
    unsafe bool GraphSearch(ReadOnlySpan<float> query, int k, Func<long, bool>? filter, float minScore, int inGraph, int expansion, TopK top)
    {
        // USearch's expansion is max(index-wide setting, count asked for); the index-wide setting is CheckExpansion, so the
        // expansion is asked for here (more candidates come back, and the loop below stops once nothing further can enter).
        long wantedLong = Math.Max(k, Math.Max(expansion, Volatile.Read(ref _expansionSearch)));
        int wanted = (int)Math.Min(wantedLong, inGraph);
        var keys = ArrayPool<ulong>.Shared.Rent(wanted);
        var distances = ArrayPool<float>.Shared.Rent(wanted);
        try
        {
            int found;
            _contexts.Wait();
            try
            {
                fixed (float* q = query)
                fixed (ulong* kp = keys)
                fixed (float* dp = distances)
                    found = filter is null
                        ? USearchNative.Search(_handle, q, wanted, kp, dp)
                        : USearchNative.FilteredSearch(_handle, q, wanted, filter, kp, dp);
            }
            finally { _contexts.Release(); }

            int accepted = 0;
            bool reachedMinScore = false;
            // All candidates go through TopK, so a tie at the k-th place is broken by the smaller key as in ExactIndex.
            for (int i = 0; i < found; i++)
            {
                float score = 1f - distances[i]; // inner-product distance is 1 - dot
                if (score < minScore) { reachedMinScore = true; break; } // results come best first
                if (accepted >= k && !top.MayAccept(score)) break; // results come best first: nothing further can enter
                top.Add((long)keys[i], score); // a filter was tested by the traversal already
                accepted++;
            }
            return accepted >= k || reachedMinScore || found >= inGraph;
        }
        finally
        {
            ArrayPool<ulong>.Shared.Return(keys);
            ArrayPool<float>.Shared.Return(distances);
        }
    }

    unsafe void ExactScan(ReadOnlySpan<float> query, Func<long, bool>? filter, float minScore, TopK top)
    {
        var buffer = ArrayPool<float>.Shared.Rent(_dimensions);
        try
        {
            var row = buffer.AsSpan(0, _dimensions);
            fixed (float* p = row)
            {
                foreach (long key in _keys)
                {
                    if (filter is not null && !filter(key)) continue;
                    if (!USearchNative.Get(_handle, key, p)) continue;
                    float score = TensorPrimitives.Dot(query, row);
                    if (score >= minScore) top.Add(key, score);
                }
            }
        }
        finally { ArrayPool<float>.Shared.Return(buffer); }
    }

    /// <summary>
    /// Writes USearch's own file at <paramref name="path"/> and a side file path + ".meta" (dimensions, precision, parameters,
    /// the key set, the vector of key -1 if any, and the length and XxHash3 of the USearch file so that a truncated,
    /// corrupt or mismatched pair is refused on load instead of reaching the native loader). Both are written to ".tmp"
    /// files first and then renamed, index file first.
    /// </summary>
    public void Save(string path)
    {
        VectorIndexShared.CheckPath(path);
        VectorIndexShared.RequireLittleEndian();
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        string indexTmp = full + ".tmp", meta = full + ".meta", metaTmp = meta + ".tmp";
        // Upgradeable read: searches continue, mutations and other saves wait.
        _lock.EnterUpgradeableReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            USearchNative.Save(_handle, indexTmp);
            var (length, hash) = HashFile(indexTmp, flushToDisk: true);
            using (var stream = new FileStream(metaTmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                var w = new ChecksummedWriter(stream);
                w.Write(MetaMagic);
                w.WriteInt32(MetaVersion);
                w.WriteInt32(_dimensions);
                w.WriteInt32((_float16 ? 1 : 0) | (_reservedKeyVector is null ? 0 : 2));
                w.WriteInt32(_connectivity);
                w.WriteInt32(_expansionAdd);
                w.WriteInt32(_expansionSearch);
                w.WriteInt64(length);
                w.WriteInt64((long)hash);
                w.WriteInt64(_keys.Count);
                var keys = new long[_keys.Count];
                _keys.CopyTo(keys);
                w.WriteValues<long>(keys);
                if (_reservedKeyVector is not null) w.WriteValues<float>(_reservedKeyVector);
                w.WriteChecksum();
                stream.Flush(flushToDisk: true);
            }
            File.Move(indexTmp, full, overwrite: true);
            File.Move(metaTmp, meta, overwrite: true);
        }
        catch
        {
            VectorIndexShared.TryDelete(indexTmp);
            VectorIndexShared.TryDelete(metaTmp);
            throw;
        }
        finally { _lock.ExitUpgradeableReadLock(); }
    }

    static (long Length, ulong Hash) HashFile(string path, bool flushToDisk)
    {
        using var stream = new FileStream(path, FileMode.Open, flushToDisk ? FileAccess.ReadWrite : FileAccess.Read, FileShare.Read, 1 << 20);
        if (flushToDisk) stream.Flush(flushToDisk: true);
        var hash = new XxHash3();
        hash.Append(stream);
        return (stream.Length, hash.GetCurrentHashAsUInt64());
    }

    /// <summary>Loads what <see cref="Save"/> wrote. A missing, truncated, corrupt or mismatched file or side file gives an
    /// <see cref="InvalidDataException"/> (or <see cref="FileNotFoundException"/>) naming the problem.</summary>
    public static HnswIndex Load(string path, int expansionSearch = 64)
    {
        VectorIndexShared.CheckPath(path);
        VectorIndexShared.RequireLittleEndian();
        ArgumentOutOfRangeException.ThrowIfLessThan(expansionSearch, 1);
        var full = Path.GetFullPath(path);
        var meta = full + ".meta";
        if (!File.Exists(full)) throw new FileNotFoundException($"HNSW index file '{full}' does not exist.", full);
        if (!File.Exists(meta)) throw new FileNotFoundException($"HNSW index side file '{meta}' does not exist (it is written by HnswIndex.Save next to the index).", meta);

        int dimensions, flags, connectivity, expansionAdd;
        long nativeLength;
        ulong nativeHash;
        long[] keys;
        float[]? reserved = null;
        using (var stream = new FileStream(meta, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
        {
            var r = new ChecksummedReader(stream, meta, "HNSW index side file");
            r.ReadMagic(MetaMagic);
            int version = r.ReadInt32();
            if (version != MetaVersion) throw r.Bad($"format version {version} is not supported (expected {MetaVersion}).");
            dimensions = r.ReadInt32();
            flags = r.ReadInt32();
            connectivity = r.ReadInt32();
            expansionAdd = r.ReadInt32();
            r.ReadInt32(); // expansion search at save time; the caller chooses it now
            nativeLength = r.ReadInt64();
            nativeHash = (ulong)r.ReadInt64();
            long count = r.ReadInt64();
            if (dimensions <= 0 || connectivity < 2 || expansionAdd < 1) throw r.Bad("parameters are out of range.");
            if ((flags & ~3) != 0) throw r.Bad($"unknown flags 0x{flags:x}.");
            if (count < 0 || count > Array.MaxLength || count * 8 > stream.Length) throw r.Bad($"key count {count} is out of range or the file is truncated.");
            keys = new long[count];
            r.ReadValues<long>(keys);
            if ((flags & 2) != 0)
            {
                reserved = new float[dimensions];
                r.ReadValues<float>(reserved);
            }
            r.VerifyChecksumAndEnd();
        }

        var (length, hash) = HashFile(full, flushToDisk: false);
        if (length != nativeLength)
            throw new InvalidDataException($"HNSW index file '{full}' is not valid: it has {length:N0} bytes but its side file expects {nativeLength:N0} (truncated, or the pair is from different saves).");
        if (hash != nativeHash)
            throw new InvalidDataException($"HNSW index file '{full}' is not valid: its checksum does not match the side file (corrupt, or the pair is from different saves).");

        bool float16 = (flags & 1) != 0;
        var index = new HnswIndex(dimensions, float16, connectivity, expansionAdd, expansionSearch);
        try
        {
            if (USearchNative.TryLoad(index._handle, full) is { } loadError)
                throw new InvalidDataException($"HNSW index file '{full}' could not be loaded by USearch: {loadError}");
            long size = USearchNative.Size(index._handle);
            long dims = USearchNative.DimensionsOf(index._handle);
            if (dims != dimensions || size != keys.Length)
                throw new InvalidDataException($"HNSW index file '{full}' is not valid: it holds {size:N0} vectors of {dims} dimensions, its side file says {keys.Length:N0} of {dimensions}.");
            // Loading replaces the limits: restore the index-wide expansion (see CheckExpansion) and the thread contexts.
            USearchNative.ChangeExpansionSearch(index._handle, CheckExpansion);
            long capacity = USearchNative.Capacity(index._handle);
            index.Reserve(Math.Max(capacity, 64));
            index._keys.EnsureCapacity(keys.Length);
            foreach (var key in keys)
                if (!index._keys.Add(key)) throw new InvalidDataException($"HNSW index side file '{meta}' is not valid: key {key} appears twice.");
            index._reservedKeyVector = reserved;
            return index;
        }
        catch
        {
            index.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _lock.EnterWriteLock();
        try
        {
            if (_disposed) return;
            _disposed = true;
            _handle.Dispose();
            _keys.Clear();
            _keys.TrimExcess();
            _reservedKeyVector = null;
        }
        finally { _lock.ExitWriteLock(); }
    }
}
