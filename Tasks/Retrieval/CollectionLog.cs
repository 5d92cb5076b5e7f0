using System.Buffers.Binary;
using System.IO.Hashing;
using System.Text;

namespace VqaApi.Tasks.Retrieval;

/// <summary>How often the append-only log is forced to disk.</summary>
public enum FsyncPolicy
{
    /// <summary>Before every acknowledgement: an acknowledged write survives a crash or power loss.</summary>
    Always,
    /// <summary>Handed to the operating system before acknowledgement (survives a killed process, not power loss).</summary>
    OsBuffered,
}

/// <summary>One write in the log: an upsert with its embedding and content reference, or a delete.</summary>
public sealed record LogRecord(byte Op, long Sequence, string Id, string? Text, string? ImageSha256, string? MetadataJson, float[]? Vector)
{
    public const byte Upsert = 1, Delete = 2;
}

/// <summary>
/// The collection's append-only log: records framed as [u32 length][u32 CRC-32][payload]. Replay stops at the
/// first record that is incomplete or fails its checksum (a write torn by a crash) and cuts the file there, so
/// only that record is lost, and it was never acknowledged.
/// </summary>
public sealed class CollectionLog : IDisposable
{
    private readonly FileStream _file;
    private readonly FsyncPolicy _fsync;

    private CollectionLog(FileStream file, FsyncPolicy fsync)
    {
        _file = file;
        _fsync = fsync;
    }

    public long Length => _file.Length;

    /// <summary>Opens (or creates) the log, returning every intact record and cutting a torn tail.</summary>
    public static CollectionLog Open(string path, FsyncPolicy fsync, out List<LogRecord> records, out bool tornTail)
    {
        // Unbuffered: each batch goes to the OS in one write, so a failed write leaves nothing behind in a buffer.
        var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read, bufferSize: 0);
        records = ReadAll(file, out long goodLength);
        tornTail = goodLength < file.Length;
        if (tornTail)
        {
            file.SetLength(goodLength);
            file.Flush(true);
        }
        file.Seek(0, SeekOrigin.End);
        return new CollectionLog(file, fsync);
    }

    /// <summary>Reads records until the end or the first damaged one; <paramref name="goodLength"/> is where intact data ends.</summary>
    public static List<LogRecord> ReadAll(Stream stream, out long goodLength)
    {
        var records = new List<LogRecord>();
        stream.Seek(0, SeekOrigin.Begin);
        goodLength = 0;
        Span<byte> header = stackalloc byte[8];
        while (true)
        {
            if (!ReadFully(stream, header)) break;
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(header);
            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
            if (length == 0 || length > 1 << 30 || stream.Position + length > stream.Length) break;
            var payload = new byte[length];
            if (!ReadFully(stream, payload) || Crc32.HashToUInt32(payload) != crc) break;
            try { records.Add(Decode(payload)); }
            catch (Exception e) when (e is ArgumentException or IndexOutOfRangeException or DecoderFallbackException or EndOfStreamException) { break; }
            goodLength = stream.Position;
        }
        return records;
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
        long start = _file.Length;
        using var batch = new MemoryStream();
        foreach (var record in records) WriteFramed(batch, record);
        try
        {
            _file.Write(batch.GetBuffer(), 0, (int)batch.Length);
            _file.Flush(_fsync == FsyncPolicy.Always);
        }
        catch (IOException)
        {
            try { _file.SetLength(start); _file.Seek(0, SeekOrigin.End); _file.Flush(true); } catch (IOException) { }
            throw;
        }
    }

    public static void WriteFramed(Stream stream, LogRecord record)
    {
        var payload = Encode(record);
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[4..], Crc32.HashToUInt32(payload));
        stream.Write(header);
        stream.Write(payload);
    }

    /// <summary>Empties the log once a snapshot holds everything in it.</summary>
    public void Reset()
    {
        _file.SetLength(0);
        _file.Flush(true);
    }

    private static byte[] Encode(LogRecord r)
    {
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms, Encoding.UTF8);
        w.Write(r.Op);
        w.Write(r.Sequence);
        w.Write(r.Id);
        if (r.Op == LogRecord.Upsert)
        {
            WriteOptional(w, r.Text);
            WriteOptional(w, r.ImageSha256);
            WriteOptional(w, r.MetadataJson);
            var v = r.Vector ?? [];
            w.Write(v.Length);
            foreach (var x in v) w.Write(x);
        }
        w.Flush();
        return ms.ToArray();
    }

    private static LogRecord Decode(byte[] payload)
    {
        using var r = new BinaryReader(new MemoryStream(payload), new UTF8Encoding(false, true));
        byte op = r.ReadByte();
        long seq = r.ReadInt64();
        string id = r.ReadString();
        if (op == LogRecord.Delete) return new LogRecord(op, seq, id, null, null, null, null);
        if (op != LogRecord.Upsert) throw new ArgumentException($"unknown log operation {op}");
        var text = ReadOptional(r);
        var image = ReadOptional(r);
        var meta = ReadOptional(r);
        int dims = r.ReadInt32();
        if (dims < 0 || dims > 1 << 16) throw new ArgumentException("bad vector length");
        var v = new float[dims];
        for (int i = 0; i < dims; i++) v[i] = r.ReadSingle();
        return new LogRecord(op, seq, id, text, image, meta, v);
    }

    private static void WriteOptional(BinaryWriter w, string? s)
    {
        w.Write(s is not null);
        if (s is not null) w.Write(s);
    }

    private static string? ReadOptional(BinaryReader r) => r.ReadBoolean() ? r.ReadString() : null;

    public void Dispose() => _file.Dispose();
}
