using VqaApi.Rendering;

namespace VqaApi.Cli.Tests;

/// <summary>The committed gallery (docs/gallery, shown in the README) is what the renderer draws today: every canvas
/// rendered again has the same pixels, and the same files exist.</summary>
public sealed class GalleryTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("vqaapi-gallery-").FullName;
    public void Dispose() => Directory.Delete(_dir, true);

    private static string Repo()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "VqaApi.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("the repository root");
    }

    [Fact]
    public void The_committed_gallery_is_what_the_renderer_draws()
    {
        int written = Gallery.Write(_dir);
        var committed = Path.Combine(Repo(), "docs", "gallery");
        var fresh = Directory.GetFiles(_dir, "*.png").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(written, fresh.Count);
        Assert.Equal(fresh, Directory.GetFiles(committed, "*.png").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList());
        var stale = fresh.Where(name =>
        {
            var a = ImageDecoder.Decode(File.ReadAllBytes(Path.Combine(_dir, name!)), new ImageLimits());
            var b = ImageDecoder.Decode(File.ReadAllBytes(Path.Combine(committed, name!)), new ImageLimits());
            return a.Width != b.Width || a.Height != b.Height || !a.Rgb.AsSpan().SequenceEqual(b.Rgb);
        }).ToList();
        Assert.True(stale.Count == 0, $"stale in docs/gallery (run `dotnet run --project Cli -- gallery`): {string.Join(", ", stale)}");
    }
}
