using System.IO.Compression;
using System.Text;
using VqaApi.Tasks.Checkpoints;
using VqaApi.Tasks.Conversion;
using VqaApi.Tasks.Models;

namespace VqaApi.Tasks.Tests;

/// <summary>Bad checkpoints fail with a message naming the problem, and leave no model directory behind.</summary>
public sealed class CheckpointErrorTests : IDisposable
{
    private readonly TempDir _tmp = new();
    public void Dispose() => _tmp.Dispose();

    private static readonly VitArchitecture Tiny = new(32, 1, 2, 64, 8, 16, PoolType.Map, 16);

    private string WriteNpz(Action<Dictionary<string, NpyArray>> edit, Action<ZipArchive>? extra = null)
    {
        var p = RandomCheckpoint.CreateParameters(Tiny, 1);
        edit(p);
        var path = _tmp.File($"ckpt-{Guid.NewGuid():N}.npz");
        RandomCheckpoint.Save(path, p);
        if (extra is not null)
        {
            using var zip = ZipFile.Open(path, ZipArchiveMode.Update);
            extra(zip);
        }
        return path;
    }

    private string ConvertFails(string checkpoint, string expectedFragment)
    {
        var target = _tmp.File("model");
        var e = Assert.ThrowsAny<Exception>(() => CheckpointConverter.Convert(checkpoint, target));
        Assert.True(e is CheckpointFormatException, $"unexpected {e.GetType().Name}: {e.Message}");
        Assert.Contains(expectedFragment, e.Message);
        Assert.False(Directory.Exists(target), "no model directory after a failed conversion");
        Assert.Empty(Directory.GetDirectories(_tmp.Path, "*.partial-*"));
        return e.Message;
    }

    [Fact]
    public void Missing_key_is_named() =>
        ConvertFails(WriteNpz(p => p.Remove("img/Transformer/encoderblock_0/MlpBlock_0/Dense_1/bias")),
            "missing key 'params/img/Transformer/encoderblock_0/MlpBlock_0/Dense_1/bias'");

    [Fact]
    public void Wrong_shape_is_named() =>
        ConvertFails(WriteNpz(p => p["img/head/bias"] = new NpyArray([15], new float[15])),
            "wrong shape for 'params/img/head/bias': (15), expected (16)");

    [Fact]
    public void Other_npz_is_not_a_clippo_checkpoint()
    {
        var path = _tmp.File("other.npz");
        NpzFile.Write(path, [KeyValuePair.Create("params/dense/kernel", new NpyArray([2, 2], new float[4]))]);
        ConvertFails(path, "is not a CLIPPO checkpoint");
        var noParams = _tmp.File("noparams.npz");
        NpzFile.Write(noParams, [KeyValuePair.Create("images", new NpyArray([2], new float[2]))]);
        ConvertFails(noParams, "has no 'params/' arrays");
    }

    [Fact]
    public void Truncated_zip_is_reported()
    {
        var path = WriteNpz(_ => { });
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        ConvertFails(path, "truncated or not a zip");
    }

    [Fact]
    public void Unknown_dtype_is_reported()
    {
        var path = WriteNpz(p => p.Remove("t"), zip =>
        {
            using var s = zip.CreateEntry("params/t.npy").Open();
            var header = "{'descr': '<i4', 'fortran_order': False, 'shape': (1,), }".PadRight(117) + "\n";
            s.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)header.Length, 0]);
            s.Write(Encoding.ASCII.GetBytes(header));
            s.Write(BitConverter.GetBytes(2));
        });
        ConvertFails(path, "has dtype '<i4'");
    }

    [Fact]
    public void Unexpected_parameters_are_refused() =>
        ConvertFails(WriteNpz(p => p["img/pre_logits/kernel"] = new NpyArray([32, 32], new float[1024])),
            "params/img/pre_logits/kernel");

    [Fact]
    public void Optimizer_state_and_other_entries_are_ignored()
    {
        // opt/ entries hold a dtype we cannot read: they must never be parsed.
        var path = WriteNpz(_ => { }, zip =>
        {
            using var s = zip.CreateEntry("opt/mu/img/head/kernel.npy").Open();
            s.Write("not an array at all"u8);
        });
        var model = CheckpointConverter.Convert(path, _tmp.File("model"));
        Assert.Equal(Tiny, model.Manifest.Architecture);
    }

    [Fact]
    public void Existing_model_directory_is_not_overwritten_without_asking()
    {
        var path = WriteNpz(_ => { });
        var target = _tmp.File("model");
        CheckpointConverter.Convert(path, target);
        var e = Assert.Throws<ModelDirectoryException>(() => CheckpointConverter.Convert(path, target));
        Assert.Contains("--overwrite", e.Message);
        CheckpointConverter.Convert(path, target, new ConvertOptions { Overwrite = true, Fp16 = true });
        Assert.Equal("float16", ModelDirectory.Load(target).Manifest.WeightsDType);
    }

    [Fact]
    public void Missing_file_is_named() =>
        ConvertFails(_tmp.File("nope.npz"), "does not exist");
}
