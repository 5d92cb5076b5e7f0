using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using VqaApi.Tasks.Checkpoints;
using VqaApi.Tasks.Conversion;
using VqaApi.Tasks.Models;

namespace VqaApi.Api.Tests;

/// <summary>The real app, serving a small converted model (random weights, 64 px) from a temp directory.</summary>
public class ApiFactory : WebApplicationFactory<Program>
{
    public static readonly VitArchitecture Architecture = new(64, 2, 2, 128, 16, 64, PoolType.Map, 32);
    public string ModelPath { get; } = Path.Combine(Path.GetTempPath(), "vqaapi-api-tests-" + Guid.NewGuid().ToString("N"));
    protected virtual Dictionary<string, string?> Settings => new();

    /// <summary>The render profile the test model is converted with.</summary>
    protected virtual string Profile => "unifont";

    /// <summary>The test model's shape (64 px by default).</summary>
    protected virtual VitArchitecture ModelArchitecture => Architecture;

    public ApiFactory()
    {
        CheckpointConverter.Convert(RandomCheckpoint.Create(ModelArchitecture, seed: 5), "test.npz", ModelPath,
            new ConvertOptions { Id = "api-test-model", RenderProfile = Profile });
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseContentRoot(AppContext.BaseDirectory);
        builder.UseSetting("Model:Path", ModelPath);
        builder.UseSetting("Model:CreatePlaceholderIfMissing", "false");
        builder.UseSetting("Encoder:UseCuda", "false");
        builder.UseSetting("Encoder:IntraOpThreads", "1");
        builder.UseSetting("Limits:MaxTextsPerRequest", "8");
        builder.UseSetting("Limits:MaxImagesPerRequest", "4");
        builder.UseSetting("Limits:MaxCharactersPerText", "2000");
        builder.UseSetting("Limits:MaxImagePixels", "4000000");
        builder.UseSetting("Limits:MaxImageBytes", "1000000");
        builder.UseSetting("Limits:MaxRequestBodyBytes", "3000000");
        foreach (var (key, value) in Settings) builder.UseSetting(key, value);
    }

    public ModelDirectory Model => ModelDirectory.Load(ModelPath);

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try { Directory.Delete(ModelPath, true); } catch (IOException) { }
    }
}
