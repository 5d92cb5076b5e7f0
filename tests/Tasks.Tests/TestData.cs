using VqaApi.Tasks.Checkpoints;

namespace VqaApi.Tasks.Tests;

public static class TestData
{
    public static string Dir => Path.Combine(AppContext.BaseDirectory, "data");
    public static string Mu3Checkpoint => Path.Combine(Dir, "bigvision_mu3_ckpt.npz");
    public static Dictionary<string, NpyArray> Mu3Io() => NpzFile.Read(Path.Combine(Dir, "bigvision_mu3_io.npz"));
}
