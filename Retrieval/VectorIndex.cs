using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;

namespace VqaApi.Retrieval;

/// A search hit: the caller's key and the similarity score (dot product of L2-normalised vectors = cosine), best first.
public readonly record struct VectorHit(long Key, float Score);

public interface IVectorIndex : IDisposable
{
    int Dimensions { get; }
    int Count { get; }
    bool UsesFloat16 { get; }

    /// Adds or replaces the vector of a key. Vectors are expected L2-normalised (callers normalise); length must equal Dimensions (ArgumentException otherwise).
    void Upsert(long key, ReadOnlySpan<float> vector);

    bool Remove(long key);

    bool Contains(long key);

    /// Best k hits with score >= minScore whose key passes filter (null = all). Must return exactly min(k, number of passing keys) hits when minScore is -inf, for both index kinds (HNSW: oversample then fall back to an exact scan of the passing keys when the filter is selective or too few results come back).
    IReadOnlyList<VectorHit> Search(ReadOnlySpan<float> query, int k, Func<long, bool>? filter = null, float minScore = float.NegativeInfinity);

    /// Persist to a file (write to path + ".tmp" then File.Move overwrite, so a crash never leaves a half file).
    void Save(string path);
}

/// <summary>
/// Partial top-k selection under the total order "higher score first, then smaller key first".
/// A bounded binary heap whose root is the worst kept hit. Because the order is total (keys are unique),
/// the selected set and its order do not depend on the order in which candidates arrive, so partial
/// selectors over chunks can be merged deterministically.
/// </summary>
internal sealed class TopK
{
    readonly VectorHit[] _heap;
    int _count;

    public TopK(int k) => _heap = new VectorHit[Math.Max(k, 0)];

    public int Count => _count;
    public int Capacity => _heap.Length;

    /// <summary>True when a hit with this score could still enter (cheap pre-check before work such as a filter call).</summary>
    public bool MayAccept(float score) => _count < _heap.Length || (_heap.Length > 0 && score >= _heap[0].Score);

    /// <summary>a ranks strictly before b.</summary>
    public static bool Better(in VectorHit a, in VectorHit b) => a.Score > b.Score || (a.Score == b.Score && a.Key < b.Key);

    public void Add(long key, float score)
    {
        if (_heap.Length == 0 || float.IsNaN(score)) return;
        var hit = new VectorHit(key, score);
        if (_count < _heap.Length)
        {
            int i = _count++;
            while (i > 0)
            {
                int parent = (i - 1) >> 1;
                if (!Better(_heap[parent], hit)) break; // parent is worse or equal: hit moves up
                _heap[i] = _heap[parent];
                i = parent;
            }
            _heap[i] = hit;
            return;
        }
        if (!Better(hit, _heap[0])) return;
        SiftDown(hit);
    }

    void SiftDown(VectorHit hit)
    {
        int i = 0;
        while (true)
        {
            int left = 2 * i + 1;
            if (left >= _count) break;
            int worst = left;
            int right = left + 1;
            if (right < _count && Better(_heap[left], _heap[right])) worst = right;
            if (!Better(hit, _heap[worst])) break; // hit is worse than both children: stays here
            _heap[i] = _heap[worst];
            i = worst;
        }
        _heap[i] = hit;
    }

    public void Merge(TopK other)
    {
        for (int i = 0; i < other._count; i++) Add(other._heap[i].Key, other._heap[i].Score);
    }

    /// <summary>The kept hits, best first.</summary>
    public VectorHit[] ToSortedArray()
    {
        var result = _heap.AsSpan(0, _count).ToArray();
        Array.Sort(result, static (a, b) => Better(a, b) ? -1 : Better(b, a) ? 1 : 0);
        return result;
    }
}

/// <summary>Shared argument checks and file helpers of the vector indexes.</summary>
internal static class VectorIndexShared
{
    public static void CheckDimensions(int dimensions)
    {
        if (dimensions <= 0) throw new ArgumentOutOfRangeException(nameof(dimensions), dimensions, "Dimensions must be positive.");
    }

    public static void CheckVector(ReadOnlySpan<float> vector, int dimensions, string name)
    {
        if (vector.Length != dimensions)
            throw new ArgumentException($"Vector has {vector.Length} dimensions; this index holds {dimensions}-dimensional vectors.", name);
    }

    public static void CheckK(int k)
    {
        if (k < 0) throw new ArgumentOutOfRangeException(nameof(k), k, "k must not be negative.");
    }

    public static void CheckPath(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
    }

    /// <summary>
    /// Writes a file through path + ".tmp" (flushed to disk) and then renames it over path, so readers never see a half-written file.
    /// </summary>
    public static void WriteAtomically(string path, Action<FileStream> write)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        var tmp = full + ".tmp";
        try
        {
            using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
    }

    public static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    public static void RequireLittleEndian()
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Vector index files are little-endian; this platform is big-endian.");
    }
}

/// <summary>Streams bytes to a file while hashing them (XxHash64), then appends the hash.</summary>
internal sealed class ChecksummedWriter(Stream stream)
{
    readonly XxHash64 _hash = new();

    public void Write(ReadOnlySpan<byte> bytes)
    {
        _hash.Append(bytes);
        stream.Write(bytes);
    }

    public void WriteInt32(int value)
    {
        Span<byte> b = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, value);
        Write(b);
    }

    public void WriteInt64(long value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(b, value);
        Write(b);
    }

    /// <summary>Writes a large span of unmanaged values in chunks (a byte span cannot exceed 2 GiB).</summary>
    public void WriteValues<T>(ReadOnlySpan<T> values) where T : unmanaged
    {
        int chunk = Math.Max(1, (1 << 24) / System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
        for (int i = 0; i < values.Length; i += chunk)
            Write(MemoryMarshal.AsBytes(values.Slice(i, Math.Min(chunk, values.Length - i))));
    }

    public void WriteChecksum()
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, _hash.GetCurrentHashAsUInt64());
        stream.Write(b);
    }
}

/// <summary>Reads what <see cref="ChecksummedWriter"/> wrote; every failure is an <see cref="InvalidDataException"/> naming the file.</summary>
internal sealed class ChecksummedReader(Stream stream, string path, string what)
{
    readonly XxHash64 _hash = new();

    public InvalidDataException Bad(string message) => new($"{what} '{path}' is not valid: {message}");

    public void Read(Span<byte> buffer)
    {
        try { stream.ReadExactly(buffer); }
        catch (EndOfStreamException) { throw Bad("the file is truncated."); }
        _hash.Append(buffer);
    }

    public int ReadInt32()
    {
        Span<byte> b = stackalloc byte[4];
        Read(b);
        return BinaryPrimitives.ReadInt32LittleEndian(b);
    }

    public long ReadInt64()
    {
        Span<byte> b = stackalloc byte[8];
        Read(b);
        return BinaryPrimitives.ReadInt64LittleEndian(b);
    }

    public void ReadMagic(ReadOnlySpan<byte> magic)
    {
        Span<byte> b = stackalloc byte[magic.Length];
        Read(b);
        if (!b.SequenceEqual(magic)) throw Bad("unknown file format (bad magic bytes).");
    }

    public void ReadValues<T>(Span<T> values) where T : unmanaged
    {
        int chunk = Math.Max(1, (1 << 24) / System.Runtime.CompilerServices.Unsafe.SizeOf<T>());
        for (int i = 0; i < values.Length; i += chunk)
            Read(MemoryMarshal.AsBytes(values.Slice(i, Math.Min(chunk, values.Length - i))));
    }

    public void VerifyChecksumAndEnd()
    {
        Span<byte> b = stackalloc byte[8];
        try { stream.ReadExactly(b); }
        catch (EndOfStreamException) { throw Bad("the file is truncated."); }
        if (BinaryPrimitives.ReadUInt64LittleEndian(b) != _hash.GetCurrentHashAsUInt64()) throw Bad("checksum mismatch (the file is corrupt).");
        if (stream.ReadByte() != -1) throw Bad("unexpected data after the end of the index.");
    }
}
