using System.Buffers.Binary;
using System.Security.Cryptography;
using VqaApi.Rendering.Shaped;

namespace VqaApi.Generation.Tests;

public class StreamTests
{
    private static readonly EmojiCatalog Emoji = new(EmojiCatalog.Default.Items.Take(GeneratorCommands.DefaultSceneEmoji).ToList());

    private static ExampleGenerator Generator(int size = 224) =>
        new(new ShapedRenderer(new ShapedProfile { Name = $"shaped-{size}", ImageSize = size }), Languages.Create(Emoji), Emoji);

    private static byte[] Stream(ExampleGenerator g, ulong seed, long first, long step, long count, int threads, Split split = Split.Train)
    {
        using var ms = new MemoryStream();
        ExampleStream.Write(g, split, seed, ExampleMix.Default, ms, first, step, count, threads, header: true);
        return ms.ToArray();
    }

    [Fact]
    public void Same_seed_gives_the_same_bytes_on_any_number_of_threads_and_workers()
    {
        var g = Generator();
        var one = Stream(g, 42, 0, 1, 24, threads: 1);
        var two = Stream(Generator(), 42, 0, 1, 24, threads: 2);
        Assert.Equal(SHA256.HashData(one), SHA256.HashData(two));
        Assert.NotEqual(SHA256.HashData(one), SHA256.HashData(Stream(g, 43, 0, 1, 24, threads: 1)));

        // Worker 1 of 2 writes examples 1, 3, 5, ...: the same records as the single stream at those indices.
        var odd = Stream(g, 42, 1, 2, 12, threads: 1);
        int record = ExampleStream.RecordBytes(224);
        for (int k = 0; k < 12; k++)
            Assert.True(odd.AsSpan(ExampleStream.HeaderBytes + k * record, record).SequenceEqual(one.AsSpan(ExampleStream.HeaderBytes + (2 * k + 1) * record, record)), $"record {k}");
    }

    [Fact]
    public void Header_and_records_follow_the_documented_format()
    {
        var bytes = Stream(Generator(96), 7, 0, 1, 200, threads: 2, Split.HeldOut);
        Assert.True(bytes.AsSpan(0, 8).SequenceEqual("VQAGEN\0\x01"u8));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8)));
        Assert.Equal(96u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12)));
        Assert.Equal(3u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(16)));
        Assert.Equal(64u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(20)));
        Assert.Equal(7ul, BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(24)));
        Assert.Equal((uint)Answers.All.Count, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(32)));
        Assert.Equal(1u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(40)));
        int record = ExampleStream.RecordBytes(96), canvas = 96 * 96 * 3;
        Assert.Equal(ExampleStream.HeaderBytes + 200 * record, bytes.Length);
        var kinds = new HashSet<int>();
        for (int k = 0; k < 200; k++)
        {
            var r = bytes.AsSpan(ExampleStream.HeaderBytes + k * record, record);
            int kind = r[0], label = BinaryPrimitives.ReadInt32LittleEndian(r[4..]);
            kinds.Add(kind);
            Assert.Equal(k, BinaryPrimitives.ReadInt64LittleEndian(r[8..]));
            if (kind == 0) { Assert.Equal(255, r[1]); Assert.InRange(r[2], 0, 11); } // A is the image, B the caption
            else Assert.InRange(r[1], 0, 11);
            var a = r.Slice(ExampleStream.RecordHeaderBytes, canvas);
            var b = r.Slice(ExampleStream.RecordHeaderBytes + canvas, canvas);
            Assert.Contains(a.ToArray(), v => v < 128); // something is drawn
            switch (kind)
            {
                case 0 or 1: Assert.Equal(-1, label); Assert.Contains(b.ToArray(), v => v < 128); break;
                case 2: Assert.InRange(label, 0, Answers.All.Count - 1); Assert.InRange(r[3], 0, 4); Assert.DoesNotContain(b.ToArray(), v => v != 0); break;
                case 3: Assert.InRange(label, 0, 2); Assert.DoesNotContain(b.ToArray(), v => v != 0); break;
                default: Assert.Fail($"kind {kind}"); break;
            }
        }
        Assert.Equal(4, kinds.Count);
    }

    [Fact]
    public void Mix_parses_and_refuses_nonsense()
    {
        Assert.Equal(new ExampleMix(1, 0, 2, 0), ExampleMix.Parse("caption=1,vqa=2"));
        Assert.Throws<FormatException>(() => ExampleMix.Parse("pictures=1"));
        Assert.Throws<FormatException>(() => ExampleMix.Parse("caption=-1"));
        Assert.Throws<FormatException>(() => ExampleMix.Parse("caption=0"));
    }

    /// <summary>
    /// Same seed, same bytes on any machine: the per-kind hashes of training/determinism_probe.py (50-example
    /// single-kind shards, seed 5, canvas A and canvas B hashed apart), computed in process, must equal the ones
    /// committed in training/probe-hashes.txt. They were made on the development machine and reproduced there under
    /// emulated Nehalem and Haswell CPUs (training/cpu_determinism_check.sh); a CI machine running this test is one
    /// more machine. A change that moves pixels on purpose commits the new hashes with it.
    /// </summary>
    [Fact]
    public void Probe_hashes_are_the_committed_ones()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "VqaApi.sln"))) root = root.Parent;
        Assert.NotNull(root);
        var committed = File.ReadAllLines(Path.Combine(root.FullName, "training", "probe-hashes.txt")).Where(l => l.Length > 0).ToArray();
        var g = Generator();
        int canvas = 224 * 224 * 3, record = ExampleStream.RecordBytes(224);
        var lines = new List<string>();
        foreach (var (name, mix) in new[] { ("caption: scene | text", "caption=1"), ("text pair: A | B", "text=1"), ("vqa layout | -", "vqa=1"), ("pair layout | -", "pair=1") })
        {
            using var ms = new MemoryStream();
            ExampleStream.Write(g, Split.Train, 5, ExampleMix.Parse(mix), ms, 0, 1, 50, threads: 2, header: true);
            var data = ms.ToArray();
            using var a = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using var b = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            for (int k = 0; k < 50; k++)
            {
                int r = ExampleStream.HeaderBytes + k * record;
                a.AppendData(data, r + record - 2 * canvas, canvas);
                b.AppendData(data, r + record - canvas, canvas);
            }
            string Hex(IncrementalHash h) => Convert.ToHexStringLower(h.GetHashAndReset())[..16];
            lines.Add($"{name,-24} {Hex(a)} {Hex(b)}");
        }
        Assert.Equal(committed, lines);
    }
}
