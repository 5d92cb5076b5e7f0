using System.Buffers.Binary;

namespace VqaApi.Generation;

/// <summary>
/// Writes examples in the VQAGEN stream format (docs/generator-format.md): a 64-byte header, then fixed-size
/// records of a 64-byte header and two RGB canvases.
/// </summary>
public static class ExampleStream
{
    public const int HeaderBytes = 64, RecordHeaderBytes = 64, Version = 1;
    public static ReadOnlySpan<byte> Magic => "VQAGEN\0\x01"u8;

    public static int RecordBytes(int size) => RecordHeaderBytes + 2 * size * size * 3;

    public static byte[] Header(int size, ulong seed, Split split)
    {
        var h = new byte[HeaderBytes];
        Magic.CopyTo(h);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(8), Version);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(12), (uint)size);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(16), 3);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(20), RecordHeaderBytes);
        BinaryPrimitives.WriteUInt64LittleEndian(h.AsSpan(24), seed);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(32), (uint)Answers.All.Count);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(36), 3);
        BinaryPrimitives.WriteUInt32LittleEndian(h.AsSpan(40), (uint)split);
        return h;
    }

    /// <summary>Renders one example into <paramref name="record"/> (exactly <see cref="RecordBytes"/> long).</summary>
    public static void WriteRecord(ExampleGenerator generator, Example example, Span<byte> record)
    {
        int canvas = generator.Size * generator.Size * 3;
        if (record.Length != RecordHeaderBytes + 2 * canvas) throw new ArgumentException("record buffer has the wrong size", nameof(record));
        record[..RecordHeaderBytes].Clear();
        record[0] = (byte)example.Kind;
        record[1] = (byte)(example.LanguageA < 0 ? 255 : example.LanguageA);
        record[2] = (byte)(example.LanguageB < 0 ? 255 : example.LanguageB);
        record[3] = example.QuestionType;
        BinaryPrimitives.WriteInt32LittleEndian(record[4..], example.Label);
        BinaryPrimitives.WriteInt64LittleEndian(record[8..], example.Index);
        BinaryPrimitives.WriteUInt64LittleEndian(record[16..], example.ContentKey);
        var attributes = example.Attributes;
        (record[24], record[25], record[26], record[27]) = (attributes.Flags, attributes.Colors, attributes.Shapes, attributes.Objects);
        var subject = QuestionSubject.Of(example.Question);
        (record[28], record[29], record[30]) = (subject.Flags, subject.Color, subject.Shape);
        // Where one object of the scene drawn on canvas A lies (image-caption and VQA records).
        if (example.Scene is { } scene && example.Kind is ExampleKind.Caption or ExampleKind.Vqa) record[31] = ScenePosition.Of(scene);
        attributes.Pairs.WriteTo(record.Slice(32, PairCounts.Bytes));
        generator.Render(example, record.Slice(RecordHeaderBytes, canvas), record.Slice(RecordHeaderBytes + canvas, canvas));
    }

    /// <summary>
    /// Writes examples first, first + step, ... (count of them, or forever when count is null) to the output,
    /// rendering on <paramref name="threads"/> threads in order-preserving chunks. Returns how many were written.
    /// </summary>
    public static long Write(ExampleGenerator generator, Split split, ulong seed, ExampleMix mix, Stream output,
        long first, long step, long? count, int threads, bool header, CancellationToken cancel = default, Action<long>? progress = null,
        Action<Example>? onExample = null)
    {
        if (header) output.Write(Header(generator.Size, seed, split));
        int recordBytes = RecordBytes(generator.Size);
        int chunk = Math.Max(1, threads) * 8;
        var buffer = new byte[chunk * recordBytes];
        long written = 0;
        while ((count is null || written < count) && !cancel.IsCancellationRequested)
        {
            int n = (int)Math.Min(chunk, count is null ? chunk : count.Value - written);
            long baseIndex = written;
            var examples = onExample is null ? null : new Example[n];
            Parallel.For(0, n, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, i =>
            {
                long index = first + (baseIndex + i) * step;
                var example = generator.Sample(split, seed, index, mix);
                WriteRecord(generator, example, buffer.AsSpan(i * recordBytes, recordBytes));
                if (examples is not null) examples[i] = example;
            });
            if (examples is not null) foreach (var e in examples) onExample!(e);
            try { output.Write(buffer, 0, n * recordBytes); }
            catch (IOException) { break; } // the reader went away (a closed pipe): stop quietly
            written += n;
            progress?.Invoke(written);
        }
        output.Flush();
        return written;
    }
}
