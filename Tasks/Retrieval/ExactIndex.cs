using System.Buffers;
using System.Numerics.Tensors;

namespace VqaApi.Tasks.Retrieval;

/// <summary>
/// Brute-force vector index: every search scores every stored vector (SIMD dot products), so results are the true top-k.
/// Vectors live in one contiguous row-major array (float32, or System.Half with <c>float16</c> to halve memory; scores are
/// always computed in float32). Thread-safe: any number of concurrent searches; Upsert/Remove take a write lock.
/// </summary>
public sealed class ExactIndex : IVectorIndex
{
    /// <summary>From this many vectors on, a search is split over cores.</summary>
    internal const int ParallelThreshold = 50_000;
    const int InitialCapacity = 16;
    /// <summary>Rows converted from float16 to float32 at a time.</summary>
    const int HalfBlockRows = 64;
    static ReadOnlySpan<byte> Magic => "VQAEXCT1"u8;
    const int FormatVersion = 1;

    readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    readonly Dictionary<long, int> _slots = new();
    readonly int _dimensions;
    readonly bool _float16;
    float[]? _f32;
    Half[]? _f16;
    long[] _keys;
    int _count;
    bool _disposed;

    public ExactIndex(int dimensions, bool float16 = false)
    {
        VectorIndexShared.CheckDimensions(dimensions);
        _dimensions = dimensions;
        _float16 = float16;
        _keys = [];
        Allocate(0);
    }

    public int Dimensions => _dimensions;
    public bool UsesFloat16 => _float16;

    public int Count
    {
        get
        {
            _lock.EnterReadLock();
            try { return _count; }
            finally { _lock.ExitReadLock(); }
        }
    }

    /// <summary>The largest number of rows one contiguous array can hold for these dimensions.</summary>
    int MaxRows => Array.MaxLength / _dimensions;

    /// <summary>Rows the storage holds before it has to grow.</summary>
    internal int Capacity
    {
        get
        {
            _lock.EnterReadLock();
            try { return _keys.Length; }
            finally { _lock.ExitReadLock(); }
        }
    }

    /// <summary>Test hook: called by <see cref="Reserve"/> after the copy, before the swap (searches may run meanwhile).</summary>
    internal Action? ReserveCopied { get; set; }

    void Allocate(int rows)
    {
        var (f32, f16, keys) = Copy(rows);
        (_f32, _f16, _keys) = (f32, f16, keys);
    }

    /// <summary>New storage for <paramref name="rows"/> rows holding the stored ones. Reads the storage only: the caller holds
    /// a lock that keeps writers out.</summary>
    (float[]? F32, Half[]? F16, long[] Keys) Copy(int rows)
    {
        long elements = (long)rows * _dimensions;
        var keys = new long[rows];
        _keys.AsSpan(0, Math.Min(_count, rows)).CopyTo(keys);
        if (_float16)
        {
            var data = new Half[elements];
            if (_f16 is not null) _f16.AsSpan(0, _count * _dimensions).CopyTo(data);
            return (null, data, keys);
        }
        else
        {
            var data = new float[elements];
            if (_f32 is not null) _f32.AsSpan(0, _count * _dimensions).CopyTo(data);
            return (data, null, keys);
        }
    }

    /// <summary>The capacity to grow to for <paramref name="rows"/> rows (doubling), or 0 when the storage holds them already.</summary>
    int GrowTarget(int rows)
    {
        if (rows <= _keys.Length) return 0;
        if (rows > MaxRows) throw new InvalidOperationException($"ExactIndex cannot hold more than {MaxRows:N0} vectors of {_dimensions} dimensions.");
        long grown = Math.Max((long)_keys.Length * 2, InitialCapacity);
        return (int)Math.Clamp(grown, rows, MaxRows);
    }

    void EnsureCapacity(int rows)
    {
        if (GrowTarget(rows) is > 0 and var target) Allocate(target);
    }

    /// <summary>
    /// Grows the storage (doubling) so that it holds at least <paramref name="rows"/> vectors without blocking searches: the
    /// stored vectors are copied under the upgradeable read lock (searches go on, writers wait), and only the swap to the new
    /// arrays takes the write lock. <see cref="Upsert"/> grows the storage too, but under the write lock, so every search waits
    /// for the copy (hundreds of MB for a large index: seconds on a machine where fresh memory is slow to touch). A caller
    /// about to add rows calls this first.
    /// </summary>
    public void Reserve(int rows)
    {
        _lock.EnterUpgradeableReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            int target = GrowTarget(rows);
            if (target == 0) return;
            var (f32, f16, keys) = Copy(target); // no writer can enter while this thread holds the upgradeable lock
            ReserveCopied?.Invoke();
            _lock.EnterWriteLock();
            try { (_f32, _f16, _keys) = (f32, f16, keys); }
            finally { _lock.ExitWriteLock(); }
        }
        finally { _lock.ExitUpgradeableReadLock(); }
    }

    public void Upsert(long key, ReadOnlySpan<float> vector)
    {
        VectorIndexShared.CheckVector(vector, _dimensions, nameof(vector));
        _lock.EnterWriteLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_slots.TryGetValue(key, out int slot))
            {
                EnsureCapacity(_count + 1);
                slot = _count++;
                _keys[slot] = key;
                _slots.Add(key, slot);
            }
            if (_float16) TensorPrimitives.ConvertToHalf(vector, _f16.AsSpan(slot * _dimensions, _dimensions));
            else vector.CopyTo(_f32.AsSpan(slot * _dimensions, _dimensions));
        }
        finally { _lock.ExitWriteLock(); }
    }

    public bool Remove(long key)
    {
        _lock.EnterWriteLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_slots.Remove(key, out int slot)) return false;
            int last = --_count;
            if (slot != last)
            {
                // Swap-with-last compaction keeps storage contiguous.
                long moved = _keys[last];
                _keys[slot] = moved;
                _slots[moved] = slot;
                if (_float16) _f16.AsSpan(last * _dimensions, _dimensions).CopyTo(_f16.AsSpan(slot * _dimensions, _dimensions));
                else _f32.AsSpan(last * _dimensions, _dimensions).CopyTo(_f32.AsSpan(slot * _dimensions, _dimensions));
            }
            // Give memory back when the index shrank to a quarter of its capacity.
            if (_keys.Length > InitialCapacity && _count <= _keys.Length / 4) Allocate(Math.Max(InitialCapacity, _keys.Length / 2));
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
            return _slots.ContainsKey(key);
        }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>Copies the stored vector of a key (float16 storage comes back widened); false when the key is absent.</summary>
    internal bool TryGetVector(long key, Span<float> destination)
    {
        _lock.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_slots.TryGetValue(key, out int slot)) return false;
            if (_float16) TensorPrimitives.ConvertToSingle(_f16.AsSpan(slot * _dimensions, _dimensions), destination);
            else _f32.AsSpan(slot * _dimensions, _dimensions).CopyTo(destination);
            return true;
        }
        finally { _lock.ExitReadLock(); }
    }

    public IReadOnlyList<VectorHit> Search(ReadOnlySpan<float> query, int k, Func<long, bool>? filter = null, float minScore = float.NegativeInfinity)
    {
        VectorIndexShared.CheckVector(query, _dimensions, nameof(query));
        VectorIndexShared.CheckK(k);
        _lock.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (k == 0 || _count == 0) return [];
            k = Math.Min(k, _count);
            int count = _count;
            if (count < ParallelThreshold || Environment.ProcessorCount == 1)
            {
                var top = new TopK(k);
                ScanRange(query, 0, count, top, filter, minScore);
                return top.ToSortedArray();
            }

            // Parallel over contiguous chunks; each chunk keeps its own top-k and the results merge under a total
            // order (score, then key), so the answer does not depend on scheduling.
            int chunks = Math.Min(Environment.ProcessorCount * 4, count / 8192);
            var partial = new TopK[chunks];
            var queryCopy = ArrayPool<float>.Shared.Rent(_dimensions);
            try
            {
                query.CopyTo(queryCopy);
                Parallel.For(0, chunks, c =>
                {
                    int start = (int)((long)count * c / chunks), end = (int)((long)count * (c + 1) / chunks);
                    var local = new TopK(k);
                    ScanRange(queryCopy.AsSpan(0, _dimensions), start, end, local, filter, minScore);
                    partial[c] = local;
                });
            }
            catch (AggregateException e) when (e.InnerExceptions.Count == 1)
            {
                // A throwing filter surfaces as itself, as on the sequential path.
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
                throw;
            }
            finally { ArrayPool<float>.Shared.Return(queryCopy); }
            var merged = new TopK(k);
            foreach (var p in partial) merged.Merge(p);
            return merged.ToSortedArray();
        }
        finally { _lock.ExitReadLock(); }
    }

    void ScanRange(ReadOnlySpan<float> query, int start, int end, TopK top, Func<long, bool>? filter, float minScore)
    {
        int d = _dimensions;
        var keys = _keys;
        if (!_float16)
        {
            var data = _f32!;
            for (int row = start; row < end; row++)
            {
                long key = keys[row];
                if (filter is not null && !filter(key)) continue;
                float score = TensorPrimitives.Dot(query, data.AsSpan(row * d, d));
                if (score >= minScore && top.MayAccept(score)) top.Add(key, score);
            }
            return;
        }

        var half = _f16!;
        int block = Math.Min(HalfBlockRows, end - start);
        var buffer = ArrayPool<float>.Shared.Rent(block * d);
        try
        {
            for (int row0 = start; row0 < end; row0 += block)
            {
                int rows = Math.Min(block, end - row0);
                if (filter is null)
                {
                    // Widen a block of rows at once (vectorised conversion), then score each row in float32.
                    TensorPrimitives.ConvertToSingle(half.AsSpan(row0 * d, rows * d), buffer.AsSpan(0, rows * d));
                    for (int r = 0; r < rows; r++)
                    {
                        float score = TensorPrimitives.Dot(query, buffer.AsSpan(r * d, d));
                        if (score >= minScore && top.MayAccept(score)) top.Add(keys[row0 + r], score);
                    }
                }
                else
                {
                    for (int r = 0; r < rows; r++)
                    {
                        long key = keys[row0 + r];
                        if (!filter(key)) continue;
                        TensorPrimitives.ConvertToSingle(half.AsSpan((row0 + r) * d, d), buffer.AsSpan(0, d));
                        float score = TensorPrimitives.Dot(query, buffer.AsSpan(0, d));
                        if (score >= minScore && top.MayAccept(score)) top.Add(key, score);
                    }
                }
            }
        }
        finally { ArrayPool<float>.Shared.Return(buffer); }
    }

    /// <summary>
    /// File layout (little-endian): "VQAEXCT1", int32 version, int32 dimensions, int32 flags (bit 0: float16), int32 reserved,
    /// int64 count, count int64 keys, count*dimensions float32 or float16 values, XxHash64 of all preceding bytes.
    /// </summary>
    public void Save(string path)
    {
        VectorIndexShared.CheckPath(path);
        VectorIndexShared.RequireLittleEndian();
        _lock.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            VectorIndexShared.WriteAtomically(path, stream =>
            {
                var w = new ChecksummedWriter(stream);
                w.Write(Magic);
                w.WriteInt32(FormatVersion);
                w.WriteInt32(_dimensions);
                w.WriteInt32(_float16 ? 1 : 0);
                w.WriteInt32(0);
                w.WriteInt64(_count);
                w.WriteValues<long>(_keys.AsSpan(0, _count));
                long values = (long)_count * _dimensions;
                if (_float16) w.WriteValues<Half>(_f16.AsSpan(0, (int)values));
                else w.WriteValues<float>(_f32.AsSpan(0, (int)values));
                w.WriteChecksum();
            });
        }
        finally { _lock.ExitReadLock(); }
    }

    /// <summary>Loads a file written by <see cref="Save"/>; throws <see cref="InvalidDataException"/> naming the problem on a bad file.</summary>
    public static ExactIndex Load(string path)
    {
        VectorIndexShared.CheckPath(path);
        VectorIndexShared.RequireLittleEndian();
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        var r = new ChecksummedReader(stream, path, "Exact vector index file");
        r.ReadMagic(Magic);
        int version = r.ReadInt32();
        if (version != FormatVersion) throw r.Bad($"format version {version} is not supported (expected {FormatVersion}).");
        int dimensions = r.ReadInt32();
        int flags = r.ReadInt32();
        r.ReadInt32();
        long count = r.ReadInt64();
        if (dimensions <= 0) throw r.Bad($"dimensions {dimensions} must be positive.");
        if ((flags & ~1) != 0) throw r.Bad($"unknown flags 0x{flags:x}.");
        bool float16 = (flags & 1) != 0;
        if (count < 0 || count > Array.MaxLength / dimensions) throw r.Bad($"vector count {count} is out of range.");
        long expected = 32 + count * 8 + count * dimensions * (float16 ? 2L : 4L) + 8;
        if (stream.Length < expected) throw r.Bad($"the file is truncated ({stream.Length:N0} bytes, expected {expected:N0}).");
        if (stream.Length > expected) throw r.Bad($"the file has {stream.Length - expected:N0} unexpected trailing bytes.");

        var index = new ExactIndex(dimensions, float16);
        int n = (int)count;
        index.Allocate(Math.Max(n, InitialCapacity));
        r.ReadValues<long>(index._keys.AsSpan(0, n));
        if (float16) r.ReadValues<Half>(index._f16.AsSpan(0, n * dimensions));
        else r.ReadValues<float>(index._f32.AsSpan(0, n * dimensions));
        r.VerifyChecksumAndEnd();
        index._slots.EnsureCapacity(n);
        for (int i = 0; i < n; i++)
            if (!index._slots.TryAdd(index._keys[i], i)) throw r.Bad($"key {index._keys[i]} appears twice.");
        index._count = n;
        return index;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _lock.EnterWriteLock();
        try
        {
            if (_disposed) return;
            _disposed = true;
            _f32 = null;
            _f16 = null;
            _keys = [];
            _slots.Clear();
            _count = 0;
        }
        finally { _lock.ExitWriteLock(); }
    }
}
