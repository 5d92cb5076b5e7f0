using System.Diagnostics;
using VqaApi.Tasks.Checkpoints;
using VqaApi.Tasks.Conversion;
using VqaApi.Tasks.Heads;
using VqaApi.Tasks.Models;

namespace VqaApi.Tasks.Tests;

/// <summary>A head saved into a full model folder: refused as InsufficientStorage (507 in the API), no temporary file left,
/// no path of the machine in the message.</summary>
public sealed class HeadStoreDiskFullTests : IDisposable
{
    private readonly string _mount = Directory.CreateTempSubdirectory("vqaapi-heads-full-").FullName;
    private readonly string _model = Directory.CreateTempSubdirectory("vqaapi-heads-model-").FullName;

    public HeadStoreDiskFullTests() => Run("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", _mount); // the tests and CI run as root

    public void Dispose()
    {
        Run("umount", _mount);
        Directory.Delete(_mount, true);
        Directory.Delete(_model, true);
    }

    private static void Run(string file, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true })!;
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed: {p.StandardError.ReadToEnd()}");
    }

    [Fact]
    public void A_head_that_does_not_fit_is_refused_and_leaves_no_file()
    {
        var arch = new VitArchitecture(32, 1, 2, 64, 16, 32, PoolType.Gap, 16);
        var manifest = CheckpointConverter.Convert(RandomCheckpoint.Create(arch, seed: 1), "t.npz", Path.Combine(_model, "m"), new ConvertOptions { Id = "t" }).Manifest;
        var store = new HeadStore(_mount, manifest);
        // 200 KB of weights cannot fit a 64 KB disk.
        int d = 16, hidden = 3000;
        var weights = new HeadWeights(d, hidden, 2, new float[d * hidden], new float[hidden], new float[hidden * 2], new float[2]);
        var head = new Head
        {
            Name = "big", Task = HeadTasks.Image, Labels = [new HeadLabel("a"), new HeadLabel("b")], Model = store.Model, RenderProfile = "unifont",
            Weights = HeadWeightsFile.From(weights), Metrics = new HeadMetrics(1, null, 2, 0, 1, 0, 0, false, 0, hidden),
        };
        var e = Assert.Throws<HeadException>(() => store.Save(head));
        Assert.Equal(HeadErrorKind.InsufficientStorage, e.Kind);
        Assert.True(e.Message.Contains("the disk is full"), e.Message + " | " + e.InnerException);
        Assert.DoesNotContain(_mount, e.Message);
        Assert.Empty(Directory.Exists(Path.Combine(_mount, "heads")) ? Directory.GetFileSystemEntries(Path.Combine(_mount, "heads")) : []);
        Assert.False(store.Exists("big"));
    }
}
