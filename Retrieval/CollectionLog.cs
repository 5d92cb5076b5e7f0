using System.Buffers.Binary;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;

namespace VqaApi.Retrieval;

/// <summary>How often the append-only log is forced to disk.</summary>
public enum FsyncPolicy
{
    /// <summary>Before every acknowledgement: an acknowledged write survives a crash or power loss.</summary>
    Always,
    /// <summary>Handed to the operating system before acknowledgement (survives a killed process, not power loss).</summary>
    OsBuffered,
}

/// <summary>One write in the log: an upsert with its embedding and content reference, or a delete. Records read back from a
/// file carry no <see cref="Vector"/>: the reader hands the embedding over as a span of a reused buffer.</summary>
public sealed record LogRecord(byte Op, long Sequence, string Id, string? Text, string? ImageSha256, string? MetadataJson, float[]? Vector)
{
    public const byte Upsert = 1, Delete = 2;
}

/// <summary>Receives each record read from a log or snapshot; <paramref name="vector"/> (empty for a delete) is only valid
/// during the call.</summary>
public delegate void LogRecordVisitor(LogRecord record, ReadOnlySpan<float> vector);

/// <summary>
/// One segment of a collection's append-only log: records framed as [u32 length][u32 CRC-32][payload]. Replay stops at the
/// first record that is incomplete or fails its checksum (a write torn by a crash) and cuts the file there, so only that
/// record is lost, and it was never acknowledged.
/// </summary>
public sealed class CollectionLog : IDisposable
{
    private readonly FileStream _file;
    private readonly FsyncPolicy _fsync;
    // Set when a failed append could not be cut back: appending after its remains would hide later records from replay.
    private bool _broken;

    private CollectionLog(FileStream file, FsyncPolicy fsync)
    {
        _file = file;
        _fsync = fsync;
    }

    public long Length => _file.Length;

    /// <summary>Opens (or creates) a segment, handing every intact record to <paramref name="visit"/> and cutting a torn tail.</summary>
    public static CollectionLog Open(string path, FsyncPolicy fsync, LogRecordVisitor visit, out bool tornTail)
    {
        // Unbuffered: each batch goes to the OS in one write, so a failed write leaves nothing behind in a buffer.
        var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);
        try
        {
            long goodLength;
            // Read through a second, buffered handle: the unbuffered one would make a system call per record header.
            using (var reader = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 20)) goodLength = Read(reader, visit);
            tornTail = goodLength < file.Length;
            if (tornTail)
            {
                file.SetLength(goodLength);
                file.Flush(true);
            }
            file.Seek(0, SeekOrigin.End);
            return new CollectionLog(file, fsync);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Creates a new, empty segment (refuses to touch an existing file).</summary>
    public static CollectionLog Create(string path, FsyncPolicy fsync) =>
        new(new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0), fsync);

    /// <summary>Reads records from the start until the end or the first damaged one, handing each to <paramref name="visit"/>;
    /// returns where intact data ends. One payload buffer and one vector buffer serve every record.</summary>
    public static long Read(Stream stream, LogRecordVisitor visit)
    {
        stream.Seek(0, SeekOrigin.Begin);
        long length = stream.Length, position = 0, goodLength = 0;
        Span<byte> header = stackalloc byte[8];
        byte[] payload = new byte[4096];
        float[] vector = [];
        while (true)
        {
            if (!ReadFully(stream, header)) break;
            position += 8;
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(header);
            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
            if (size == 0 || size > 1 << 30 || position + size > length) break;
            if (payload.Length < size) payload = new byte[Math.Max(size, payload.Length * 2L)];
            var body = payload.AsSpan(0, (int)size);
            if (!ReadFully(stream, body) || Crc32.HashToUInt32(body) != crc) break;
            position += size;
            LogRecord record;
            int dims;
            try { (record, dims) = Decode(payload, (int)size, ref vector); }
            catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or DecoderFallbackException or EndOfStreamException) { break; }
            visit(record, vector.AsSpan(0, dims));
            goodLength = position;
        }
        return goodLength;
    }

    private static bool ReadFully(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer[total..]);
            if (n == 0) return false;
            total += n;
        }
        return true;
    }

    /// <summary>Appends records and makes them durable per the policy; on failure the log is cut back to where it was.</summary>
    public void Append(IReadOnlyList<LogRecord> records)
    {
        if (_broken) throw new IOException("an earlier failed write could not be cut back from the log; reopen the collection (start-up drops the torn tail)");
        long start = _file.Length;
        using var batch = new MemoryStream();
        foreach (var record in records) WriteFramed(batch, record, record.Vector);
        try
        {
            _file.Write(batch.GetBuffer(), 0, (int)batch.Length);
            _file.Flush(_fsync == FsyncPolicy.Always);
        }
        catch (IOException)
        {
            try { _file.SetLength(start); _file.Seek(0, SeekOrigin.End); _file.Flush(true); }
            catch (IOException) { _broken = true; }
            throw;
        }
    }

    /// <summary>Forces everything appended so far to disk (whatever the policy): done before a newer segment is created.</summary>
    public void FlushToDisk()
    {
        if (_broken) throw new IOException("the log holds the remains of a failed write; it cannot be sealed");
        _file.Flush(true);
    }

    /// <summary>Writes one framed record; <paramref name="vector"/> is the embedding of an upsert (ignored for a delete).</summary>
    public static void WriteFramed(Stream stream, LogRecord record, ReadOnlySpan<float> vector)
    {
        var payload = Encode(record, vector);
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], Crc32.HashToUInt32(payload));
        stream.Write(header);
        stream.Write(payload);
    }

    private static byte[] Encode(LogRecord r, ReadOnlySpan<float> vector)
    {
        VectorIndexShared.RequireLittleEndian();
        using var ms = new MemoryStream(64 + vector.Length * 4);
        using var w = new BinaryWriter(ms, Encoding.UTF8);
        w.Write(r.Op);
        w.Write(r.Sequence);
        w.Write(r.Id);
        if (r.Op == LogRecord.Upsert)
        {
            WriteOptional(w, r.Text);
            WriteOptional(w, r.ImageSha256);
            WriteOptional(w, r.MetadataJson);
            w.Write(vector.Length);
            w.Write(MemoryMarshal.AsBytes(vector));
        }
        w.Flush();
        return ms.ToArray();
    }

    /// <summary>Decodes a payload; an upsert's embedding goes into <paramref name="vector"/> (grown when too small).</summary>
    private static (LogRecord Record, int Dims) Decode(byte[] payload, int size, ref float[] vector)
    {
        using var ms = new MemoryStream(payload, 0, size, writable: false);
        using var r = new BinaryReader(ms, new UTF8Encoding(false, true));
        byte op = r.ReadByte();
        long seq = r.ReadInt64();
        string id = r.ReadString();
        if (op == LogRecord.Delete) return (new LogRecord(op, seq, id, null, null, null, null), 0);
        if (op != LogRecord.Upsert) throw new ArgumentException($"unknown log operation {op}");
        var text = ReadOptional(r);
        var image = ReadOptional(r);
        var meta = ReadOptional(r);
        int dims = r.ReadInt32();
        if (dims < 0 || dims > 1 << 16) throw new ArgumentException("bad vector length");
        int at = (int)ms.Position;
        if (size - at != dims * 4) throw new ArgumentException("the vector does not fill the rest of the record");
        if (vector.Length < dims) vector = new float[dims];
        MemoryMarshal.Cast<byte, float>(payload.AsSpan(at, dims * 4)).CopyTo(vector);
        return (new LogRecord(op, seq, id, text, image, meta, null), dims);
    }

    private static void WriteOptional(BinaryWriter w, string? s)
    {
        w.Write(s is not null);
        if (s is not null) w.Write(s);
    }

    private static string? ReadOptional(BinaryReader r) => r.ReadBoolean() ? r.ReadString() : null;

    public void Dispose() => _file.Dispose();
}

/// <summary>Makes a directory's entries (a file created, renamed or deleted in it) durable: fsync of the directory itself,
/// which .NET has no API for. Linux only; elsewhere it does nothing.</summary>
internal static partial class DirectoryFlush
{
    public static void Flush(string directory)
    {
        if (!OperatingSystem.IsLinux()) return;
        int fd = open(directory, 0 /* O_RDONLY */);
        if (fd < 0) throw new IOException($"could not open folder '{directory}' to flush it (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (fsync(fd) != 0) throw new IOException($"could not flush folder '{directory}' to disk (errno {Marshal.GetLastPInvokeError()})");
        }
        finally { close(fd); }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)] private static partial int open(string path, int flags);
    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)] private static partial int fsync(int fd);
    [LibraryImport("libc", EntryPoint = "close")] private static partial int close(int fd);
}
