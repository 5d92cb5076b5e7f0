using System.Buffers;
using System.Numerics.Tensors;

namespace VqaApi.Retrieval;

/// <summary>
/// Brute-force vector index: every search scores every stored vector (SIMD dot products), so results are the true top-k.
/// Vectors are stored row-major in fixed-size chunks (float32, or System.Half with <c>float16</c> to halve memory; scores are
/// always computed in float32). Growing adds a chunk and never copies the stored vectors, so a write that needs room waits
/// for one chunk's allocation (about 12 MB at 768 dimensions) however large the index is, and peak memory while growing is
/// the index plus one chunk rather than twice the index. Only a small index (a single chunk) grows by doubling and copying.
/// Thread-safe: any number of concurrent searches; Upsert/Remove take a write lock.
/// </summary>
public sealed class ExactIndex : IVectorIndex
{
    /// <summary>From this many vectors on, a search is split over cores.</summary>
    internal const int ParallelThreshold = 50_000;
    const int InitialCapacity = 16;
    /// <summary>Rows converted from float16 to float32 at a time.</summary>
    const int HalfBlockRows = 64;
    /// <summary>A full chunk holds about this many bytes of vectors (rounded down to a power-of-two row count).</summary>
    const int ChunkTargetBytes = 16 << 20;
    static ReadOnlySpan<byte> Magic => "VQAEXCT1"u8;
    const int FormatVersion = 1;

    /// <summary>One piece of storage: <see cref="Keys"/>.Length rows, their vectors in <see cref="F32"/> or <see cref="F16"/>.</summary>
    sealed class Chunk(int rows, int dimensions, bool float16)
    {
        public readonly long[] Keys = new long[rows];
        public readonly float[]? F32 = float16 ? null : new float[rows * dimensions];
        public readonly Half[]? F16 = float16 ? new Half[rows * dimensions] : null;
        public int Rows => Keys.Length;
    }

    readonly ReaderWriterLockSlim _lock = new(LockRecursionPolicy.NoRecursion);
    readonly Dictionary<long, int> _slots = new();
    readonly int _dimensions;
    readonly bool _float16;
    /// <summary>log2 of the rows of a full chunk; row r lives in chunk r &gt;&gt; shift at r &amp; (full rows - 1).</summary>
    readonly int _chunkShift;
    /// <summary>Either one chunk of up to <see cref="ChunkRows"/> rows, or several chunks of exactly that many.</summary>
    Chunk[] _chunks;
    int _count;
    bool _disposed;

    public ExactIndex(int dimensions, bool float16 = false) : this(dimensions, float16, chunkRows: 0) { }

    /// <param name="chunkRows">Rows per full chunk, a power of two (tests use small ones); 0 picks about 16 MB a chunk.</param>
    internal ExactIndex(int dimensions, bool float16, int chunkRows)
    {
        VectorIndexShared.CheckDimensions(dimensions);
        _dimensions = dimensions;
        _float16 = float16;
        long rowBytes = (long)dimensions * (float16 ? 2 : 4);
        long rows = chunkRows > 0 ? chunkRows : Math.Max(HalfBlockRows, ChunkTargetBytes / rowBytes);
        _chunkShift = Math.Min(System.Numerics.BitOperations.Log2((ulong)rows), System.Numerics.BitOperations.Log2((ulong)Math.Max(1, Array.MaxLength / dimensions)));
        _chunks = [];
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

    /// <summary>Rows in a full chunk.</summary>
    internal int ChunkRows => 1 << _chunkShift;

    /// <summary>The most rows the index can hold (rows are numbered by int).</summary>
    int MaxRows => int.MaxValue / ChunkRows * ChunkRows;

    /// <summary>Rows the storage holds before it has to grow.</summary>
    internal int Capacity
    {
        get
        {
            _lock.EnterReadLock();
            try { return CapacityOf(_chunks); }
            finally { _lock.ExitReadLock(); }
        }
    }

    static int CapacityOf(Chunk[] chunks) => chunks.Length switch { 0 => 0, 1 => chunks[0].Rows, _ => chunks.Length * chunks[0].Rows };

    /// <summary>Test hook: called by <see cref="Reserve"/> after the new storage is ready, before the swap (searches may run
    /// meanwhile).</summary>
    internal Action? ReserveAllocated { get; set; }

    /// <summary>The vector of a stored row (the caller holds a lock).</summary>
    Span<float> RowF32(int row) => _chunks[row >> _chunkShift].F32.AsSpan((row & (ChunkRows - 1)) * _dimensions, _dimensions);
    Span<Half> RowF16(int row) => _chunks[row >> _chunkShift].F16.AsSpan((row & (ChunkRows - 1)) * _dimensions, _dimensions);
    ref long KeyAt(int row) => ref _chunks[row >> _chunkShift].Keys[row & (ChunkRows - 1)];

    /// <summary>
    /// Storage holding at least <paramref name="rows"/> rows with the stored ones in place, or null when the current storage
    /// holds them already. Only reads the storage (the caller keeps writers out). Beyond one chunk, the stored chunks are
    /// reused and only new ones are allocated; a single small chunk doubles (a copy of at most one chunk).
    /// </summary>
    Chunk[]? Grown(int rows)
    {
        int capacity = CapacityOf(_chunks);
        if (rows <= capacity) return null;
        if (rows > MaxRows) throw new InvalidOperationException($"ExactIndex cannot hold more than {MaxRows:N0} vectors.");
        if (rows <= ChunkRows)
        {
            int target = (int)Math.Clamp(Math.Max((long)capacity * 2, InitialCapacity), rows, ChunkRows);
            return [CopyOf(_chunks.Length == 0 ? null : _chunks[0], target)];
        }
        int chunks = (int)(((long)rows + ChunkRows - 1) >> _chunkShift);
        var grown = new Chunk[chunks];
        _chunks.CopyTo(grown, 0);
        if (grown[0] is { } first && first.Rows < ChunkRows) grown[0] = CopyOf(first, ChunkRows);
        for (int i = 0; i < chunks; i++) grown[i] ??= new Chunk(ChunkRows, _dimensions, _float16);
        return grown;
    }

    /// <summary>A chunk of <paramref name="rows"/> rows holding the first <see cref="_count"/> rows of <paramref name="source"/>.</summary>
    Chunk CopyOf(Chunk? source, int rows)
    {
        var chunk = new Chunk(rows, _dimensions, _float16);
        if (source is null) return chunk;
        int n = Math.Min(Math.Min(_count, source.Rows), rows);
        source.Keys.AsSpan(0, n).CopyTo(chunk.Keys);
        if (_float16) source.F16.AsSpan(0, n * _dimensions).CopyTo(chunk.F16);
        else source.F32.AsSpan(0, n * _dimensions).CopyTo(chunk.F32);
        return chunk;
    }

    void EnsureCapacity(int rows)
    {
        if (Grown(rows) is { } grown) _chunks = grown;
    }

    /// <summary>
    /// Grows the storage so that it holds at least <paramref name="rows"/> vectors without blocking searches: new chunks are
    /// allocated under the upgradeable read lock (searches go on, writers wait), and only the swap takes the write lock.
    /// <see cref="Upsert"/> grows the storage too, under the write lock; a caller about to add many rows calls this first.
    /// </summary>
    public void Reserve(int rows)
    {
        _lock.EnterUpgradeableReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (Grown(rows) is not { } grown) return; // no writer can enter while this thread holds the upgradeable lock
            ReserveAllocated?.Invoke();
            _lock.EnterWriteLock();
            try { _chunks = grown; }
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
                KeyAt(slot) = key;
                _slots.Add(key, slot);
            }
            if (_float16) TensorPrimitives.ConvertToHalf(vector, RowF16(slot));
            else vector.CopyTo(RowF32(slot));
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
                // Swap-with-last compaction keeps the rows dense.
                long moved = KeyAt(last);
                KeyAt(slot) = moved;
                _slots[moved] = slot;
                if (_float16) RowF16(last).CopyTo(RowF16(slot));
                else RowF32(last).CopyTo(RowF32(slot));
            }
            Shrink();
            return true;
        }
        finally { _lock.ExitWriteLock(); }
    }

    /// <summary>Gives memory back when the index shrank to a quarter of its capacity: whole chunks beyond twice the rows in use
    /// are dropped; a single chunk halves.</summary>
    void Shrink()
    {
        int capacity = CapacityOf(_chunks);
        if (capacity <= InitialCapacity || _count > capacity / 4) return;
        if (_chunks.Length == 1)
        {
            _chunks = [CopyOf(_chunks[0], Math.Max(InitialCapacity, capacity / 2))];
            return;
        }
        int keep = Math.Max(1, (int)(((2L * _count) + ChunkRows - 1) >> _chunkShift));
        if (keep < _chunks.Length) _chunks = _chunks[..keep];
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

    /// <summary>Keys of up to destination.Length stored rows spread evenly over the index (for estimates such as a filter's
    /// pass rate); returns how many were written.</summary>
    internal int SampleKeys(Span<long> destination)
    {
        _lock.EnterReadLock();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            int n = Math.Min(destination.Length, _count);
            for (int i = 0; i < n; i++) destination[i] = KeyAt((int)((long)i * _count / n));
            return n;
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
            if (_float16) TensorPrimitives.ConvertToSingle(RowF16(slot), destination);
            else RowF32(slot).CopyTo(destination);
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

            // Parallel over ranges of rows; each range keeps its own top-k and the results merge under a total
            // order (score, then key), so the answer does not depend on scheduling.
            int ranges = Math.Min(Environment.ProcessorCount * 4, count / 8192);
            var partial = new TopK[ranges];
            var queryCopy = ArrayPool<float>.Shared.Rent(_dimensions);
            try
            {
                query.CopyTo(queryCopy);
                Parallel.For(0, ranges, c =>
                {
                    int start = (int)((long)count * c / ranges), end = (int)((long)count * (c + 1) / ranges);
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

    /// <summary>
    /// True top-k among the stored vectors of <paramref name="keys"/> only (distinct keys; keys not stored are skipped): one lookup and one
    /// dot product per key, so scoring a few hundred recent items costs microseconds whatever the size of the index, where
    /// <see cref="Search"/> with a membership filter scans every row. Same ranking and ties as <see cref="Search"/>.
    /// </summary>
    public IReadOnlyList<VectorHit> SearchAmong(ReadOnlySpan<float> query, int k, IEnumerable<long> keys, Func<long, bool>? filter = null,
        float minScore = float.NegativeInfinity)
    {
        VectorIndexShared.CheckVector(query, _dimensions, nameof(query));
        VectorIndexShared.CheckK(k);
        ArgumentNullException.ThrowIfNull(keys);
        _lock.EnterReadLock();
        float[]? widened = null;
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (k == 0 || _count == 0) return [];
            var top = new TopK(Math.Min(k, _count));
            if (_float16) widened = ArrayPool<float>.Shared.Rent(_dimensions);
            foreach (long key in keys)
            {
                if (!_slots.TryGetValue(key, out int slot) || (filter is not null && !filter(key))) continue;
                float score;
                if (widened is null) score = TensorPrimitives.Dot(query, RowF32(slot));
                else
                {
                    TensorPrimitives.ConvertToSingle(RowF16(slot), widened.AsSpan(0, _dimensions));
                    score = TensorPrimitives.Dot(query, widened.AsSpan(0, _dimensions));
                }
                if (score >= minScore && top.MayAccept(score)) top.Add(key, score);
            }
            return top.ToSortedArray();
        }
        finally
        {
            if (widened is not null) ArrayPool<float>.Shared.Return(widened);
            _lock.ExitReadLock();
        }
    }

    /// <summary>Scores rows [start, end), chunk by chunk.</summary>
    void ScanRange(ReadOnlySpan<float> query, int start, int end, TopK top, Func<long, bool>? filter, float minScore)
    {
        var chunks = _chunks;
        int mask = ChunkRows - 1;
        for (int row = start; row < end;)
        {
            var chunk = chunks[row >> _chunkShift];
            int offset = row & mask, rows = Math.Min(end - row, chunk.Rows - offset);
            ScanChunk(query, chunk, offset, rows, top, filter, minScore);
            row += rows;
        }
    }

    void ScanChunk(ReadOnlySpan<float> query, Chunk chunk, int start, int rows, TopK top, Func<long, bool>? filter, float minScore)
    {
        int d = _dimensions, end = start + rows;
        var keys = chunk.Keys;
        if (!_float16)
        {
            var data = chunk.F32!;
            for (int row = start; row < end; row++)
            {
                long key = keys[row];
                if (filter is not null && !filter(key)) continue;
                float score = TensorPrimitives.Dot(query, data.AsSpan(row * d, d));
                if (score >= minScore && top.MayAccept(score)) top.Add(key, score);
            }
            return;
        }

        var half = chunk.F16!;
        int block = Math.Min(HalfBlockRows, rows);
        var buffer = ArrayPool<float>.Shared.Rent(block * d);
        try
        {
            for (int row0 = start; row0 < end; row0 += block)
            {
                int n = Math.Min(block, end - row0);
                if (filter is null)
                {
                    // Widen a block of rows at once (vectorised conversion), then score each row in float32.
                    TensorPrimitives.ConvertToSingle(half.AsSpan(row0 * d, n * d), buffer.AsSpan(0, n * d));
                    for (int r = 0; r < n; r++)
                    {
                        float score = TensorPrimitives.Dot(query, buffer.AsSpan(r * d, d));
                        if (score >= minScore && top.MayAccept(score)) top.Add(keys[row0 + r], score);
                    }
                }
                else
                {
                    for (int r = 0; r < n; r++)
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

    /// <summary>Calls <paramref name="segment"/> with (chunk, rows in use) for every chunk holding stored rows, in row order.</summary>
    void ForEachSegment(Action<Chunk, int> segment)
    {
        for (int row = 0, i = 0; row < _count; i++)
        {
            int rows = Math.Min(_count - row, _chunks[i].Rows);
            segment(_chunks[i], rows);
            row += rows;
        }
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
                ForEachSegment((chunk, rows) => w.WriteValues<long>(chunk.Keys.AsSpan(0, rows)));
                ForEachSegment((chunk, rows) =>
                {
                    if (_float16) w.WriteValues<Half>(chunk.F16.AsSpan(0, rows * _dimensions));
                    else w.WriteValues<float>(chunk.F32.AsSpan(0, rows * _dimensions));
                });
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
        var index = new ExactIndex(dimensions, float16);
        if (count < 0 || count > index.MaxRows) throw r.Bad($"vector count {count} is out of range.");
        long expected = 32 + count * 8 + count * dimensions * (float16 ? 2L : 4L) + 8;
        if (stream.Length < expected) throw r.Bad($"the file is truncated ({stream.Length:N0} bytes, expected {expected:N0}).");
        if (stream.Length > expected) throw r.Bad($"the file has {stream.Length - expected:N0} unexpected trailing bytes.");

        int n = (int)count;
        index.EnsureCapacity(Math.Max(n, InitialCapacity));
        index._count = n;
        index.ForEachSegment((chunk, rows) => r.ReadValues<long>(chunk.Keys.AsSpan(0, rows)));
        index.ForEachSegment((chunk, rows) =>
        {
            if (float16) r.ReadValues<Half>(chunk.F16.AsSpan(0, rows * dimensions));
            else r.ReadValues<float>(chunk.F32.AsSpan(0, rows * dimensions));
        });
        r.VerifyChecksumAndEnd();
        index._slots.EnsureCapacity(n);
        for (int i = 0; i < n; i++)
        {
            long key = index.KeyAt(i);
            if (!index._slots.TryAdd(key, i)) throw r.Bad($"key {key} appears twice.");
        }
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
            _chunks = [];
            _slots.Clear();
            _count = 0;
        }
        finally { _lock.ExitWriteLock(); }
    }
}
