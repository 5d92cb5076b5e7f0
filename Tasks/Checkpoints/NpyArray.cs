using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace VqaApi.Tasks.Checkpoints;

/// <summary>Element type of an array as stored in a .npy file.</summary>
public enum NpyDType { Float32, Float16, BFloat16, Float64 }

/// <summary>
/// A dense array read from (or written to) numpy's .npy format, always held as float32 in C order.
/// bfloat16 is stored by numpy as the 2-byte void dtype (|V2): the upper 16 bits of a float32.
/// </summary>
public sealed partial class NpyArray
{
    public NpyArray(int[] shape, float[] data, NpyDType storedAs = NpyDType.Float32)
    {
        long count = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new ArgumentException("negative dimension", nameof(shape));
            count *= d;
        }
        if (count != data.Length)
            throw new ArgumentException($"shape ({string.Join(", ", shape)}) holds {count} values but data has {data.Length}");
        Shape = shape;
        Data = data;
        StoredAs = storedAs;
    }

    public int[] Shape { get; }
    public float[] Data { get; }
    public NpyDType StoredAs { get; }
    public string ShapeText => "(" + string.Join(", ", Shape) + ")";

    public static NpyArray Read(Stream stream, string name)
    {
        Span<byte> magic = stackalloc byte[8];
        ReadExactly(stream, magic, name);
        if (magic[0] != 0x93 || !magic[1..6].SequenceEqual("NUMPY"u8))
            throw new CheckpointFormatException($"'{name}' is not a .npy array (bad magic bytes)");
        int major = magic[6];
        int headerLength;
        if (major == 1)
        {
            Span<byte> len = stackalloc byte[2];
            ReadExactly(stream, len, name);
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(len);
        }
        else if (major is 2 or 3)
        {
            Span<byte> len = stackalloc byte[4];
            ReadExactly(stream, len, name);
            headerLength = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(len));
        }
        else throw new CheckpointFormatException($"'{name}' uses .npy format version {major}, which is not supported");
        if (headerLength > 1 << 20) throw new CheckpointFormatException($"'{name}' has an implausible .npy header of {headerLength} bytes");

        var header = new byte[headerLength];
        ReadExactly(stream, header, name);
        var text = Encoding.Latin1.GetString(header);
        var descr = DescrRegex().Match(text);
        var fortran = FortranRegex().Match(text);
        var shapeMatch = ShapeRegex().Match(text);
        if (!descr.Success || !fortran.Success || !shapeMatch.Success)
            throw new CheckpointFormatException($"'{name}' has a malformed .npy header: {text.Trim()}");
        if (fortran.Groups[1].Value == "True")
            throw new CheckpointFormatException($"'{name}' is stored in Fortran order, which is not supported");

        var shape = shapeMatch.Groups[1].Value
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        long count = 1;
        foreach (var d in shape) count = checked(count * d);
        if (count > Array.MaxLength) throw new CheckpointFormatException($"'{name}' is too large ({count} values)");

        var (dtype, bigEndian) = ParseDescr(descr.Groups[1].Value, name);
        int elementSize = dtype switch { NpyDType.Float32 => 4, NpyDType.Float64 => 8, _ => 2 };
        var raw = new byte[count * elementSize];
        ReadExactly(stream, raw, name);
        var data = new float[count];
        for (long i = 0; i < count; i++)
        {
            var bytes = raw.AsSpan((int)(i * elementSize), elementSize);
            data[i] = dtype switch
            {
                NpyDType.Float32 => bigEndian ? BinaryPrimitives.ReadSingleBigEndian(bytes) : BinaryPrimitives.ReadSingleLittleEndian(bytes),
                NpyDType.Float64 => (float)(bigEndian ? BinaryPrimitives.ReadDoubleBigEndian(bytes) : BinaryPrimitives.ReadDoubleLittleEndian(bytes)),
                NpyDType.Float16 => (float)(bigEndian ? BinaryPrimitives.ReadHalfBigEndian(bytes) : BinaryPrimitives.ReadHalfLittleEndian(bytes)),
                _ => BitConverter.Int32BitsToSingle((bigEndian ? BinaryPrimitives.ReadUInt16BigEndian(bytes) : BinaryPrimitives.ReadUInt16LittleEndian(bytes)) << 16),
            };
        }
        return new NpyArray(shape, data, dtype);
    }

    private static (NpyDType, bool bigEndian) ParseDescr(string descr, string name)
    {
        bool big = descr.StartsWith('>');
        var kind = descr.TrimStart('<', '>', '|', '=');
        return kind switch
        {
            "f4" => (NpyDType.Float32, big),
            "f2" => (NpyDType.Float16, big),
            "f8" => (NpyDType.Float64, big),
            "V2" or "bfloat16" => (NpyDType.BFloat16, big),
            _ => throw new CheckpointFormatException(
                $"'{name}' has dtype '{descr}'; supported dtypes are float32 (<f4), float16 (<f2), float64 (<f8) and bfloat16 (|V2)"),
        };
    }

    private static void ReadExactly(Stream stream, Span<byte> buffer, string name)
    {
        try { stream.ReadExactly(buffer); }
        catch (EndOfStreamException) { throw new CheckpointFormatException($"'{name}' is truncated"); }
        catch (InvalidDataException e) { throw new CheckpointFormatException($"'{name}' is corrupt: {e.Message}"); }
    }

    /// <summary>Writes the array as .npy version 1.0 in the requested dtype (float32, float16 or bfloat16).</summary>
    public void Write(Stream stream, NpyDType dtype = NpyDType.Float32)
    {
        string descr = dtype switch { NpyDType.Float32 => "<f4", NpyDType.Float16 => "<f2", NpyDType.BFloat16 => "|V2", _ => "<f8" };
        var shape = Shape.Length == 1 ? $"({Shape[0]},)" : "(" + string.Join(", ", Shape) + ")";
        var header = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        int total = 10 + header.Length + 1;
        header = header.PadRight(header.Length + (64 - total % 64) % 64) + "\n";
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0]);
        Span<byte> len = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)header.Length);
        stream.Write(len);
        stream.Write(Encoding.Latin1.GetBytes(header));
        int size = dtype switch { NpyDType.Float32 => 4, NpyDType.Float64 => 8, _ => 2 };
        var buffer = new byte[Data.Length * size];
        for (int i = 0; i < Data.Length; i++)
        {
            var dst = buffer.AsSpan(i * size, size);
            switch (dtype)
            {
                case NpyDType.Float32: BinaryPrimitives.WriteSingleLittleEndian(dst, Data[i]); break;
                case NpyDType.Float64: BinaryPrimitives.WriteDoubleLittleEndian(dst, Data[i]); break;
                case NpyDType.Float16: BinaryPrimitives.WriteHalfLittleEndian(dst, (Half)Data[i]); break;
                default: BinaryPrimitives.WriteUInt16LittleEndian(dst, ToBFloat16Bits(Data[i])); break;
            }
        }
        stream.Write(buffer);
    }

    /// <summary>Round-to-nearest-even truncation of a float32 to bfloat16, as JAX does.</summary>
    public static ushort ToBFloat16Bits(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    public static float RoundToBFloat16(float value) => BitConverter.Int32BitsToSingle(ToBFloat16Bits(value) << 16);

    [GeneratedRegex(@"'descr'\s*:\s*'([^']*)'")] private static partial Regex DescrRegex();
    [GeneratedRegex(@"'fortran_order'\s*:\s*(True|False)")] private static partial Regex FortranRegex();
    [GeneratedRegex(@"'shape'\s*:\s*\(([^)]*)\)")] private static partial Regex ShapeRegex();
}

/// <summary>A checkpoint or array file that cannot be used; the message says what is wrong.</summary>
public sealed class CheckpointFormatException(string message) : Exception(message);
