using VqaApi.Tasks.Checkpoints;

namespace VqaApi.Tasks.Tests;

public static class TestData
{
    public static string Dir => Path.Combine(AppContext.BaseDirectory, "data");
    public static string Mu3Checkpoint => Path.Combine(Dir, "bigvision_mu3_ckpt.npz");
    public static Dictionary<string, NpyArray> Mu3Io() => NpzFile.Read(Path.Combine(Dir, "bigvision_mu3_io.npz"));
}

/// <summary>A fresh directory under the system temp folder, deleted on dispose.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir() => Directory.CreateDirectory(Path);
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "vqaapi-tests-" + Guid.NewGuid().ToString("N"));
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose() { try { Directory.Delete(Path, true); } catch (IOException) { } }
}
