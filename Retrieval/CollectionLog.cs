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
/// Where a log or snapshot stops being readable. <see cref="TornTail"/>: the final record was cut short by a crash (its
/// header is incomplete, it runs past the end of the file with no intact record after it, or it is all zeros to the end):
/// that write was never acknowledged. Otherwise the file is damaged in the middle, and <see cref="NextIntact"/> is where
/// the next intact record starts (null when none does).
/// </summary>
public sealed record LogDamage(long Offset, long FileLength, bool TornTail, long? NextIntact, long LastSequence, string Reason)
{
    public string Describe(string file) => TornTail
        ? $"{file}: a torn final record at offset {Offset:N0} ({FileLength - Offset:N0} bytes, {Reason}), a write cut by a crash and never acknowledged"
        : $"{file}: damaged at offset {Offset:N0} of {FileLength:N0} bytes ({Reason}; the last intact record before it has sequence {LastSequence}); " +
          (NextIntact is { } next ? $"intact records follow from offset {next:N0}" : "no intact record follows");
}

/// <summary>
/// One segment of a collection's append-only log: records framed as [u32 length][u32 CRC-32][payload]. At open, a torn
/// final record (a write cut by a crash, never acknowledged) is cut off; damage anywhere else is reported as a
/// <see cref="LogDamage"/> and the file is left as it is: nothing acknowledged is dropped silently.
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

    /// <summary>
    /// Opens (or creates) a segment, handing every intact record to <paramref name="visit"/> and cutting a torn final record
    /// (<paramref name="torn"/> describes it). Damage before the end is not cut: the file is left untouched and
    /// <see cref="LogDamagedException"/> says where it is.
    /// </summary>
    public static CollectionLog Open(string path, FsyncPolicy fsync, LogRecordVisitor visit, out LogDamage? torn)
    {
        // Unbuffered: each batch goes to the OS in one write, so a failed write leaves nothing behind in a buffer.
        var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);
        try
        {
            long goodLength;
            LogDamage? damage;
            // Read through a second, buffered handle: the unbuffered one would make a system call per record header.
            using (var reader = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 20)) goodLength = Read(reader, visit, out damage);
            if (damage is { TornTail: false }) throw new LogDamagedException(path, damage);
            torn = damage;
            if (damage is not null)
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
    /// returns where intact data ends, and says what stopped the reading (null: the end of the file). One payload buffer and
    /// one vector buffer serve every record.</summary>
    public static long Read(Stream stream, LogRecordVisitor visit, out LogDamage? damage)
    {
        long length = stream.Length;
        long lastSequence = 0;
        var reader = new RecordReader();
        long position = 0;
        while (position < length)
        {
            var (next, record, reason) = reader.TryRead(stream, position, length);
            if (record is null)
            {
                damage = Classify(stream, position, length, lastSequence, reason!);
                return position;
            }
            visit(record, reader.Vector);
            lastSequence = record.Sequence;
            position = next;
        }
        damage = null;
        return position;
    }

    /// <summary>Reads every intact record of a damaged file, skipping each damaged stretch to the next intact record
    /// (salvage); the stretches skipped are returned.</summary>
    public static List<LogDamage> ReadAllIntact(Stream stream, LogRecordVisitor visit)
    {
        var damages = new List<LogDamage>();
        long length = stream.Length, position = 0, lastSequence = 0;
        var reader = new RecordReader();
        while (position < length)
        {
            var (next, record, reason) = reader.TryRead(stream, position, length);
            if (record is null)
            {
                var damage = Classify(stream, position, length, lastSequence, reason!);
                damages.Add(damage);
                if (damage.NextIntact is not { } resume) break;
                position = resume;
                continue;
            }
            visit(record, reader.Vector);
            lastSequence = record.Sequence;
            position = next;
        }
        return damages;
    }

    private static LogDamage Classify(Stream stream, long offset, long length, long lastSequence, string reason)
    {
        long? next = FindNextIntact(stream, offset + 1, length);
        bool torn = next is null && (reason is "incomplete header" or "runs past the end of the file" || AllZeros(stream, offset, length));
        return new LogDamage(offset, length, torn, next, lastSequence, reason);
    }

    /// <summary>The first offset from <paramref name="from"/> where a whole, checksummed, decodable record starts. Blocks of the
    /// file are scanned in memory for plausible headers (a length that fits, an operation byte); only those are checksummed.</summary>
    private static long? FindNextIntact(Stream stream, long from, long length)
    {
        var reader = new RecordReader();
        const int Block = 1 << 20, Overlap = 9;
        var buffer = new byte[Block + Overlap];
        for (long start = from; start + Overlap <= length; start += Block)
        {
            int want = (int)Math.Min(buffer.Length, length - start);
            stream.Seek(start, SeekOrigin.Begin);
            if (!ReadFully(stream, buffer.AsSpan(0, want))) return null;
            for (int i = 0; i + Overlap <= want && i < Block; i++)
            {
                uint size = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(i));
                long at = start + i;
                if (size < 10 || at + 8 + size > length || buffer[i + 8] is not (LogRecord.Upsert or LogRecord.Delete)) continue;
                if (reader.TryRead(stream, at, length).Record is not null) return at;
                stream.Seek(start + want, SeekOrigin.Begin);
            }
        }
        return null;
    }

    private static bool AllZeros(Stream stream, long from, long length)
    {
        stream.Seek(from, SeekOrigin.Begin);
        var buffer = new byte[65536];
        for (long left = length - from; left > 0;)
        {
            int n = stream.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
            if (n == 0) break;
            if (buffer.AsSpan(0, n).ContainsAnyExcept((byte)0)) return false;
            left -= n;
        }
        return true;
    }

    /// <summary>Reads one framed record at an offset, reusing its buffers; a null record comes with the reason.</summary>
    private sealed class RecordReader
    {
        private byte[] _payload = new byte[4096];
        private float[] _vector = [];
        private int _dims;
        private readonly byte[] _header = new byte[8];

        public ReadOnlySpan<float> Vector => _vector.AsSpan(0, _dims);

        public (long Next, LogRecord? Record, string? Reason) TryRead(Stream stream, long position, long length)
        {
            stream.Seek(position, SeekOrigin.Begin);
            if (length - position < 8 || !ReadFully(stream, _header)) return (position, null, "incomplete header");
            uint size = BinaryPrimitives.ReadUInt32LittleEndian(_header);
            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(_header.AsSpan(4));
            if (size == 0 || size > 1 << 30) return (position, null, $"impossible record length {size}");
            if (position + 8 + size > length) return (position, null, "runs past the end of the file");
            if (_payload.Length < size) _payload = new byte[Math.Max(size, _payload.Length * 2L)];
            var body = _payload.AsSpan(0, (int)size);
            if (!ReadFully(stream, body)) return (position, null, "runs past the end of the file");
            if (Crc32.HashToUInt32(body) != crc) return (position, null, "checksum mismatch");
            try
            {
                (var record, _dims) = Decode(_payload, (int)size, ref _vector);
                return (position + 8 + size, record, null);
            }
            catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or DecoderFallbackException or EndOfStreamException)
            {
                return (position, null, "undecodable record");
            }
        }
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

/// <summary>A log or snapshot file is damaged before its end: it is left as it is (see <see cref="LogDamage"/>).</summary>
public sealed class LogDamagedException(string path, LogDamage damage) : IOException(damage.Describe(Path.GetFileName(path)))
{
    public LogDamage Damage { get; } = damage;
    public string FilePath { get; } = path;
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
