using System.Buffers.Binary;
using System.IO.Compression;
using SkiaSharp;

namespace VqaApi.Rendering.Tests;

/// <summary>Image files built byte by byte (or with Skia's encoders) for the decoder tests.</summary>
internal static class TestImages
{
    // ---- PNG, written by hand so the header can say anything ----------------------------------------------

    /// <summary>A PNG from raw scanlines (each already prefixed with its filter byte).</summary>
    public static byte[] Png(int width, int height, byte bitDepth, byte colorType, byte[] scanlines)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = bitDepth;
        ihdr[9] = colorType; // 2 = RGB, 6 = RGBA
        // [10..12] compression 0, filter 0, interlace 0

        using var idat = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionLevel.Optimal, leaveOpen: true)) z.Write(scanlines);

        using var png = new MemoryStream();
        png.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        Chunk(png, "IHDR", ihdr);
        Chunk(png, "IDAT", idat.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>One row of filter-0 scanline bytes per image row.</summary>
    public static byte[] Scanlines(params byte[][] rows) => rows.SelectMany(r => new byte[] { 0 }.Concat(r)).ToArray();

    private static void Chunk(Stream s, string type, byte[] data)
    {
        Span<byte> u32 = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(u32, data.Length);
        s.Write(u32);
        var typeAndData = System.Text.Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        s.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(u32, Crc32(typeAndData));
        s.Write(u32);
    }

    /// <summary>CRC-32 (ISO-HDLC, reflected polynomial 0xEDB88320) as PNG chunks need; System.IO.Hashing is not available.</summary>
    public static uint Crc32(ReadOnlySpan<byte> bytes)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }

    /// <summary>A PNG whose header claims width x height but whose pixel data is a single tiny row.</summary>
    public static byte[] PngHeaderOnly(int width, int height) => Png(width, height, 8, 2, [0, 0, 0, 0]);

    // ---- GIF89a with two frames, worked out by hand ---------------------------------------------------------

    /// <summary>
    /// 2x2, global palette [red, blue, black, black], frame 1 all index 0 (red), frame 2 all index 1 (blue).
    /// LZW, minimum code size 2: clear = 4, end = 5, codes start 3 bits wide. Frame 1 codes: clear(4), 0, 0,
    /// 6 (= "0 0", the entry added after the second code), end(5). After the encoder adds entry 7 the next free
    /// code is 8 = 2^3, so the end code is 4 bits wide. Packed LSB first:
    /// 4 -> 0,0,1 | 0 -> 0,0,0 | 0 -> 0,0,0 | 6 -> 0,1,1 | 5 -> 1,0,1,0
    /// byte 0 = b2 = 0x04; byte 1 = b10 + b11 + b12 + b14 = 4 + 8 + 16 + 64 = 0x5C.
    /// Frame 2 the same with index 1: 4 -> 0,0,1 | 1 -> 1,0,0 | 1 -> 1,0,0 | 6 -> 0,1,1 | 5 -> 1,0,1,0
    /// byte 0 = b2 + b3 + b6 = 4 + 8 + 64 = 0x4C; byte 1 = 0x5C.
    /// </summary>
    public static byte[] TwoFrameGif()
    {
        byte[] frameHeader =
        [
            0x21, 0xF9, 0x04, 0x04, 0x0A, 0x00, 0x00, 0x00,                // graphic control: dispose 1, 0.1 s, no transparency
            0x2C, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x02, 0x00, 0x00,     // image descriptor 2x2 at 0,0, no local palette
        ];
        return
        [
            .."GIF89a"u8,
            0x02, 0x00, 0x02, 0x00,             // logical screen 2 x 2
            0x91, 0x00, 0x00,                   // global palette, 2^(1+1) = 4 entries; background 0; aspect 0
            0xFF, 0x00, 0x00, 0x00, 0x00, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x21, 0xFF, 0x0B, .."NETSCAPE2.0"u8, 0x03, 0x01, 0x00, 0x00, 0x00, // loop forever
            ..frameHeader, 0x02, 0x02, 0x04, 0x5C, 0x00,
            ..frameHeader, 0x02, 0x02, 0x4C, 0x5C, 0x00,
            0x3B,
        ];
    }

    // ---- BMP, BITMAPINFOHEADER 24-bit ---------------------------------------------------------------------

    /// <summary>
    /// 2x2: top row red, green; bottom row blue, white. Rows are stored bottom-up (positive height), pixels as
    /// B, G, R, each row padded to 4 bytes (6 -> 8). 14 + 40 header bytes, then 16 pixel bytes: 70 bytes.
    /// </summary>
    public static byte[] Bmp2x2() =>
    [
        (byte)'B', (byte)'M', 70, 0, 0, 0, 0, 0, 0, 0, 54, 0, 0, 0,   // file header: size 70, data at 54
        40, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 24, 0,             // info header: 40 bytes, 2 x 2, 1 plane, 24 bpp
        0, 0, 0, 0, 16, 0, 0, 0, 0x13, 0x0B, 0, 0, 0x13, 0x0B, 0, 0,  // BI_RGB, 16 bytes of pixels, 2835 px/m
        0, 0, 0, 0, 0, 0, 0, 0,                                       // palette: none
        0xFF, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0, 0,                     // bottom row: blue, white, pad
        0x00, 0x00, 0xFF, 0x00, 0xFF, 0x00, 0, 0,                     // top row: red, green, pad
    ];

    // ---- Skia-encoded images ------------------------------------------------------------------------------

    public static byte[] Encode(int width, int height, Func<int, int, (byte R, byte G, byte B)> pixel, SKEncodedImageFormat format, int quality = 100)
    {
        using var bitmap = Bitmap(width, height, pixel);
        using var data = bitmap.Encode(format, quality);
        return data.ToArray();
    }

    public static byte[] LosslessWebp(int width, int height, Func<int, int, (byte R, byte G, byte B)> pixel)
    {
        using var bitmap = Bitmap(width, height, pixel);
        using var pixmap = bitmap.PeekPixels();
        using var data = pixmap.Encode(new SKWebpEncoderOptions(SKWebpEncoderCompression.Lossless, 100));
        return data!.ToArray();
    }

    private static SKBitmap Bitmap(int width, int height, Func<int, int, (byte R, byte G, byte B)> pixel)
    {
        var bitmap = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var span = bitmap.GetPixelSpan();
        for (int y = 0; y < height; y++)
            for (int x = 0; x < width; x++)
            {
                var (r, g, b) = pixel(x, y);
                int o = (y * width + x) * 4;
                span[o] = r; span[o + 1] = g; span[o + 2] = b; span[o + 3] = 255;
            }
        return bitmap;
    }

    /// <summary>
    /// Inserts an APP1 Exif segment right after the JPEG's SOI marker with a single Orientation tag:
    /// "Exif\0\0", big-endian TIFF header (MM, 42, IFD at 8), 1 entry: tag 0x0112, type SHORT (3), count 1,
    /// value in the first two bytes of the 4-byte field, then next-IFD offset 0. Segment length = 2 (length
    /// field) + 6 + 8 + 2 + 12 + 4 = 34.
    /// </summary>
    public static byte[] WithExifOrientation(byte[] jpeg, int orientation)
    {
        byte[] app1 =
        [
            0xFF, 0xE1, 0x00, 34,
            .."Exif"u8, 0, 0,
            (byte)'M', (byte)'M', 0x00, 0x2A, 0x00, 0x00, 0x00, 0x08,
            0x00, 0x01,
            0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x01, 0x00, (byte)orientation, 0x00, 0x00,
            0x00, 0x00, 0x00, 0x00,
        ];
        return [.. jpeg.AsSpan(0, 2), .. app1, .. jpeg.AsSpan(2)];
    }

    /// <summary>8x8 CMYK JPEG (Adobe marker), C=0 M=255 Y=255 K=0, i.e. pure red; written by Pillow 9.4.</summary>
    public static byte[] CmykRedJpeg => Convert.FromBase64String(
        "/9j/7gAOQWRvYmUAZAAAAAAA/9sAQwACAQEBAQECAQEBAgICAgIEAwICAgIFBAQDBAYFBgYGBQYGBgcJCAYHCQcGBggLCAkKCgoKCgYICwwLCgwJCgoK/8AAFAgACAAIBEMRAE0RAFkRAEsRAP/EAB8AAAEFAQEBAQEBAAAAAAAAAAABAgMEBQYHCAkKC//EALUQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJChYXGBkaJSYnKCkqNDU2Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrCw8TFxsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+v/aAA4EQwBNAFkASwAAPwD9/K/n/r+f+v38r//Z");
}
