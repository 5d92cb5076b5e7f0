using VqaApi.Tasks.Checkpoints;
using VqaApi.Tasks.Conversion;
using VqaApi.Tasks.Models;

namespace VqaApi.Tasks.Serving;

/// <summary>
/// The randomly initialised stand-in served until the repository ships a trained model: a small
/// CLIPPO-shaped ViT (width 192, 4 blocks, 3 heads, patch 16, 224 px, MAP pooling) with fixed-seed weights.
/// </summary>
public static class PlaceholderModel
{
    public static readonly VitArchitecture Architecture = new(192, 4, 3, 768, 16, 224, PoolType.Map, 192);
    public const string Warning = "PLACEHOLDER MODEL: randomly initialised weights, embeddings carry no meaning. " +
                                  "Convert an official CLIPPO checkpoint ('convert') and set Model:Path to serve a real model.";

    public static ModelDirectory Create(string directory)
    {
        var checkpoint = RandomCheckpoint.Create(Architecture, seed: 2026);
        return CheckpointConverter.Convert(checkpoint, "random-init", directory, new ConvertOptions
        {
            Id = "placeholder-random",
            Description = Warning,
            RandomlyInitialized = true,
            Overwrite = true,
        });
    }
}
