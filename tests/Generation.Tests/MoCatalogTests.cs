using System.Buffers.Binary;
using System.Text;

namespace VqaApi.Generation.Tests;

/// <summary>Writes small .mo files in either byte order (entries are sorted by msgid as msgfmt does; no hash table).</summary>
internal static class MoWriter
{
    public const string Utf8Header = "Project-Id-Version: test\nMIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n";

    public static byte[] Write(IEnumerable<(string Id, string Str)> messages, bool bigEndian = false, string? header = Utf8Header) =>
        WriteBytes(messages.Select(m => (Encoding.UTF8.GetBytes(m.Id), Encoding.UTF8.GetBytes(m.Str))), bigEndian, header);

    public static byte[] WriteBytes(IEnumerable<(byte[] Id, byte[] Str)> messages, bool bigEndian = false, string? header = Utf8Header)
    {
        var list = messages.ToList();
        if (header is not null) list.Add(([], Encoding.UTF8.GetBytes(header)));
        list.Sort((a, b) => a.Id.AsSpan().SequenceCompareTo(b.Id));
        var n = list.Count;
        const int headerSize = 28;
        var originals = headerSize;
        var translations = originals + n * 8;
        var strings = translations + n * 8;
        var body = new MemoryStream();
        var table = new (int Len, int Off)[2 * n];
        for (var i = 0; i < n; i++)
        {
            table[i] = (list[i].Id.Length, strings + (int)body.Length);
            body.Write(list[i].Id);
            body.WriteByte(0);
        }
        for (var i = 0; i < n; i++)
        {
            table[n + i] = (list[i].Str.Length, strings + (int)body.Length);
            body.Write(list[i].Str);
            body.WriteByte(0);
        }
        var bytes = new byte[strings + body.Length];
        void Put(int at, uint v)
        {
            if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(at), v);
            else BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(at), v);
        }
        Put(0, MoCatalog.Magic);
        Put(4, 0);
        Put(8, (uint)n);
        Put(12, (uint)originals);
        Put(16, (uint)translations);
        Put(20, 0);
        Put(24, (uint)strings);
        for (var i = 0; i < 2 * n; i++)
        {
            Put(headerSize + i * 8, (uint)table[i].Len);
            Put(headerSize + i * 8 + 4, (uint)table[i].Off);
        }
        body.ToArray().CopyTo(bytes, strings);
        return bytes;
    }
}

public class MoCatalogTests
{
    private static readonly (string, string)[] Sample =
    [
        ("Open the file", "Datei öffnen"),
        ("One file\0%d files", "Eine Datei\0%d Dateien"),
        ("menu\u0004Quit", "Beenden"),
    ];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsBothByteOrders(bool bigEndian)
    {
        var c = MoCatalog.Parse(MoWriter.Write(Sample, bigEndian));
        Assert.Equal(bigEndian, c.BigEndian);
        Assert.Equal("UTF-8", c.Charset);
        Assert.Contains("Project-Id-Version: test", c.Header);
        Assert.Equal(3, c.Entries.Count);
        Assert.DoesNotContain(c.Entries, e => e.MsgId.Length == 0);
        Assert.Equal("Datei öffnen", c.Entries.Single(e => e.MsgId == "Open the file").Translation);
    }

    [Fact]
    public void PluralTakesTheFirstForm()
    {
        var e = MoCatalog.Parse(MoWriter.Write(Sample)).Entries.Single(e => e.MsgId == "One file");
        Assert.Equal("%d files", e.MsgIdPlural);
        Assert.Equal("Eine Datei", e.Translation);
        Assert.Equal(["Eine Datei", "%d Dateien"], e.Translations);
    }

    [Fact]
    public void ContextIsStripped()
    {
        var e = MoCatalog.Parse(MoWriter.Write(Sample)).Entries.Single(e => e.MsgId == "Quit");
        Assert.Equal("menu", e.Context);
        Assert.Equal("Beenden", e.Translation);
    }

    [Fact]
    public void InvalidUtf8EntriesAreSkippedAndCounted()
    {
        var bytes = MoWriter.WriteBytes([(Encoding.UTF8.GetBytes("Good entry"), Encoding.UTF8.GetBytes("Guter Eintrag")), (Encoding.UTF8.GetBytes("Bad entry"), [0xC3, 0x28, 0xFF])]);
        var c = MoCatalog.Parse(bytes);
        Assert.Single(c.Entries);
        Assert.Equal(1, c.InvalidEntries);
    }

    [Fact]
    public void OtherCharsetsAreSkippedWithAReason()
    {
        var bytes = MoWriter.Write(Sample, header: "Content-Type: text/plain; charset=ISO-8859-1\n");
        Assert.False(MoCatalog.TryParse(bytes, out var c, out var reason));
        Assert.Null(c);
        Assert.Contains("ISO-8859-1", reason);
    }

    [Fact]
    public void NoHeaderMeansUtf8()
    {
        var c = MoCatalog.Parse(MoWriter.Write(Sample, header: null));
        Assert.Null(c.Header);
        Assert.Null(c.Charset);
        Assert.Equal(3, c.Entries.Count);
    }

    [Fact]
    public void CorruptOrTruncatedFilesAreSkippedWithAReason()
    {
        var good = MoWriter.Write(Sample);
        foreach (var length in new[] { 0, 3, 20, 28, 40, good.Length - 5 })
        {
            Assert.False(MoCatalog.TryParse(good.AsSpan(0, length), out _, out var reason), $"length {length}");
            Assert.Contains("truncated", reason);
        }
        var badMagic = (byte[])good.Clone();
        badMagic[0] ^= 0xFF;
        Assert.False(MoCatalog.TryParse(badMagic, out _, out var r1));
        Assert.Contains("magic", r1);

        var hugeCount = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(hugeCount.AsSpan(8), uint.MaxValue);
        Assert.False(MoCatalog.TryParse(hugeCount, out _, out var r2));
        Assert.Contains("truncated", r2);

        var badOffset = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(badOffset.AsSpan(28 + 4), uint.MaxValue - 2);
        Assert.False(MoCatalog.TryParse(badOffset, out _, out var r3));
        Assert.Contains("past the end", r3);

        var badRevision = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(badRevision.AsSpan(4), 5u << 16);
        Assert.False(MoCatalog.TryParse(badRevision, out _, out var r4));
        Assert.Contains("revision", r4);

        // Random garbage after a valid magic never throws out of TryParse.
        var random = new Random(1);
        for (var i = 0; i < 200; i++)
        {
            var junk = new byte[random.Next(28, 300)];
            random.NextBytes(junk);
            BinaryPrimitives.WriteUInt32LittleEndian(junk, MoCatalog.Magic);
            MoCatalog.TryParse(junk, out _, out _);
        }
    }
}
